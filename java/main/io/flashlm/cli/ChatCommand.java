package io.flashlm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.api.ChatMessage;
import io.flashlm.api.FlashModel;
import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Generation;
import io.flashlm.api.GenerationStats;
import io.flashlm.api.ModelOptions;
import io.flashlm.api.Session;
import io.flashlm.chat.ChatTemplateException;
import io.flashlm.engine.EngineMode;
import io.flashlm.format.ModelFormatException;
import io.flashlm.kernels.ComputePool;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.pack.PackFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * flashlm chat: a conversation with a model through its chat template, interactive (a user turn per line of
 * stdin) or from a JSON file of messages. The session keeps its KV cache across turns (Session.chat).
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model through its chat template (from the GGUF metadata, tokenizer_config.json,"
                + " or --template).",
                "Interactive: each line of stdin is a user turn and the reply streams back; /reset clears the"
                        + " conversation, /stats prints the last turn's token counts and speed, /exit or end of"
                        + " input ends. With --messages FILE.json it answers that conversation once and exits."})
public final class ChatCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--model", required = true, description = "A .gguf file, a Hugging Face model directory, a flash"
            + " pack directory or a llama2.c checkpoint (these last need --template unless the pack kept one).")
    Path model;

    @Option(names = "--template", description = "A file with the chat template (Jinja) to use instead of the model's.")
    Path template;

    @Option(names = "--system", description = "A system message to start the conversation with.")
    String system;

    @Option(names = "--messages", description = "A JSON file [{\"role\": \"user\", \"content\": \"...\"}, ...]:"
            + " print the assistant's reply to it and exit.")
    Path messagesFile;

    @Option(names = "--json", description = "With --messages: print the reply and its statistics as one JSON object.")
    boolean json;

    @Option(names = "--mode", description = "Flash packs: dense, naive, hybrid, mmap, predictor, window or flash."
            + " Default: flash.")
    String mode;

    @Mixin
    EngineOptionsMixin engine = new EngineOptionsMixin();

    @Option(names = "--tokenizer", description = "Tokenizer file of a llama2.c checkpoint.")
    Path tokenizer;

    @Mixin
    GenerationOptionsMixin sampling = new GenerationOptionsMixin();

    @Override
    public Integer call() throws Exception {
        NativeLibrary.require();
        if (json && messagesFile == null) {
            throw new IllegalArgumentException("--json needs --messages FILE (the interactive chat streams text)");
        }
        boolean pack = PackFormat.isPack(model);
        if (!pack && (mode != null || engine.anyGiven())) {
            throw new IllegalArgumentException("--mode, --memory and the other engine options need a flash pack, and "
                    + model + " is not one");
        }
        int threads = engine.threads != null ? engine.threads : ComputePool.defaultThreads(256);
        GenerateOptions options = sampling.options();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (FlashModel m = pack ? FlashModel.open(model, engine.options(EngineOptionsMixin.modeOrDefault(mode,
                model), model)) : FlashModel.open(model, ModelOptions.defaults().withTokenizer(tokenizer)
                .withThreads(threads).withContext(engine.context)); Session session = sampling.configure(m.newSession())) {
            if (template != null) {
                m.useChatTemplate(template);
            }
            m.chatFormat(); // read now: a broken tokenizer_config.json is one clear message, not a failed turn
            if (!json) {
                System.err.println("flashlm: " + m.describe());
            }
            if (messagesFile != null) {
                answerOnce(session, options, out);
            } else {
                converse(session, options, out);
            }
        }
        return 0;
    }

    /** --messages: one reply to the file's conversation. */
    private void answerOnce(Session session, GenerateOptions options, PrintStream out) throws IOException {
        List<ChatMessage> messages = withSystem(readMessages(messagesFile));
        if (json) {
            Generation g = session.chat(messages, options);
            GenerationStats s = g.stats();
            ObjectNode o = JSON.createObjectNode();
            o.put("reply", g.text());
            o.put("prompt_tokens", g.promptIds().length);
            o.put("prompt_tokens_fed", s.promptTokens());
            o.put("generated_tokens", s.generatedTokens());
            o.put("stop", s.stopReason().name().toLowerCase(Locale.ROOT));
            o.put("prompt_tokens_per_second", s.promptTokensPerSecond());
            o.put("generated_tokens_per_second", s.generatedTokensPerSecond());
            out.println(o);
            return;
        }
        Generation g = session.chat(messages, options, (id, text) -> out.print(text));
        out.println();
        System.err.println(statsLine(g));
    }

    /** Interactive: a user turn per line until /exit or end of input. */
    private void converse(Session session, GenerateOptions options, PrintStream out) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        List<ChatMessage> conversation = withSystem(new ArrayList<>());
        boolean console = System.console() != null && System.console().isTerminal(); // the prompt only for a person
        Generation last = null;
        while (true) {
            if (console) {
                out.print("> ");
            }
            String line = in.readLine();
            if (line == null || line.strip().equals("/exit")) {
                return;
            }
            String input = line.strip();
            if (input.isEmpty()) {
                continue;
            }
            switch (input) {
                case "/reset" -> {
                    conversation = withSystem(new ArrayList<>());
                    session.reset();
                    out.println("(conversation cleared)");
                    continue;
                }
                case "/stats" -> {
                    out.println(last == null ? "(no turn yet)" : statsLine(last));
                    continue;
                }
                default -> {
                    if (input.startsWith("/")) {
                        out.println("unknown command " + input + "; the commands are /reset, /stats, /exit");
                        continue;
                    }
                }
            }
            conversation.add(ChatMessage.user(input));
            try {
                last = session.chat(conversation, options, (id, text) -> out.print(text));
            } catch (IllegalArgumentException e) {
                // The template refused this turn (ChatTemplateException) or the conversation outgrew the context:
                // say why and let the user go on (or /reset).
                conversation.removeLast();
                System.err.println("flashlm chat: " + e.getMessage() + (e instanceof ChatTemplateException ? ""
                        : " (/reset starts a new conversation)"));
                continue;
            }
            out.println();
            conversation.add(ChatMessage.assistant(last.text()));
        }
    }

    private List<ChatMessage> withSystem(List<ChatMessage> messages) {
        List<ChatMessage> out = new ArrayList<>();
        if (system != null && (messages.isEmpty() || !messages.getFirst().role().equals(ChatMessage.SYSTEM))) {
            out.add(ChatMessage.system(system));
        }
        out.addAll(messages);
        return out;
    }

    /** The messages file: a JSON array of {role, content}. */
    static List<ChatMessage> readMessages(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFormatException(file, "json", "not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isArray() || root.isEmpty()) {
            throw new ModelFormatException(file, "messages", "expected a non-empty JSON array of {\"role\": ...,"
                    + " \"content\": ...}");
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode m = root.get(i);
            if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                throw new ModelFormatException(file, "[" + i + "]", "expected {\"role\": string, \"content\": string},"
                        + " found " + m);
            }
            try {
                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(file, "[" + i + "].role", e.getMessage(), e);
            }
        }
        return messages;
    }

    private static String statsLine(Generation g) {
        GenerationStats s = g.stats();
        return String.format(Locale.ROOT, "prompt: %d tokens fed (%d in the conversation), %.1f tokens/s; generated:"
                        + " %d tokens, %.1f tokens/s (stopped: %s)", s.promptTokens(), g.promptIds().length,
                s.promptTokensPerSecond(), s.generatedTokens(), s.generatedTokensPerSecond(),
                s.stopReason().name().toLowerCase(Locale.ROOT));
    }
}
