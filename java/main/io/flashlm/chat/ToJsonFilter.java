package io.flashlm.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.lang.reflect.Array;
import java.util.Map;

/**
 * {@code tojson} as Hugging Face defines it for chat templates: Python's {@code json.dumps(x, ensure_ascii=False,
 * indent=indent)}, so {@code ", "} and {@code ": "} between items (Jinjava's own filter writes none) and, with
 * {@code indent=N}, one item per line. Tool descriptions reach the prompt through it, so the spacing matters.
 */
final class ToJsonFilter implements Filter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        return dumps(var, args.length > 0 && args[0] != null ? Integer.parseInt(args[0]) : -1);
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
        return dumps(var, indent == null ? -1 : ((Number) indent).intValue());
    }

    static String dumps(Object value, int indent) {
        StringBuilder out = new StringBuilder();
        write(value, indent, 0, out);
        return out.toString();
    }

    private static void write(Object v, int indent, int depth, StringBuilder out) {
        switch (v) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Double d when d.isNaN() || d.isInfinite() -> out.append(d.isNaN() ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
            case Number n -> out.append(n);
            case Map<?, ?> m -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    separator(first, indent, depth + 1, out);
                    string(String.valueOf(e.getKey()), out);
                    out.append(": ");
                    write(e.getValue(), indent, depth + 1, out);
                    first = false;
                }
                close(first, indent, depth, out).append('}');
            }
            case Iterable<?> items -> {
                out.append('[');
                boolean first = true;
                for (Object o : items) {
                    separator(first, indent, depth + 1, out);
                    write(o, indent, depth + 1, out);
                    first = false;
                }
                close(first, indent, depth, out).append(']');
            }
            default -> {
                if (v.getClass().isArray()) {
                    java.util.List<Object> items = new java.util.ArrayList<>();
                    for (int i = 0; i < Array.getLength(v); i++) {
                        items.add(Array.get(v, i));
                    }
                    write(items, indent, depth, out);
                } else {
                    string(v.toString(), out);
                }
            }
        }
    }

    /** Before an item: ", " inline, or ",\n" and the indentation. */
    private static void separator(boolean first, int indent, int depth, StringBuilder out) {
        if (indent < 0) {
            if (!first) {
                out.append(", ");
            }
            return;
        }
        out.append(first ? "\n" : ",\n").append(" ".repeat(indent * depth));
    }

    private static StringBuilder close(boolean empty, int indent, int depth, StringBuilder out) {
        if (indent >= 0 && !empty) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
        return out;
    }

    /** A JSON string as json.dumps(ensure_ascii=False) writes it. */
    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
