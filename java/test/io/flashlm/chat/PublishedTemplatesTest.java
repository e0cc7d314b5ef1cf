package io.flashlm.chat;

import org.junit.jupiter.api.Test;

import static io.flashlm.chat.Templates.ASSISTANT_1;
import static io.flashlm.chat.Templates.SYSTEM;
import static io.flashlm.chat.Templates.USER_1;
import static io.flashlm.chat.Templates.USER_2;
import static io.flashlm.chat.Templates.twoTurns;
import static io.flashlm.chat.Templates.twoTurnsWithoutSystem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat templates of five model families, rendered by Jinjava for a two-turn conversation, against the prompt
 * format each family documents (written out by hand here, not produced by a template).
 */
class PublishedTemplatesTest {

    @Test
    void llama3() {
        String expected = "<|begin_of_text|>"
                + "<|start_header_id|>system<|end_header_id|>\n\n" + SYSTEM + "<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\n" + USER_1 + "<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n" + ASSISTANT_1 + "<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\n" + USER_2 + "<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, Templates.compile("llama3").render(twoTurns(), "<|begin_of_text|>", "<|end_of_text|>",
                true));
    }

    @Test
    void llama31AddsItsDatesToTheSystemMessage() {
        String expected = "<|begin_of_text|>"
                + "<|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n" + SYSTEM + "<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\n" + USER_1 + "<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n" + ASSISTANT_1 + "<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\n" + USER_2 + "<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, Templates.compile("llama3.1").render(twoTurns(), "<|begin_of_text|>",
                "<|eot_id|>", true));
    }

    @Test
    void mistralV03PutsTheSystemPromptIntoTheLastUserTurn() {
        String expected = "<s>[INST] " + USER_1 + "[/INST] " + ASSISTANT_1 + "</s>"
                + "[INST] " + SYSTEM + "\n\n" + USER_2 + "[/INST]";
        assertEquals(expected, Templates.compile("mistral-v0.3").render(twoTurns(), "<s>", "</s>", true));
    }

    @Test
    void mistralV03RefusesRolesThatDoNotAlternate() {
        var messages = java.util.List.of(Templates.message("user", "a"), Templates.message("user", "b"));
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> Templates.compile("mistral-v0.3").render(messages, "<s>", "</s>", true));
        assertTrue(e.getMessage().contains("conversation roles must alternate"), e.getMessage());
    }

    @Test
    void qwen25WithASystemMessage() {
        String expected = "<|im_start|>system\n" + SYSTEM + "<|im_end|>\n"
                + "<|im_start|>user\n" + USER_1 + "<|im_end|>\n"
                + "<|im_start|>assistant\n" + ASSISTANT_1 + "<|im_end|>\n"
                + "<|im_start|>user\n" + USER_2 + "<|im_end|>\n"
                + "<|im_start|>assistant\n";
        assertEquals(expected, Templates.compile("qwen2.5").render(twoTurns(), null, "<|im_end|>", true));
    }

    @Test
    void qwen25AddsItsDefaultSystemMessage() {
        String expected = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                + "<|im_end|>\n"
                + "<|im_start|>user\n" + USER_1 + "<|im_end|>\n"
                + "<|im_start|>assistant\n" + ASSISTANT_1 + "<|im_end|>\n"
                + "<|im_start|>user\n" + USER_2 + "<|im_end|>\n"
                + "<|im_start|>assistant\n";
        assertEquals(expected, Templates.compile("qwen2.5").render(twoTurnsWithoutSystem(), null, "<|im_end|>", true));
    }

    @Test
    void qwen25WithoutGenerationPrompt() {
        String rendered = Templates.compile("qwen2.5").render(twoTurns(), null, "<|im_end|>", false);
        assertTrue(rendered.endsWith("<|im_start|>user\n" + USER_2 + "<|im_end|>\n"), rendered);
    }

    @Test
    void phi3() {
        String expected = "<|system|>\n" + SYSTEM + "<|end|>\n"
                + "<|user|>\n" + USER_1 + "<|end|>\n"
                + "<|assistant|>\n" + ASSISTANT_1 + "<|end|>\n"
                + "<|user|>\n" + USER_2 + "<|end|>\n"
                + "<|assistant|>\n";
        assertEquals(expected, Templates.compile("phi3").render(twoTurns(), "<s>", "<|endoftext|>", true));
    }

    @Test
    void gemmaCallsTheAssistantModel() {
        String expected = "<bos><start_of_turn>user\n" + USER_1 + "<end_of_turn>\n"
                + "<start_of_turn>model\n" + ASSISTANT_1 + "<end_of_turn>\n"
                + "<start_of_turn>user\n" + USER_2 + "<end_of_turn>\n"
                + "<start_of_turn>model\n";
        assertEquals(expected, Templates.compile("gemma").render(twoTurnsWithoutSystem(), "<bos>", "<eos>", true));
    }

    @Test
    void gemmaRefusesASystemMessageWithItsOwnMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> Templates.compile("gemma").render(twoTurns(), "<bos>", "<eos>", true));
        assertTrue(e.getMessage().contains("System role not supported"), e.getMessage());
        assertTrue(e.getMessage().contains("gemma.jinja"), e.getMessage());
        assertTrue(e.getMessage().contains("raised an exception"), e.getMessage());
    }
}
