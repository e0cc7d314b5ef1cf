package io.flashlm.pack;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/** Produces rows of a DRAM tensor, already encoded in the tensor's dtype. */
@FunctionalInterface
public interface RowFiller {
    /** Writes rows [firstRow, firstRow + rows) one after the other into dst (rows * rowBytes bytes). */
    void fill(long firstRow, int rows, MemorySegment dst) throws IOException;
}
