package io.flashlm.chat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flashlm.testing.Fuzzing;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Fuzzes a chat template as a model file carries it: compiled (flashlm's rewrites of the Jinja source, its
 * stand-ins for unknown filters and tests), then rendered over a two-turn conversation with and without the
 * generation prompt and with a tool list. A template may be refused with a {@link ChatTemplateException} that
 * says why; nothing else may escape, and rendering must end. Seeds: the published templates of the test
 * resources (Llama 3 and 3.1, Mistral v0.3, Qwen 2.5, Phi-3, Gemma).
 */
class ChatTemplateFuzzTest {
    static final List<Map<String, Object>> TOOLS = List.of(Map.of("type", "function", "function",
            Map.of("name", "get_weather", "description", "Weather for a city",
                    "parameters", Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string"))))));

    static Stream<byte[]> seeds() {
        return Stream.of("llama3", "llama3.1", "mistral-v0.3", "qwen2.5", "phi3", "gemma")
                .map(name -> Templates.text(name).getBytes(StandardCharsets.UTF_8));
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "")
    void render(byte[] input) {
        String source = new String(input, StandardCharsets.UTF_8);
        Fuzzing.loadedOrRefused(ChatTemplateException.class, () -> {
            ChatTemplate template = ChatTemplate.compile(source, "fuzzed.jinja");
            template.render(Templates.twoTurns(), "<s>", "</s>", true);
            template.render(Templates.twoTurns(), "<s>", "</s>", false, Map.of("tools", TOOLS));
        });
    }
}
