package io.flashlm.engine;

import io.flashlm.kernels.LargeBuffers;
import io.flashlm.kernels.SparseFfn;
import io.flashlm.model.ModelConfig;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.PackLayout;
import io.flashlm.util.Progress;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@link EngineMode#DENSE}: every layer's FFN read once, at open, into a matrix of bundled records in
 * neuron order, and every token computed over all of it (rows whose activation is zero add nothing). A prompt
 * chunk runs its tokens together ({@link SparseFfn#computeBatch}), with each token's bits.
 */
final class ResidentFfn extends EngineFfn {
    private final MemorySegment[] matrices;
    private final long rowBytes;

    ResidentFfn(FfnGeometry g, ModelConfig c, MemorySegment[] biases, SparseFfn sparse, EngineStats stats,
                FfnReads reads, int loadRows, Arena arena, Progress progress) throws IOException {
        super(g, c, biases, sparse, stats, g.neurons());
        this.rowBytes = rowBytes(g);
        this.matrices = new MemorySegment[c.layers()];
        boolean records = g.layout() == PackLayout.BUNDLED;
        for (int l = 0; l < matrices.length; l++) {
            long bytes = rowBytes * g.neurons();
            matrices[l] = LargeBuffers.allocate(arena, bytes);
            for (int s = 0; s < g.neurons(); s += loadRows) {
                int k = Math.min(loadRows, g.neurons() - s);
                if (records) {
                    reads.addRecords(s, k, matrices[l], s * rowBytes);
                } else {
                    for (int i = 0; i < k; i++) {
                        reads.addParts(s + i, matrices[l], (s + i) * rowBytes);
                    }
                }
                reads.submit(l);
                progress.advance(k * g.recordBytes());
            }
        }
        stats.reset(); // loading is not a token
    }

    /** Row size of a record matrix filled from this pack: the stride when records are read whole. */
    static long rowBytes(FfnGeometry g) {
        return g.layout() == PackLayout.BUNDLED ? g.stride() : (g.recordBytes() + 63) / 64 * 64;
    }

    @Override
    protected void run(int layer, MemorySegment x, MemorySegment y) {
        computeInOrder(matrices[layer], neurons, rowBytes, biases[layer], x, y);
        stats.predicted += neurons;
        stats.hits += neurons;
    }

    /** A prompt chunk: every input over all rows, each weight read once per {@link SparseFfn#BATCH_INPUTS} inputs. */
    @Override
    protected void runBatch(int layer, MemorySegment x, int n, MemorySegment y) {
        sparse.computeBatch(rowDtype, downDtype, matrices[layer], neurons, rowBytes, dim, gated, activation,
                biases[layer], x, n, y);
        stats.predicted += (long) neurons * n;
        stats.hits += (long) neurons * n;
    }

    @Override
    String describe() {
        return "the whole FFN resident in DRAM";
    }
}
