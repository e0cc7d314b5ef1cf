package io.flashlm.planning;

import io.flashlm.util.ByteSizes;
import io.flashlm.util.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The file that the probe reads. It must hold real data: reads of a sparse hole never reach the
 * device, so a file that is missing or too small is filled with pseudo-random bytes (never zeros,
 * which some devices and filesystems short-circuit). An existing file of at least the size asked
 * for is used as it is and never written to.
 */
public final class ProbeFile {
    private static final int CHUNK = 1 << 20;

    private ProbeFile() {
    }

    /**
     * Makes sure {@code file} holds real data to read and returns the span to probe: {@code size}
     * for a new file, or the size of an existing file (never written to) if it is smaller.
     */
    public static long prepare(Path file, long size, PrintStream log, boolean showProgress) throws IOException {
        if (size <= 0) {
            throw new IllegalArgumentException("probe size must be > 0, was " + size);
        }
        if (Files.exists(file)) {
            if (!Files.isRegularFile(file)) {
                throw new IOException(file + " is not a regular file; the probe needs a file on the device to measure");
            }
            long existing = Files.size(file);
            if (existing < size) {
                log.println("probe: " + file + " exists with " + ByteSizes.format(existing) + ", less than --size "
                        + ByteSizes.format(size) + "; probing its " + ByteSizes.format(existing)
                        + " (flashlm never writes to a file it did not create)");
            }
            return Math.min(existing, size);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".partial");
        Progress progress = new Progress("writing probe file", size, log, showProgress);
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        long state = 0x9E3779B97F4A7C15L;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            for (long written = 0; written < size; ) {
                buf.clear();
                while (buf.remaining() >= 8) {
                    state ^= state << 13;
                    state ^= state >>> 7;
                    state ^= state << 17;
                    buf.putLong(state);
                }
                buf.flip();
                buf.limit((int) Math.min(CHUNK, size - written));
                while (buf.hasRemaining()) {
                    written += ch.write(buf);
                }
                progress.advance(buf.limit());
            }
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, file);
        progress.finish();
        return size;
    }
}
