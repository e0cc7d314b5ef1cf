package io.flashlm.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Jinja's {@code items} filter ({@code for k, v in d | items}), which Jinjava lacks: a mapping's entries. */
final class ItemsFilter implements Filter {
    @Override
    public String getName() {
        return "items";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        if (var == null) {
            return List.of();
        }
        if (!(var instanceof Map<?, ?> m)) {
            throw new UnsupportedConstructException("the filter 'items' needs a mapping, got " + var.getClass()
                    .getSimpleName());
        }
        return new ArrayList<>(m.entrySet());
    }
}
