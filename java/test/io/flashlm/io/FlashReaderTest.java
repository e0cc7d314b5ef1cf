package io.flashlm.io;

import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The reader returns exactly the bytes a plain FileChannel read returns, for every backend and mode. */
class FlashReaderTest {
    // Not a multiple of any block size, so reads in the partial last block are exercised.
    static final long FILE_SIZE = (8L << 20) + 123;
    static Path dir;
    static Path file;
    static byte[] contents;

    @BeforeAll
    static void writeFile() throws IOException {
        dir = TestFiles.newDirectory("reader");
        file = TestFiles.writePattern(dir.resolve("pattern.bin"), FILE_SIZE, 7);
        // The reference: the file read back through the JDK, independent of the native reader.
        contents = new byte[(int) FILE_SIZE];
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer buf = ByteBuffer.wrap(contents);
            while (buf.hasRemaining()) {
                if (ch.read(buf) < 0) {
                    throw new IOException("short file");
                }
            }
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(dir);
    }

    static Stream<Arguments> configurations() {
        List<Arguments> list = new ArrayList<>();
        for (Backend backend : new Backend[]{Backend.IO_URING, Backend.PREAD}) {
            for (boolean direct : new boolean[]{true, false}) {
                for (int batch : new int[]{1, 7, 64, 1024}) {
                    list.add(Arguments.of(backend, direct, batch));
                }
            }
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} direct={1} batch={2}")
    @MethodSource("configurations")
    void randomBatchesMatchPlainReads(Backend backend, boolean direct, int batchSize) throws IOException {
        Random rnd = new Random(batchSize * 31L + (direct ? 1 : 0) + backend.ordinal() * 1000L);
        ReaderOptions options = ReaderOptions.defaults().withBackend(backend).withDirect(direct)
                .withQueueDepth(32).withThreads(4);
        try (FlashReader reader = FlashReader.open(file, options); Arena arena = Arena.ofConfined();
             ReadBatch batch = new ReadBatch(batchSize)) {
            assertEquals(backend, reader.backend());
            assertEquals(direct, reader.direct());
            assertEquals(FILE_SIZE, reader.fileSize());
            for (int round = 0; round < 3; round++) {
                batch.clear();
                long[] offsets = new long[batchSize];
                MemorySegment[] dests = new MemorySegment[batchSize];
                for (int i = 0; i < batchSize; i++) {
                    long length = randomLength(rnd, batchSize);
                    long offset = randomOffset(rnd, length);
                    // Destinations at every alignment: 4096-aligned, 8-aligned, odd.
                    int misalign = switch (rnd.nextInt(3)) {
                        case 0 -> 0;
                        case 1 -> 8;
                        default -> 1 + rnd.nextInt(511);
                    };
                    MemorySegment raw = arena.allocate(length + misalign + 1, 4096);
                    dests[i] = raw.asSlice(misalign, length);
                    offsets[i] = offset;
                    batch.add(offset, length, dests[i]);
                }
                reader.read(batch);
                for (int i = 0; i < batchSize; i++) {
                    byte[] expected = java.util.Arrays.copyOfRange(contents, (int) offsets[i],
                            (int) (offsets[i] + dests[i].byteSize()));
                    assertArrayEquals(expected, dests[i].toArray(JAVA_BYTE),
                            "request " + i + " offset " + offsets[i] + " length " + dests[i].byteSize());
                }
            }
        }
    }

    /** Mostly small reads, some aligned, some across several bounce slots, some empty. */
    private static long randomLength(Random rnd, int batchSize) {
        int maxLarge = batchSize >= 1024 ? 64 << 10 : 600 << 10;
        return switch (rnd.nextInt(6)) {
            case 0 -> 4096L * (1 + rnd.nextInt(16));
            case 1 -> 512L * (1 + rnd.nextInt(8));
            case 2 -> rnd.nextInt(maxLarge);
            case 3 -> rnd.nextInt(4);
            default -> 1 + rnd.nextInt(20000);
        };
    }

    private static long randomOffset(Random rnd, long length) {
        long limit = FILE_SIZE - length;
        return switch (rnd.nextInt(5)) {
            case 0 -> (rnd.nextLong(limit + 1) / 4096) * 4096;      // aligned
            case 1 -> limit;                                         // ends exactly at EOF
            default -> rnd.nextLong(limit + 1);                      // anywhere
        };
    }
}
