package io.flashlm.engine;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.model.FeedForward;
import io.flashlm.model.ModelConfig;
import io.flashlm.nativeabi.FfnActivation;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.tensor.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What every mode's FFN shares: the geometry, the sparse kernels, the layers' up biases, the
 * statistics, and a chunked pass that reads records into a matrix and computes over them. All modes
 * compute y = sum over neurons in ascending id of h_n * down_n with the same kernels, so they agree
 * bit for bit wherever they compute the same neurons.
 */
abstract sealed class EngineFfn implements AutoCloseable
        permits ResidentFfn, MappedFfn, StreamingFfn, WindowedFfn {
    protected final FfnGeometry g;
    /** The storage types of the gate and up rows and of the down columns. */
    protected final DType rowDtype;
    protected final DType downDtype;
    protected final int dim;
    protected final int neurons;
    protected final boolean gated;
    protected final FfnActivation activation;
    /** Per layer, the up projection's bias (f32 [neurons]) or null. */
    protected final MemorySegment[] biases;
    protected final SparseFfn sparse;
    protected final EngineStats stats;
    /** 0, 1, 2, ...: the row order of a matrix whose rows are in neuron order. */
    protected final int[] identity;

    EngineFfn(FfnGeometry g, ModelConfig c, MemorySegment[] biases, SparseFfn sparse, EngineStats stats,
              int identityRows) {
        this.g = g;
        this.rowDtype = SparseFfn.requireSupported(g.rowDtype());
        this.downDtype = SparseFfn.requireSupported(g.downDtype());
        this.dim = g.dim();
        this.neurons = g.neurons();
        this.gated = g.gated();
        this.activation = switch (c.activation()) {
            case RELU -> FfnActivation.RELU;
            case SILU -> FfnActivation.SILU;
            case GELU -> FfnActivation.GELU;
            case GELU_TANH -> FfnActivation.GELU_TANH;
        };
        this.biases = biases;
        this.sparse = sparse;
        this.stats = stats;
        this.identity = new int[identityRows];
        for (int i = 0; i < identityRows; i++) {
            identity[i] = i;
        }
    }

    /** Layer {@code layer}'s FFN as the block the model's layer holds. */
    final FeedForward layer(int layer) {
        return new EngineLayerFfn(this, layer);
    }

    /** y (dim f32) = layer {@code layer}'s FFN of x, without the down bias (see {@link FeedForward#apply}). */
    final void apply(int layer, MemorySegment x, MemorySegment y) {
        y.asSlice(0, dim * 4L).fill((byte) 0);
        try {
            run(layer, x, y);
        } catch (IOException e) {
            throw new UncheckedIOException("reading layer " + layer + "'s FFN: " + e.getMessage(), e);
        }
    }

    /** Accumulates layer {@code layer}'s FFN of x into y (zeroed by the caller). */
    protected abstract void run(int layer, MemorySegment x, MemorySegment y) throws IOException;

    /** The FFN of n inputs (x: n vectors of dim floats one after another; y the same), each as {@link #apply}. */
    final void applyBatch(int layer, MemorySegment x, int n, MemorySegment y) {
        y.asSlice(0, n * dim * 4L).fill((byte) 0);
        try {
            runBatch(layer, x, n, y);
        } catch (IOException e) {
            throw new UncheckedIOException("reading layer " + layer + "'s FFN: " + e.getMessage(), e);
        }
    }

    /**
     * Accumulates the FFN of n inputs into y (zeroed): by default one {@link #run} after the other; a mode that
     * reads the same neurons for every input overrides it to read them once for all n.
     */
    protected void runBatch(int layer, MemorySegment x, int n, MemorySegment y) throws IOException {
        long bytes = dim * 4L;
        for (int t = 0; t < n; t++) {
            run(layer, x.asSlice(t * bytes, bytes), y.asSlice(t * bytes, bytes));
        }
    }

    /** y += FFN over rows 0..n-1 of a matrix whose rows are in ascending neuron order. */
    protected void computeInOrder(MemorySegment matrix, int n, long rowBytes, MemorySegment rowBias, MemorySegment x,
                                  MemorySegment y) {
        sparse.compute(rowDtype, downDtype, matrix, n, rowBytes, dim, gated, activation, rowBias, identity, n, x, y);
    }

    /**
     * Reads the records of neurons {@code ids[0..n)} (ascending) chunk by chunk into {@code matrix}
     * ({@code chunkRows} rows of {@code rowBytes}) and accumulates their FFN into y. Whole bundled
     * records when {@code records} (runs of neighbours share a read), else one read per part.
     */
    protected void streamThrough(FfnReads reads, int layer, int[] ids, int n, MemorySegment matrix, long rowBytes,
                                 int chunkRows, MemorySegment rowBias, boolean records, MemorySegment x,
                                 MemorySegment y) throws IOException {
        MemorySegment bias = biases[layer];
        for (int s = 0; s < n; s += chunkRows) {
            int k = Math.min(chunkRows, n - s);
            addChunk(reads, layer, ids, s, k, matrix, rowBytes, rowBias, records);
            reads.submit(layer);
            reads.verifyPending(); // the next chunk overwrites the matrix: no check may wait
            computeInOrder(matrix, k, rowBytes, bias == null ? null : rowBias, x, y);
        }
    }

    /**
     * {@link #streamThrough}, double-buffered: while chunk c is computed from one slot's matrix, chunk c + 1 is
     * read into the other's by the pipeline's worker. Chunks are computed in the same order, so y gets the
     * same bits.
     */
    protected void streamPipelined(ReadPipeline pipe, ReadPipeline.Slot[] slots, int layer, int[] ids, int n,
                                   MemorySegment[] matrices, long rowBytes, int chunkRows, MemorySegment[] rowBias,
                                   boolean records, MemorySegment x, MemorySegment y) throws IOException {
        streamPipelined(pipe, slots, layer, ids, n, matrices, rowBytes, chunkRows, rowBias, records, x, 1, y);
    }

    /**
     * {@link #streamPipelined} for {@code inputs} inputs at once (x and y hold that many vectors of dim floats):
     * each chunk is read once and computed for every input, so a prompt's chunk of tokens reads the neurons
     * once; each input's rows are still computed in ascending order, so each y gets its own bits.
     */
    protected void streamPipelined(ReadPipeline pipe, ReadPipeline.Slot[] slots, int layer, int[] ids, int n,
                                   MemorySegment[] matrices, long rowBytes, int chunkRows, MemorySegment[] rowBias,
                                   boolean records, MemorySegment x, int inputs, MemorySegment y)
            throws IOException {
        long vec = dim * 4L;
        MemorySegment bias = biases[layer];
        int chunks = (n + chunkRows - 1) / chunkRows;
        int inFlight = 0; // bit i: slot i submitted and not yet awaited
        try {
            for (int c = 0; c < chunks; c++) {
                if (c == 0) {
                    addChunk(slots[0].reads, layer, ids, 0, Math.min(chunkRows, n), matrices[0], rowBytes, rowBias[0],
                            records);
                    pipe.submit(slots[0], layer);
                    inFlight |= 1;
                }
                int next = (c + 1) % 2, cur = c % 2;
                if (c + 1 < chunks) {
                    int s = (c + 1) * chunkRows;
                    addChunk(slots[next].reads, layer, ids, s, Math.min(chunkRows, n - s), matrices[next], rowBytes,
                            rowBias[next], records);
                    pipe.submit(slots[next], layer);
                    inFlight |= 1 << next;
                }
                inFlight &= ~(1 << cur);
                pipe.await(slots[cur]);
                int k = Math.min(chunkRows, n - c * chunkRows);
                for (int t = 0; t < inputs; t++) {
                    computeInOrder(matrices[cur], k, rowBytes, bias == null ? null : rowBias[cur],
                            x.asSlice(t * vec, vec), y.asSlice(t * vec, vec));
                }
            }
        } finally {
            // a failure leaves the other slot's reads in flight: let them land before the buffers are reused
            for (int i = 0; i < 2; i++) {
                if ((inFlight & 1 << i) != 0) {
                    try {
                        pipe.await(slots[i]);
                    } catch (IOException | RuntimeException ignored) {
                        // the first failure is the one reported
                    }
                }
            }
        }
    }

    /**
     * Adds the reads of neurons ids[s .. s + k) (ascending) into rows 0..k-1 of {@code matrix}, and gathers their
     * up biases into rowBias: whole bundled records when {@code records} (runs of neighbours share a read), else
     * one read per part.
     */
    private void addChunk(FfnReads reads, int layer, int[] ids, int s, int k, MemorySegment matrix, long rowBytes,
                          MemorySegment rowBias, boolean records) {
        MemorySegment bias = biases[layer];
        if (bias != null) {
            long m0 = System.nanoTime();
            for (int i = 0; i < k; i++) {
                rowBias.setAtIndex(ValueLayout.JAVA_FLOAT, i, bias.getAtIndex(ValueLayout.JAVA_FLOAT, ids[s + i]));
            }
            stats.memoryNanos += System.nanoTime() - m0;
        }
        reads.addNeurons(ids, s, k, null, matrix, rowBytes, records);
    }

    @Override
    public void close() {
        sparse.close(); // the stager is the engine's to close
    }

    /** One line on how this FFN runs, for the model's description. */
    abstract String describe();
}
