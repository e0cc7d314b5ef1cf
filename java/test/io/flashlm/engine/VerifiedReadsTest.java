package io.flashlm.engine;

import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.FlashPack;
import io.flashlm.pack.PackLayout;
import io.flashlm.tensor.DType;
import io.flashlm.testing.Logits;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14: every whole FFN record read from flash is checked against the pack's CRC-32C. A damaged record
 * stops the run with an error naming the file, layer, neuron and offset, in the modes that read it every token
 * and when dense mode loads it; `--no-verify-reads` skips the check. (Every other engine test runs with the check
 * on over undamaged packs: no false alarm.)
 */
class VerifiedReadsTest {
    static Path root;
    static Path clean;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("verified-reads");
        clean = root.resolve("clean");
        EngineModesTest.writeSmallOpt(clean, DType.F16, PackLayout.BUNDLED, 512);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    /** A copy of the clean pack with byte {@code at} of layer {@code layer}'s FFN file XORed with {@code mask}. */
    static Path damaged(String name, int layer, long at, int mask) throws IOException {
        Path dir = root.resolve(name);
        TestFiles.deleteRecursively(dir);
        try (var files = Files.walk(clean)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path to = dir.resolve(clean.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        FfnGeometry g;
        try (FlashPack p = FlashPack.open(dir)) {
            g = p.ffnGeometry();
        }
        try (FileChannel ch = FileChannel.open(dir.resolve(g.fileName(layer, 0)), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ mask)).rewind();
            ch.write(b, at);
        }
        return dir;
    }

    static long stride() throws IOException {
        try (FlashPack p = FlashPack.open(clean)) {
            return p.ffnGeometry().stride();
        }
    }

    @Test
    void aDamagedRecordStopsTheRunNamingFileLayerNeuronAndOffset() throws IOException {
        long stride = stride();
        Path pack = damaged("one-bit", 1, 7 * stride + 10, 0x10);
        EngineOptions hybrid = EngineModesTest.oracle(EngineMode.HYBRID);
        try (FlashEngine e = FlashEngine.open(pack, hybrid)) {
            UncheckedIOException x = assertThrows(UncheckedIOException.class, () -> EngineModesTest.generate(e, null));
            String m = x.getMessage();
            assertTrue(m.contains("layer-001.bin") && m.contains("neuron 7") && m.contains("layer 1")
                    && m.contains("offset " + 7 * stride) && m.contains("CRC-32C"), m);
        }
        // dense reads every record once, at open
        IOException atOpen = assertThrows(IOException.class,
                () -> FlashEngine.open(pack, EngineModesTest.oracle(EngineMode.DENSE)).close());
        assertTrue(atOpen.getMessage().contains("neuron 7"), atOpen.getMessage());
        // without the check the run goes through (on bytes that are not the model's)
        try (FlashEngine e = FlashEngine.open(pack, hybrid.toBuilder().verifyReads(false).build())) {
            assertNotNull(EngineModesTest.generate(e, null));
        }
    }

    /**
     * Flash checks the records it reads into its window after the layer's compute (from cache): a damaged record
     * still stops the run before its layer's output is used, and the window forgets what that layer read, so the
     * next request reads (and fails) again instead of computing over unchecked rows. (Window mode reads parts,
     * which are not checked: a unit's checksum covers padding that part reads skip.)
     */
    @Test
    void flashChecksTheRecordsItReadsIntoItsWindow() throws IOException {
        long stride = stride();
        Path pack = damaged("flash", 1, 10, 0x01);
        FfnGeometry g;
        try (FlashPack p = FlashPack.open(pack)) {
            g = p.ffnGeometry();
        }
        try (FileChannel ch = FileChannel.open(pack.resolve(g.fileName(1, 0)), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            for (long n = 1; n < g.neurons(); n++) { // byte 10 of every record (record 0's was flipped above)
                b.clear();
                ch.read(b, n * stride + 10);
                b.put(0, (byte) (b.get(0) ^ 0x01)).rewind();
                ch.write(b, n * stride + 10);
            }
        }
        try (FlashEngine e = FlashEngine.open(pack, EngineModesTest.oracle(EngineMode.FLASH))) {
            for (int attempt = 0; attempt < 2; attempt++) {
                UncheckedIOException x = assertThrows(UncheckedIOException.class,
                        () -> EngineModesTest.generate(e, null));
                assertTrue(x.getMessage().contains("CRC-32C") && x.getMessage().contains("layer 1"), x.getMessage());
            }
        }
    }

    /** The sweep, in small: random bytes of layer 0's file, flipped; hybrid reads every record. */
    @Test
    void noMutationOfAReadRecordGoesUnnoticed() throws IOException {
        long size = 512 * stride();
        float[][] reference = EngineModesTest.run(clean, EngineModesTest.oracle(EngineMode.HYBRID));
        Random rnd = new Random(14);
        for (int i = 0; i < 6; i++) {
            long at = (long) (rnd.nextDouble() * size);
            Path pack = damaged("mutation-" + i, 0, at, 1 << rnd.nextInt(8));
            float[][] out;
            try {
                out = EngineModesTest.run(pack, EngineModesTest.oracle(EngineMode.HYBRID));
            } catch (UncheckedIOException e) {
                assertTrue(e.getMessage().contains("CRC-32C"), e.getMessage());
                continue;
            }
            assertNull(Logits.firstDifference(reference, out), "mutation at " + at + " accepted with other output");
        }
    }
}
