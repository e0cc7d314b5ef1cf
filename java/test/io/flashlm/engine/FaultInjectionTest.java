package io.flashlm.engine;

import io.flashlm.io.ReadFaults;
import io.flashlm.nativeabi.NativeReader;
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
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14: reads that fail ({@link ReadFaults}). An I/O error in the middle of a run, or a file cut short while
 * open, stops it with an error naming the file and offset; the same engine then serves the next request with the
 * logits of a clean run and its budget account unchanged, and no native reader leaks. Short reads and EAGAIN
 * storms in the C reader are retried without a trace in the logits. A record that arrives corrupted once is read
 * again (verified reads) and the run gives the clean logits.
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
        int readersBefore = NativeReader.openReaders();
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
        assertEquals(readersBefore, NativeReader.openReaders(), "native readers left open");
    }

    /**
     * Short reads and EAGAIN storms inside the C reader (flm_reader_inject, on every batch of every FFN file) are
     * retried: every mode gives a clean run's logits, the faults were taken, and no native reader is left open.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"naive, SHORT", "hybrid, SHORT", "exact, SHORT", "predictor, SHORT", "window, SHORT", "flash, SHORT",
        "naive, EAGAIN", "hybrid, EAGAIN", "exact, EAGAIN", "predictor, EAGAIN", "window, EAGAIN", "flash, EAGAIN"})
    void shortReadsAndEagainStormsAreRetried(String mode, ReadFaults.Kind kind) throws IOException {
        EngineOptions o = options(mode);
        float[][] clean = EngineModesTest.run(pack, o);
        int readersBefore = NativeReader.openReaders();
        try (FlashEngine e = FlashEngine.open(pack, o)) {
            ReadFaults.install(new ReadFaults.Fault(kind, ".bin", -1, Integer.MAX_VALUE));
            float[][] out = EngineModesTest.generate(e, null);
            assertTrue(ReadFaults.nativeTaken() > 0, "no " + kind + " fault was taken");
            assertNull(Logits.firstDifference(clean, out), mode + " under " + kind);
        }
        assertEquals(readersBefore, NativeReader.openReaders(), "native readers left open");
    }

    /**
     * A layer file cut short while the engine has it open (a device that loses the tail of a file): the run stops
     * naming the file and the end of the file, and once the file is whole again the same engine is exact, with its
     * budget unchanged and no reader leaked.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"naive", "hybrid", "exact", "predictor", "window", "flash"})
    void aFileTruncatedWhileOpen(String mode) throws IOException {
        Path copy = root.resolve("truncated-" + mode);
        EngineModesTest.writeSmallOpt(copy, DType.F16, PackLayout.BUNDLED, 512);
        Path layer = copy.resolve("ffn").resolve("layer-002.bin");
        byte[] whole = Files.readAllBytes(layer);
        EngineOptions o = options(mode);
        float[][] clean = EngineModesTest.run(copy, o);
        int readersBefore = NativeReader.openReaders();
        try (FlashEngine e = FlashEngine.open(copy, o)) {
            long budget = e.budget().used();
            try (FileChannel ch = FileChannel.open(layer, StandardOpenOption.WRITE)) {
                ch.truncate(512);
            }
            UncheckedIOException x = assertThrows(UncheckedIOException.class, () -> EngineModesTest.generate(e, null));
            assertTrue(x.getMessage().contains("layer-002.bin") && x.getMessage().contains("end of the file"),
                    x.getMessage());
            Files.write(layer, whole);
            assertNull(Logits.firstDifference(clean, EngineModesTest.generate(e, null)), mode + " once the file is whole");
            assertEquals(budget, e.budget().used());
        }
        assertEquals(readersBefore, NativeReader.openReaders(), "native readers left open");
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
