package io.flashlm.planning;

import io.flashlm.io.FlashReader;
import io.flashlm.io.ReadBatch;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The flash engine's FFN access pattern on one file, for several record layouts at once (issue 11:
 * which record alignment reads fastest). Each batch holds {@code runsPerBatch} runs of 1..{@code maxRun}
 * consecutive records (uniform), at random neurons, read the way {@code FfnReads.addRecords} reads
 * them: a run of n records is one read of {@code n * stride} bytes at {@code first * stride}, into
 * consecutive rows {@code stride} apart of one buffer (the window cache's rows). The file's bytes are
 * only read, never interpreted, so one file serves every layout.
 *
 * <p>The layouts take turns batch by batch, so that a shared or throttled device's drift (which on a
 * virtual disk shared with other work is larger than the differences measured) falls on all of them alike.
 *
 * <p>Useful bytes are {@code n * recordBytes} per run; device bytes are what the device transfers:
 * with O_DIRECT the read widened to whole blocks ({@code [floor(off/b) b, ceil(end/b) b)}), buffered the
 * bytes asked for.
 */
public final class RecordProbe {
    private RecordProbe() {
    }

    /**
     * A layout to measure.
     *
     * @param stride bytes between records in the file (at least the record)
     * @param widen  1, or a power of two: every read is widened here to whole blocks of that size and read
     *               into a scratch area, from which the runs are copied to their rows (a reader on a device
     *               with that O_DIRECT alignment, emulated on one with a smaller alignment)
     */
    public record Layout(long stride, long widen) {
        public Layout {
            if (stride < 1 || widen < 1 || Long.bitCount(widen) != 1) {
                throw new IllegalArgumentException("record probe: stride " + stride + ", widening " + widen);
            }
        }
    }

    /** One measured layout. */
    public record Result(long recordBytes, Layout layout, int maxRun, int runsPerBatch, long batches, long reads,
                         long records, long usefulBytes, long deviceBytes, long elapsedNanos, long[] batchNanos) {
        public double readsPerSecond() {
            return reads * 1e9 / elapsedNanos;
        }

        public double recordsPerSecond() {
            return records * 1e9 / elapsedNanos;
        }

        /** Useful data (records without padding) in 10^6 bytes per second. */
        public double usefulMegabytesPerSecond() {
            return usefulBytes * 1e3 / elapsedNanos;
        }

        /** Bytes the device transfers per useful byte (1.0 = no padding, no widening). */
        public double deviceBytesPerUsefulByte() {
            return deviceBytes / (double) usefulBytes;
        }

        public double medianBatchMicros() {
            long[] s = batchNanos.clone();
            Arrays.sort(s);
            return s.length == 0 ? 0 : s[s.length / 2] / 1e3;
        }
    }

    /** One layout's buffers and running totals. */
    private static final class Lane implements AutoCloseable {
        final Layout layout;
        final long neurons;
        final long block;
        final ReadBatch batch;
        final MemorySegment rows;
        final MemorySegment scratch;
        final long scratchRun;
        final long[] skips;
        final long[] lens;
        final long[] rowOf;
        long[] times = new long[1024];
        long batches, reads, records, useful, device, elapsed;

        Lane(FlashReader reader, Layout layout, long recordBytes, int maxRun, int runsPerBatch, Arena arena) {
            if (layout.stride() < recordBytes) {
                throw new IllegalArgumentException("record probe: stride " + layout.stride() + " is less than the"
                        + " record, " + recordBytes + " bytes");
            }
            this.layout = layout;
            this.neurons = reader.fileSize() / layout.stride();
            if (neurons < 16L * maxRun) {
                throw new IllegalArgumentException("record probe: " + reader.file() + " holds only " + neurons
                        + " records of stride " + layout.stride());
            }
            this.block = Math.max(layout.widen(), reader.direct() ? reader.blockSize() : 1);
            this.batch = new ReadBatch(runsPerBatch);
            // The window cache's rows: a page-aligned matrix of rows `stride` apart.
            this.rows = arena.allocate((long) runsPerBatch * maxRun * layout.stride(), 4096);
            long w = layout.widen();
            this.scratchRun = w > 1 ? (maxRun * layout.stride() + 2 * w + 4095) / 4096 * 4096 : 0;
            this.scratch = w > 1 ? arena.allocate(runsPerBatch * scratchRun, 4096) : null;
            this.skips = new long[runsPerBatch];
            this.lens = new long[runsPerBatch];
            this.rowOf = new long[runsPerBatch];
        }

        /** Reads one batch of random runs; returns its wall time, counting it when {@code count}. */
        void run(FlashReader reader, SplittableRandom rnd, long recordBytes, int maxRun, boolean count)
                throws IOException {
            long stride = layout.stride(), w = layout.widen(), size = reader.fileSize();
            batch.clear();
            long row = 0, bRecords = 0, bDevice = 0;
            for (int r = 0; r < skips.length; r++) {
                int n = 1 + rnd.nextInt(maxRun);
                long off = rnd.nextLong(neurons - n + 1) * stride;
                long len = Math.min(n * stride, size - off); // FfnReads reads whole strides, padding included
                if (w > 1) { // [floor(off/w) w, ceil(end/w) w), clipped to the file
                    long wOff = off / w * w;
                    long wEnd = Math.min(size, (off + len + w - 1) / w * w);
                    skips[r] = off - wOff;
                    lens[r] = len;
                    rowOf[r] = row;
                    batch.add(wOff, wEnd - wOff, scratch, r * scratchRun);
                } else {
                    batch.add(off, len, rows, row * stride);
                }
                row += n;
                bRecords += n;
                bDevice += (off + len + block - 1) / block * block - off / block * block;
            }
            long t0 = System.nanoTime();
            reader.read(batch);
            if (w > 1) {
                for (int r = 0; r < skips.length; r++) {
                    MemorySegment.copy(scratch, r * scratchRun + skips[r], rows, rowOf[r] * stride, lens[r]);
                }
            }
            long dt = System.nanoTime() - t0;
            if (!count) {
                return;
            }
            if (batches == times.length) {
                times = Arrays.copyOf(times, times.length * 2);
            }
            times[(int) batches++] = dt;
            reads += skips.length;
            records += bRecords;
            useful += bRecords * recordBytes;
            device += bDevice;
            elapsed += dt;
        }

        Result result(long recordBytes, int maxRun) {
            return new Result(recordBytes, layout, maxRun, skips.length, batches, reads, records, useful, device,
                    Math.max(1, elapsed), Arrays.copyOf(times, (int) batches));
        }

        @Override
        public void close() {
            batch.close();
        }
    }

    /**
     * Reads batches of record runs from {@code reader}, the layouts taking turns batch by batch, for about
     * {@code duration} in all (after a warm-up of a tenth of it); returns one result per layout, in order.
     */
    public static Result[] measure(FlashReader reader, long recordBytes, List<Layout> layouts, int maxRun,
                                   int runsPerBatch, Duration duration, long seed) throws IOException {
        if (recordBytes < 1 || layouts.isEmpty() || maxRun < 1 || runsPerBatch < 1 || runsPerBatch > (1 << 16)) {
            throw new IllegalArgumentException("record probe: " + recordBytes + " B records, " + layouts.size()
                    + " layouts, runs of up to " + maxRun + ", " + runsPerBatch + " runs per batch");
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        Lane[] lanes = new Lane[layouts.size()];
        try (Arena arena = Arena.ofConfined()) {
            try {
                for (int i = 0; i < lanes.length; i++) {
                    lanes[i] = new Lane(reader, layouts.get(i), recordBytes, maxRun, runsPerBatch, arena);
                }
                long warmupEnd = System.nanoTime() + duration.toNanos() / 10;
                long end = warmupEnd + duration.toNanos();
                for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
                    boolean count = now >= warmupEnd;
                    for (Lane lane : lanes) {
                        lane.run(reader, rnd, recordBytes, maxRun, count);
                    }
                }
                Result[] out = new Result[lanes.length];
                for (int i = 0; i < lanes.length; i++) {
                    out[i] = lanes[i].result(recordBytes, maxRun);
                }
                return out;
            } finally {
                for (Lane lane : lanes) {
                    if (lane != null) {
                        lane.close();
                    }
                }
            }
        }
    }
}
