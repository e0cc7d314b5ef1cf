package io.flashlm.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

/**
 * Stands in for a filter the template names and Jinjava lacks (Jinjava would render it as nothing, silently):
 * using it fails, naming it; a template that only names it in a branch that does not run still renders.
 */
final class UnsupportedFilter implements Filter {
    private final String name;

    UnsupportedFilter(String name) {
        this.name = name;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        throw new UnsupportedConstructException("the filter '" + name + "' is not supported (Jinjava has no such"
                + " filter)");
    }
}
