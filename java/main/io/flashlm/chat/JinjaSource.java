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

    // not <operand> is [not] <test>[(args)], the operand a name with .attribute and [index] accesses.
    private static final Pattern NOT_IS = Pattern.compile("\\bnot\\s+([A-Za-z_][A-Za-z0-9_]*(?:\\s*(?:\\.\\s*"
            + "[A-Za-z_][A-Za-z0-9_]*|\\[[^\\]]*]))*\\s+is\\s+(?:not\\s+)?[A-Za-z_][A-Za-z0-9_]*(?:\\([^)]*\\))?)");
    /** Private-use characters: one the code does not contain stands for a string literal while rewriting. */
    private static final char FIRST_MASK = '\uE000', LAST_MASK = '\uF8FF';

    /**
     * The template with {@code not x is test} written {@code not (x is test)}: Jinja's {@code not} binds more loosely
     * than a test, Jinjava's more tightly, so {@code not tools is defined} would read {@code (not tools) is defined},
     * always true (templates use it to give {@code tools} a default). Only code inside delimiters is touched.
     */
    static String withJinjaNotPrecedence(String template) {
        StringBuilder out = new StringBuilder(template.length() + 16);
        Matcher m = CODE.matcher(template);
        int last = 0;
        while (m.find()) {
            out.append(template, last, m.start());
            out.append(rewriteNotIs(m.group()));
            last = m.end();
        }
        return out.append(template.substring(last)).toString();
    }

    private static String rewriteNotIs(String code) {
        char mask = FIRST_MASK;
        while (code.indexOf(mask) >= 0) {
            if (mask == LAST_MASK) {
                return code; // every private-use character occurs: no marker is safe, leave the code as written
            }
            mask++;
        }
        List<String> literals = new ArrayList<>();
        StringBuilder masked = new StringBuilder(code.length());
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c != '\'' && c != '"') {
                masked.append(c);
                continue;
            }
            int j = i + 1;
            while (j < code.length() && code.charAt(j) != c) {
                j += code.charAt(j) == '\\' ? 2 : 1;
            }
            j = Math.min(j, code.length() - 1);
            literals.add(code.substring(i, j + 1));
            masked.append(mask).append(literals.size() - 1).append(mask);
            i = j;
        }
        String rewritten = NOT_IS.matcher(masked).replaceAll(r -> Matcher.quoteReplacement("not (" + r.group(1) + ")"));
        StringBuilder out = new StringBuilder(rewritten.length());
        for (int i = 0; i < rewritten.length(); i++) {
            char c = rewritten.charAt(i);
            if (c != mask) {
                out.append(c);
                continue;
            }
            int end = rewritten.indexOf(mask, i + 1);
            out.append(literals.get(Integer.parseInt(rewritten.substring(i + 1, end))));
            i = end;
        }
        return out.toString();
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
