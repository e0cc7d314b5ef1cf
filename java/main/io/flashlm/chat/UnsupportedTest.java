package io.flashlm.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;

/** Stands in for a test ({@code x is name}) Jinjava lacks: using it fails, naming it (see {@link UnsupportedFilter}). */
final class UnsupportedTest implements ExpTest {
    private final String name;

    UnsupportedTest(String name) {
        this.name = name;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
        throw new UnsupportedConstructException("the test 'is " + name + "' is not supported (Jinjava has no such"
                + " test)");
    }
}
