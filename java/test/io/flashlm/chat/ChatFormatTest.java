package io.flashlm.chat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.format.GgufValue;
import io.flashlm.format.GgufValueType;
import io.flashlm.format.GgufWriter;
import io.flashlm.format.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the chat template, BOS/EOS strings and end-of-turn tokens come from: GGUF metadata and HF files. */
class ChatFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static GgufValue u32(long v) {
        return GgufValue.scalar(GgufValueType.UINT32, v);
    }

    private static GgufValue str(String s) {
        return GgufValue.scalar(GgufValueType.STRING, s);
    }

    @Test
    void ggufMetadata() throws Exception {
        String template = Templates.text("llama3");
        Path file = new GgufWriter()
                .kv("general.architecture", str("llama"))
                .kv("tokenizer.ggml.model", str("gpt2"))
                .kv("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, new String[]{"<|begin_of_text|>",
                        "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "a"}))
                .kv("tokenizer.ggml.bos_token_id", u32(0))
                .kv("tokenizer.ggml.eos_token_id", u32(1))
                .kv("tokenizer.ggml.eot_token_id", u32(2))
                .kv("tokenizer.ggml.eom_token_id", u32(3))
                .kv("tokenizer.ggml.padding_token_id", u32(0xFFFFFFFFL))
                .kv("tokenizer.chat_template", str(template))
                .write(dir.resolve("m.gguf"));
        ChatFormat f = ChatFormat.read(file);
        assertEquals(template, f.template());
        assertEquals(file + ": metadata tokenizer.chat_template", f.templateOrigin());
        assertEquals("<|begin_of_text|>", f.bosToken());
        assertEquals("<|end_of_text|>", f.eosToken());
        assertEquals(List.of(1, 2, 3), f.stopIds());
    }

    @Test
    void ggufWithoutTemplateSaysSoWhenCompiled() throws Exception {
        Path file = new GgufWriter()
                .kv("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, new String[]{"<s>", "</s>"}))
                .kv("tokenizer.ggml.eos_token_id", u32(1))
                .write(dir.resolve("plain.gguf"));
        ChatFormat f = ChatFormat.read(file);
        assertNull(f.template());
        IllegalStateException e = assertThrows(IllegalStateException.class, f::compileTemplate);
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("no metadata tokenizer.chat_template")
                && e.getMessage().contains("--template"), e.getMessage());
        assertEquals("x", f.withTemplate("x", "given").compileTemplate().render(List.of(), "", "", true));
    }

    @Test
    void ggufTokenIdOutsideTheVocabularyIsNamed() throws Exception {
        Path file = new GgufWriter()
                .kv("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, new String[]{"<s>"}))
                .kv("tokenizer.ggml.eot_token_id", u32(7))
                .write(dir.resolve("bad.gguf"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ChatFormat.read(file));
        assertTrue(e.getMessage().contains("tokenizer.ggml.eot_token_id"), e.getMessage());
    }

    @Test
    void huggingFaceStringTemplateAndTokenObjects() throws Exception {
        String template = Templates.text("qwen2.5");
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), Map.of("chat_template", template,
                "bos_token", Map.of("content", "<s>", "lstrip", false), "eos_token", "<|im_end|>"));
        JSON.writeValue(dir.resolve("generation_config.json").toFile(), Map.of("eos_token_id", List.of(151645, 151643)));
        ChatFormat f = ChatFormat.read(dir);
        assertEquals(template, f.template());
        assertEquals(dir.resolve("tokenizer_config.json") + ": chat_template", f.templateOrigin());
        assertEquals("<s>", f.bosToken());
        assertEquals("<|im_end|>", f.eosToken());
        assertEquals(List.of(151645, 151643), f.stopIds());
        assertEquals(List.of("<|im_end|>"), f.stopTokens());
    }

    @Test
    void huggingFaceNamedTemplatesTakeDefault() throws Exception {
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), Map.of("chat_template", List.of(
                Map.of("name", "tool_use", "template", "T"), Map.of("name", "default", "template", "D")),
                "eos_token", "</s>"));
        JSON.writeValue(dir.resolve("generation_config.json").toFile(), Map.of("eos_token_id", 2));
        ChatFormat f = ChatFormat.read(dir);
        assertEquals("D", f.template());
        assertEquals(List.of(2), f.stopIds());
    }

    @Test
    void huggingFaceTemplateFileBesideTheConfig() throws Exception {
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), Map.of("eos_token", "</s>"));
        Files.writeString(dir.resolve("chat_template.jinja"), "J");
        ChatFormat f = ChatFormat.read(dir);
        assertEquals("J", f.template());
        assertEquals(dir.resolve("chat_template.jinja").toString(), f.templateOrigin());
    }

    @Test
    void huggingFaceTemplateOfTheWrongTypeIsNamed() throws Exception {
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), Map.of("chat_template", 3));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ChatFormat.read(dir));
        assertTrue(e.getMessage().contains("tokenizer_config.json: chat_template"), e.getMessage());
    }

    @Test
    void llama2cCheckpointHasNone() throws Exception {
        Path bin = Files.write(dir.resolve("model.bin"), new byte[64]);
        assertNull(ChatFormat.read(bin).template());
    }
}
