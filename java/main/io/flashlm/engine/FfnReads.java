package io.flashlm.engine;

import io.flashlm.io.FlashIOException;
import io.flashlm.io.FlashReader;
import io.flashlm.io.ReadBatch;
import io.flashlm.io.ReaderOptions;
import io.flashlm.nativeabi.NativeError;
import io.flashlm.nativeabi.NativeIo;
import io.flashlm.nativeabi.NativeIoException;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.FfnPart;
import io.flashlm.pack.FlashPack;
import io.flashlm.planning.ReadCostModel;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

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

    FfnReads(FlashPack pack, ReaderOptions options, int batchCapacity, EngineStats stats) throws IOException {
        this.g = pack.ffnGeometry();
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
            stats.reads++;
            stats.bytesRead += bytes;
            batchReads++;
            batchBytes += bytes;
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
        } finally {
            for (ReadBatch b : batches) {
                b.clear();
            }
            long elapsed = System.nanoTime() - t0;
            if (done && observer != null && batchReads > 0) {
                // the reader keeps up to queueDepth reads in flight; a smaller batch has all of them in flight
                observer.observe(batchReads, batchBytes, Math.min(queueDepth, batchReads), elapsed);
            }
            batchReads = 0;
            batchBytes = 0;
        }
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
