package io.flashlm.chat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A lexical look at a template's source: the code inside its {@code {{ }}} and {@code {% %}} delimiters, without
 * string literals, and the filter and test names that code uses. Jinjava renders an unknown filter or test as
 * nothing, without an error, so {@link ChatTemplate} checks the names against the engine before rendering.
 */
final class JinjaSource {
    private static final Pattern CODE = Pattern.compile("\\{\\{(.*?)}}|\\{%(.*?)%}", Pattern.DOTALL);
    private static final Pattern FILTER = Pattern.compile("(?<!\\|)\\|(?!\\|)\\s*([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern TEST = Pattern.compile("\\bis\\s+(?:not\\s+)?([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern FILTER_TAG = Pattern.compile("^\\s*-?\\s*filter\\s+([A-Za-z_][A-Za-z0-9_]*)");

    private JinjaSource() {
    }

    /** The code of every expression and statement, string literals blanked out, comments dropped. */
    static List<String> codeBlocks(String template) {
        String withoutComments = template.replaceAll("(?s)\\{#.*?#}", "");
        List<String> out = new ArrayList<>();
        Matcher m = CODE.matcher(withoutComments);
        while (m.find()) {
            out.add(withoutStringLiterals(m.group(1) != null ? m.group(1) : m.group(2)));
        }
        return out;
    }

    static Set<String> filterNames(String template) {
        Set<String> names = new LinkedHashSet<>();
        for (String code : codeBlocks(template)) {
            Matcher f = FILTER.matcher(code);
            while (f.find()) {
                names.add(f.group(1));
            }
            Matcher tag = FILTER_TAG.matcher(code);
            if (tag.find()) {
                names.add(tag.group(1));
            }
        }
        return names;
    }

    static Set<String> testNames(String template) {
        Set<String> names = new LinkedHashSet<>();
        for (String code : codeBlocks(template)) {
            Matcher t = TEST.matcher(code);
            while (t.find()) {
                if (!t.group(1).equals("not")) {
                    names.add(t.group(1));
                }
            }
        }
        return names;
    }

    /** The code with each '...' or "..." literal (backslash escapes included) replaced by an empty one. */
    static String withoutStringLiterals(String code) {
        StringBuilder out = new StringBuilder(code.length());
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c != '\'' && c != '"') {
                out.append(c);
                continue;
            }
            int j = i + 1;
            while (j < code.length() && code.charAt(j) != c) {
                j += code.charAt(j) == '\\' ? 2 : 1;
            }
            out.append(c).append(c);
            i = j;
        }
        return out.toString();
    }
}
