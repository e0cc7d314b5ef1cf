package io.flashlm.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GGUF files written by hand in the test: every value type, every tensor type, and broken files. */
class GgufFileTest {
    @TempDir
    Path tmp;

    private static GgufValue s(GgufValueType t, Object v) {
        return GgufValue.scalar(t, v);
    }

    private static GgufValue a(GgufValueType t, Object v) {
        return GgufValue.array(t, v);
    }

    private GgufFile open(GgufWriter w) throws IOException {
        Path f = w.write(tmp.resolve("t.gguf"));
        return GgufFile.open(f, Arena.ofAuto());
    }

    /** Opens the bytes and returns the format error, failing if it opens or throws anything else. */
    private ModelFormatException fails(byte[] bytes, String... mustContain) throws IOException {
        Path f = Files.write(tmp.resolve("bad.gguf"), bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(f, Arena.ofAuto()));
        assertTrue(e.getMessage().contains("bad.gguf"), e.getMessage());
        for (String s : mustContain) {
            assertTrue(e.getMessage().contains(s), () -> "'" + s + "' not in: " + e.getMessage());
        }
        return e;
    }

    @Test
    void everyMetadataValueType() throws IOException {
        GgufWriter w = new GgufWriter()
                .kv("u8", s(GgufValueType.UINT8, 200L))
                .kv("i8", s(GgufValueType.INT8, -5L))
                .kv("u16", s(GgufValueType.UINT16, 60000L))
                .kv("i16", s(GgufValueType.INT16, -300L))
                .kv("u32", s(GgufValueType.UINT32, 4_000_000_000L))
                .kv("i32", s(GgufValueType.INT32, -7L))
                .kv("f32", s(GgufValueType.FLOAT32, 1.5f))
                .kv("bool", s(GgufValueType.BOOL, true))
                .kv("str", s(GgufValueType.STRING, "h\u00e9llo \u4e16\u754c"))
                .kv("u64.max", s(GgufValueType.UINT64, -1L))
                .kv("u64", s(GgufValueType.UINT64, 1L << 40))
                .kv("i64", s(GgufValueType.INT64, -9_000_000_000_000_000_000L))
                .kv("f64", s(GgufValueType.FLOAT64, 2.25))
                .kv("arr.u8", a(GgufValueType.UINT8, new byte[] {1, (byte) 255}))
                .kv("arr.i8", a(GgufValueType.INT8, new byte[] {-1, 2}))
                .kv("arr.u16", a(GgufValueType.UINT16, new short[] {(short) 65535, 3}))
                .kv("arr.i32", a(GgufValueType.INT32, new int[] {-1, 2, 3}))
                .kv("arr.u32", a(GgufValueType.UINT32, new int[] {-1}))
                .kv("arr.i64", a(GgufValueType.INT64, new long[] {Long.MIN_VALUE, 5}))
                .kv("arr.f32", a(GgufValueType.FLOAT32, new float[] {0.5f, -1f}))
                .kv("arr.f64", a(GgufValueType.FLOAT64, new double[] {1e300}))
                .kv("arr.bool", a(GgufValueType.BOOL, new boolean[] {true, false}))
                .kv("arr.str", a(GgufValueType.STRING, new String[] {"a", "", "\u00fc"}))
                .kv("arr.empty", a(GgufValueType.FLOAT32, new float[0]))
                .kv("arr.nested", a(GgufValueType.ARRAY, List.of(
                        a(GgufValueType.STRING, new String[] {"x", "y"}),
                        a(GgufValueType.STRING, new String[] {"z"}))));
        GgufFile f = open(w);
        GgufMetadata m = f.metadata();
        assertEquals(3, f.version());
        assertEquals(25, m.keys().size());
        assertEquals("u8", m.keys().iterator().next()); // file order
        assertEquals(200, m.getInt("u8"));
        assertEquals(-5, m.getInt("i8"));
        assertEquals(60000, m.getInt("u16"));
        assertEquals(-300, m.getInt("i16"));
        assertEquals(4_000_000_000L, m.getLong("u32"));
        assertEquals(-7, m.getInt("i32"));
        assertEquals(1.5f, m.getFloat("f32"));
        assertTrue(m.getBoolean("bool"));
        assertEquals("h\u00e9llo \u4e16\u754c", m.getString("str"));
        assertEquals(1L << 40, m.getLong("u64"));
        assertEquals(-1L, (Long) m.require("u64.max").value()); // raw bits of 2^64 - 1
        assertEquals(-9_000_000_000_000_000_000L, m.getLong("i64"));
        assertEquals(2.25, m.getDouble("f64"));
        assertEquals(2.25f, m.getFloat("f64"));

        assertArrayEquals(new long[] {1, 255}, m.getLongArray("arr.u8"));
        assertArrayEquals(new int[] {-1, 2}, m.getIntArray("arr.i8"));
        assertArrayEquals(new int[] {65535, 3}, m.getIntArray("arr.u16"));
        assertArrayEquals(new int[] {-1, 2, 3}, m.getIntArray("arr.i32"));
        assertArrayEquals(new long[] {4294967295L}, m.getLongArray("arr.u32"));
        assertArrayEquals(new long[] {Long.MIN_VALUE, 5}, m.getLongArray("arr.i64"));
        assertArrayEquals(new float[] {0.5f, -1f}, m.getFloatArray("arr.f32"));
        assertArrayEquals(new double[] {1e300}, (double[]) m.require("arr.f64").value());
        assertArrayEquals(new boolean[] {true, false}, (boolean[]) m.require("arr.bool").value());
        assertArrayEquals(new String[] {"a", "", "\u00fc"}, m.getStringArray("arr.str"));
        assertEquals(0, m.arrayLength("arr.empty"));
        GgufValue nested = m.require("arr.nested");
        assertEquals(GgufValueType.ARRAY, nested.elementType());
        List<?> inner = (List<?>) nested.value();
        assertEquals(2, inner.size());
        assertArrayEquals(new String[] {"x", "y"}, (String[]) ((GgufValue) inner.get(0)).value());
        assertArrayEquals(new String[] {"z"}, (String[]) ((GgufValue) inner.get(1)).value());
        assertEquals(0, f.tensors().size());
    }

    @Test
    void typedAccessorsRefuseWrongTypesAndRanges() throws IOException {
        GgufFile f = open(new GgufWriter()
                .kv("u32", s(GgufValueType.UINT32, 4_000_000_000L))
                .kv("u64.max", s(GgufValueType.UINT64, -1L))
                .kv("arr.u32", a(GgufValueType.UINT32, new int[] {-1}))
                .kv("name", s(GgufValueType.STRING, "x")));
        GgufMetadata m = f.metadata();
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> m.getInt("u32"));
        assertTrue(e.getMessage().contains("u32") && e.getMessage().contains("4000000000"), e.getMessage());
        assertThrows(ModelFormatException.class, () -> m.getLong("u64.max"));
        assertThrows(ModelFormatException.class, () -> m.getIntArray("arr.u32"));
        e = assertThrows(ModelFormatException.class, () -> m.getString("u32"));
        assertTrue(e.getMessage().contains("metadata.u32") && e.getMessage().contains("expected string"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> m.getInt("llama.block_count"));
        assertTrue(e.getMessage().contains("t.gguf") && e.getMessage().contains("llama.block_count")
                && e.getMessage().contains("missing"), e.getMessage());
        assertEquals(7, m.getInt("llama.block_count", 7));
        assertThrows(ModelFormatException.class, () -> m.getFloatArray("name"));
        assertThrows(ModelFormatException.class, () -> m.getLong("name"));
        // Arrays come back as copies.
        ((int[]) m.require("arr.u32").value())[0] = 5;
        assertArrayEquals(new long[] {4294967295L}, m.getLongArray("arr.u32"));
    }

    /** Tensors of all five types; ne[] is reversed into the row-major shape. */
    @Test
    void tensorsOfEveryType() throws IOException {
        // Q8_0: d = 1.0 (f16 0x3C00), q[i] = i - 16, so value i = i - 16.
        LeBytes q8 = new LeBytes().u16(0x3C00);
        for (int i = 0; i < 32; i++) {
            q8.u8(i - 16);
        }
        // Q4_0: d = -0.5 (f16 0xB800); byte j = 0xF0 | (j & 0x0F) -> value j = -0.5 * (j - 8), value 16+j = -3.5.
        LeBytes q4 = new LeBytes().u16(0xB800);
        for (int j = 0; j < 16; j++) {
            q4.u8(0xF0 | j);
        }
        byte[] f16 = new LeBytes().u16(0x3C00).u16(0xC000).u16(0x0001).u16(0x7C00).toByteArray(); // 1, -2, 2^-24, inf
        byte[] bf16 = new LeBytes().u16(0x3F80).u16(0xC040).toByteArray(); // 1, -3
        GgufWriter w = new GgufWriter()
                .kv("general.architecture", s(GgufValueType.STRING, "test"))
                .tensor("f32", 0, new long[] {3, 2}, LeBytes.f32s(1, 2, 3, 4, 5, 6))
                .tensor("f16", 1, new long[] {4}, f16)
                .tensor("bf16", 30, new long[] {1, 2}, bf16)
                .tensor("q8", 8, new long[] {32, 1}, q8.toByteArray())
                .tensor("q4", 2, new long[] {32}, q4.toByteArray());
        GgufFile f = open(w);
        assertEquals(32, f.alignment());
        assertEquals(0, f.dataOffset() % 32);
        assertEquals(List.of("f32", "f16", "bf16", "q8", "q4"), List.copyOf(f.tensors().keySet()));

        Tensor t = f.tensor("f32");
        assertEquals(DType.F32, t.dtype());
        assertArrayEquals(new long[] {2, 3}, t.shape()); // ne = [3, 2]: rows of 3
        assertArrayEquals(new long[] {3, 2}, f.tensorInfos().get(0).ne());
        assertEquals(6.0f, t.getFloat(1, 2));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
        // A view of the mapping, not a copy.
        assertEquals(f.mapping().address() + f.dataOffset(), t.data().address());

        assertArrayEquals(new float[] {1, -2, 0x1p-24f, Float.POSITIVE_INFINITY}, f.tensor("f16").toFloatArray());
        assertArrayEquals(new long[] {2, 1}, f.tensor("bf16").shape());
        assertArrayEquals(new float[] {1, -3}, f.tensor("bf16").toFloatArray());

        Tensor q8t = f.tensor("q8");
        assertEquals(DType.Q8_0, q8t.dtype());
        assertArrayEquals(new long[] {1, 32}, q8t.shape());
        for (int i = 0; i < 32; i++) {
            assertEquals(i - 16, q8t.getFloat(i));
        }
        float[] q4v = f.tensor("q4").toFloatArray();
        assertEquals(4.0f, q4v[0]); // -0.5 * (0 - 8)
        assertEquals(-3.5f, q4v[15]); // -0.5 * (15 - 8)
        for (int i = 16; i < 32; i++) {
            assertEquals(-3.5f, q4v[i]); // high nibble 15
        }
        for (GgufTensorInfo info : f.tensorInfos()) {
            assertEquals(0, info.offset() % 32, info.toString());
        }
        assertTrue(f.contains("q4"));
        assertFalse(f.contains("q5"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> f.tensor("output.weight"));
        assertTrue(e.getMessage().contains("output.weight") && e.getMessage().contains("t.gguf"), e.getMessage());
    }

    @Test
    void customAlignment() throws IOException {
        GgufFile f = open(new GgufWriter().alignment(64)
                .tensor("a", 0, new long[] {3}, LeBytes.f32s(1, 2, 3))
                .tensor("b", 0, new long[] {1}, LeBytes.f32s(9)));
        assertEquals(64, f.alignment());
        assertEquals(0, f.dataOffset() % 64);
        assertEquals(64, f.tensorInfos().get(1).offset());
        assertEquals(9.0f, f.tensor("b").getFloat(0));
    }

    @Test
    void version2IsAccepted() throws IOException {
        GgufFile f = open(new GgufWriter().version(2).tensor("a", 0, new long[] {1}, LeBytes.f32s(7)));
        assertEquals(2, f.version());
        assertEquals(7.0f, f.tensor("a").getFloat(0));
    }

    @Test
    void wrongMagic() throws IOException {
        fails(new GgufWriter().magic(0x47554747).build(), "header.magic", "GGUF");
        fails("PK\u0003\u0004 this is a zip".getBytes(), "header.magic");
    }

    @Test
    void unsupportedVersions() throws IOException {
        fails(new GgufWriter().version(1).build(), "header.version", "version 1", "expected 2 or 3");
        fails(new GgufWriter().version(4).build(), "header.version", "version 4");
        fails(new GgufWriter().version(0x03000000).build(), "big-endian");
    }

    @Test
    void unknownTensorTypeNamesTensorAndId() throws IOException {
        byte[] b = new GgufWriter().tensor("blk.0.attn_q.weight", 16, new long[] {256, 4}, new byte[66 * 4]).build();
        ModelFormatException e = fails(b, "blk.0.attn_q.weight", "type id 16", "IQ2_XXS",
                "supported: F32(0), F16(1), Q4_0(2), Q4_1(3), Q5_0(6), Q5_1(7), Q8_0(8), Q2_K(10), Q3_K(11), Q4_K(12), Q5_K(13), Q6_K(14), IQ4_NL(20), IQ4_XS(23), BF16(30)");
        assertTrue(e.field().contains("blk.0.attn_q.weight"), e.field());
        fails(new GgufWriter().tensor("x", 999, new long[] {1}, new byte[4]).build(), "'x'", "999", "unknown type");
    }

    /**
     * The legacy block types by their ggml ids, two rows of 32 each. Every block: d = 1 (f16 3C00); the
     * ones with a min m = 0.5 (3800); qh = 01 00 01 00 (the fifth bits of values 0 and 16); qs[0] = 21
     * (value 0: nibble 1, value 16: nibble 2), the other qs bytes 0.
     */
    @Test
    void legacyBlockTypes() throws IOException {
        byte[] qs = new byte[16];
        qs[0] = 0x21;
        byte[] q41 = new LeBytes().u16(0x3C00).u16(0x3800).bytes(qs).toByteArray();
        byte[] q50 = new LeBytes().u16(0x3C00).u8(1).u8(0).u8(1).u8(0).bytes(qs).toByteArray();
        byte[] q51 = new LeBytes().u16(0x3C00).u16(0x3800).u8(1).u8(0).u8(1).u8(0).bytes(qs).toByteArray();
        byte[] iq4 = new LeBytes().u16(0x3C00).bytes(qs).toByteArray();
        GgufWriter w = new GgufWriter()
                .tensor("q4_1", 3, new long[] {32, 2}, twice(q41))
                .tensor("q5_0", 6, new long[] {32, 2}, twice(q50))
                .tensor("q5_1", 7, new long[] {32, 2}, twice(q51))
                .tensor("iq4_nl", 20, new long[] {32, 2}, twice(iq4));
        GgufFile f = open(w);
        // value 0, value 16 and value 1 of each type, from the bytes above
        Object[][] cases = {
            {"q4_1", DType.Q4_1, 20, 1.5f, 2.5f, 0.5f}, // d * nibble + m
            {"q5_0", DType.Q5_0, 22, 1f, 2f, -16f}, // d * ((nibble | fifth << 4) - 16)
            {"q5_1", DType.Q5_1, 24, 17.5f, 18.5f, 0.5f}, // d * (nibble | fifth << 4) + m
            {"iq4_nl", DType.IQ4_NL, 18, -104f, -83f, -127f}, // d * grid[nibble]: grid[1], grid[2], grid[0]
        };
        for (Object[] c : cases) {
            Tensor t = f.tensor((String) c[0]);
            assertEquals(c[1], t.dtype());
            assertArrayEquals(new long[] {2, 32}, t.shape());
            assertEquals(2L * (int) c[2], t.byteSize());
            for (int row = 0; row < 2; row++) {
                assertEquals(c[3], t.getFloat(row, 0), c[0] + " value 0");
                assertEquals(c[4], t.getFloat(row, 16), c[0] + " value 16");
                assertEquals(c[5], t.getFloat(row, 1), c[0] + " value 1");
            }
        }
    }

    /**
     * The k-quants by their ggml ids, two rows of 256 (one super-block each), read back through Tensor: every
     * super-block has its f16 scale d = 1 (3C00) and quants and sub-block scales that give value 0, value 255
     * and value 17 below. A row length that is not a whole number of super-blocks is refused, naming the tensor.
     */
    @Test
    void kQuantTypes() throws IOException {
        // q6_k: ql[128], qh[64], int8 scales[16], d; ql[0] = 05 (value 0: low bits 5), qh[0] = 02 (its high bits
        // 2: q = 37 - 32 = 5), ql[127] = F0 (value 255: low bits 15), the rest 0 (q = -32); scales[0] = -3,
        // scales[1] = 2, scales[15] = 1.
        byte[] q6k = new byte[210];
        q6k[0] = 0x05;
        q6k[128] = 0x02;
        q6k[127] = (byte) 0xF0;
        q6k[192] = -3;
        q6k[193] = 2;
        q6k[207] = 1;
        q6k[208] = 0x00;
        q6k[209] = 0x3C;
        // q4_k: d, dmin = 0.5, 12 bytes of scales and mins, qs[128]; scale bytes 0 = 02 (sub-block 0's scale 2),
        // 4 = 03 (its min 3), 3 = 40 and 11 = 21 (sub-block 7: scale 1 | 1 << 4 = 17, min 2); qs[0] = 07 (value
        // 0: q 7), qs[127] = A0 (value 255, a high nibble: q 10).
        byte[] q4k = new byte[144];
        q4k[1] = 0x3C;
        q4k[3] = 0x38;
        q4k[4] = 2;
        q4k[8] = 3;
        q4k[4 + 3] = 0x40;
        q4k[4 + 11] = 0x21;
        q4k[16] = 0x07;
        q4k[143] = (byte) 0xA0;
        // q5_k: q4_k's header and scales, qh[32] at 16, the nibbles at 48; qh[0] = 01 (value 0: q 7 | 16),
        // qh[31] = 80 (value 255, sub-block 7: q 10 | 16).
        byte[] q5k = new byte[176];
        System.arraycopy(q4k, 0, q5k, 0, 16);
        q5k[16] = 0x01;
        q5k[47] = (byte) 0x80;
        q5k[48] = 0x07;
        q5k[175] = (byte) 0xA0;
        // q3_k: hmask[32], qs[64], scales at 96, d at 108; scale bytes 0 = 01 and 8 = 02 (sub-block 0: 33, scale 1),
        // 7 = 50 and 11 = 80 (sub-block 15: 5 | 2 << 4 = 37, scale 5), the others 0 (scale -32); qs[0] = 03 and
        // hmask[0] = 01 (value 0: q 3 | 4 - 4 = 3), qs[63] = 40 (value 255: low bits 1, no third bit, q -3).
        byte[] q3k = new byte[110];
        q3k[0] = 0x01;
        q3k[32] = 0x03;
        q3k[95] = 0x40;
        q3k[96] = 0x01;
        q3k[104] = 0x02;
        q3k[103] = 0x50;
        q3k[107] = (byte) 0x80;
        q3k[109] = 0x3C;
        // q2_k: scales[16], qs[64], d at 80, dmin = 0.5 at 82; scales[0] = 32 (scale 2, min 3), scales[1] = 10 (scale
        // 0, min 1), scales[15] = 27 (scale 7, min 2); qs[0] = 03 (value 0: q 3), qs[63] = 80 (value 255: q 2).
        byte[] q2k = new byte[84];
        q2k[0] = 0x32;
        q2k[1] = 0x10;
        q2k[15] = 0x27;
        q2k[16] = 0x03;
        q2k[79] = (byte) 0x80;
        q2k[81] = 0x3C;
        q2k[83] = 0x38;
        // iq4_xs: d, scales_h = 8002 (sub-blocks 0 and 7: high bits 2), scales_l[0] = 01 (sub-block 0: 33, scale 1),
        // scales_l[3] = 40 (sub-block 7: 4 | 2 << 4 = 36, scale 4), qs[128]; qs[0] = 0A (value 0: grid[10] = 25),
        // qs[127] = F0 (value 255: grid[15] = 113), value 17 the high nibble of qs[1] (grid[0] = -127).
        byte[] iq4xs = new byte[136];
        iq4xs[1] = 0x3C;
        iq4xs[2] = 0x02;
        iq4xs[3] = (byte) 0x80;
        iq4xs[4] = 0x01;
        iq4xs[7] = 0x40;
        iq4xs[8] = 0x0A;
        iq4xs[135] = (byte) 0xF0;
        GgufFile f = open(new GgufWriter().tensor("q6_k", 14, new long[] {256, 2}, twice(q6k))
                .tensor("q3_k", 11, new long[] {256, 2}, twice(q3k))
                .tensor("q2_k", 10, new long[] {256, 2}, twice(q2k))
                .tensor("iq4_xs", 23, new long[] {256, 2}, twice(iq4xs))
                .tensor("q4_k", 12, new long[] {256, 2}, twice(q4k))
                .tensor("q5_k", 13, new long[] {256, 2}, twice(q5k)));
        Object[][] cases = {
            {"q6_k", DType.Q6_K, 210, -15f, -17f, -64f}, // -3 * 5; 1 * (15 - 32); 2 * -32
            {"q4_k", DType.Q4_K, 144, 12.5f, 169f, -1.5f}, // 2 * 7 - 0.5 * 3; 17 * 10 - 0.5 * 2; 0 - 1.5
            {"q5_k", DType.Q5_K, 176, 44.5f, 441f, -1.5f}, // 2 * 23 - 1.5; 17 * 26 - 1; 0 - 1.5
            {"q3_k", DType.Q3_K, 110, 3f, -15f, 128f}, // 1 * 3; 5 * -3; -32 * -4
            {"q2_k", DType.Q2_K, 84, 4.5f, 13f, -0.5f}, // 2 * 3 - 0.5 * 3; 7 * 2 - 0.5 * 2; 0 - 0.5 * 1
            {"iq4_xs", DType.IQ4_XS, 136, 25f, 452f, -127f}, // 1 * 25; 4 * 113; 1 * -127
        };
        for (Object[] c : cases) {
            Tensor t = f.tensor((String) c[0]);
            assertEquals(c[1], t.dtype());
            assertArrayEquals(new long[] {2, 256}, t.shape());
            assertEquals(2L * (int) c[2], t.byteSize());
            for (int row = 0; row < 2; row++) {
                assertEquals(c[3], t.getFloat(row, 0), c[0] + " value 0");
                assertEquals(c[4], t.getFloat(row, 255), c[0] + " value 255");
                assertEquals(c[5], t.getFloat(row, 17), c[0] + " value 17");
            }
        }
        for (int id : new int[] {14, 12, 13, 11, 10, 23}) {
            ModelFormatException e = fails(new GgufWriter().tensor("blk.3.ffn_down.weight", id, new long[] {288, 1},
                    new byte[420]).build(), "blk.3.ffn_down.weight", "multiple of 256", "288");
            assertTrue(e.field().contains("ne[0]"), e.field());
        }
    }

    private static byte[] twice(byte[] block) {
        byte[] two = java.util.Arrays.copyOf(block, 2 * block.length);
        System.arraycopy(block, 0, two, block.length, block.length);
        return two;
    }

    @Test
    void tensorPastEndOfFile() throws IOException {
        // Info claims offset 1024 in a file whose data section holds 12 bytes.
        fails(new GgufWriter().tensorAt("w", 0, new long[] {3}, LeBytes.f32s(1, 2, 3), 1024).build(),
                "tensor 'w'", "past the end");
        // The last tensor cut short.
        byte[] full = new GgufWriter().tensor("a", 0, new long[] {4}, LeBytes.f32s(1, 2, 3, 4)).build();
        fails(java.util.Arrays.copyOf(full, full.length - 1), "tensor 'a'", "past the end");
        // A huge ne whose byte size overflows.
        fails(new GgufWriter().tensor("h", 0, new long[] {1L << 40, 1L << 40}, new byte[0]).build(), "'h'", "overflow");
    }

    @Test
    void everyTruncationIsAFormatError() throws IOException {
        byte[] full = new GgufWriter()
                .kv("name", s(GgufValueType.STRING, "tiny"))
                .kv("list", a(GgufValueType.STRING, new String[] {"a", "bc"}))
                .kv("nested", a(GgufValueType.ARRAY, List.of(a(GgufValueType.INT32, new int[] {1, 2}))))
                .kv("eps", s(GgufValueType.FLOAT32, 1e-5f))
                .tensor("w", 0, new long[] {2, 2}, LeBytes.f32s(1, 2, 3, 4))
                .tensor("q", 8, new long[] {32}, new byte[34])
                .build();
        Path file = tmp.resolve("cut.gguf");
        GgufFile.parse(file, MemorySegment.ofArray(full)); // the whole file is valid
        for (int len = 0; len < full.length; len++) {
            byte[] cut = java.util.Arrays.copyOf(full, len);
            final int n = len;
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> GgufFile.parse(file, MemorySegment.ofArray(cut)), () -> "prefix of " + n + " bytes");
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
        fails(new byte[0], "truncated");
    }

    @Test
    void absurdCountsAndLengths() throws IOException {
        // tensor_count 2^40 in a 24-byte file.
        fails(new LeBytes().u32(GgufFile.MAGIC).u32(3).u64(1L << 40).u64(0).toByteArray(), "header.tensor_count");
        fails(new LeBytes().u32(GgufFile.MAGIC).u32(3).u64(0).u64(-1L).toByteArray(), "header.metadata_kv_count",
                "18446744073709551615");
        // A key whose length is 2^62.
        fails(new LeBytes().u32(GgufFile.MAGIC).u32(3).u64(0).u64(1).u64(1L << 62).bytes(new byte[16]).toByteArray(),
                "metadata[0].key.length");
        // An array claiming 2^31 uint64 elements.
        fails(new GgufWriter().kvRaw("big", 9, new LeBytes().u32(10).u64(1L << 31).u64(0).toByteArray()).build(),
                "metadata.big.length");
        // A string array claiming more strings than bytes remain.
        fails(new GgufWriter().kvRaw("toks", 9, new LeBytes().u32(8).u64(1000).str("a").toByteArray()).build(),
                "metadata.toks");
    }

    @Test
    void invalidMetadata() throws IOException {
        fails(new GgufWriter().kvRaw("k", 13, new byte[8]).build(), "metadata.k.type", "unknown metadata value type 13");
        fails(new GgufWriter().kvRaw("arr", 9, new LeBytes().u32(77).u64(0).toByteArray()).build(),
                "metadata.arr.element_type");
        fails(new GgufWriter().kv("k", s(GgufValueType.INT32, 1L)).kv("k", s(GgufValueType.INT32, 2L)).build(),
                "metadata.k", "duplicate");
        fails(new GgufWriter().kvRaw("flag", 7, new byte[] {2}).build(), "metadata.flag", "bool");
        fails(new GgufWriter().alignment(3).build(), "general.alignment", "power of two");
        fails(new GgufWriter().kv(GgufFile.ALIGNMENT_KEY, s(GgufValueType.UINT32, 0L)).build(), "general.alignment");
        fails(new GgufWriter().kv(GgufFile.ALIGNMENT_KEY, s(GgufValueType.STRING, "32")).build(), "general.alignment");
        // Arrays of arrays nested beyond the limit.
        GgufValue v = a(GgufValueType.INT8, new byte[] {1});
        for (int i = 0; i < GgufFile.MAX_ARRAY_NESTING + 1; i++) {
            v = a(GgufValueType.ARRAY, List.of(v));
        }
        fails(new GgufWriter().kv("deep", v).build(), "metadata.deep", "nested");
    }

    @Test
    void invalidTensorInfos() throws IOException {
        fails(new GgufWriter().tensor("w", 0, new long[] {1}, new byte[4]).tensor("w", 0, new long[] {1}, new byte[4])
                .build(), "duplicate tensor name 'w'");
        fails(new GgufWriter().tensor("five", 0, new long[] {1, 1, 1, 1, 1}, new byte[4]).build(), "'five'", "n_dims 5");
        fails(new GgufWriter().tensor("zero", 0, new long[0], new byte[4]).build(), "'zero'", "n_dims 0");
        fails(new GgufWriter().tensor("neg", 0, new long[] {-4}, new byte[16]).build(), "'neg'", "ne[0]");
        fails(new GgufWriter().tensor("q", 8, new long[] {16, 2}, new byte[34]).build(), "'q'", "multiple of 32");
        fails(new GgufWriter().tensorAt("odd", 0, new long[] {1}, new byte[4], 4).build(), "'odd'", "alignment 32");
    }

    /** Random byte damage to a valid file is either harmless or a ModelFormatException, never another error. */
    @Test
    void corruptedBytesNeverEscapeAsOtherExceptions() {
        byte[] full = new GgufWriter()
                .kv("general.architecture", s(GgufValueType.STRING, "llama"))
                .kv("tokens", a(GgufValueType.STRING, new String[] {"<unk>", "<s>", "</s>"}))
                .kv("scores", a(GgufValueType.FLOAT32, new float[] {0, -1, -2}))
                .kv("nested", a(GgufValueType.ARRAY, List.of(a(GgufValueType.UINT16, new short[] {1}))))
                .tensor("w", 0, new long[] {2, 2}, LeBytes.f32s(1, 2, 3, 4))
                .tensor("q", 2, new long[] {32}, new byte[18])
                .build();
        Path file = tmp.resolve("fuzz.gguf");
        Random rnd = new Random(20240611L);
        for (int iter = 0; iter < 5000; iter++) {
            byte[] b = full.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int k = 0; k < flips; k++) {
                int pos = rnd.nextInt(b.length);
                b[pos] = rnd.nextInt(3) == 0 ? (byte) 0xFF : (byte) rnd.nextInt(256);
            }
            try {
                GgufFile f = GgufFile.parse(file, MemorySegment.ofArray(b));
                for (Tensor t : f.tensors().values()) {
                    t.toFloatArray(); // a tensor that opened is readable
                }
            } catch (ModelFormatException e) {
                assertTrue(e.getMessage().startsWith(file.toString()));
            } catch (Throwable t) {
                throw new AssertionError("iteration " + iter + " escaped as " + t, t);
            }
        }
    }

    @Test
    void valueToStringIsShort() {
        GgufValue v = a(GgufValueType.INT32, new int[100]);
        assertTrue(v.toString().startsWith("ARRAY<INT32>[100]"), v.toString());
        assertInstanceOf(int[].class, v.value());
    }
}
