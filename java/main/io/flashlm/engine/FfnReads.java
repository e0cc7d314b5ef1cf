package io.flashlm.engine;

import io.flashlm.io.FlashIOException;
import io.flashlm.io.FlashReader;
import io.flashlm.io.ReadBatch;
import io.flashlm.io.ReaderOptions;
import io.flashlm.nativeabi.NativeError;
import io.flashlm.nativeabi.NativeIo;
import io.flashlm.nativeabi.NativeIoException;
import io.flashlm.pack.Crc32c;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.FfnPart;
import io.flashlm.pack.FlashPack;
import io.flashlm.planning.ReadCostModel;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads neurons of the pack's FFN files into memory: one {@link FlashReader} per layer file, one
 * reusable batch per file, filled by {@link #addRecords} (runs of whole bundled records, split into
 * reads of at most {@link #MAX_READ} bytes) or {@link #addParts} (each part on its own, as unbundled
 * storage reads it), and submitted together by {@link #submit}. Counts bytes, reads and I/O time
 * into the engine's statistics, and hands each batch's figures (reads, bytes, depth, elapsed) to a cost
 * model that learns from them, when one is set. Allocates nothing per token.
 */
final class FfnReads implements AutoCloseable {
    /** The longest single read: larger runs are split so that the queue keeps several in flight. */
    static final long MAX_READ = 1L << 20;

    private final FfnGeometry g;
    private final FlashReader[][] readers;
    private final ReadBatch[] batches;
    private final List<FfnPart> parts;
    private final EngineStats stats;
    private final boolean direct;
    private final int queueDepth;
    private ReadCostModel observer;
    // the batch being filled: reads and bytes, over every file
    private int batchReads;
    private long batchBytes;
    // whole units read in the batch being filled, to check against the pack's CRC-32C (null arrays: no checks)
    private final int[][] checksums;
    private final int[] unitNeuron;
    private final MemorySegment[] unitDest;
    private final long[] unitOffset;
    private int units;
    // units read into a deferrable destination, checked later by verifyPending (while they are in cache)
    private final IdentityHashMap<MemorySegment, Boolean> deferrable = new IdentityHashMap<>();
    private final int[] pendingNeuron;
    private final MemorySegment[] pendingDest;
    private final long[] pendingOffset;
    private final int[] pendingLayer;
    private int pending;
    private final CRC32C crc = new CRC32C();
    /** A ByteBuffer view of each destination seen (they are few and long-lived), so a check allocates nothing. */
    private final IdentityHashMap<MemorySegment, ByteBuffer> views = new IdentityHashMap<>();

    /**
     * @param checksums per layer, the CRC-32C of every unit of the layer's FFN files (file-major, as the pack
     *                  stores them), to check every whole unit read against; null to check nothing
     */
    FfnReads(FlashPack pack, ReaderOptions options, int batchCapacity, EngineStats stats, int[][] checksums)
            throws IOException {
        this.g = pack.ffnGeometry();
        this.checksums = checksums;
        int checked = checksums == null ? 0 : batchCapacity;
        this.unitNeuron = new int[checked];
        this.unitDest = new MemorySegment[checked];
        this.unitOffset = new long[checked];
        this.pendingNeuron = new int[checked];
        this.pendingDest = new MemorySegment[checked];
        this.pendingOffset = new long[checked];
        this.pendingLayer = new int[checked];
        this.parts = g.parts();
        this.stats = stats;
        this.queueDepth = options.queueDepth();
        int layers = pack.config().layers();
        int files = g.filesPerLayer();
        readers = new FlashReader[layers][files];
        batches = new ReadBatch[files];
        boolean opened = options.direct();
        try {
            for (int f = 0; f < files; f++) {
                batches[f] = new ReadBatch(batchCapacity);
            }
            for (int l = 0; l < layers; l++) {
                for (int f = 0; f < files; f++) {
                    readers[l][f] = openPreferDirect(pack.ffnFile(l, f), options.withDirect(opened));
                    opened = readers[l][f].direct();
                }
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
        this.direct = opened;
    }

    /** Opens with O_DIRECT where asked and possible; a filesystem that refuses it is read buffered. */
    static FlashReader openPreferDirect(Path file, ReaderOptions o) throws IOException {
        try {
            return FlashReader.open(file, o);
        } catch (FlashIOException e) {
            if (o.direct() && e.is(NativeError.NO_DIRECT)) {
                return FlashReader.open(file, o.withDirect(false));
            }
            throw e;
        }
    }

    /**
     * The block an O_DIRECT reader of {@code file} widens requests to, as the native reader chooses it:
     * statx's alignment, or without it at least 4096 (native/io/file.c).
     */
    static long directBlock(Path file) {
        try {
            NativeIo.DioAlignment a = NativeIo.dioAlignment(file, true);
            return a.source() == NativeIo.DioSource.STATX ? a.bytes() : Math.max(4096, a.bytes());
        } catch (NativeIoException e) {
            return 4096; // the reader will say what is wrong when it opens the file
        }
    }

    /** Whether the FFN files are read with O_DIRECT (false when asked for buffered or refused by the filesystem). */
    boolean direct() {
        return direct;
    }

    int queueDepth() {
        return queueDepth;
    }

    /** Hands every completed batch to {@code model} from now on (null: to none). */
    void observeWith(ReadCostModel model) {
        observer = model;
    }

    /**
     * Adds reads of the bundled records of neurons {@code first .. first+count-1} into {@code dest}
     * from byte {@code destOffset}, one record per {@link FfnGeometry#stride()} (the caller's rows must
     * be that far apart). Bundled packs only.
     */
    void addRecords(int first, int count, MemorySegment dest, long destOffset) {
        long stride = g.stride();
        long per = Math.max(1, MAX_READ / stride);
        for (long done = 0; done < count; done += per) {
            long n = Math.min(per, count - done);
            // Padding included: whole units, aligned for O_DIRECT when the stride is a multiple of the
            // device's block; otherwise (back to back) the native reader widens the read to blocks and
            // copies these bytes out of a bounce slot.
            long bytes = n * stride;
            batches[0].add(g.offsetOf(first + done, parts.get(0)), bytes, dest, destOffset + done * stride);
            if (checksums != null) {
                for (long i = done; i < done + n && units < unitNeuron.length; i++) {
                    unitNeuron[units] = (int) (first + i);
                    unitDest[units] = dest;
                    unitOffset[units] = destOffset + i * stride;
                    units++;
                }
            }
            stats.reads++;
            stats.bytesRead += bytes;
            batchReads++;
            batchBytes += bytes;
        }
    }

    /**
     * Adds the reads of neurons {@code ids[from .. from+n)} (ascending) into rows of {@code rowBytes} in
     * {@code dest}: row {@code rows[from + i]}, or row i when rows is null. With {@code records}, neighbours whose
     * rows are consecutive too share a read of whole bundled records; else one read per part.
     */
    void addNeurons(int[] ids, int from, int n, int[] rows, MemorySegment dest, long rowBytes, boolean records) {
        for (int i = 0; i < n; ) {
            int j = i + 1;
            long row = rows == null ? i : rows[from + i];
            if (records) {
                while (j < n && ids[from + j] == ids[from + j - 1] + 1
                        && (rows == null || rows[from + j] == rows[from + j - 1] + 1)) {
                    j++;
                }
                addRecords(ids[from + i], j - i, dest, row * rowBytes);
            } else {
                addParts(ids[from + i], dest, row * rowBytes);
            }
            i = j;
        }
    }

    /** Adds one read per part of neuron {@code neuron} into a record at {@code dest + destOffset}. */
    void addParts(int neuron, MemorySegment dest, long destOffset) {
        for (int p = 0; p < parts.size(); p++) {
            FfnPart part = parts.get(p);
            long partBytes = g.partBytes(part); // the rows and the down column may differ in type
            batches[g.fileOf(part)].add(g.offsetOf(neuron, part), partBytes, dest, destOffset + g.partOffset(part));
            stats.reads++;
            stats.bytesRead += partBytes;
            batchReads++;
            batchBytes += partBytes;
        }
    }

    /** Reads everything added, from layer {@code layer}'s files, and waits for it; times it as I/O. */
    void submit(int layer) throws IOException {
        long t0 = System.nanoTime();
        try {
            read(layer);
        } finally {
            long t = System.nanoTime() - t0;
            stats.ioNanos += t;
            stats.readNanos += t;
        }
    }

    /**
     * Reads everything added from layer {@code layer}'s files and waits for it, touching no statistics: a
     * {@link ReadPipeline} worker calls it while the engine's thread computes (and keeps the statistics). The
     * cost model's observer (flash mode, whose reads are not pipelined) hears of each completed batch.
     */
    void read(int layer) throws IOException {
        long t0 = System.nanoTime();
        boolean done = false;
        try {
            for (int f = 0; f < batches.length; f++) {
                if (batches[f].size() > 0) {
                    readers[layer][f].read(batches[f]);
                }
            }
            done = true;
            verifyUnits(layer);
        } finally {
            units = 0;
            for (ReadBatch b : batches) {
                b.clear();
            }
            long elapsed = System.nanoTime() - t0; // (the checks not deferred included)
            if (done && observer != null && batchReads > 0) {
                // the reader keeps up to queueDepth reads in flight; a smaller batch has all of them in flight
                observer.observe(batchReads, batchBytes, Math.min(queueDepth, batchReads), elapsed);
            }
            batchReads = 0;
            batchBytes = 0;
        }
    }

    /**
     * Lets the checks of units read into {@code dest} wait for {@link #verifyPending} (called by the owner once
     * it has computed over them, when they are in the CPU's caches and the check costs a few % instead of a cold
     * pass over memory). The owner must not move or overwrite those units before it calls verifyPending.
     */
    void deferChecksOf(MemorySegment dest) {
        if (checksums != null) {
            deferrable.put(dest, Boolean.TRUE);
        }
    }

    /**
     * Checks the units whose checks were deferred; returns how many failed once and were read again (the caller
     * must then compute over them again), or throws when one fails twice.
     */
    int verifyPending() throws IOException {
        int reread = 0;
        try {
            for (int u = 0; u < pending; u++) {
                if (check(pendingLayer[u], pendingNeuron[u], pendingDest[u], pendingOffset[u])) {
                    reread++;
                }
            }
        } finally {
            pending = 0;
        }
        return reread;
    }

    /** Forgets the deferred checks (their units were dropped by the owner after a failure). */
    void dropPending() {
        pending = 0;
    }

    /**
     * Checks every whole unit read in this batch against its CRC-32C, or sets it aside for {@link #verifyPending}
     * when its destination defers checks. Part reads (unbundled storage) are not checked: a unit's checksum covers
     * its padding, which they do not read.
     */
    private void verifyUnits(int layer) throws IOException {
        for (int u = 0; u < units; u++) {
            if (deferrable.containsKey(unitDest[u]) && pending < pendingNeuron.length) {
                pendingNeuron[pending] = unitNeuron[u];
                pendingDest[pending] = unitDest[u];
                pendingOffset[pending] = unitOffset[u];
                pendingLayer[pending] = layer;
                pending++;
            } else {
                check(layer, unitNeuron[u], unitDest[u], unitOffset[u]);
            }
        }
    }

    /**
     * Checks one unit; one that fails is read again once (a transient fault of the device or the bus), and if it
     * fails again the read fails naming the file, layer, neuron and offset. Returns whether it was read again.
     */
    private boolean check(int layer, int neuron, MemorySegment dest, long offset) throws IOException {
        long stride = g.stride();
        int want = checksums[layer][neuron];
        if (crcOf(dest, offset, stride) == want) {
            return false;
        }
        long fileOffset = g.offsetOf(neuron, parts.get(0));
        readers[layer][0].read(fileOffset, dest.asSlice(offset, stride)); // once more
        int again = crcOf(dest, offset, stride);
        if (again != want) {
            throw new IOException(readers[layer][0].file() + ": the record of neuron " + neuron + " (layer "
                    + layer + ", " + stride + " bytes at offset " + fileOffset + ") fails its CRC-32C check twice"
                    + " (expected " + Crc32c.hex(want) + ", read " + Crc32c.hex(again) + "): the pack is damaged or"
                    + " the device returns bad data (flashlm verify --model <pack> lists every damaged record;"
                    + " --no-verify-reads skips this check)");
        }
        return true;
    }

    /** The CRC-32C of {@code bytes} bytes of {@code dest} at {@code offset}, through a cached view (no allocation). */
    private int crcOf(MemorySegment dest, long offset, long bytes) {
        ByteBuffer view = views.get(dest);
        if (view == null) {
            if (dest.byteSize() > Integer.MAX_VALUE || views.size() >= 64) {
                crc.reset();
                crc.update(dest.asSlice(offset, bytes).asByteBuffer());
                return (int) crc.getValue();
            }
            view = dest.asByteBuffer();
            views.put(dest, view);
        }
        view.clear();
        view.position((int) offset).limit((int) (offset + bytes));
        crc.reset();
        crc.update(view);
        return (int) crc.getValue();
    }

    @Override
    public void close() {
        for (FlashReader[] row : readers) {
            for (FlashReader r : row) {
                if (r != null) {
                    r.close();
                }
            }
        }
        for (ReadBatch b : batches) {
            if (b != null) {
                b.close();
            }
        }
    }
}
