package io.flashlm.cache;


import io.flashlm.kernels.LargeBuffers;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * One layer's window of resident FFN neurons, managed as in "LLM in a flash" (section 3.3): a
 * preallocated matrix of {@link #capacity()} rows, each holding one neuron's bundled record
 * ({@code [gate | up | down]} or {@code [up | down]} in the storage dtype, exactly the bytes of the
 * pack's bundled record), a row-to-neuron array, its inverse, the neurons' FFN biases per row (f32),
 * a row count, and the last-k activity.
 *
 * <p>The resident set is always the union of the active sets of the last {@link #window()} tokens.
 * {@link #plan(int[], int)} advances by one token: neurons whose last use drops out of the window free
 * their rows, the active neurons that are not resident are read into those holes first and appended at
 * the end when there are more of them, and holes that remain are filled by copying the <em>last</em> rows
 * into them (nothing shifts, nothing is reallocated; in a steady window about as many neurons come as go,
 * so few records are copied). Their rows are returned with
 * the address each record must be read to ({@link #rowAddress(int)}), so a reader fills the cache in
 * place. The rows of a newly appended neuron hold stale bytes until the caller loads them.
 *
 * <p>Nothing is allocated on the Java heap or off it by {@link #plan}: every array is sized at
 * construction. The cost of a token is proportional to the neurons that enter and leave the window,
 * plus the active set. Not thread-safe: one caller per layer.
 */
public final class WindowCache {
    private final int neurons;
    private final int capacity;
    private final int window;
    private final long recordBytes;
    private final long rowBytes;
    private final MemorySegment matrix;
    private final MemorySegment rowBias;
    private final MemorySegment neuronBias;

    private final int[] rowNeuron;
    private final int[] neuronRow;
    /** The token index at which each neuron was last active, or Integer.MIN_VALUE. */
    private final int[] lastUsed;
    /** Stamp of the plan call that last saw each neuron in its active set (duplicate and membership test). */
    private final int[] seen;
    /** The active sets of the last {@code window} tokens, slot {@code t % window} for token t. */
    private final int[][] ring;
    private final int[] ringSize;

    private final int[] missingNeurons;
    private final int[] missingRows;
    /** The rows freed by the neurons leaving in a plan (scratch). */
    private final int[] holeRows;
    private int missing;
    private int evicted;
    private int earlyTokens;
    /** The latest token whose neurons have all left (by expiry, early or not), or -1. */
    private int goneThrough;

    private int count;
    private int token;
    private int epoch;

    /**
     * @param neurons     the layer's neuron count (ids are 0..neurons-1)
     * @param recordBytes the bytes of one record (the pack's {@code FfnGeometry.recordBytes()})
     * @param rowBytes    distance between rows, at least recordBytes (for instance the pack's stride,
     *                    so that aligned O_DIRECT reads of whole units can land in a row)
     * @param capacity    rows: the window's worst case (a request that needs more is refused)
     * @param window      k, the number of recent tokens whose active neurons stay resident (at least 1)
     * @param bias        the layer's FFN (up) biases, {@code neurons} f32 values, or null for none
     * @param arena       owns the matrix and the per-row biases
     */
    public WindowCache(int neurons, long recordBytes, long rowBytes, int capacity, int window, MemorySegment bias,
                       Arena arena) {
        if (neurons <= 0 || recordBytes <= 0 || rowBytes < recordBytes || capacity <= 0 || capacity > neurons
                || window <= 0) {
            throw new IllegalArgumentException("window cache of " + capacity + " rows of " + recordBytes + " ("
                    + rowBytes + ") bytes for " + neurons + " neurons, window " + window + ": out of range");
        }
        if (bias != null && bias.byteSize() < (long) neurons * Float.BYTES) {
            throw new IllegalArgumentException("bias holds " + bias.byteSize() + " bytes; " + neurons
                    + " neurons need " + (long) neurons * Float.BYTES);
        }
        this.neurons = neurons;
        this.capacity = capacity;
        this.window = window;
        this.recordBytes = recordBytes;
        this.rowBytes = rowBytes;
        long bytes = Math.multiplyExact(rowBytes, (long) capacity);
        this.matrix = LargeBuffers.allocate(arena, bytes);
        this.rowBias = arena.allocate((long) capacity * Float.BYTES, 64);
        this.neuronBias = bias;
        this.rowNeuron = new int[capacity];
        this.neuronRow = new int[neurons];
        this.lastUsed = new int[neurons];
        this.seen = new int[neurons];
        this.ring = new int[window][capacity];
        this.ringSize = new int[window];
        this.missingNeurons = new int[capacity];
        this.missingRows = new int[capacity];
        this.holeRows = new int[capacity];
        reset();
    }

    /** Empties the cache and forgets the activity (the matrix bytes are left as they are). */
    public void reset() {
        Arrays.fill(rowNeuron, -1);
        Arrays.fill(neuronRow, -1);
        Arrays.fill(lastUsed, Integer.MIN_VALUE);
        Arrays.fill(ringSize, 0);
        count = 0;
        token = 0;
        goneThrough = -1;
        missing = 0;
        evicted = 0;
    }

    /**
     * Advances the window by one token whose active neurons are {@code active[0..count)} (distinct
     * ids, any order): deletes the neurons that left the window and appends the active ones that are
     * not resident. Returns how many were appended; {@link #missingNeuron(int)} and
     * {@link #missingRow(int)} (or {@link #missingNeurons()}, {@link #missingRows()}) say which, in the
     * order of {@code active}, and {@link #rowAddress(int)} where to read each record. Nothing changes
     * when it throws.
     *
     * @throws IllegalArgumentException an id out of range or repeated
     * @throws IllegalStateException    the active set alone has more neurons than the capacity (when the
     *                                  whole window does not fit, the oldest tokens' neurons leave early
     *                                  instead: {@link #earlyExpiredTokens()})
     */
    public int plan(int[] active, int activeCount) {
        int fresh = stampActive(active, activeCount);
        int stamp = epoch;
        int t = token;
        int slot = t % window;
        int expired = t - window;
        int leaving = 0;
        if (expired >= 0) {
            int[] old = ring[slot];
            for (int i = 0, m = ringSize[slot]; i < m; i++) {
                int n = old[i];
                if (lastUsed[n] == expired && seen[n] != stamp && neuronRow[n] >= 0) {
                    leaving++;
                }
            }
        }
        long after = (long) count - leaving + fresh;
        if (activeCount > capacity) {
            throw new IllegalStateException("window cache overflow: token " + t + " has " + activeCount
                    + " active neurons but the capacity is " + capacity + " rows");
        }
        // When the window does not fit, it shrinks for this token: the oldest remaining tokens' neurons
        // (those not active now) leave early, a whole token at a time, as if k were smaller.
        int firstKept = Math.max(Math.max(0, expired + 1), goneThrough + 1);
        int keepFrom = firstKept;
        while (after > capacity && keepFrom < t) {
            after -= leavingAt(keepFrom, stamp);
            keepFrom++;
        }
        earlyTokens = keepFrom - firstKept;
        goneThrough = Math.max(goneThrough, keepFrom - 1);

        // the neurons that left the window free their rows (holes)
        evicted = 0;
        int holes = 0;
        for (int u = Math.max(0, expired); u < keepFrom; u++) {
            int[] old = ring[u % window];
            for (int i = 0, m = ringSize[u % window]; i < m; i++) {
                int n = old[i];
                if (lastUsed[n] == u && seen[n] != stamp && neuronRow[n] >= 0) {
                    int row = neuronRow[n];
                    neuronRow[n] = -1;
                    rowNeuron[row] = -1;
                    holeRows[holes++] = row;
                    evicted++;
                }
            }
        }
        // record this token's set; the active neurons that are not resident take the lowest holes, then rows at
        // the end
        Arrays.sort(holeRows, 0, holes);
        System.arraycopy(active, 0, ring[slot], 0, activeCount);
        ringSize[slot] = activeCount;
        missing = 0;
        int filled = 0;
        for (int i = 0; i < activeCount; i++) {
            int n = active[i];
            lastUsed[n] = t;
            if (neuronRow[n] < 0) {
                admit(n, filled < holes ? holeRows[filled++] : count++);
            }
        }
        // more left than came: the last rows fill the holes that remain, lowest first. No new neuron moves: the
        // new ones took lower holes than these and none was appended, so every row moved lies above them.
        for (int h = filled; h < holes; h++) {
            while (count > 0 && rowNeuron[count - 1] < 0) {
                count--;
            }
            int hole = holeRows[h];
            if (hole < count) {
                moveRow(count - 1, hole);
                count--;
            }
        }
        token = t + 1;
        return missing;
    }

    /**
     * Adds {@code active[0..activeCount)} (distinct ids, any order) to the set of the token the last
     * {@link #plan} advanced to, instead of advancing again: the look-ahead's case, where a token's set was
     * planned early from a guess and the true set arrives later. Resident neurons join the token's set; the
     * others are appended as by {@link #plan} ({@link #missingNeuron(int)} and {@link #missingRow(int)} say
     * which). When the union does not fit, the oldest tokens' neurons leave early as in {@link #plan}, and
     * as a last resort the neurons the guess added that the true set does not hold. The rows of the guessed
     * neurons may move, so the caller must have finished reading into them. Nothing changes when it throws.
     *
     * @throws IllegalArgumentException an id out of range or repeated
     * @throws IllegalStateException    no token was planned since the last reset, or the set alone has more
     *                                  neurons than the capacity
     */
    public int extend(int[] active, int activeCount) {
        if (token == 0) {
            throw new IllegalStateException("extend before any token was planned");
        }
        if (activeCount > capacity) {
            throw new IllegalStateException("window cache overflow: token " + (token - 1) + " has " + activeCount
                    + " active neurons but the capacity is " + capacity + " rows");
        }
        int fresh = stampActive(active, activeCount);
        int stamp = epoch;
        int t = token - 1;
        int slot = t % window;
        long after = (long) count + fresh;
        int firstKept = Math.max(Math.max(0, t - window + 1), goneThrough + 1);
        int keepFrom = firstKept;
        while (after > capacity && keepFrom < t) {
            after -= leavingAt(keepFrom, stamp);
            keepFrom++;
        }
        earlyTokens = keepFrom - firstKept;
        goneThrough = Math.max(goneThrough, keepFrom - 1);
        evicted = 0;
        for (int u = firstKept; u < keepFrom; u++) {
            int[] old = ring[u % window];
            for (int i = 0, m = ringSize[u % window]; i < m; i++) {
                int n = old[i];
                if (lastUsed[n] == u && seen[n] != stamp && neuronRow[n] >= 0) {
                    remove(n);
                }
            }
        }
        int[] set = ring[slot];
        if (after > capacity) {
            // the guess itself is in the way: its neurons outside the true set leave
            int kept = 0;
            for (int i = 0, m = ringSize[slot]; i < m; i++) {
                int n = set[i];
                if (seen[n] != stamp && neuronRow[n] >= 0) {
                    remove(n);
                    lastUsed[n] = Integer.MIN_VALUE;
                } else if (neuronRow[n] >= 0) {
                    set[kept++] = n;
                }
            }
            ringSize[slot] = kept;
        }
        missing = 0;
        for (int i = 0; i < activeCount; i++) {
            int n = active[i];
            if (lastUsed[n] != t || neuronRow[n] < 0) {
                lastUsed[n] = t;
                set[ringSize[slot]++] = n;
            }
            if (neuronRow[n] < 0) {
                admit(n, count++);
            }
        }
        return missing;
    }

    /**
     * Checks {@code active[0..activeCount)} (ids in range, none twice), marks them with a new stamp
     * ({@code epoch}) and returns how many are not resident.
     */
    private int stampActive(int[] active, int activeCount) {
        if (activeCount < 0 || activeCount > active.length) {
            throw new IllegalArgumentException("active count " + activeCount + " of an array of " + active.length);
        }
        int stamp = ++epoch;
        int fresh = 0;
        for (int i = 0; i < activeCount; i++) {
            int n = active[i];
            if (n < 0 || n >= neurons) {
                throw new IllegalArgumentException("neuron " + n + " is out of range 0.." + (neurons - 1));
            }
            if (seen[n] == stamp) {
                throw new IllegalArgumentException("neuron " + n + " is listed twice in the active set");
            }
            seen[n] = stamp;
            if (neuronRow[n] < 0) {
                fresh++;
            }
        }
        return fresh;
    }

    /** Puts neuron n in the free row {@code row} and lists it as missing (its record is to be read there). */
    private void admit(int n, int row) {
        rowNeuron[row] = n;
        neuronRow[n] = row;
        rowBias.setAtIndex(ValueLayout.JAVA_FLOAT, row,
                neuronBias == null ? 0f : neuronBias.getAtIndex(ValueLayout.JAVA_FLOAT, n));
        missingNeurons[missing] = n;
        missingRows[missing] = row;
        missing++;
    }

    /** Neurons whose last use was token u and that are not in the active set being planned. */
    private int leavingAt(int u, int stamp) {
        int k = 0;
        int[] set = ring[u % window];
        for (int i = 0, m = ringSize[u % window]; i < m; i++) {
            int n = set[i];
            if (lastUsed[n] == u && seen[n] != stamp && neuronRow[n] >= 0) {
                k++;
            }
        }
        return k;
    }

    private void remove(int n) {
        int row = neuronRow[n];
        int last = count - 1;
        neuronRow[n] = -1;
        if (row != last) {
            moveRow(last, row);
        }
        rowNeuron[last] = -1;
        count = last;
        evicted++;
    }

    /** Moves the record, bias and neuron of row {@code from} into the free row {@code to}; {@code from} becomes free. */
    private void moveRow(int from, int to) {
        int moved = rowNeuron[from];
        MemorySegment.copy(matrix, from * rowBytes, matrix, to * rowBytes, recordBytes);
        rowBias.setAtIndex(ValueLayout.JAVA_FLOAT, to, rowBias.getAtIndex(ValueLayout.JAVA_FLOAT, from));
        rowNeuron[to] = moved;
        neuronRow[moved] = to;
        rowNeuron[from] = -1;
    }

    /**
     * Writes into {@code out} the rows of all resident neurons in ascending neuron id (the order
     * that makes the FFN's down sum independent of where rows lie) and returns their number. Walks
     * the neuron-to-row array: O(neurons), no sort.
     */
    public int residentRowsByNeuron(int[] out) {
        int k = 0;
        for (int n = 0; n < neurons; n++) {
            int r = neuronRow[n];
            if (r >= 0) {
                out[k++] = r;
            }
        }
        return k;
    }

    /**
     * Writes the rows of {@code ids[0..n)} (which must be resident) into {@code out}, in the same
     * order, and returns n. Pass ids in ascending order for a row-order-independent FFN.
     */
    public int rowsOf(int[] ids, int n, int[] out) {
        for (int i = 0; i < n; i++) {
            int r = neuronRow[ids[i]];
            if (r < 0) {
                throw new IllegalStateException("neuron " + ids[i] + " is not resident");
            }
            out[i] = r;
        }
        return n;
    }

    /** The address at which row {@code row}'s record starts (where a reader puts the neuron's bundle). */
    public long rowAddress(int row) {
        if (row < 0 || row >= capacity) {
            throw new IndexOutOfBoundsException("row " + row + " of " + capacity);
        }
        return matrix.address() + row * rowBytes;
    }

    /** Row {@code row}'s record as a segment (allocates a view: not for the per-token path). */
    public MemorySegment rowSegment(int row) {
        if (row < 0 || row >= capacity) {
            throw new IndexOutOfBoundsException("row " + row + " of " + capacity);
        }
        return matrix.asSlice(row * rowBytes, recordBytes);
    }

    public int missingNeuron(int i) {
        return missingNeurons[i];
    }

    public int missingRow(int i) {
        return missingRows[i];
    }

    /** The internal array of neurons appended by the last plan (valid up to the count the last plan returned; do not modify). */
    public int[] missingNeurons() {
        return missingNeurons;
    }

    /** The internal array of their rows (valid up to the count the last plan returned; do not modify). */
    public int[] missingRows() {
        return missingRows;
    }

    /** Tokens whose neurons the last plan let go early because the full window did not fit (0 normally). */
    public int earlyExpiredTokens() {
        return earlyTokens;
    }

    /** Neurons deleted by the last plan. */
    public int evictedCount() {
        return evicted;
    }

    /** Resident rows: rows 0..count-1 are in use. */
    public int count() {
        return count;
    }

    public int capacity() {
        return capacity;
    }

    public int window() {
        return window;
    }

    public int neurons() {
        return neurons;
    }

    /** Tokens planned since the last reset. */
    public int tokens() {
        return token;
    }

    public long recordBytes() {
        return recordBytes;
    }

    public long rowBytes() {
        return rowBytes;
    }

    /** The row matrix: capacity x rowBytes, row r's record at r * rowBytes. */
    public MemorySegment matrix() {
        return matrix;
    }

    /** The f32 bias of each row's neuron. */
    public MemorySegment rowBiases() {
        return rowBias;
    }

    /** The row of neuron {@code n}, or -1 when it is not resident. */
    public int rowOf(int n) {
        return neuronRow[n];
    }

    /** The neuron in row {@code row}, or -1 past the count. */
    public int neuronAt(int row) {
        return rowNeuron[row];
    }

    /** Bytes this cache holds off-heap (matrix and biases), for the engine's memory accounting. */
    public long offHeapBytes() {
        return matrix.byteSize() + rowBias.byteSize();
    }
}
