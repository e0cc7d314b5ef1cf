package io.flashlm.chat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** The published chat templates kept as test resources (the text tokenizer_config.json's chat_template decodes to). */
final class Templates {
    private Templates() {
    }

    static String text(String name) {
        try (InputStream in = Templates.class.getResourceAsStream("templates/" + name + ".jinja")) {
            if (in == null) {
                throw new IllegalStateException("test resource templates/" + name + ".jinja is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ChatTemplate compile(String name) {
        return ChatTemplate.compile(text(name), name + ".jinja");
    }

    static Map<String, String> message(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    static final String SYSTEM = "You are a helpful assistant.";
    static final String USER_1 = "Hello!";
    static final String ASSISTANT_1 = "Hi! How can I help you today?";
    static final String USER_2 = "What is 2+2?";

    /** system + user + assistant + user. */
    static List<Map<String, String>> twoTurns() {
        return List.of(message("system", SYSTEM), message("user", USER_1), message("assistant", ASSISTANT_1),
                message("user", USER_2));
    }

    /** user + assistant + user. */
    static List<Map<String, String>> twoTurnsWithoutSystem() {
        return twoTurns().subList(1, 4);
    }
}
