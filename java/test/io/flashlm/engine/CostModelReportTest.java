package io.flashlm.engine;

import io.flashlm.model.InferenceState;
import io.flashlm.pack.PackLayout;
import io.flashlm.predictor.PredictorKind;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.tensor.DType;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The flash engine says which cost model plans its reads and how many reads taught it (issue 13). */
class CostModelReportTest {
    static Path root;
    static Path pack;
    static Path probe;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("cost-model-report");
        pack = root.resolve("pack");
        SyntheticPackWriter.write(SyntheticShape.custom("opt", 3, 64, 512, 4, 300, 128, null),
                new SyntheticPackWriter.Options(pack, DType.F16, PackLayout.BUNDLED, 512, 7, 0.9, 1, false),
                new PrintStream(OutputStream.nullOutputStream()), false);
        probe = root.resolve("probe.json");
        Files.writeString(probe, """
                {"format": "flashlm-probe", "version": 1, "results": [
                  {"backend": "io_uring", "chunk_bytes": 4096, "queue_depth": 32, "mb_per_s": 20},
                  {"backend": "io_uring", "chunk_bytes": 1048576, "queue_depth": 32, "mb_per_s": 2000}
                ]}""");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    static EngineOptions oracle(EngineMode mode) {
        return EngineOptions.builder().mode(mode).predictor(PredictorKind.ORACLE).threads(2).build();
    }

    static void run(FlashEngine e, int tokens) {
        try (InferenceState s = e.newState()) {
            for (int pos = 0; pos < tokens; pos++) {
                e.forward(s, (7 * pos + 3) % 300, pos);
            }
        }
    }

    @Test
    void flashReportsItsLearnedCostModelAndOtherModesNone() throws IOException {
        try (FlashEngine seeded = FlashEngine.open(pack, oracle(EngineMode.FLASH).toBuilder().probe(probe).build());
             FlashEngine neutral = FlashEngine.open(pack, oracle(EngineMode.FLASH));
             FlashEngine hybrid = FlashEngine.open(pack, oracle(EngineMode.HYBRID))) {
            run(seeded, 40);
            run(neutral, 40);
            run(hybrid, 2);
            String s = StatsReport.costModel(seeded.stats()).orElseThrow();
            assertTrue(s.startsWith("cost model: learned from ") && s.contains("seeded by " + probe)
                    && s.contains("observed ") && s.contains("merge guard: "), s);
            String n = StatsReport.costModel(neutral.stats()).orElseThrow();
            assertTrue(n.contains("neutral prior"), n);
            assertTrue(hybrid.stats().costModel().isEmpty());
            assertTrue(seeded.describe().contains("seeded by"), seeded.describe());
        }
    }
}
