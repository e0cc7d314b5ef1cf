package io.flashlm.tensor;

import java.util.Optional;

/**
 * Element types of weight tensors. Block-quantized types store {@link #blockSize()} values in
 * {@link #bytesPerBlock()} bytes (blocks of 32, or the k-quants' super-blocks of 256); plain types are
 * blocks of one value.
 *
 * <p>The GGML type ids are those of the GGUF file format (the {@code ggml_type} enum); the native
 * codes are the FLM_DTYPE_* values of include/flashlm.h.
 */
public enum DType {
    /** IEEE binary32. */
    F32(1, 4, 0, 0),
    /** IEEE binary16. */
    F16(1, 2, 1, 1),
    /** bfloat16: the upper 16 bits of a binary32. */
    BF16(1, 2, 30, 2),
    /** Blocks of 32: an f16 scale d, then 32 int8 q; value = d * q. */
    Q8_0(32, 34, 8, 3),
    /**
     * Blocks of 32: an f16 scale d, then 16 bytes; byte j holds value j in its low nibble and value
     * j + 16 in its high nibble; value = d * (nibble - 8).
     */
    Q4_0(32, 18, 2, 4),
    /** Blocks of 32: f16 d, f16 min m, then 16 bytes of nibbles as in Q4_0; value = d * nibble + m. */
    Q4_1(32, 20, 3, 5),
    /**
     * Blocks of 32: f16 d, 4 bytes qh, then 16 bytes of nibbles as in Q4_0; bit j of qh (read as a
     * little-endian 32-bit word) is the fifth bit of value j; value = d * ((nibble | bit << 4) - 16).
     */
    Q5_0(32, 22, 6, 6),
    /**
     * Blocks of 32: f16 d, f16 min m, 4 bytes qh, 16 bytes of nibbles as in Q5_0;
     * value = d * (nibble | bit << 4) + m.
     */
    Q5_1(32, 24, 7, 7),
    /**
     * Blocks of 32: f16 d, then 16 bytes of nibbles as in Q4_0, each an index into the format's fixed
     * non-linear grid {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
     * value = d * grid[nibble].
     */
    IQ4_NL(32, 18, 20, 8),
    /**
     * Super-blocks of 256 (GGUF's k-quants from here on; layouts in {@link SuperBlocks}): ql[128] low 4 bits,
     * qh[64] high 2 bits, 16 int8 scales, f16 d; value = d * scales[i / 16] * (q - 32), q of 6 bits.
     */
    Q6_K(256, 210, 14, 9),
    /**
     * Super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales and mins, qs[128] of nibbles;
     * value = d * sc[i / 32] * q - dmin * m[i / 32], q of 4 bits.
     */
    Q4_K(256, 144, 12, 10),
    /**
     * Super-blocks of 256: Q4_K's d, dmin and 12 bytes of scales and mins, qh[32] (the fifth bits), qs[128];
     * value = d * sc[i / 32] * q - dmin * m[i / 32], q of 5 bits.
     */
    Q5_K(256, 176, 13, 11),
    /**
     * Super-blocks of 256: hmask[32] (third bits), qs[64] (low 2 bits), 12 bytes of 6-bit sub-block scales, f16
     * d; value = d * (sc[i / 16] - 32) * (q - 4), q of 3 bits.
     */
    Q3_K(256, 110, 11, 12),
    /**
     * Super-blocks of 256: 16 bytes of 4-bit sub-block scales (low nibble) and mins (high), qs[64] (2 bits each),
     * f16 d, f16 dmin; value = d * sc[i / 16] * q - dmin * m[i / 16], q of 2 bits.
     */
    Q2_K(256, 84, 10, 13),
    /**
     * Super-blocks of 256: f16 d, 6-bit sub-block scales (high 2 bits in a 16-bit word, low 4 in 4 bytes),
     * qs[128] of nibbles indexing IQ4_NL's grid; value = d * (sc[i / 32] - 32) * grid[nibble].
     */
    IQ4_XS(256, 136, 23, 14);

    private final int blockSize;
    private final int bytesPerBlock;
    private final int ggmlTypeId;
    private final int nativeCode;

    DType(int blockSize, int bytesPerBlock, int ggmlTypeId, int nativeCode) {
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
        this.ggmlTypeId = ggmlTypeId;
        this.nativeCode = nativeCode;
    }

    /** Values per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block (the element size for plain types). */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** The id of this type in GGUF tensor infos. */
    public int ggmlTypeId() {
        return ggmlTypeId;
    }

    /** The FLM_DTYPE_* value of include/flashlm.h: what the native kernels are told (by io.flashlm.nativeabi only). */
    public int nativeCode() {
        return nativeCode;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * Bytes taken by {@code elements} values.
     *
     * @throws IllegalArgumentException if {@code elements} is negative or not a whole number of blocks
     * @throws ArithmeticException if the size overflows a long
     */
    public long bytesFor(long elements) {
        if (elements < 0) {
            throw new IllegalArgumentException(name() + ": negative element count " + elements);
        }
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(name() + ": " + elements + " elements is not a multiple of the block size "
                    + blockSize + " (" + bytesPerBlock + " bytes per block)");
        }
        return Math.multiplyExact(elements / blockSize, (long) bytesPerBlock);
    }

    /** The type with this GGML id, if it is one flashlm supports. */
    public static Optional<DType> fromGgmlTypeId(int id) {
        for (DType t : values()) {
            if (t.ggmlTypeId == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
