package io.flashlm.chat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.testing.Fuzzing;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Fuzzes a Hugging Face model directory's chat files, {@code tokenizer_config.json} (chat_template as a string
 * or a named list, bos/eos tokens as strings or objects) and {@code generation_config.json} (eos_token_id as a
 * number or a list), read as {@code flashlm chat} reads them and rendered. Seeds: configs written here around
 * the published templates, and the shared models' where present.
 */
class HfChatFormatFuzzTest {
    static final String[] FILES = {"generation_config.json", "tokenizer_config.json"};

    static Stream<byte[]> seeds() throws Exception {
        ObjectMapper json = new ObjectMapper();
        byte[] generation = "{\"bos_token_id\": 1, \"eos_token_id\": [2, 7]}".getBytes(StandardCharsets.UTF_8);
        byte[] plain = json.writeValueAsBytes(Map.of("bos_token", "<s>", "eos_token", "</s>",
                "chat_template", Templates.text("llama3")));
        byte[] named = json.writeValueAsBytes(Map.of("bos_token", Map.of("content", "<s>", "special", true),
                "eos_token", "<|im_end|>", "chat_template",
                new Object[]{Map.of("name", "default", "template", Templates.text("qwen2.5")),
                        Map.of("name", "tool_use", "template", Templates.text("mistral-v0.3"))}));
        return Stream.concat(Stream.of(Fuzzing.join(generation, plain), Fuzzing.join(new byte[0], named)),
                Fuzzing.sharedModelSeed("tinyllama-gqa/generation_config.json", "tinyllama-gqa/tokenizer_config.json"));
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "")
    void read(byte[] input) {
        Path dir = Fuzzing.writeFiles(Fuzzing.scratch("hf-chat"), input, FILES);
        Fuzzing.loadedOrRefused(ChatTemplateException.class, () -> {
            ChatFormat format = ChatFormat.read(dir);
            if (format.templateText().isPresent()) {
                format.compileTemplate().render(Templates.twoTurns(), format.bosToken(), format.eosToken(), true);
            }
        });
    }
}
