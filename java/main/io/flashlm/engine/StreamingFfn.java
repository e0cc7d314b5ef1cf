package io.flashlm.engine;

import io.flashlm.kernels.LargeBuffers;
import io.flashlm.kernels.SparseFfn;
import io.flashlm.model.ModelConfig;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.predictor.Predictor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@link EngineMode#NAIVE}, {@link EngineMode#HYBRID} and {@link EngineMode#PREDICTOR}: nothing of the
 * FFN stays resident between tokens. Each layer's neurons (all of them, or those the predictor
 * selects) are read from flash into one scratch matrix, chunk by chunk, and computed as they arrive.
 */
final class StreamingFfn extends EngineFfn {
    private final FfnReads reads;
    private final Predictor predictor;
    private final MemorySegment matrix;
    private final MemorySegment rowBias;
    private final long rowBytes;
    private final int chunkRows;
    private final boolean records;
    private final int[] active;

    /**
     * @param predictor null to read every neuron
     * @param records   read whole bundled records (else each part on its own)
     */
    StreamingFfn(FfnGeometry g, ModelConfig c, MemorySegment[] biases, SparseFfn sparse, EngineStats stats,
                 FfnReads reads, Predictor predictor, int chunkRows, boolean records, Arena arena) {
        super(g, c, biases, sparse, stats, chunkRows);
        this.reads = reads;
        this.predictor = predictor;
        this.chunkRows = chunkRows;
        this.records = records;
        this.rowBytes = ResidentFfn.rowBytes(g);
        this.matrix = LargeBuffers.allocate(arena, rowBytes * chunkRows);
        this.rowBias = arena.allocate(4L * chunkRows, 64);
        this.active = new int[g.neurons()];
        if (predictor == null) {
            for (int i = 0; i < active.length; i++) {
                active[i] = i;
            }
        }
    }

    /** Bytes of the scratch matrix and its biases, for the budget. */
    static long scratchBytes(FfnGeometry g, int chunkRows) {
        return (ResidentFfn.rowBytes(g) + 4) * chunkRows;
    }

    @Override
    protected void run(int layer, MemorySegment x, MemorySegment y) throws IOException {
        int n = neurons;
        if (predictor != null) {
            long p0 = System.nanoTime();
            n = predictor.predict(layer, x, active);
            stats.predictNanos += System.nanoTime() - p0;
        }
        stats.predicted += n;
        stats.misses += n;
        streamThrough(reads, layer, active, n, matrix, rowBytes, chunkRows, rowBias, records, x, y);
    }

    @Override
    public void close() {
        super.close();
        reads.close();
    }

    @Override
    String describe() {
        return (predictor == null ? "all neurons" : "the " + predictor.kind() + " predictor's neurons")
                + " read from flash every token, " + (records ? "as bundled records" : "one read per part")
                + ", in chunks of " + chunkRows + " rows" + (reads.direct() ? " (O_DIRECT)" : " (buffered)");
    }
}
