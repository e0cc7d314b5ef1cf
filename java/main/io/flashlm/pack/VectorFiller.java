package io.flashlm.pack;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/** Produces one part (gate row, up row or down column) of consecutive FFN neurons, encoded in the storage dtype. */
@FunctionalInterface
public interface VectorFiller {
    /**
     * Writes the part of neurons [first, first + count) to dst + k * stride for k in [0, count); only the
     * part's bytes, so whatever else the stride holds is left alone. first is a multiple of 32.
     */
    void fill(long first, int count, MemorySegment dst, long stride) throws IOException;
}
