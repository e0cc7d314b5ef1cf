package io.flashlm.model;

import io.flashlm.compute.ComputePool;
import io.flashlm.nativeabi.FlashNative;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** y = W x for a weight tensor [out, in] in any storage type, computed by the native kernels. */
public final class Linear {
    private Linear() {
    }

    public static int nativeDtype(DType d) {
        return switch (d) {
            case F32 -> FlashNative.DTYPE_F32;
            case F16 -> FlashNative.DTYPE_F16;
            case BF16 -> FlashNative.DTYPE_BF16;
            case Q8_0 -> FlashNative.DTYPE_Q8_0;
            case Q4_0 -> FlashNative.DTYPE_Q4_0;
        };
    }

    public static void apply(ComputePool pool, Tensor w, MemorySegment x, MemorySegment y) {
        pool.matvec(nativeDtype(w.dtype()), w.data(), w.rowCount(), w.rowLength(), x, y);
    }
}
