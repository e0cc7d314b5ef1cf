package io.flashlm.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateSyntaxException;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.TagNode;

/**
 * Jinjava's {@code for} tag, refusing Jinja's loop filter ({@code {% for x in xs if cond %}}): Jinjava ignores
 * the condition and iterates over every item, which would silently render a different prompt. Refused when the
 * loop runs, not when the template is compiled, so that templates whose tool-calling branches use it still
 * render plain conversations.
 */
final class LoopFilterForTag extends ForTag {

    static final String CONSTRUCT = "the loop filter 'for ... in ... if ...'";

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
        if (hasTopLevelIf(tagNode.getHelpers())) {
            throw new TemplateSyntaxException(interpreter, tagNode.reconstructImage(),
                    CONSTRUCT + " is not supported by Jinjava");
        }
        return super.interpret(tagNode, interpreter);
    }

    /** Whether the keyword {@code if} appears outside string literals and brackets. */
    static boolean hasTopLevelIf(String helpers) {
        String code = JinjaSource.withoutStringLiterals(helpers);
        int depth = 0;
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (depth == 0 && code.startsWith("if", i) && !wordChar(code, i - 1) && !wordChar(code, i + 2)) {
                return true;
            }
        }
        return false;
    }

    private static boolean wordChar(String s, int i) {
        return i >= 0 && i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_');
    }
}
