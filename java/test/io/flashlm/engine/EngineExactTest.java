package io.flashlm.engine;

import io.flashlm.model.InferenceState;
import io.flashlm.pack.FlashPack;
import io.flashlm.pack.PackLayout;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.tensor.DType;
import io.flashlm.testing.Logits;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13: exact mode under a budget. With the DRAM part and 30, 50 or 70 % of the FFN's bytes in
 * the budget (and room for the fixed part), it pins what fits, streams the rest double-buffered every token,
 * and gives dense's logits bit for bit on a SiLU model (where nothing is sparse, so every neuron counts),
 * bundled and unbundled.
 */
class EngineExactTest {
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("engine-exact");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    /**
     * A prompt run through the engine in chunks ({@link FlashEngine#forwardBatch}) gives the logits of one token
     * at a time in every mode, and the streaming modes read the FFN once per chunk instead of once per token.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"dense", "naive", "hybrid", "predictor", "window", "flash", "exact"})
    void chunkedPromptsGiveTheLogitsOfSingleTokens(String mode) throws IOException {
        Path pack = pack(PackLayout.BUNDLED);
        EngineOptions o = EngineModesTest.oracle(EngineMode.parse(mode));
        int[] prompt = {2, 17, 200, 5, 99, 143, 7, 250, 31, 64};
        float[] one, chunked;
        long bytesOne, bytesChunked;
        try (FlashEngine e = FlashEngine.open(pack, o); InferenceState s = e.newState()) {
            one = last(e, s, prompt, 1);
            bytesOne = bytes(e);
        }
        try (FlashEngine e = FlashEngine.open(pack, o); InferenceState s = e.newState()) {
            chunked = last(e, s, prompt, 4);
            bytesChunked = bytes(e);
        }
        assertNull(Logits.firstDifference(new float[][]{one}, new float[][]{chunked}), mode);
        if (mode.equals("hybrid") || mode.equals("naive")) {
            assertTrue(bytesChunked * 3 <= bytesOne, mode + " reads " + bytesChunked + " bytes in chunks of 4, "
                    + bytesOne + " one token at a time");
        }
    }

    /**
     * Rows of 12 KiB (d_model 2048, f16, gated): a streamed chunk holds 682 of them, fewer than the neurons that
     * 70 % of the FFN pins, and the pinned ones are still computed in one call (a sparse kernel sized for the
     * chunk refused them once).
     */
    @ParameterizedTest(name = "{0} % of the FFN")
    @CsvSource({"70", "90"})
    void morePinnedNeuronsThanAChunkHolds(int percent) throws IOException {
        Path pack = root.resolve("llama-wide");
        if (!Files.exists(pack)) {
            SyntheticShape shape = SyntheticShape.custom("llama", 1, 2048, 1024, 16, 300, 128, null);
            SyntheticPackWriter.write(shape, new SyntheticPackWriter.Options(pack, DType.F16, PackLayout.BUNDLED, 4096,
                    3, 0.9, 1, false), EngineModesTest.QUIET, false);
        }
        float[][] dense = EngineModesTest.run(pack, EngineModesTest.oracle(EngineMode.DENSE));
        long fixed, ffn, scratch;
        try (FlashPack p = FlashPack.open(pack); FlashEngine e = FlashEngine.open(pack,
                EngineModesTest.oracle(EngineMode.DENSE))) {
            long rowBytes = ResidentFfn.rowBytes(p.ffnGeometry());
            ffn = (long) p.ffnGeometry().neurons() * rowBytes;
            scratch = StreamingFfn.scratchBytes(p.ffnGeometry(), (int) (ExactPlan.CHUNK_BYTES / rowBytes));
            fixed = e.budget().used() - ffn;
        }
        EngineOptions o = EngineModesTest.oracle(EngineMode.EXACT).toBuilder()
                .memory(fixed + scratch + ffn * percent / 100).build();
        try (FlashEngine e = FlashEngine.open(pack, o)) {
            assertTrue(e.cacheRows() > 682, "pinned " + e.cacheRows());
            assertNull(Logits.firstDifference(dense, EngineModesTest.generate(e, null)), percent + " %");
        }
    }

    /**
     * Dense mode runs a chunk's tokens through the FFN together ({@link io.flashlm.kernels.SparseFfn#computeBatch},
     * in sub-batches of {@link io.flashlm.kernels.SparseFfn#BATCH_INPUTS}): chunks longer than a sub-batch, on
     * gated and ReLU (biased) models in several storage types, still give the logits of one token at a time.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"llama, F16", "llama, Q8_0", "opt, F32", "opt, F16"})
    void denseChunksLongerThanABatchGiveTheLogitsOfSingleTokens(String arch, DType dtype) throws IOException {
        Path pack = root.resolve(arch + "-" + dtype);
        if (!Files.exists(pack)) {
            SyntheticShape shape = SyntheticShape.custom(arch, 2, 64, 256, 4, 300, 128, null);
            SyntheticPackWriter.write(shape, new SyntheticPackWriter.Options(pack, dtype, PackLayout.BUNDLED, 512, 5,
                    0.9, 1, false), EngineModesTest.QUIET, false);
        }
        int[] prompt = new int[45];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = (i * 37 + 11) % 300;
        }
        EngineOptions o = EngineModesTest.oracle(EngineMode.DENSE);
        float[] one, chunked;
        try (FlashEngine e = FlashEngine.open(pack, o); InferenceState s = e.newState()) {
            one = last(e, s, prompt, 1);
        }
        try (FlashEngine e = FlashEngine.open(pack, o); InferenceState s = e.newState()) {
            chunked = last(e, s, prompt, 40);
        }
        assertNull(Logits.firstDifference(new float[][]{one}, new float[][]{chunked}), arch + " " + dtype);
    }

    private static float[] last(FlashEngine e, InferenceState s, int[] prompt, int chunk) {
        float[] out = null;
        for (int i = 0; i < prompt.length; i += chunk) {
            int n = Math.min(chunk, prompt.length - i);
            out = e.forwardBatch(s, prompt, i, n, i).asSlice(0, 4L * e.config().vocabSize()).toArray(JAVA_FLOAT);
        }
        return out;
    }

    private static long bytes(FlashEngine e) {
        long total = 0;
        for (int t = 0; t < e.stats().tokens(); t++) {
            total += e.stats().token(t).bytesRead();
        }
        return total;
    }

    private static Path pack(PackLayout l) throws IOException {
        Path pack = root.resolve("llama-" + l.name().toLowerCase(java.util.Locale.ROOT));
        if (!Files.exists(pack)) {
            SyntheticShape shape = SyntheticShape.custom("llama", 3, 64, 512, 4, 300, 128, null);
            SyntheticPackWriter.write(shape, new SyntheticPackWriter.Options(pack, DType.F32, l, 512, 11, 0.9, 1,
                    false), EngineModesTest.QUIET, false);
        }
        return pack;
    }

    @ParameterizedTest(name = "{0}, {1} % of the FFN")
    @CsvSource({"bundled, 30", "bundled, 50", "bundled, 70", "unbundled, 50"})
    void exactGivesDenseLogitsWithPartOfTheFfnPinned(String layout, int percent) throws IOException {
        Path pack = pack(PackLayout.parse(layout));
        float[][] dense = EngineModesTest.run(pack, EngineModesTest.oracle(EngineMode.DENSE));
        long fixed, ffn, scratch;
        int neurons;
        try (FlashPack p = FlashPack.open(pack); FlashEngine e = FlashEngine.open(pack,
                EngineModesTest.oracle(EngineMode.DENSE))) {
            neurons = p.ffnGeometry().neurons();
            long rowBytes = ResidentFfn.rowBytes(p.ffnGeometry());
            ffn = (long) p.config().layers() * neurons * rowBytes;
            scratch = StreamingFfn.scratchBytes(p.ffnGeometry(),
                    (int) Math.min(neurons, ExactPlan.CHUNK_BYTES / rowBytes));
            fixed = e.budget().used() - ffn;
        }
        // the fixed part, the two scratch chunks, and the share of the FFN to pin
        long budget = fixed + scratch + ffn * percent / 100;
        EngineOptions o = EngineModesTest.oracle(EngineMode.EXACT).toBuilder().memory(budget).build();
        try (FlashEngine e = FlashEngine.open(pack, o)) {
            String d = e.describe();
            assertTrue(d.contains("pinned in DRAM"), d);
            assertTrue(!d.contains(neurons + " of " + neurons), "some neurons must stream: " + d);
        }
        assertNull(Logits.firstDifference(dense, EngineModesTest.run(pack, o)), layout + " " + percent + " %");
    }
}
