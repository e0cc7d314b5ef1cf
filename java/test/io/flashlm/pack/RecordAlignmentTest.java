package io.flashlm.pack;

import io.flashlm.nativeabi.NativeIo;
import io.flashlm.nativeabi.NativeIoException;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.tensor.DType;
import io.flashlm.testing.TestFiles;
import io.flashlm.util.Progress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 11: record alignment modes, the auto rule, the device's O_DIRECT alignment, and packs written with each. */
class RecordAlignmentTest {
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("record-alignment");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    private static FfnGeometry geometry(DType dtype, boolean gated, PackLayout layout, int alignment) {
        return new FfnGeometry(4096, 16384, dtype, gated, layout, alignment);
    }

    @Test
    void strideInEveryMode() {
        int b2b = RecordAlignment.BACK_TO_BACK;
        // OPT-6.7B q8_0: two parts of 4352 bytes; 41 % padding at 4096, none at 512 or back to back
        assertEquals(12288, geometry(DType.Q8_0, false, PackLayout.BUNDLED, 4096).stride());
        assertEquals(8704, geometry(DType.Q8_0, false, PackLayout.BUNDLED, 512).stride());
        assertEquals(8704, geometry(DType.Q8_0, false, PackLayout.BUNDLED, b2b).stride());
        // gated q8_0: 3 x 4352 = 13056
        assertEquals(16384, geometry(DType.Q8_0, true, PackLayout.BUNDLED, 4096).stride());
        assertEquals(13312, geometry(DType.Q8_0, true, PackLayout.BUNDLED, 512).stride());
        assertEquals(13056, geometry(DType.Q8_0, true, PackLayout.BUNDLED, b2b).stride());
        // f16 records are whole blocks in every mode
        for (int a : new int[] {4096, 512, b2b}) {
            assertEquals(16384, geometry(DType.F16, false, PackLayout.BUNDLED, a).stride());
        }
        // unbundled units are single parts
        FfnGeometry u = geometry(DType.Q8_0, true, PackLayout.UNBUNDLED, b2b);
        assertEquals(4352, u.stride());
        assertEquals(4352L * 16384, u.fileSize());
        assertEquals(5 * 4352L, u.offsetOf(5, FfnPart.DOWN));
        FfnGeometry g = geometry(DType.Q8_0, false, PackLayout.BUNDLED, b2b);
        assertEquals(7 * 8704L + 4352, g.offsetOf(7, FfnPart.DOWN));
        assertEquals(8704L * 16384, g.fileSize());
        assertThrows(IllegalArgumentException.class, () -> geometry(DType.F16, false, PackLayout.BUNDLED, 2));
        assertThrows(IllegalArgumentException.class, () -> geometry(DType.F16, false, PackLayout.BUNDLED, 0));
        assertEquals(6912, RecordAlignment.stride(6912, b2b)); // q4 gated: 3 x 2304
        assertEquals(7168, RecordAlignment.stride(6912, 512));
    }

    @Test
    void autoTouchesTheFewestPhysicalBlocksWithTheSmallestStride() {
        int auto = RecordAlignment.AUTO;
        Supplier<RecordAlignment.Device> disk = () -> new RecordAlignment.Device(512, 4096); // the disk measured
        assertEquals(3.0, RecordAlignment.blocksTouched(8704, 8704, 4096), 1e-12);
        assertEquals(3.0, RecordAlignment.blocksTouched(8704, 12288, 4096), 1e-12);
        assertEquals(2.625, RecordAlignment.blocksTouched(6912, 6912, 4096), 1e-12);
        assertEquals(2.5, RecordAlignment.blocksTouched(6912, 7168, 4096), 1e-12);
        assertEquals(4.125, RecordAlignment.blocksTouched(13056, 13056, 4096), 1e-12);
        // equal blocks in every layout: back to back (the smallest stride)
        assertEquals(RecordAlignment.BACK_TO_BACK, RecordAlignment.resolve(auto, 8704, disk));
        assertEquals(RecordAlignment.BACK_TO_BACK, RecordAlignment.resolve(auto, 4608, disk));
        assertEquals(RecordAlignment.BACK_TO_BACK, RecordAlignment.resolve(auto, 16384, disk));
        // fewer blocks when padded: to 512 for 13056 (4 instead of 4.125), to 8192 for 6912 (2 instead of 2.5;
        // 2048 is the smallest alignment that gives that stride)
        assertEquals(512, RecordAlignment.resolve(auto, 13056, disk));
        assertEquals(8192, RecordAlignment.stride(6912, RecordAlignment.resolve(auto, 6912, disk)));
        // a device whose physical block is its O_DIRECT alignment (or unknown): records of many blocks touch
        // as many back to back as padded; a 136-byte record (q8_0 at d_model 64) straddles blocks unless padded
        for (long unit : new long[] {8704, 6912, 13056}) {
            assertEquals(RecordAlignment.BACK_TO_BACK,
                    RecordAlignment.resolve(auto, unit, () -> new RecordAlignment.Device(512, 0)), "unit " + unit);
        }
        assertEquals(512, RecordAlignment.resolve(auto, 136, () -> new RecordAlignment.Device(512, 0)));
        // no usable answer from the device: back to back
        assertEquals(RecordAlignment.BACK_TO_BACK,
                RecordAlignment.resolve(auto, 8704, () -> new RecordAlignment.Device(0, 0)));
        assertEquals(RecordAlignment.BACK_TO_BACK,
                RecordAlignment.resolve(auto, 8704, () -> new RecordAlignment.Device(3000, 4096)));
        // an explicit request is kept as it is
        assertEquals(4096, RecordAlignment.resolve(4096, 8704, disk));
        assertEquals(RecordAlignment.BACK_TO_BACK, RecordAlignment.resolve(RecordAlignment.BACK_TO_BACK, 6912, disk));
        assertEquals(4096, RecordAlignment.dramAlignment(RecordAlignment.BACK_TO_BACK));
        assertEquals(512, RecordAlignment.dramAlignment(512));
    }

    @Test
    void parsesTheAcceptedValuesAndRefusesOthersWithTheList() {
        assertEquals(RecordAlignment.AUTO, RecordAlignment.parse("auto", () -> 512));
        assertEquals(RecordAlignment.BACK_TO_BACK, RecordAlignment.parse("back-to-back", () -> 512));
        assertEquals(RecordAlignment.BACK_TO_BACK, RecordAlignment.parse("Packed", () -> 512));
        assertEquals(4096, RecordAlignment.parse("4K", () -> 512));
        assertEquals(512, RecordAlignment.parse("512", () -> 4096));
        assertEquals(4096, RecordAlignment.parse("dio", () -> 4096));
        assertEquals(512, RecordAlignment.parse("dio", () -> 1)); // never below a sector
        for (String bad : new String[] {"", "1", "256", "3000", "2M", "foo", "-512", "back to back"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RecordAlignment.parse(bad, () -> 512), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains(RecordAlignment.ACCEPTED),
                    e.getMessage());
        }
    }

    @Test
    void theDeviceAlignmentComesFromStatxOrAFallback() throws IOException {
        Path file = root.resolve("dio-probe.bin");
        Files.write(file, new byte[8192]);
        NativeIo.DioAlignment withStatx = NativeIo.dioAlignment(file, true);
        assertTrue(withStatx.bytes() >= 1 && Long.bitCount(withStatx.bytes()) == 1, withStatx.toString());
        NativeIo.DioAlignment fallback = NativeIo.dioAlignment(file, false);
        assertNotEquals(NativeIo.DioSource.STATX, fallback.source());
        assertTrue(fallback.bytes() >= 512 && Long.bitCount(fallback.bytes()) == 1, fallback.toString());
        // a directory, and a destination that does not exist yet, ask the nearest existing directory
        long dir = RecordAlignment.deviceAlignment(root.resolve("not-yet/a-pack"));
        assertTrue(dir >= 1 && Long.bitCount(dir) == 1, "alignment " + dir);
        assertThrows(NativeIoException.class, () -> NativeIo.dioAlignment(root.resolve("missing.bin"), true));
    }

    private static Path synth(String name, int alignment) throws IOException {
        Path dir = root.resolve(name);
        SyntheticPackWriter.write(SyntheticShape.preset("tiny"), new SyntheticPackWriter.Options(dir, DType.Q8_0,
                PackLayout.BUNDLED, alignment, 7, 0.9, 1, false), QUIET, false);
        return dir;
    }

    @Test
    void packsRecordTheirUnitAlignmentAndOldPacksKeepWorking() throws IOException {
        Path packed = synth("back-to-back", RecordAlignment.BACK_TO_BACK);
        Path aligned = synth("aligned", 4096);
        Path auto = synth("auto", RecordAlignment.AUTO);
        try (FlashPack p = FlashPack.open(packed); FlashPack a = FlashPack.open(aligned);
             FlashPack o = FlashPack.open(auto)) {
            FfnGeometry g = p.ffnGeometry();
            assertEquals(RecordAlignment.BACK_TO_BACK, g.alignment());
            assertEquals(g.recordBytes(), g.stride());
            assertEquals(4096, p.manifest().alignment()); // the DRAM tensors keep theirs
            assertEquals(4096, a.ffnGeometry().alignment());
            // auto resolved at write time to something concrete, never stored as "auto"
            assertNotEquals(RecordAlignment.AUTO, o.ffnGeometry().alignment());
            assertTrue(o.ffnGeometry().stride() <= a.ffnGeometry().stride());
            assertEquals(g.fileSize(), Files.size(packed.resolve(g.fileName(0, 0))));
        }
        try (FlashPack p = FlashPack.open(packed)) {
            assertTrue(PackVerifier.verify(p, new Progress("", 0, QUIET, false)).ok(), "verify a back-to-back pack");
        }
        String manifest = Files.readString(packed.resolve(PackFormat.MANIFEST));
        assertTrue(manifest.contains("\"alignment\" : 1"), manifest);

        // A pack written before ffn.alignment existed: its units follow the top-level alignment.
        Path old = aligned.resolve(PackFormat.MANIFEST);
        String text = Files.readString(old);
        String withoutField = text.replaceFirst("(\"ffn\" : \\{[^}]*?)\"alignment\" : 4096,\\s*", "$1");
        assertNotEquals(text, withoutField);
        Files.writeString(old, withoutField);
        try (FlashPack a = FlashPack.open(aligned)) {
            assertEquals(4096, a.ffnGeometry().alignment());
            assertEquals(PackFormat.alignUp(a.ffnGeometry().recordBytes(), 4096), a.ffnGeometry().stride());
        }
    }
}
