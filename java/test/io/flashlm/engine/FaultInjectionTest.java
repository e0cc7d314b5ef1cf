package io.flashlm.engine;

import io.flashlm.io.ReadFaults;
import io.flashlm.pack.PackLayout;
import io.flashlm.tensor.DType;
import io.flashlm.testing.Logits;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14: reads that fail ({@link ReadFaults}). An I/O error in the middle of a run stops it with an error
 * naming the file and offset; the same engine then serves the next request with the logits of a clean run and
 * its budget account unchanged. A record that arrives corrupted once is read again (verified reads) and the run
 * gives the clean logits.
 */
class FaultInjectionTest {
    static Path root;
    static Path pack;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("fault-injection");
        pack = root.resolve("pack");
        EngineModesTest.writeSmallOpt(pack, DType.F16, PackLayout.BUNDLED, 512);
    }

    @AfterEach
    void noFaultLeft() {
        ReadFaults.clear();
    }

    @AfterAll
    static void cleanUp() throws IOException {
        ReadFaults.clear();
        TestFiles.deleteRecursively(root);
    }

    /** The mode with the oracle predictor; exact with half the FFN in its budget, so that it reads every token. */
    static EngineOptions options(String mode) throws IOException {
        EngineOptions o = EngineModesTest.oracle(EngineMode.parse(mode));
        if (!mode.equals("exact")) {
            return o;
        }
        long dense;
        try (FlashEngine e = FlashEngine.open(pack, EngineModesTest.oracle(EngineMode.DENSE))) {
            dense = e.budget().used();
        }
        long ffn;
        try (io.flashlm.pack.FlashPack p = io.flashlm.pack.FlashPack.open(pack)) {
            ffn = (long) p.config().layers() * p.ffnGeometry().neurons() * ResidentFfn.rowBytes(p.ffnGeometry());
        }
        return o.toBuilder().memory(dense - ffn / 2).build();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"naive", "hybrid", "exact", "predictor", "window", "flash"})
    void anIoErrorStopsTheRunAndTheNextRequestWorks(String mode) throws IOException {
        EngineOptions o = options(mode);
        float[][] clean = EngineModesTest.run(pack, o);
        try (FlashEngine e = FlashEngine.open(pack, o)) {
            long budget = e.budget().used();
            ReadFaults.install(new ReadFaults.Fault(ReadFaults.Kind.EIO, "layer-001.bin", -1, 1_000_000));
            UncheckedIOException x = assertThrows(UncheckedIOException.class, () -> EngineModesTest.generate(e, null));
            assertTrue(x.getMessage().contains("layer 1") && x.getMessage().contains("layer-001.bin")
                    && x.getMessage().contains("Input/output error"), x.getMessage());
            ReadFaults.clear();
            assertNull(Logits.firstDifference(clean, EngineModesTest.generate(e, null)), mode + " after the error");
            assertEquals(budget, e.budget().used());
        }
    }

    /** Whole records are checked (not part reads, so not predictor and window): a one-off bad read is repaired. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"naive", "hybrid", "exact", "flash"})
    void aRecordCorruptedOnceIsReadAgain(String mode) throws IOException {
        EngineOptions o = options(mode);
        float[][] clean = EngineModesTest.run(pack, o);
        try (FlashEngine e = FlashEngine.open(pack, o)) {
            ReadFaults.install(new ReadFaults.Fault(ReadFaults.Kind.CORRUPT, "layer-001.bin", -1, 1));
            float[][] out = EngineModesTest.generate(e, null);
            assertEquals(0, ReadFaults.left(), "the fault was hit");
            assertNull(Logits.firstDifference(clean, out), mode);
        }
    }
}
