package io.flashlm.model.arch;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flashlm.api.ModelLoader;
import io.flashlm.model.LanguageModel;
import io.flashlm.testing.Fuzzing;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Fuzzes a Hugging Face model directory as a user meets it: {@code config.json}, an optional
 * {@code model.safetensors.index.json}, {@code model.safetensors} and {@code tokenizer.json}, loaded and used
 * for two positions. Seeds: families of {@link ArchModels} (dense, sliding window, fused projections, mixture of
 * experts), one of them through an index, and the shared tinyllama-gqa's config and tokenizer where present.
 */
class HfModelFuzzTest {
    static final String[] FILES = {"config.json", "model.safetensors.index.json", "tokenizer.json", "model.safetensors"};

    static Stream<byte[]> seeds() {
        Path dir = Fuzzing.scratch("hf-seeds");
        List<byte[]> seeds = new ArrayList<>();
        List<Supplier<ArchModel>> families = List.of(ArchModels::llama, () -> ArchModels.qwen3(true),
                () -> ArchModels.phi3(32, 32, false), ArchModels::gemma2, () -> ArchModels.qwen3moe(3));
        try {
            for (int i = 0; i < families.size(); i++) {
                Path model = families.get(i).get().writeHf(dir.resolve("m" + i));
                byte[] index = i == 0 ? index(model) : new byte[0];
                seeds.add(Fuzzing.join(Fuzzing.bytes(model.resolve(FILES[0])), index,
                        Fuzzing.bytes(model.resolve(FILES[2])), Fuzzing.bytes(model.resolve(FILES[3]))));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return Stream.concat(seeds.stream(), Fuzzing.sharedModelSeed("tinyllama-gqa/config.json", "",
                "tinyllama-gqa/tokenizer.json", "tinyllama-gqa/model.safetensors"));
    }

    /** An index that maps every tensor of the directory's single file to it, as a sharded checkpoint's would. */
    private static byte[] index(Path model) throws IOException {
        StringBuilder json = new StringBuilder("{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var file = io.flashlm.format.HfCheckpoint.open(model, arena);
            String sep = "";
            for (String name : file.tensors().keySet()) {
                json.append(sep).append('"').append(name).append("\": \"model.safetensors\"");
                sep = ", ";
            }
        }
        return json.append("}}").toString().getBytes(StandardCharsets.UTF_8);
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "")
    void load(byte[] input) {
        Path dir = Fuzzing.writeFiles(Fuzzing.scratch("hf"), input, FILES);
        Fuzzing.loadedOrRefused(() -> {
            try (LanguageModel model = ModelLoader.load(dir, null, 1)) {
                Fuzzing.exercise(model);
            }
        });
    }
}
