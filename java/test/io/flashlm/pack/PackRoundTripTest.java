package io.flashlm.pack;

import io.flashlm.api.ModelLoader;
import io.flashlm.model.LanguageModel;
import io.flashlm.model.LlamaModel;
import io.flashlm.synth.SyntheticLlamaGguf;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import io.flashlm.testing.Logits;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Convert, then load the pack densely: the logits are bit-identical to the source's for f32 and f16
 * packs (every source format, both layouts, both alignments); q8_0 packs stay within a stated bound.
 */
class PackRoundTripTest {
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    static final int[] TOKENS = {2, 17, 200, 5, 99, 143, 7, 250, 33, 64, 280, 1, 42, 42, 9, 260};
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("pack-roundtrip");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    static Path convert(Path from, String name, DType dtype, PackLayout layout, int alignment) throws IOException {
        return PackConverter.convert(new PackConverter.Options(from, null, root.resolve(name), dtype, layout, alignment,
                false), QUIET, false).dir();
    }

    static float[][] logits(Path model, int threads) throws IOException {
        try (LanguageModel m = ModelLoader.load(model, null, threads)) {
            return Logits.of(m, TOKENS);
        }
    }

    static void assertBitIdentical(Path source, Path pack) throws IOException {
        String diff = Logits.firstDifference(logits(source, 2), logits(pack, 2));
        assertNull(diff, () -> pack.getFileName() + " differs from its source at " + diff);
    }

    @ParameterizedTest(name = "llama {0} silu={1} {2} align {3}")
    @CsvSource({"F32, true, bundled, 4096", "F32, true, unbundled, 512", "F32, false, bundled, 512",
            "F16, true, bundled, 4096", "F16, true, unbundled, 4096", "F16, false, unbundled, 512"})
    void hfLlamaIsBitIdentical(String dtype, boolean silu, String layout, int align) throws IOException {
        String name = "llama-" + dtype + "-" + silu + "-" + layout + "-" + align;
        Path src = HfTestModel.llama(3, dtype.equals("F16"), silu).write(root.resolve(name + "-src"), dtype);
        Path pack = convert(src, name, DType.valueOf(dtype), PackLayout.parse(layout), align);
        assertBitIdentical(src, pack);
    }

    @ParameterizedTest(name = "opt {0} {1}")
    @CsvSource({"F32, bundled", "F32, unbundled", "F16, bundled", "F16, unbundled"})
    void hfOptIsBitIdentical(String dtype, String layout) throws IOException {
        String name = "opt-" + dtype + "-" + layout;
        Path src = HfTestModel.opt(4, dtype.equals("F16")).write(root.resolve(name + "-src"), dtype);
        Path pack = convert(src, name, DType.valueOf(dtype), PackLayout.parse(layout), 4096);
        assertBitIdentical(src, pack);
    }

    /** An f32 source converted to f16 is the f16 source: values rounded once, by the same rule (compare with F16 files). */
    @Test
    void f32SourceToF16PackEqualsTheF16Source() throws IOException {
        HfTestModel m = HfTestModel.llama(5, true, true); // f16-representable values, stored both ways
        Path f32 = m.write(root.resolve("rounded-f32"), "F32");
        Path f16 = m.write(root.resolve("rounded-f16"), "F16");
        Path pack = convert(f32, "rounded-to-f16", DType.F16, PackLayout.BUNDLED, 4096);
        assertBitIdentical(f16, pack);
        // and the pack's matrices are f16 indeed, norms f32
        try (FlashPack p = FlashPack.open(pack)) {
            assertEquals(DType.F16, p.tensor("layers.0.wq").dtype());
            assertEquals(DType.F32, p.tensor("layers.0.attention_norm.weight").dtype());
        }
    }

    @ParameterizedTest(name = "gguf {0}")
    @CsvSource({"F32", "F16"})
    void ggufIsBitIdentical(String dtype) throws IOException {
        DType d = DType.valueOf(dtype);
        Path src = root.resolve("synthetic-" + dtype + ".gguf");
        SyntheticLlamaGguf.write(new SyntheticLlamaGguf.Spec(64, 2, 4, 2, 96, 300, 64, d, 7), src);
        assertBitIdentical(src, convert(src, "gguf-" + dtype, d, PackLayout.BUNDLED, 4096));
        assertBitIdentical(src, convert(src, "gguf-" + dtype + "-unbundled", d, PackLayout.UNBUNDLED, 512));
    }

    /**
     * Every stored q8_0 weight is within half a quantization step of the source's value: |w - d q| <= d / 2 with
     * d = max|block| / 127, plus the rounding of d to f16 (2^-11 relative, times |q| <= 127).
     */
    @Test
    void q8_0WeightsAreWithinHalfAStep() throws IOException {
        Path src = HfTestModel.llama(8, false, true).write(root.resolve("q8-weights-src"), "F32");
        Path pack = convert(src, "q8-weights", DType.Q8_0, PackLayout.UNBUNDLED, 4096);
        try (LanguageModel source = ModelLoader.load(src, null, 1); FlashPack p = FlashPack.open(pack);
             Arena arena = Arena.ofConfined()) {
            var w = ((LlamaModel) source).weights().layers().get(1);
            DenseFfn ffn = DenseFfn.load(p, 1, arena);
            assertEquals(DType.Q8_0, ffn.up().dtype());
            assertEquals(DType.F32, ffn.down().dtype()); // dequantized columns, transposed back
            checkHalfStep(w.up(), ffn.up(), false);
            checkHalfStep(w.gate(), ffn.gate(), false);
            checkHalfStep(w.down(), ffn.down(), true);
            checkHalfStep(w.wq(), p.tensor("layers.1.wq"), false);
        }
    }

    /** Blocks run along rows, or along columns for the down matrix (stored as columns in the pack). */
    private static void checkHalfStep(Tensor expected, Tensor actual,
                                      boolean blocksAlongColumns) {
        long rows = expected.rowCount(), cols = expected.rowLength();
        long outer = blocksAlongColumns ? cols : rows, inner = blocksAlongColumns ? rows : cols;
        for (long o = 0; o < outer; o++) {
            for (long b = 0; b < inner; b += 32) {
                double amax = 0;
                for (long i = b; i < b + 32; i++) {
                    amax = Math.max(amax, Math.abs(blocksAlongColumns ? expected.getFloat(i, o) : expected.getFloat(o, i)));
                }
                double bound = amax / 254 + amax * 0x1p-11 + 1e-12;
                for (long i = b; i < b + 32; i++) {
                    long r = blocksAlongColumns ? i : o, c = blocksAlongColumns ? o : i;
                    double err = Math.abs(expected.getFloat(r, c) - actual.getFloat(r, c));
                    assertTrue(err <= bound, expected.name() + " [" + r + ", " + c + "]: error " + err + " > " + bound);
                }
            }
        }
    }

    /**
     * q8_0 packs: up/gate rows and attention keep the source's blocks when it is q8_0 already; down columns
     * are re-quantized along d_model (from a k-quant too, whose super-blocks run along the rows). The bound is on the logits relative to their largest magnitude.
     */
    @ParameterizedTest(name = "q8_0 from {0}")
    @CsvSource({"gguf-q8_0, 0.03", "gguf-f32, 0.03", "hf-f32, 0.03", "gguf-q6_k, 0.03"})
    void q8_0StaysWithinTheBound(String source, double bound) throws IOException {
        Path src = switch (source) {
            case "gguf-q6_k" -> { // a k-quant source, decoded along rows and down columns (tiles of any width)
                Path f = root.resolve("q8-" + source + ".gguf");
                SyntheticLlamaGguf.write(new SyntheticLlamaGguf.Spec(256, 2, 4, 2, 512, 300, 64, DType.Q6_K, 9), f);
                yield f;
            }
            case "gguf-q8_0", "gguf-f32" -> {
                Path f = root.resolve("q8-" + source + ".gguf");
                SyntheticLlamaGguf.write(new SyntheticLlamaGguf.Spec(64, 2, 4, 2, 96, 300, 64,
                        source.equals("gguf-q8_0") ? DType.Q8_0 : DType.F32, 9), f);
                yield f;
            }
            default -> HfTestModel.llama(6, false, true).write(root.resolve("q8-hf-src"), "F32");
        };
        Path pack = convert(src, "q8-" + source, DType.Q8_0, PackLayout.BUNDLED, 512);
        float[][] expected = logits(src, 2);
        float[][] actual = logits(pack, 2);
        double err = Logits.maxRelativeError(expected, actual);
        double agree = Logits.top1Agreement(expected, actual);
        System.out.printf(Locale.ROOT, "q8_0 pack from %s: max |logit error| / max |logit| = %.5f, top-1 agreement %.2f%n",
                source, err, agree);
        assertTrue(err < bound, () -> "q8_0 logit error " + err + " above the bound " + bound);
    }
}
