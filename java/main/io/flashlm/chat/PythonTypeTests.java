package io.flashlm.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;

import java.util.Collection;
import java.util.Map;

/**
 * The tests {@code is iterable} and {@code is sequence} with Python's answers: strings and mappings are both
 * (Jinjava says no to both, so Llama 3.1's {@code content is mapping or content is iterable} would not JSON-quote
 * a tool result string as Hugging Face does).
 */
final class PythonTypeTests implements ExpTest {
    private final String name;

    private PythonTypeTests(String name) {
        this.name = name;
    }

    static ExpTest iterable() {
        return new PythonTypeTests("iterable");
    }

    static ExpTest sequence() {
        return new PythonTypeTests("sequence");
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
        return var instanceof CharSequence || var instanceof Map<?, ?> || var instanceof Collection<?>
                || (var != null && var.getClass().isArray()) || (name.equals("iterable") && var instanceof Iterable<?>);
    }
}
