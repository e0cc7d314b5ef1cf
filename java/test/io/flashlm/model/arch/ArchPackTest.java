package io.flashlm.model.arch;

import io.flashlm.api.ModelLoader;
import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineOptions;
import io.flashlm.engine.FlashEngine;
import io.flashlm.format.ModelFormatException;
import io.flashlm.model.LanguageModel;
import io.flashlm.pack.PackConverter;
import io.flashlm.pack.PackLayout;
import io.flashlm.predictor.PredictorKind;
import io.flashlm.tensor.DType;
import io.flashlm.testing.Logits;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12: every family a flash pack can hold (all but the mixtures of experts) converts from its Hugging
 * Face directory into a pack, whose engine in dense mode gives the source model's logits (to 1e-5 of the
 * largest: the pack's FFN runs the bundled kernels), and every other engine mode gives dense mode's logits
 * bit for bit. A mixture of experts is refused by name.
 */
class ArchPackTest {
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("arch-pack");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    static Stream<Arguments> families() {
        return Stream.of(
                Arguments.of("llama3", (Supplier<ArchModel>) ArchModels::llama3),
                Arguments.of("mistral", (Supplier<ArchModel>) () -> ArchModels.mistral(32)),
                Arguments.of("qwen2", (Supplier<ArchModel>) () -> ArchModels.qwen2(false)),
                Arguments.of("qwen3", (Supplier<ArchModel>) () -> ArchModels.qwen3(false)),
                Arguments.of("phi3", (Supplier<ArchModel>) () -> ArchModels.phi3(32, 32, false)),
                Arguments.of("gemma2", (Supplier<ArchModel>) ArchModels::gemma2),
                Arguments.of("gemma3", (Supplier<ArchModel>) ArchModels::gemma3),
                Arguments.of("falcon", (Supplier<ArchModel>) () -> ArchModels.falcon(false)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void everyModeOfThePackGivesTheSourceModelsLogits(String name, Supplier<ArchModel> build) throws IOException {
        Path dir = Files.createTempDirectory(root, name);
        Path hf = build.get().writeHf(dir.resolve("hf"));
        Path pack = dir.resolve("pack");
        PackConverter.convert(new PackConverter.Options(hf, null, pack, DType.F32, PackLayout.BUNDLED, 512, false),
                QUIET, false);
        float[][] source;
        try (LanguageModel m = ModelLoader.load(hf, null, 2)) {
            source = Logits.of(m, ArchForwardTest.TOKENS);
        }
        float[][] dense = run(pack, EngineMode.DENSE);
        double rel = Logits.maxRelativeError(source, dense);
        assertTrue(rel <= 1e-5, name + ": the pack's dense logits differ from the source's by " + rel);
        for (EngineMode mode : EngineMode.values()) {
            if (mode != EngineMode.DENSE) {
                assertNull(Logits.firstDifference(dense, run(pack, mode)), name + ", " + mode.id());
            }
        }
    }

    @Test
    void aMixtureOfExpertsIsRefusedByName() throws IOException {
        Path dir = Files.createTempDirectory(root, "mixtral");
        Path hf = ArchModels.mixtral(157).writeHf(dir.resolve("hf"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> PackConverter.convert(
                new PackConverter.Options(hf, null, dir.resolve("pack"), DType.F32, PackLayout.BUNDLED, 512, false),
                QUIET, false));
        assertTrue(e.getMessage().contains("'mixtral' is a mixture of experts"), e.getMessage());
    }

    private static float[][] run(Path pack, EngineMode mode) throws IOException {
        EngineOptions o = EngineOptions.builder().mode(mode).predictor(PredictorKind.ORACLE).threads(2).direct(true)
                .build();
        try (FlashEngine e = FlashEngine.open(pack, o)) {
            return Logits.of(e, ArchForwardTest.TOKENS);
        }
    }
}
