package io.flashlm.pack;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/** CRC-32C (Castagnoli; hardware-accelerated in the JDK) of segments and files. */
public final class Crc32c {
    private static final long CHUNK = 1L << 30; // a ByteBuffer holds at most 2 GiB

    private Crc32c() {
    }

    public static int of(MemorySegment segment) {
        CRC32C crc = new CRC32C();
        update(crc, segment);
        return (int) crc.getValue();
    }

    public static void update(CRC32C crc, MemorySegment segment) {
        for (long off = 0; off < segment.byteSize(); off += CHUNK) {
            crc.update(segment.asSlice(off, Math.min(CHUNK, segment.byteSize() - off)).asByteBuffer());
        }
    }

    /** The CRC-32C of a whole file (mapped, so the bytes never pass through the Java heap). */
    public static int ofFile(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() == 0) {
                return 0;
            }
            return of(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
        }
    }

    public static String hex(int crc) {
        return String.format("%08x", crc);
    }
}
