package io.flashlm.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Test files on the real disk (under target/, not a tmpfs /tmp) so that O_DIRECT works. */
public final class TestFiles {
    private TestFiles() {
    }

    /** A fresh directory under target/test-data. */
    public static Path newDirectory(String prefix) throws IOException {
        Path root = Path.of("target", "test-data").toAbsolutePath();
        Files.createDirectories(root);
        return Files.createTempDirectory(root, prefix);
    }

    /** The byte at {@code position} of a pattern file made with {@code seed}; no two nearby bytes repeat. */
    public static byte patternByte(long position, long seed) {
        long x = (position >>> 3) * 0x9E3779B97F4A7C15L + seed;
        x ^= x >>> 31;
        x *= 0xBF58476D1CE4E5B9L;
        x ^= x >>> 29;
        return (byte) (x >>> ((position & 7) * 8));
    }

    /** Writes {@code size} pattern bytes to {@code file}. */
    public static Path writePattern(Path file, long size, long seed) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            for (long pos = 0; pos < size; ) {
                buf.clear();
                int n = (int) Math.min(buf.capacity(), size - pos);
                for (int i = 0; i < n; i++) {
                    buf.put(patternByte(pos + i, seed));
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                pos += n;
            }
        }
        return file;
    }

    public static void deleteRecursively(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
