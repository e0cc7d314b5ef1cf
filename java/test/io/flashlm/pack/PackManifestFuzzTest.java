package io.flashlm.pack;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flashlm.api.ModelLoader;
import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineOptions;
import io.flashlm.engine.FlashEngine;
import io.flashlm.model.LanguageModel;
import io.flashlm.testing.Fuzzing;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Fuzzes a pack's {@code manifest.json} in place, over a tiny synthetic pack's real files: read by the
 * in-DRAM loader and by the flash engine (exact mode, no budget), each used for two positions. The manifest
 * names every file, size, offset, CRC and tensor shape, so a wrong field must be refused before any read.
 * Seed: the pack's own manifest.
 */
class PackManifestFuzzTest {
    private static Path pack;

    static Stream<byte[]> seeds() {
        return Stream.of(Fuzzing.bytes(pack().resolve(PackFormat.MANIFEST)));
    }

    private static synchronized Path pack() {
        if (pack == null) {
            pack = Fuzzing.tinyPack("pack-manifest");
        }
        return pack;
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "")
    void open(byte[] manifest) throws IOException {
        Path dir = pack();
        Files.write(dir.resolve(PackFormat.MANIFEST), manifest);
        Fuzzing.loadedOrRefused(() -> {
            try (LanguageModel model = ModelLoader.load(dir, null, 1)) {
                Fuzzing.exercise(model);
            }
        });
        Fuzzing.loadedOrRefused(() -> {
            try (FlashEngine engine = FlashEngine.open(dir, EngineOptions.builder().mode(EngineMode.EXACT).threads(1)
                    .unlimitedMemory().build())) {
                Fuzzing.exercise(engine);
            }
        });
    }
}
