package io.flashlm.pack;

import io.flashlm.format.ModelFormatException;
import io.flashlm.model.ModelConfig;
import io.flashlm.nativeabi.Kernels;
import io.flashlm.tensor.DType;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FFN geometry, the manifest round trip, and the native f16 encoder against the JDK's. */
class PackFormatTest {

    @Test
    void opt67bRecordsAreOne16KiBReadPerNeuron() {
        FfnGeometry g = new FfnGeometry(4096, 16384, DType.F16, false, PackLayout.BUNDLED, 4096);
        assertEquals(List.of(FfnPart.UP, FfnPart.DOWN), g.parts());
        assertEquals(8192, g.partBytes());
        assertEquals(16384, g.stride()); // the paper's 16 KiB bundle, no padding
        assertEquals(16384L * 16384, g.fileSize());
        assertEquals(8192 + 5 * 16384L, g.offsetOf(5, FfnPart.DOWN));
        assertEquals("ffn/layer-007.bin", g.fileName(7, 0));
    }

    @Test
    void gatedAndQuantizedGeometries() {
        FfnGeometry llama = new FfnGeometry(4096, 11008, DType.F16, true, PackLayout.BUNDLED, 4096);
        assertEquals(3 * 8192, llama.stride());
        assertEquals(2 * 8192, llama.offsetInUnit(FfnPart.DOWN));
        // q8_0: 128 blocks of 34 bytes per part; records padded to the alignment
        FfnGeometry q8 = new FfnGeometry(4096, 16384, DType.Q8_0, false, PackLayout.BUNDLED, 512);
        assertEquals(4352, q8.partBytes());
        assertEquals(8704, q8.stride()); // 17 x 512
        assertEquals(12288, new FfnGeometry(4096, 16384, DType.Q8_0, false, PackLayout.BUNDLED, 4096).stride());
        FfnGeometry unbundled = new FfnGeometry(4096, 11008, DType.Q8_0, true, PackLayout.UNBUNDLED, 512);
        assertEquals(3, unbundled.filesPerLayer());
        assertEquals(4608, unbundled.stride());
        assertEquals(2, unbundled.fileOf(FfnPart.DOWN));
        assertEquals(0, unbundled.offsetInUnit(FfnPart.DOWN));
        assertEquals("ffn/layer-000.down.bin", unbundled.fileName(0, 2));
        assertEquals(3L * 4 * 11008, unbundled.checksumFileSize());
        assertThrows(IllegalArgumentException.class,
                () -> new FfnGeometry(100, 64, DType.Q8_0, false, PackLayout.BUNDLED, 512));
        assertThrows(IllegalArgumentException.class, () -> PackFormat.checkAlignment(1000));
        assertThrows(IllegalArgumentException.class, () -> PackFormat.checkAlignment(256));
        // convert encodes f32, f16, q8_0 and (in Java) q4_0 and three k-quants; other types only arrive kept from a
        // quantized source, and an unknown name gets the list
        for (String k : new String[] {"f32", "f16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k"}) {
            assertEquals(k, PackFormat.dtypeName(PackFormat.storageType(k)));
        }
        for (String k : new String[] {"q3_k", "q2_k", "iq4_xs", "bf16", "q9_9"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PackFormat.storageType(k));
            assertTrue(e.getMessage().contains("'" + k + "' is not one of f32, f16, q8_0, q4_0, q4_k, q5_k, q6_k"),
                    e.getMessage());
        }
        assertEquals(DType.Q4_K, PackFormat.synthType("q4_k"));
        assertThrows(IllegalArgumentException.class, () -> PackFormat.synthType("q3_k"));
    }

    /** Rows and down columns of different types: per-part sizes and offsets, the record their sum. */
    @Test
    void mixedGeometries() {
        // rows q4_k (144 bytes per 256), down q8_0 (34 per 32): 2048 values per part
        FfnGeometry g = new FfnGeometry(2048, 5632, DType.Q4_K, DType.Q8_0, true, PackLayout.BUNDLED, 512);
        assertEquals(1152, g.partBytes(FfnPart.GATE));
        assertEquals(1152, g.partBytes(FfnPart.UP));
        assertEquals(2176, g.partBytes(FfnPart.DOWN));
        assertEquals(0, g.partOffset(FfnPart.GATE));
        assertEquals(1152, g.partOffset(FfnPart.UP));
        assertEquals(2304, g.partOffset(FfnPart.DOWN));
        assertEquals(4480, g.recordBytes());
        assertEquals(4608, g.stride());
        assertEquals(2304 + 3 * 4608L, g.offsetOf(3, FfnPart.DOWN));
        assertEquals(DType.Q8_0, g.dtype(FfnPart.DOWN));
        assertEquals(DType.Q4_K, g.dtype(FfnPart.UP));
        // code that assumes one type would misread this: it is told so
        assertThrows(IllegalStateException.class, g::dtype);
        assertThrows(IllegalStateException.class, g::partBytes);
        assertEquals(2, PackFormat.versionFor(g));
        // unbundled: every file strides by the largest part
        FfnGeometry u = new FfnGeometry(2048, 5632, DType.Q4_K, DType.Q8_0, true, PackLayout.UNBUNDLED, 512);
        assertEquals(2176, u.unitBytes());
        assertEquals(2560, u.stride());
        assertEquals(0, u.offsetInUnit(FfnPart.DOWN));
        // uniform packs keep the old accessors, and the old version where it says everything
        FfnGeometry q4 = new FfnGeometry(2048, 5632, DType.Q4_K, false, PackLayout.BUNDLED, 512);
        assertEquals(DType.Q4_K, q4.dtype());
        assertEquals(1152, q4.partBytes());
        assertEquals(2, PackFormat.versionFor(q4));
        assertEquals(1, PackFormat.versionFor(new FfnGeometry(64, 96, DType.Q8_0, true, PackLayout.BUNDLED, 512)));
        assertThrows(IllegalArgumentException.class,
                () -> new FfnGeometry(2048 + 32, 64, DType.Q8_0, DType.Q4_K, false, PackLayout.BUNDLED, 512));
        assertThrows(IllegalArgumentException.class,
                () -> new FfnGeometry(64, 64, DType.BF16, DType.F16, false, PackLayout.BUNDLED, 512));
    }

    @Test
    void manifestRoundTrips() throws IOException {
        PackManifest m = manifest(1, new FfnGeometry(64, 96, DType.Q8_0, true, PackLayout.UNBUNDLED, 512));
        Path dir = TestFiles.newDirectory("manifest");
        try {
            ManifestCodec.write(m, dir.resolve(PackFormat.MANIFEST));
            assertEquals(m, ManifestCodec.read(dir));
            assertTrue(!Files.readString(dir.resolve(PackFormat.MANIFEST)).contains("down_dtype"), "version 1 as before");
        } finally {
            TestFiles.deleteRecursively(dir);
        }
    }

    /**
     * Version 2: rows and down columns of their own types round-trip; a version 1 manifest that names a
     * down_dtype, or whose single type needs version 2, is refused rather than misread.
     */
    @Test
    void mixedTypesNeedVersion2() throws IOException {
        PackManifest m = manifest(2, new FfnGeometry(256, 96, DType.Q4_K, DType.Q8_0, true, PackLayout.BUNDLED, 512));
        assertThrows(IllegalArgumentException.class, () -> manifest(1, m.ffn().geometry()));
        Path dir = TestFiles.newDirectory("manifest-v2");
        try {
            Path file = dir.resolve(PackFormat.MANIFEST);
            ManifestCodec.write(m, file);
            PackManifest back = ManifestCodec.read(dir);
            assertEquals(m, back);
            assertEquals(DType.Q8_0, back.downDtype());
            String text = Files.readString(file);
            assertTrue(text.contains("\"down_dtype\" : \"q8_0\"") && text.contains("\"down_part_bytes\" : 272"), text);
            // an older writer's version with the newer fields: refused, naming the field
            Files.writeString(file, text.replace("\"version\" : 2", "\"version\" : 1"));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> ManifestCodec.read(dir));
            assertTrue(e.getMessage().contains("down_dtype") && e.getMessage().contains("version 2"), e.getMessage());
            // version 1 with one type version 1 does not know (q4_k everywhere): refused too
            ManifestCodec.write(manifest(2, new FfnGeometry(256, 96, DType.Q4_K, true, PackLayout.BUNDLED, 512)), file);
            Files.writeString(file, Files.readString(file).replace("\"version\" : 2", "\"version\" : 1")
                    .replace("\"down_dtype\" : \"q4_k\",", ""));
            e = assertThrows(ModelFormatException.class, () -> ManifestCodec.read(dir));
            assertTrue(e.getMessage().contains("need manifest version 2"), e.getMessage());
        } finally {
            TestFiles.deleteRecursively(dir);
        }
    }

    private static PackManifest manifest(int version, FfnGeometry g) {
        ModelConfig c = new ModelConfig(ModelConfig.Architecture.LLAMA, g.dim(), 96, 2, 4, 2, 300, 64, 1e-6f, 50000f,
                ModelConfig.RopeStyle.INTERLEAVED, ModelConfig.Activation.SILU, true, g.dim(), true, 0);
        List<PackManifest.FfnLayer> layers = List.of(layer(g, 0), layer(g, 1));
        long embedding = DType.Q8_0.bytesFor(300L * g.dim()), normAt = PackFormat.alignUp(embedding, 512);
        return new PackManifest(version, c, g.rowDtype(), 512, "a test", "flashlm test",
                new PackManifest.TokenizerFiles(PackTokenizer.SP_VOCAB, List.of(new PackManifest.FileEntry(
                        "tokenizer-vocab.json", 10, 0xdeadbeef))),
                new PackManifest.DramPart(new PackManifest.FileEntry("dram.bin", normAt + 4L * g.dim(), 0x12345678),
                        List.of(new PackManifest.TensorEntry("token_embedding", DType.Q8_0, new long[]{300, g.dim()}, 0,
                                        embedding, 7),
                                new PackManifest.TensorEntry("final_norm.weight", DType.F32, new long[]{g.dim()}, normAt,
                                        4L * g.dim(), -1)),
                        true),
                new PackManifest.Ffn(g, layers));
    }

    private static PackManifest.FfnLayer layer(FfnGeometry g, int l) {
        List<PackManifest.FfnFile> files = new ArrayList<>();
        for (int f = 0; f < g.filesPerLayer(); f++) {
            files.add(new PackManifest.FfnFile(g.fileName(l, f), g.partsOfFile(f), g.fileSize()));
        }
        return new PackManifest.FfnLayer(files, new PackManifest.FileEntry(FfnGeometry.checksumFileName(l),
                g.checksumFileSize(), l));
    }

    /** The converter rounds through the native encoder; it must agree with the JDK's IEEE rounding everywhere. */
    @Test
    void nativeF16EncoderAgreesWithTheJdk() {
        int n = 1 << 16;
        float[] v = new float[n + 8];
        Random rnd = new Random(3);
        for (int i = 0; i < n; i++) {
            v[i] = switch (i % 4) {
                case 0 -> Float.intBitsToFloat(rnd.nextInt()); // anything, NaNs included
                case 1 -> (float) rnd.nextGaussian() * 1e-5f; // subnormal f16 range
                case 2 -> Float.float16ToFloat((short) rnd.nextInt()); // exact f16 values
                default -> (Float.float16ToFloat((short) (i >> 2)) + Float.float16ToFloat((short) ((i >> 2) + 1))) / 2;
            };
        }
        v[n] = 65520f;
        v[n + 1] = 65519.99f;
        v[n + 2] = Float.POSITIVE_INFINITY;
        v[n + 3] = -0f;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(JAVA_FLOAT, v);
            MemorySegment dst = arena.allocate(JAVA_SHORT, v.length);
            Kernels.encodeF32(DType.F16, src, dst, v.length); // throws on a non-zero return
            for (int i = 0; i < v.length; i++) {
                short expected = Float.floatToFloat16(v[i]);
                short actual = dst.getAtIndex(JAVA_SHORT, i);
                if (Float.isNaN(v[i])) {
                    assertEquals(0x7c00, actual & 0x7c00, "NaN stays NaN");
                    assertEquals(true, (actual & 0x3ff) != 0, "NaN stays NaN");
                } else {
                    assertEquals(expected, actual, "f16 of " + v[i] + " (bits " + Integer.toHexString(
                            Float.floatToRawIntBits(v[i])) + ")");
                }
            }
        }
    }
}
