package io.flashlm.model;

import io.flashlm.kernels.ComputePool;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** y = W x for a weight tensor [out, in] in any storage type, computed by the native kernels. */
public final class Linear {
    private Linear() {
    }

    public static void apply(ComputePool pool, Tensor w, MemorySegment x, MemorySegment y) {
        pool.matvec(w.dtype(), w.data(), w.rowCount(), w.rowLength(), x, y);
    }
}
