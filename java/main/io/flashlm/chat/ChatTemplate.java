package io.flashlm.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's chat template (Jinja, as in tokenizer_config.json's {@code chat_template} or GGUF's
 * {@code tokenizer.chat_template}), rendered by Jinjava with the variables Hugging Face gives it: {@code messages}
 * (a list of {role, content}), {@code bos_token}, {@code eos_token} and {@code add_generation_prompt}.
 *
 * <p>Jinjava collects problems instead of throwing; any fatal one (an unknown tag or function, a method strings
 * lack, the template's own {@code raise_exception}) becomes a {@link ChatTemplateException} naming the origin, the
 * line and the construct. Unknown filters and tests, which Jinjava renders as nothing, fail the same way when used.
 */
public final class ChatTemplate {
    private final String source;
    private final String rendered; // the source as Jinjava reads it (JinjaSource.withJinjaNotPrecedence)
    private final String origin;
    private final Jinjava jinjava;

    private ChatTemplate(String source, String rendered, String origin, Jinjava jinjava) {
        this.source = source;
        this.rendered = rendered;
        this.origin = origin;
        this.jinjava = jinjava;
    }

    /**
     * @param source the template text
     * @param origin where it came from, for messages (e.g. {@code tokenizer_config.json: chat_template})
     * @throws ChatTemplateException when it is empty
     */
    public static ChatTemplate compile(String source, String origin) {
        if (source == null || source.isBlank()) {
            throw new ChatTemplateException(origin, "the template is empty");
        }
        Jinjava jinjava = JinjaEnvironment.create();
        // Jinjava renders an unknown filter or test as nothing, silently: stand-ins make using one fail, naming it.
        for (String filter : JinjaSource.filterNames(source)) {
            if (jinjava.getGlobalContext().getFilter(filter) == null) {
                jinjava.getGlobalContext().registerFilter(new UnsupportedFilter(filter));
            }
        }
        for (String test : JinjaSource.testNames(source)) {
            if (jinjava.getGlobalContext().getExpTest(test) == null) {
                jinjava.getGlobalContext().registerExpTest(new UnsupportedTest(test));
            }
        }
        return new ChatTemplate(source, JinjaSource.withJinjaNotPrecedence(source), origin, jinjava);
    }

    /**
     * Renders the conversation.
     *
     * @param messages each a map with at least "role" and "content"
     * @throws ChatTemplateException when rendering fails or the template raises an exception
     */
    public String render(List<? extends Map<String, ?>> messages, String bosToken, String eosToken,
                         boolean addGenerationPrompt) {
        return render(messages, bosToken, eosToken, addGenerationPrompt, Map.of());
    }

    /**
     * Renders the conversation with more variables, e.g. {@code tools} (a list of JSON-like maps) for templates
     * that describe tools to the model; they cannot replace the four standard ones.
     */
    public String render(List<? extends Map<String, ?>> messages, String bosToken, String eosToken,
                         boolean addGenerationPrompt, Map<String, ?> extraVariables) {
        Map<String, Object> variables = new HashMap<>(extraVariables);
        variables.put("messages", messages);
        variables.put("bos_token", bosToken == null ? "" : bosToken);
        variables.put("eos_token", eosToken == null ? "" : eosToken);
        variables.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = jinjava.renderForResult(rendered, variables);
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException(origin, describe(error));
            }
        }
        return result.getOutput();
    }

    public String source() {
        return source;
    }

    public String origin() {
        return origin;
    }

    private static String describe(TemplateError error) {
        String line = error.getLineno() > 0 ? "line " + error.getLineno() + ": " : "";
        for (Throwable t = error.getException(); t != null; t = t.getCause()) {
            if (t instanceof RaisedException raised) {
                return line + "the template raised an exception: " + raised.getMessage();
            }
            if (t instanceof UnsupportedConstructException unsupported) {
                return line + unsupported.getMessage();
            }
            if (t.getCause() == t) {
                break;
            }
        }
        String where = error.getFieldName() == null || error.getFieldName().isEmpty() ? ""
                : " (in '" + error.getFieldName() + "')";
        return line + error.getMessage() + where;
    }
}
