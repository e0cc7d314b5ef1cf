package io.flashlm.engine;

import io.flashlm.kernels.LargeBuffers;
import io.flashlm.kernels.SparseFfn;
import io.flashlm.model.ModelConfig;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.predictor.Predictor;
import io.flashlm.util.Progress;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@link EngineMode#NAIVE}, {@link EngineMode#HYBRID} and {@link EngineMode#PREDICTOR}: nothing of the
 * FFN stays resident between tokens. Each layer's neurons (all of them, or those the predictor
 * selects) are read from flash chunk by chunk into two scratch matrices in turn: a worker reads the next
 * chunk into one while the engine computes the last from the other ({@link ReadPipeline}).
 */
final class StreamingFfn extends EngineFfn {
    private final ReadPipeline pipe;
    private final ReadPipeline.Slot[] slots;
    private final Predictor predictor;
    private final MemorySegment[] matrices;
    private final MemorySegment[] rowBias;
    private final long rowBytes;
    private final int chunkRows;
    private final boolean records;
    private final int[] active;
    private final int pinnedRows;
    private final MemorySegment[] pinned; // per layer: neurons 0..pinnedRows-1, or none

    /**
     * @param reads      one reader per scratch matrix (the two are read in turn)
     * @param predictor  null to read every neuron
     * @param records    read whole bundled records (else each part on its own)
     * @param pinnedRows neurons 0..pinnedRows-1 of every layer read once, here, and kept in DRAM (exact mode;
     *                   no predictor); only the others are read per token
     * @param progress   reports the pinning, or null
     */
    StreamingFfn(FfnGeometry g, ModelConfig c, MemorySegment[] biases, SparseFfn sparse, EngineStats stats,
                 FfnReads[] reads, Predictor predictor, int chunkRows, boolean records, Arena arena, int pinnedRows,
                 Progress progress) throws IOException {
        super(g, c, biases, sparse, stats, Math.max(chunkRows, pinnedRows));
        if (pinnedRows > 0 && predictor != null) {
            throw new IllegalArgumentException("pinned neurons are for the mode without a predictor");
        }
        this.pipe = new ReadPipeline(stats);
        this.slots = new ReadPipeline.Slot[]{new ReadPipeline.Slot(reads[0]), new ReadPipeline.Slot(reads[1])};
        this.predictor = predictor;
        this.chunkRows = chunkRows;
        this.records = records;
        this.rowBytes = ResidentFfn.rowBytes(g);
        this.matrices = new MemorySegment[2];
        this.rowBias = new MemorySegment[2];
        for (int i = 0; i < 2; i++) {
            matrices[i] = LargeBuffers.allocate(arena, rowBytes * chunkRows);
            rowBias[i] = arena.allocate(4L * chunkRows, 64);
        }
        this.pinnedRows = pinnedRows;
        this.pinned = new MemorySegment[pinnedRows > 0 ? c.layers() : 0];
        // without a predictor: the neurons after the pinned ones, in ascending order
        this.active = new int[g.neurons() - pinnedRows];
        if (predictor == null) {
            for (int i = 0; i < active.length; i++) {
                active[i] = pinnedRows + i;
            }
        }
        try {
            pin(g, arena, progress);
        } catch (IOException | RuntimeException e) {
            pipe.close(); // the caller closes the readers
            throw e;
        }
    }

    /** Reads neurons 0..pinnedRows-1 of every layer into DRAM, a chunk at a time. */
    private void pin(FfnGeometry g, Arena arena, Progress progress) throws IOException {
        FfnReads r = slots[0].reads;
        int per = Math.max(1, chunkRows);
        for (int l = 0; l < pinned.length; l++) {
            pinned[l] = LargeBuffers.allocate(arena, rowBytes * pinnedRows);
            for (int s = 0; s < pinnedRows; s += per) {
                int k = Math.min(per, pinnedRows - s);
                if (records) {
                    r.addRecords(s, k, pinned[l], s * rowBytes);
                } else {
                    for (int i = 0; i < k; i++) {
                        r.addParts(s + i, pinned[l], (s + i) * rowBytes);
                    }
                }
                r.submit(l);
                if (progress != null) {
                    progress.advance(k * g.recordBytes());
                }
            }
        }
        if (pinnedRows > 0) {
            stats.reset(); // pinning is not a token
        }
    }

    /** Bytes of the two scratch matrices and their biases, for the budget. */
    static long scratchBytes(FfnGeometry g, int chunkRows) {
        return 2 * (ResidentFfn.rowBytes(g) + 4) * chunkRows;
    }

    @Override
    protected void run(int layer, MemorySegment x, MemorySegment y) throws IOException {
        if (pinnedRows > 0) {
            // the pinned prefix first, then the rest as it streams in: ascending neuron order, as dense computes
            computeInOrder(pinned[layer], pinnedRows, rowBytes, biases[layer], x, y);
            stats.predicted += pinnedRows;
            stats.hits += pinnedRows;
        }
        int n = active.length;
        if (predictor != null) {
            long p0 = System.nanoTime();
            n = predictor.predict(layer, x, active);
            stats.predictNanos += System.nanoTime() - p0;
        }
        stats.predicted += n;
        stats.misses += n;
        streamPipelined(pipe, slots, layer, active, n, matrices, rowBytes, chunkRows, rowBias, records, x, y);
    }

    /**
     * Without a predictor every input needs every neuron: the pinned ones are computed for each input, and the
     * others are read once for all n (a prompt chunk's tokens) and computed for each as they arrive.
     */
    @Override
    protected void runBatch(int layer, MemorySegment x, int n, MemorySegment y) throws IOException {
        if (predictor != null) {
            super.runBatch(layer, x, n, y);
            return;
        }
        long vec = dim * 4L;
        for (int t = 0; t < n; t++) {
            if (pinnedRows > 0) {
                computeInOrder(pinned[layer], pinnedRows, rowBytes, biases[layer], x.asSlice(t * vec, vec),
                        y.asSlice(t * vec, vec));
            }
        }
        stats.predicted += (long) n * neurons;
        stats.hits += (long) n * pinnedRows;
        stats.misses += (long) n * active.length;
        streamPipelined(pipe, slots, layer, active, active.length, matrices, rowBytes, chunkRows, rowBias, records, x,
                n, y);
    }

    @Override
    public void close() {
        super.close();
        pipe.close();
        slots[0].reads.close();
        slots[1].reads.close();
    }

    @Override
    String describe() {
        String pin = pinnedRows > 0 ? pinnedRows + " of " + neurons + " neurons a layer pinned in DRAM, " : "";
        return pin + (predictor == null ? "all " + (pinnedRows > 0 ? "other " : "") + "neurons"
                : "the " + predictor.kind() + " predictor's neurons")
                + " read from flash every token, " + (records ? "as bundled records" : "one read per part")
                + ", in chunks of " + chunkRows + " rows, the next read while the last is computed"
                + (slots[0].reads.direct() ? " (O_DIRECT)" : " (buffered)");
    }
}
