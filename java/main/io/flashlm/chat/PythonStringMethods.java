package io.flashlm.chat;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Python {@code str} (and {@code dict.get}) methods chat templates call, which Jinjava lacks because it
 * calls Java methods ({@code 'a'.startswith('a')} would be "Cannot find method startswith"): startswith,
 * endswith, strip, lstrip, rstrip, split, lower, upper, title, capitalize, replace, find, count, join, and on
 * a mapping get(key, default) and keys(). Resolved before Jinjava's own resolver, with Python's semantics
 * (split with a separator is literal, not a Java regex, and keeps trailing empty strings).
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        Object[] args = params == null ? new Object[0] : params;
        Object result;
        if (base instanceof String s && method instanceof String name) {
            result = stringMethod(s, name, args);
        } else if (base instanceof Map<?, ?> m && method instanceof String name) {
            result = mapMethod(m, name, args);
        } else {
            return null;
        }
        if (result == NOT_HANDLED) {
            return null;
        }
        context.setPropertyResolved(true);
        return result;
    }

    private static final Object NOT_HANDLED = new Object();

    private static Object stringMethod(String s, String name, Object[] a) {
        return switch (name) {
            case "startswith" -> a.length == 1 ? anyOf(a[0], p -> s.startsWith(p)) : NOT_HANDLED;
            case "endswith" -> a.length == 1 ? anyOf(a[0], p -> s.endsWith(p)) : NOT_HANDLED;
            case "strip" -> a.length <= 1 ? rstrip(lstrip(s, chars(a)), chars(a)) : NOT_HANDLED;
            case "lstrip" -> a.length <= 1 ? lstrip(s, chars(a)) : NOT_HANDLED;
            case "rstrip" -> a.length <= 1 ? rstrip(s, chars(a)) : NOT_HANDLED;
            case "split" -> split(s, a);
            case "lower" -> a.length == 0 ? s.toLowerCase(Locale.ROOT) : NOT_HANDLED;
            case "upper" -> a.length == 0 ? s.toUpperCase(Locale.ROOT) : NOT_HANDLED;
            case "title" -> a.length == 0 ? title(s) : NOT_HANDLED;
            case "capitalize" -> a.length == 0 ? capitalize(s) : NOT_HANDLED;
            case "replace" -> a.length == 2 ? s.replace(String.valueOf(a[0]), String.valueOf(a[1]))
                    : a.length == 3 ? replace(s, String.valueOf(a[0]), String.valueOf(a[1]), toInt(a[2]))
                    : NOT_HANDLED;
            case "find" -> a.length == 1 ? (long) s.indexOf(String.valueOf(a[0])) : NOT_HANDLED;
            case "count" -> a.length == 1 ? count(s, String.valueOf(a[0])) : NOT_HANDLED;
            case "join" -> a.length == 1 && a[0] instanceof Iterable<?> items ? join(s, items) : NOT_HANDLED;
            default -> NOT_HANDLED;
        };
    }

    private static Object mapMethod(Map<?, ?> m, String name, Object[] a) {
        return switch (name) {
            case "get" -> a.length == 2 ? (m.containsKey(a[0]) ? m.get(a[0]) : a[1]) : NOT_HANDLED;
            case "keys" -> a.length == 0 ? new ArrayList<>(m.keySet()) : NOT_HANDLED;
            default -> NOT_HANDLED;
        };
    }

    private interface StringTest {
        boolean test(String s);
    }

    /** Python's startswith/endswith take a string or a tuple of strings. */
    private static boolean anyOf(Object arg, StringTest test) {
        if (arg instanceof Collection<?> options) {
            for (Object o : options) {
                if (test.test(String.valueOf(o))) {
                    return true;
                }
            }
            return false;
        }
        return test.test(String.valueOf(arg));
    }

    /** The characters to strip, or null for whitespace. */
    private static String chars(Object[] a) {
        return a.length == 0 || a[0] == null ? null : String.valueOf(a[0]);
    }

    private static boolean strips(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    private static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && strips(s.charAt(i), chars)) {
            i++;
        }
        return s.substring(i);
    }

    private static String rstrip(String s, String chars) {
        int end = s.length();
        while (end > 0 && strips(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(0, end);
    }

    /** str.split(): on runs of whitespace without empty strings; str.split(sep[, maxsplit]): on the literal sep. */
    private static Object split(String s, Object[] a) {
        if (a.length > 2) {
            return NOT_HANDLED;
        }
        int max = a.length == 2 ? toInt(a[1]) : -1;
        List<String> out = new ArrayList<>();
        if (a.length == 0 || a[0] == null) {
            int i = 0;
            while (true) {
                while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                    i++;
                }
                if (i >= s.length()) {
                    return out;
                }
                if (max >= 0 && out.size() == max) {
                    out.add(rstrip(s.substring(i), null));
                    return out;
                }
                int end = i;
                while (end < s.length() && !Character.isWhitespace(s.charAt(end))) {
                    end++;
                }
                out.add(s.substring(i, end));
                i = end;
            }
        }
        String sep = String.valueOf(a[0]);
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("split(): empty separator");
        }
        int from = 0;
        for (int at = s.indexOf(sep); at >= 0 && (max < 0 || out.size() < max); at = s.indexOf(sep, from)) {
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousCased = Character.isLetter(c);
        }
        return b.toString();
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static String replace(String s, String old, String with, int count) {
        if (count < 0) {
            return s.replace(old, with);
        }
        StringBuilder b = new StringBuilder();
        int from = 0;
        for (int n = 0; n < count; n++) {
            int at = s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            b.append(s, from, at).append(with);
            from = at + old.length();
            if (old.isEmpty()) {
                if (from < s.length()) {
                    b.append(s.charAt(from));
                }
                from++;
            }
        }
        return from <= s.length() ? b.append(s.substring(from)).toString() : b.toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String sep, Iterable<?> items) {
        StringBuilder b = new StringBuilder();
        boolean first = true;
        for (Object o : items) {
            if (!first) {
                b.append(sep);
            }
            b.append(o);
            first = false;
        }
        return b.toString();
    }

    private static int toInt(Object o) {
        return o instanceof Number n ? n.intValue() : Integer.parseInt(String.valueOf(o));
    }

    // Not a property resolver: method calls only.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
