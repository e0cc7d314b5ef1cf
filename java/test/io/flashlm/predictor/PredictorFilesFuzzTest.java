package io.flashlm.predictor;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineOptions;
import io.flashlm.engine.FlashEngine;
import io.flashlm.testing.Fuzzing;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Fuzzes a stored predictor ({@code predictors/trained/manifest.json} and its {@code layer-NNN.bin} files) in a
 * tiny synthetic pack, opened by the flash engine in flash mode and used for two positions: the manifest's
 * geometry, ranks, sizes and CRCs must be checked against the pack before a predictor's weights are used.
 * Seed: a rank-4 predictor saved by {@link PredictorStore#save}.
 */
class PredictorFilesFuzzTest {
    static final String[] FILES = {"manifest.json", "layer-000.bin", "layer-001.bin", "layer-002.bin", "layer-003.bin"};
    private static Path pack;

    static Stream<byte[]> seeds() {
        Path dir = PredictorStore.dir(pack(), PredictorKind.TRAINED);
        byte[][] files = new byte[FILES.length][];
        for (int i = 0; i < FILES.length; i++) {
            files[i] = Fuzzing.bytes(dir.resolve(FILES[i]));
        }
        return Stream.of(Fuzzing.join(files));
    }

    /** The tiny pack (4 layers, d_model 128, 512 neurons) with a random rank-4 trained predictor saved in it. */
    private static synchronized Path pack() {
        if (pack == null) {
            Path dir = Fuzzing.tinyPack("predictor-files");
            int layers = 4, d = 128, n = 512, rank = 4;
            SplittableRandom rnd = new SplittableRandom(9);
            Arena arena = Arena.ofAuto();
            LowRankPredictor.Layer[] w = new LowRankPredictor.Layer[layers];
            for (int l = 0; l < layers; l++) {
                MemorySegment a = arena.allocate(JAVA_FLOAT, (long) rank * d), b = arena.allocate(JAVA_FLOAT, (long) n * rank),
                        bias = arena.allocate(JAVA_FLOAT, n);
                for (MemorySegment s : new MemorySegment[]{a, b, bias}) {
                    for (long i = 0; i < s.byteSize() / 4; i++) {
                        s.setAtIndex(JAVA_FLOAT, i, (float) Trainer.gauss(rnd) * 0.1f);
                    }
                }
                w[l] = new LowRankPredictor.Layer(rank, a, b, bias, 0f);
            }
            try {
                PredictorStore.save(dir, new LowRankPredictor(PredictorKind.TRAINED, d, n, true, w), Map.of("note", "fuzz seed"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            pack = dir;
        }
        return pack;
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "")
    void open(byte[] input) throws IOException {
        Path dir = PredictorStore.dir(pack(), PredictorKind.TRAINED);
        TestFiles.deleteRecursively(dir);
        Files.createDirectories(dir);
        Fuzzing.writeFiles(dir, input, FILES);
        if (!Files.exists(dir.resolve(FILES[0]))) {
            return; // no predictor at all: an option error (IllegalArgumentException), not a damaged file
        }
        Fuzzing.loadedOrRefused(() -> {
            try (FlashEngine engine = FlashEngine.open(pack, EngineOptions.builder().mode(EngineMode.FLASH)
                    .predictor(PredictorKind.TRAINED).threads(1).unlimitedMemory().build())) {
                Fuzzing.exercise(engine);
            }
        });
    }
}
