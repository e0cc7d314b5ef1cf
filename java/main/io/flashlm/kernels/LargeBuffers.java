package io.flashlm.kernels;

import io.flashlm.nativeabi.Kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Off-heap buffers for record matrices and staging: page-aligned, and from 2 MiB on aligned to 2 MiB and advised to use huge pages. */
public final class LargeBuffers {
    private static final long HUGE = 2L << 20;

    private LargeBuffers() {
    }

    public static MemorySegment allocate(Arena arena, long bytes) {
        MemorySegment s = arena.allocate(bytes, bytes >= HUGE ? HUGE : 4096);
        if (bytes >= HUGE) {
            Kernels.adviseHugepage(s);
        }
        return s;
    }
}
