package io.flashlm.api;

import java.util.Map;
import java.util.Objects;

/**
 * One message of a conversation for {@link Session#chat}: its role ({@code system}, {@code user} or
 * {@code assistant}) and its text.
 */
public record ChatMessage(String role, String content) {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
        if (!role.equals(SYSTEM) && !role.equals(USER) && !role.equals(ASSISTANT)) {
            throw new IllegalArgumentException("chat message role '" + role + "' is not one of system, user,"
                    + " assistant");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(ASSISTANT, content);
    }

    /** The {role, content} mapping a chat template reads. */
    Map<String, String> asTemplateVariable() {
        return Map.of("role", role, "content", content);
    }
}
