package io.flashlm.model;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flashlm.api.ModelLoader;
import io.flashlm.chat.ChatFormat;
import io.flashlm.chat.ChatTemplateException;
import io.flashlm.model.GgufModelFixture.WeightType;
import io.flashlm.testing.Fuzzing;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Fuzzes the GGUF loader as a user meets it: the bytes are a model file given to {@code generate}, read by the
 * header parser, the tokenizer and architecture readers and the tensor checks, then used for two positions, and by
 * {@code chat} for its template.
 * Seeds: tiny llama models of several weight types written here (one with a GPT-2 BPE vocabulary), and stories260K.gguf where the shared models
 * are. See {@link Fuzzing} for the contract.
 */
class GgufModelFuzzTest {

    static Stream<byte[]> seeds() throws IOException {
        Path dir = Fuzzing.scratch("gguf-seeds");
        List<byte[]> seeds = new ArrayList<>();
        for (WeightType type : List.of(WeightType.F32, WeightType.F16, WeightType.Q8_0, WeightType.Q4_0)) {
            seeds.add(Files.readAllBytes(new GgufModelFixture(1, type).tiny().write(dir.resolve(type + ".gguf"))));
        }
        seeds.add(Files.readAllBytes(new GgufModelFixture(2, WeightType.F32).tiny().tied().ungated().activation("relu")
                .write(dir.resolve("relu.gguf"))));
        GgufBpeFixture bpe = new GgufBpeFixture();
        bpe.set("tokenizer.chat_template", GgufBpeFixture.str("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}"
                + "{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"));
        seeds.add(Files.readAllBytes(new GgufModelFixture(3, WeightType.Q8_0).tiny().vocabulary(bpe)
                .write(dir.resolve("bpe.gguf"))));
        return Stream.concat(seeds.stream(), Fuzzing.sharedModelSeed("stories260K.gguf"));
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "")
    void load(byte[] file) throws IOException {
        Path path = Files.write(Fuzzing.scratch("gguf").resolve("model.gguf"), file);
        Fuzzing.loadedOrRefused(() -> {
            try (LanguageModel model = ModelLoader.load(path, null, 1)) {
                Fuzzing.exercise(model);
            }
        });
        Fuzzing.loadedOrRefused(ChatTemplateException.class, () -> {
            ChatFormat chat = ChatFormat.read(path);
            if (chat.templateText().isPresent()) {
                chat.compileTemplate().render(List.of(Map.of("role", "user", "content", Fuzzing.TEXT)), chat.bosToken(),
                        chat.eosToken(), true);
            }
        });
    }
}
