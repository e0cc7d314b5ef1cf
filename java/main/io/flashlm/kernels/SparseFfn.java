package io.flashlm.kernels;

import io.flashlm.nativeabi.FfnActivation;
import io.flashlm.nativeabi.Kernels;
import io.flashlm.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * The FFN over a compact matrix of bundled neuron records (a window cache), split across
 * threads so that the result does not depend on the thread count: the up (and gate) dots are split
 * by rows (a row's h depends only on that row and x), the down sum by output columns (each thread
 * accumulates its own slice of y over all the given rows, in the given order). Pass rows in
 * ascending neuron id and y depends only on the multiset of (neuron, h): not on where the rows lie.
 *
 * <p>Threads from a {@link WorkerGang}, as in {@link io.flashlm.kernels.ComputePool}. Nothing is allocated per call. One caller at a time. Every segment passed
 * (and the arena given to the constructor) must be accessible from other threads: a shared, global
 * or automatic arena, not a confined one.
 */
public final class SparseFfn implements AutoCloseable {
    private static final int PHASE_UP = 1;
    private static final int PHASE_DOWN = 2;
    private static final int PHASE_UP_BATCH = 3;
    private static final int PHASE_DOWN_BATCH = 4;
    /**
     * Inputs {@link #computeBatch} runs together: each weight is read once per this many (from L2 for the
     * rest); h and the gate scratch hold this many rows of h.
     */
    public static final int BATCH_INPUTS = 32;

    private final WorkerGang gang;
    private final WorkerGang.Part phasePart = this::runPart;
    private final long minParallelBytes;
    private final int maxRows;
    private final MemorySegment order;
    private final MemorySegment h;

    // The current call; set by the caller before the gang runs a phase.
    private int phase;
    private DType rowDtype;
    private DType downDtype;
    private MemorySegment rows;
    private long count;
    private long recordBytes;
    private long dim;
    private boolean gated;
    private FfnActivation activation;
    private MemorySegment bias;
    private MemorySegment x;
    private MemorySegment y;
    private long n;
    private int batch;
    // computeBatch's buffers (null until allocateBatch): BATCH_INPUTS x maxRows floats each
    private MemorySegment hBatch;
    private MemorySegment gBatch;
    private MemorySegment identity;

    /**
     * @param threads          threads, the caller included (1..256)
     * @param maxRows          the most rows a record matrix passed has (the cache capacity: sizes the order and h buffers)
     * @param minParallelBytes below this many record bytes a call runs on the caller alone
     * @param arena            owns the buffers
     */
    public SparseFfn(int threads, int maxRows, long minParallelBytes, Arena arena) {
        if (threads < 1 || threads > 256 || maxRows < 0) {
            throw new IllegalArgumentException("sparse FFN of " + threads + " threads and " + maxRows + " rows");
        }
        this.maxRows = maxRows;
        this.minParallelBytes = minParallelBytes;
        this.order = arena.allocate(Math.max(1, maxRows) * 4L, 64);
        this.h = arena.allocate(Math.max(1, maxRows) * 4L, 64);
        this.gang = new WorkerGang(threads, "flashlm-sparse-ffn");
    }

    public SparseFfn(int threads, int maxRows, Arena arena) {
        this(threads, maxRows, 64 * 1024, arena);
    }

    public int threads() {
        return gang.threads();
    }

    /**
     * The storage dtype of rows or down columns, if the bundle kernels take it (f32, f16 and every block
     * type, not bf16); else an IllegalArgumentException.
     */
    public static DType requireSupported(DType dtype) {
        if (!Kernels.bundleTakes(dtype)) {
            throw new IllegalArgumentException("the sparse FFN kernels take f32, f16 and the block types (q8_0, "
                    + "q4_0, ..., the k-quants), not " + dtype);
        }
        return dtype;
    }

    /** Bytes {@link #allocateBatch} takes for records of a gated or ReLU FFN of {@code maxRows} rows. */
    public static long batchBytes(int maxRows, boolean gated) {
        return (long) BATCH_INPUTS * maxRows * Float.BYTES * (gated ? 2 : 1) + (long) maxRows * Integer.BYTES;
    }

    /** Allocates {@link #computeBatch}'s buffers ({@link #batchBytes}) from the arena. */
    public void allocateBatch(Arena arena, boolean gated) {
        hBatch = arena.allocate((long) BATCH_INPUTS * Math.max(1, maxRows) * Float.BYTES, 64);
        gBatch = gated ? arena.allocate((long) BATCH_INPUTS * Math.max(1, maxRows) * Float.BYTES, 64) : null;
        identity = arena.allocate(Math.max(1, maxRows) * 4L, 64);
        for (int i = 0; i < maxRows; i++) {
            identity.setAtIndex(ValueLayout.JAVA_INT, i, i);
        }
    }

    /**
     * For each of {@code inputs} inputs (x and y hold that many vectors of dim floats, one after another):
     * y += the FFN over all {@code count} rows in order, as {@link #compute} with rows 0..count-1 gives it,
     * bit for bit; the weights are read once per {@link #BATCH_INPUTS} inputs. Needs {@link #allocateBatch}.
     */
    public void computeBatch(DType rowDtype, DType downDtype, MemorySegment rows, int count, long recordBytes, int dim,
                             boolean gated, FfnActivation activation, MemorySegment bias, MemorySegment x, int inputs,
                             MemorySegment y) {
        if (hBatch == null || (gated && gBatch == null)) {
            throw new IllegalStateException("computeBatch needs allocateBatch(arena, " + gated + ") first");
        }
        requireSupported(rowDtype);
        requireSupported(downDtype);
        Objects.requireNonNull(activation, "activation");
        if (count > maxRows || inputs < 0 || x.byteSize() < (long) inputs * dim * 4
                || y.byteSize() < (long) inputs * dim * 4) {
            throw new IllegalArgumentException(count + " rows (buffers for " + maxRows + "), " + inputs + " inputs of "
                    + dim + ": x holds " + x.byteSize() + " bytes, y " + y.byteSize());
        }
        if (gang.isClosed()) {
            throw new IllegalStateException("sparse FFN is closed");
        }
        setRecords(rowDtype, downDtype, rows, count, recordBytes, dim, gated, activation, bias);
        this.n = count;
        boolean parallel = gang.threads() > 1;
        long vec = (long) dim * Float.BYTES;
        try {
            for (int s = 0; s < inputs; s += BATCH_INPUTS) {
                this.batch = Math.min(BATCH_INPUTS, inputs - s);
                this.x = x.asSlice(s * vec, batch * vec);
                this.y = y.asSlice(s * vec, batch * vec);
                runPhase(PHASE_UP_BATCH, parallel);
                runPhase(PHASE_DOWN_BATCH, parallel);
            }
        } finally {
            this.rows = this.x = this.y = this.bias = null;
        }
    }

    /** h per row after the last call (indexed by row). */
    public float h(int row) {
        return h.getAtIndex(ValueLayout.JAVA_FLOAT, row);
    }

    /**
     * y += FFN over rows {@code rowOrder[0..n)} of a record matrix: h_r = act(up_r . x + bias_r) (ReLU
     * FFN) or act(gate_r . x) * (up_r . x + bias_r) (gated), then y += sum over the rows in that order of
     * h_r * down_r. {@code count} rows {@code recordBytes} apart in {@code rows},
     * dtype one the kernels take ({@link #requireSupported}), bias one f32 per row or null, x and y dim floats.
     */
    public void compute(DType dtype, MemorySegment rows, int count, long recordBytes, int dim, boolean gated,
                        FfnActivation activation, MemorySegment bias, int[] rowOrder, int n, MemorySegment x,
                        MemorySegment y) {
        compute(dtype, dtype, rows, count, recordBytes, dim, gated, activation, bias, rowOrder, n, x, y);
    }

    /**
     * {@link #compute(DType, MemorySegment, int, long, int, boolean, FfnActivation, MemorySegment, int[], int,
     * MemorySegment, MemorySegment) compute} over records whose gate and up rows are in {@code rowDtype} and
     * whose down column is in {@code downDtype} (a quantized GGUF's rows kept as stored, its down columns
     * re-quantized).
     */
    public void compute(DType rowDtype, DType downDtype, MemorySegment rows, int count, long recordBytes, int dim,
                        boolean gated, FfnActivation activation, MemorySegment bias, int[] rowOrder, int n,
                        MemorySegment x, MemorySegment y) {
        requireSupported(rowDtype);
        requireSupported(downDtype);
        Objects.requireNonNull(activation, "activation");
        long rowBytes = partBytes(rowDtype, dim), downBytes = partBytes(downDtype, dim);
        long used = (gated ? 2 : 1) * rowBytes + downBytes;
        if (rowBytes <= 0 || downBytes <= 0 || recordBytes < used) {
            throw new IllegalArgumentException("records of " + recordBytes + " bytes cannot hold " + (gated ? 2 : 1)
                    + " rows of " + dim + " values of dtype " + rowDtype + " and a down column of " + downDtype);
        }
        if (count < 0 || rows.byteSize() < (count == 0 ? 0 : (count - 1) * recordBytes + used)) {
            throw new IllegalArgumentException("the record matrix holds " + rows.byteSize() + " bytes, too few for "
                    + count + " rows of " + recordBytes);
        }
        if (n < 0 || n > count || count > maxRows || n > rowOrder.length) {
            throw new IllegalArgumentException(n + " rows asked of " + count + " (buffers for " + maxRows + " rows)");
        }
        if (x.byteSize() < dim * 4L || y.byteSize() < dim * 4L || (bias != null && bias.byteSize() < count * 4L)) {
            throw new IllegalArgumentException("x, y need " + dim + " floats and bias " + count);
        }
        if (gang.isClosed()) {
            throw new IllegalStateException("sparse FFN is closed");
        }
        for (int i = 0; i < n; i++) {
            int r = rowOrder[i];
            if (r < 0 || r >= count) {
                throw new IllegalArgumentException("row " + r + " is not in 0.." + (count - 1));
            }
            order.setAtIndex(ValueLayout.JAVA_INT, i, r);
        }
        setRecords(rowDtype, downDtype, rows, count, recordBytes, dim, gated, activation, bias);
        this.x = x;
        this.y = y;
        this.n = n;
        boolean parallel = gang.threads() > 1 && (long) n * recordBytes >= minParallelBytes;
        try {
            runPhase(PHASE_UP, parallel);
            runPhase(PHASE_DOWN, parallel);
        } finally {
            this.rows = this.x = this.y = this.bias = null;
        }
    }

    /** The call's records, for the phases the gang runs. */
    private void setRecords(DType rowDtype, DType downDtype, MemorySegment rows, long count, long recordBytes, long dim,
                            boolean gated, FfnActivation activation, MemorySegment bias) {
        this.rowDtype = rowDtype;
        this.downDtype = downDtype;
        this.rows = rows;
        this.count = count;
        this.recordBytes = recordBytes;
        this.dim = dim;
        this.gated = gated;
        this.activation = activation;
        this.bias = bias;
    }

    private void runPhase(int p, boolean parallel) {
        phase = p;
        if (parallel) {
            gang.run(phasePart);
        } else {
            runPart(0, 1);
        }
    }

    private void runPart(int part, int parts) {
        if (phase == PHASE_UP_BATCH) {
            // rows on FLM_ROWS boundaries, so that a thread's share keeps the kernels' row groups whole
            long begin = n * part / parts / 4 * 4;
            long end = part == parts - 1 ? n : n * (part + 1) / parts / 4 * 4;
            Kernels.bundleFfnUpBatch(rowDtype, downDtype, rows, count, recordBytes, dim, gated, activation, bias, x,
                    batch, hBatch, gBatch, begin, end);
            return;
        }
        if (phase == PHASE_DOWN_BATCH) {
            Kernels.bundleFfnDownBatch(rowDtype, downDtype, rows, count, recordBytes, dim, gated, hBatch, batch,
                    identity, n, y, columnBegin(part, parts), columnBegin(part + 1, parts));
            return;
        }
        if (phase == PHASE_UP) {
            long begin = n * part / parts;
            long end = n * (part + 1) / parts;
            Kernels.bundleFfnUp(rowDtype, downDtype, rows, count, recordBytes, dim, gated, activation, bias, x, order, begin, end, h);
        } else {
            Kernels.bundleFfnDown(rowDtype, downDtype, rows, count, recordBytes, dim, gated, h, order, n, y,
                    columnBegin(part, parts), columnBegin(part + 1, parts));
        }
    }

    /**
     * Where thread {@code part} of {@code parts}' slice of the down columns begins (part = parts: dim): slices on
     * block boundaries (whole blocks of the down type, at least 32 values: whole vector tiles), so that no block
     * is decoded by two threads.
     */
    private long columnBegin(int part, int parts) {
        int unit = Math.max(32, downDtype.blockSize());
        long blocks = (dim + unit - 1) / unit;
        return Math.min(dim, blocks * part / parts * unit);
    }

    private static long partBytes(DType dtype, int dim) {
        return dim > 0 && dim % dtype.blockSize() == 0 ? (long) dim / dtype.blockSize() * dtype.bytesPerBlock() : 0;
    }

    @Override
    public void close() {
        gang.close();
    }
}
