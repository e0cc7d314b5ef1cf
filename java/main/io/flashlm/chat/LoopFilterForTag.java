package io.flashlm.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.parse.TagToken;
import com.hubspot.jinjava.util.ObjectTruthValue;
import org.apache.commons.lang3.tuple.Pair;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Jinjava's {@code for} tag with Jinja's loop filter ({@code {% for x in xs if cond %}}), which Jinjava lacks:
 * it would ignore the condition and iterate over every item. The loop expression {@code xs if cond} is rewritten
 * to {@code __loop_filter(xs, 'x', 'cond')}, a function that keeps the items for which cond, evaluated with the
 * loop variables bound, is true; {@code loop.index}, {@code loop.last} and the rest then count the kept items,
 * as in Jinja.
 */
final class LoopFilterForTag extends ForTag {
    static final String FUNCTION = "__loop_filter";

    @Override
    public Pair<List<String>, String> getLoopVarsAndExpression(TagToken tagToken) {
        Pair<List<String>, String> parsed = super.getLoopVarsAndExpression(tagToken);
        String expression = parsed.getRight();
        int at = topLevelIf(expression);
        if (at < 0) {
            return parsed;
        }
        String iterable = expression.substring(0, at).strip();
        String condition = expression.substring(at + 2).strip();
        String rewritten = FUNCTION + "(" + iterable + ", " + literal(String.join(",", parsed.getLeft())) + ", "
                + literal(condition) + ")";
        return Pair.of(parsed.getLeft(), rewritten);
    }

    /** The loop filter: the items of {@code items} for which {@code condition} holds. */
    public static List<Object> filter(Object items, String loopVars, String condition) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        String[] vars = loopVars.split(",");
        List<Object> kept = new ArrayList<>();
        for (Iterator<?> it = iterate(items); it.hasNext(); ) {
            Object item = it.next();
            try (var scope = interpreter.enterScope()) {
                bind(interpreter, vars, item);
                if (ObjectTruthValue.evaluate(interpreter.resolveELExpression(condition, interpreter.getLineNumber()))) {
                    kept.add(item);
                }
            }
        }
        return kept;
    }

    private static Iterator<?> iterate(Object items) {
        return switch (items) {
            case null -> List.of().iterator();
            case Map<?, ?> m -> m.keySet().iterator(); // Jinja iterates over a mapping's keys
            case Iterable<?> i -> i.iterator();
            default -> List.of(items).iterator();
        };
    }

    /** One loop variable gets the item; several unpack it (a map entry, or a list by position). */
    private static void bind(JinjavaInterpreter interpreter, String[] vars, Object item) {
        if (vars.length == 1) {
            interpreter.getContext().put(vars[0].strip(), item);
            return;
        }
        List<?> parts = item instanceof Map.Entry<?, ?> e ? java.util.Arrays.asList(e.getKey(), e.getValue())
                : item instanceof List<?> l ? l : List.of(item);
        for (int i = 0; i < vars.length && i < parts.size(); i++) {
            interpreter.getContext().put(vars[i].strip(), parts.get(i));
        }
    }

    /** Where the keyword {@code if} stands outside string literals and brackets, or -1. */
    static int topLevelIf(String expression) {
        int depth = 0;
        for (int i = 0; i < expression.length(); i++) {
            char c = expression.charAt(i);
            if (c == '\'' || c == '"') {
                int j = i + 1;
                while (j < expression.length() && expression.charAt(j) != c) {
                    j += expression.charAt(j) == '\\' ? 2 : 1;
                }
                i = j;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (depth == 0 && expression.startsWith("if", i) && !wordChar(expression, i - 1)
                    && !wordChar(expression, i + 2)) {
                return i;
            }
        }
        return -1;
    }

    /** A single-quoted EL string literal of {@code s}. */
    private static String literal(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static boolean wordChar(String s, int i) {
        return i >= 0 && i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_');
    }
}
