package io.flashlm.pack;

import io.flashlm.nativeabi.Kernels;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Quantizer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * f32 values to a storage dtype: through the native encoder (the one `flashlm synth` uses too) for f32
 * (copied), f16 (rounded to nearest even) and q8_0 (quantized per block of 32); through the Java
 * {@link Quantizer} for q4_0, q4_k, q5_k and q6_k. {@link #encode} from one thread at a time;
 * {@link #encodeConcurrently} from any.
 */
final class Encoder implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final DType dtype;
    private final Quantizer quantizer;
    private final ThreadLocal<Quantizer> perThread;
    private MemorySegment scratch;

    Encoder(DType dtype) {
        this.dtype = dtype;
        this.quantizer = Quantizer.quantizes(dtype) ? new Quantizer(dtype) : null;
        this.perThread = ThreadLocal.withInitial(() -> new Quantizer(dtype));
        this.scratch = arena.allocate(JAVA_FLOAT, 4096);
    }

    DType dtype() {
        return dtype;
    }

    /**
     * Whether this dtype is encoded in Java ({@link Quantizer}), slowly enough that callers should spread
     * rows over threads through {@link #encodeConcurrently}.
     */
    boolean concurrent() {
        return quantizer != null;
    }

    /** As {@link #encode}, from any thread, for a {@link #concurrent()} dtype: one Quantizer per thread. */
    void encodeConcurrently(float[] src, int off, int n, MemorySegment dst) {
        perThread.get().encode(src, off, n, dst, 0);
    }

    /** Encodes src[off, off + n) into the first dtype.bytesFor(n) bytes of dst. */
    void encode(float[] src, int off, int n, MemorySegment dst) {
        long bytes = dtype.bytesFor(n);
        if (dst.byteSize() < bytes) {
            throw new IllegalArgumentException("destination of " + dst.byteSize() + " bytes, " + n + " values of "
                    + dtype + " need " + bytes);
        }
        if (quantizer != null) {
            quantizer.encode(src, off, n, dst, 0);
            return;
        }
        if (scratch.byteSize() < 4L * n) {
            scratch = arena.allocate(JAVA_FLOAT, n);
        }
        MemorySegment.copy(src, off, scratch, JAVA_FLOAT, 0, n);
        Kernels.encodeF32(dtype, scratch, dst, n);
    }

    @Override
    public void close() {
        arena.close();
    }
}
