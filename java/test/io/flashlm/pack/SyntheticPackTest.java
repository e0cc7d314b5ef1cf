package io.flashlm.pack;

import io.flashlm.api.FlashModel;
import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Generation;
import io.flashlm.api.ModelLoader;
import io.flashlm.api.ModelOptions;
import io.flashlm.api.Session;
import io.flashlm.model.LanguageModel;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import io.flashlm.testing.Logits;
import io.flashlm.testing.TestFiles;
import io.flashlm.util.Progress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `flashlm synth`: runnable packs, reproducible bytes, the configured ReLU sparsity, the presets' sizes. */
class SyntheticPackTest {
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("pack-synth");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    static Path synth(SyntheticShape shape, String name, DType dtype, PackLayout layout, int alignment, long seed,
                      int threads) throws IOException {
        return SyntheticPackWriter.write(shape, new SyntheticPackWriter.Options(root.resolve(name), dtype, layout,
                alignment, seed, 0.97, threads, false), PackRoundTripTest.QUIET, false).dir();
    }

    @Test
    void tinyGeneratesAndVerifies() throws IOException {
        Path pack = synth(SyntheticShape.preset("tiny"), "tiny", DType.F16, PackLayout.BUNDLED, 4096, 42, 2);
        try (FlashModel m = FlashModel.open(pack, ModelOptions.defaults().withThreads(2)); Session s = m.newSession()) {
            Generation g = s.generate("Any prompt at all: ünïcödé too", new GenerateOptions(8, 0f, 0.9f, 1, true));
            assertEquals(8, g.generatedIds().length);
            assertEquals(2, g.promptIds()[0], "OPT's BOS");
            assertEquals("Any prompt at all: ünïcödé too".getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 1,
                    g.promptIds().length, "one token per byte");
        }
        try (FlashPack p = FlashPack.open(pack)) {
            assertTrue(PackVerifier.verify(p, new Progress("", 0, System.err, false)).ok());
        }
    }

    /** The same seed gives the same model in either layout and with any number of threads. */
    @Test
    void valuesDependOnlyOnTheSeed() throws IOException {
        SyntheticShape shape = SyntheticShape.custom("llama", 2, 64, 96, 4, 300, 64, null);
        Path a = synth(shape, "seed-a", DType.F16, PackLayout.BUNDLED, 4096, 7, 1);
        Path b = synth(shape, "seed-b", DType.F16, PackLayout.UNBUNDLED, 512, 7, 3);
        Path c = synth(shape, "seed-c", DType.F16, PackLayout.BUNDLED, 512, 8, 2);
        int[] tokens = {0, 5, 200, 7, 299, 1};
        float[][] la = logits(a, tokens);
        assertNull(Logits.firstDifference(la, logits(b, tokens)));
        assertTrue(Logits.firstDifference(la, logits(c, tokens)) != null, "another seed, another model");
        // bundled with another thread count: the same bytes
        Path d = synth(shape, "seed-d", DType.F16, PackLayout.BUNDLED, 4096, 7, 2);
        assertArrayEquals(Files.readAllBytes(a.resolve("dram.bin")), Files.readAllBytes(d.resolve("dram.bin")));
        assertArrayEquals(Files.readAllBytes(a.resolve("ffn/layer-001.bin")), Files.readAllBytes(d.resolve("ffn/layer-001.bin")));
    }

    @Test
    void gatedQ8_0ShapeRunsAndVerifies() throws IOException {
        SyntheticShape shape = SyntheticShape.custom("llama", 2, 128, 352, 4, 400, 64, null);
        Path pack = synth(shape, "llama-q8", DType.Q8_0, PackLayout.UNBUNDLED, 512, 3, 2);
        try (FlashPack p = FlashPack.open(pack)) {
            assertEquals(3, p.ffnGeometry().filesPerLayer());
            assertTrue(PackVerifier.verify(p, new Progress("", 0, System.err, false)).ok());
        }
        float[][] l = logits(pack, new int[]{0, 1, 2, 3});
        for (float[] row : l) {
            for (float v : row) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    /** For LayerNorm-like inputs (unit variance) the ReLU FFN's pre-activations are positive about 3% of the time. */
    @Test
    void reluFfnHasTheConfiguredSparsity() throws IOException {
        Path pack = synth(SyntheticShape.custom("opt", 2, 256, 2048, 4, 300, 64, null), "sparsity", DType.F32,
                PackLayout.BUNDLED, 4096, 5, 2);
        try (FlashPack p = FlashPack.open(pack); Arena arena = Arena.ofConfined()) {
            DenseFfn ffn = DenseFfn.load(p, 1, arena);
            Tensor bias = p.tensor("layers.1.ffn_up.bias");
            Random rnd = new Random(1);
            long active = 0, total = 0;
            float[] x = new float[256];
            for (int sample = 0; sample < 20; sample++) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                for (int n = 0; n < 2048; n++) {
                    double pre = bias.getFloat(n);
                    for (int i = 0; i < x.length; i++) {
                        pre += ffn.up().getFloat(n, i) * x[i];
                    }
                    active += pre > 0 ? 1 : 0;
                    total++;
                }
            }
            double share = (double) active / total;
            System.out.printf("synthetic ReLU FFN: %.1f%% of neurons active for unit-variance inputs%n", 100 * share);
            assertTrue(share > 0.015 && share < 0.05, "active share " + share);
        }
    }

    @Test
    void presetsHaveTheirModelsSizes() {
        SyntheticPackWriter.Options f16 = new SyntheticPackWriter.Options(root.resolve("unused"), DType.F16,
                PackLayout.BUNDLED, 4096, 1, 0.97, 1, false);
        long opt67 = SyntheticPackWriter.plannedBytes(SyntheticShape.preset("opt-6.7b"), f16);
        assertTrue(opt67 > 13.3e9 && opt67 < 13.5e9, "opt-6.7b in f16: " + opt67); // the paper's 13.4 GB
        long llama = SyntheticPackWriter.plannedBytes(SyntheticShape.preset("llama-2-7b"), f16);
        assertTrue(llama > 13.4e9 && llama < 13.6e9, "llama-2-7b in f16: " + llama); // 6.74B parameters
        long opt13 = SyntheticPackWriter.plannedBytes(SyntheticShape.preset("opt-1.3b"), f16);
        assertTrue(opt13 > 2.5e9 && opt13 < 2.7e9, "opt-1.3b in f16: " + opt13);
        long tiny = SyntheticPackWriter.plannedBytes(SyntheticShape.preset("tiny"), f16);
        assertTrue(tiny < 16e6, "tiny: " + tiny);
    }

    private static float[][] logits(Path pack, int[] tokens) throws IOException {
        try (LanguageModel m = ModelLoader.load(pack, null, 2)) {
            return Logits.of(m, tokens);
        }
    }
}
