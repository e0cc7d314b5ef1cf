package io.flashlm.io;

import io.flashlm.nativeabi.NativeError;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gives a clear exception, the reader stays usable, and the JVM survives. */
class FlashReaderErrorsTest {
    static final long FILE_SIZE = 100_000;
    static Path dir;
    static Path file;

    @BeforeAll
    static void writeFile() throws IOException {
        dir = TestFiles.newDirectory("errors");
        file = TestFiles.writePattern(dir.resolve("small.bin"), FILE_SIZE, 3);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(dir);
    }

    @Test
    void missingFileNamesTheFile() {
        Path missing = dir.resolve("no-such-model.bin");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FlashReader.open(missing));
        assertTrue(e.getMessage().contains("no-such-model.bin"), e.getMessage());
    }

    @Test
    void directoryIsRefusedByTheNativeOpen() {
        FlashIOException e = assertThrows(FlashIOException.class, () -> FlashReader.open(dir));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"IO_URING", "PREAD"})
    void readPastTheEndNamesFileOffsetAndReason(Backend backend) throws IOException {
        try (FlashReader reader = FlashReader.open(file, ReaderOptions.defaults().withBackend(backend));
             Arena arena = Arena.ofConfined(); ReadBatch batch = new ReadBatch(3)) {
            MemorySegment dst = arena.allocate(8192);
            batch.add(0, 100, dst).add(FILE_SIZE - 10, 11, dst.asSlice(4096)).add(10, 10, dst.asSlice(200));
            FlashIOException e = assertThrows(FlashIOException.class, () -> reader.read(batch));
            assertEquals(FILE_SIZE - 10, e.offset());
            assertEquals(11, e.length());
            assertEquals(NativeError.PAST_EOF.code(), e.errorCode());
            assertTrue(e.is(NativeError.PAST_EOF));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("offset " + (FILE_SIZE - 10)), e.getMessage());
            assertTrue(e.getMessage().contains("past the end"), e.getMessage());

            // The reader is still usable after the error.
            MemorySegment one = arena.allocate(10);
            reader.read(FILE_SIZE - 10, one);
            assertEquals(TestFiles.patternByte(FILE_SIZE - 1, 3), one.get(JAVA_BYTE, 9));
        }
    }

    @Test
    void closedReaderIsAClearError() throws IOException {
        FlashReader reader = FlashReader.open(file);
        reader.close();
        reader.close(); // idempotent
        assertFalse(reader.isOpen());
        try (Arena arena = Arena.ofConfined()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> reader.read(0, arena.allocate(16)));
            assertTrue(e.getMessage().contains("closed") && e.getMessage().contains(file.toString()), e.getMessage());
        }
    }

    @Test
    void negativeLengthAndOffsetAndNullDestinationAreRefused() {
        try (Arena arena = Arena.ofConfined(); ReadBatch batch = new ReadBatch(4)) {
            MemorySegment dst = arena.allocate(64);
            IllegalArgumentException len = assertThrows(IllegalArgumentException.class, () -> batch.add(0, -1, dst));
            assertTrue(len.getMessage().contains("length"), len.getMessage());
            IllegalArgumentException off = assertThrows(IllegalArgumentException.class, () -> batch.add(-5, 1, dst));
            assertTrue(off.getMessage().contains("offset"), off.getMessage());
            NullPointerException nul = assertThrows(NullPointerException.class, () -> batch.add(0, 1, null));
            assertTrue(nul.getMessage().contains("destination"), nul.getMessage());
            assertThrows(IllegalArgumentException.class, () -> batch.add(0, 65, dst), "destination too small");
            assertThrows(IllegalArgumentException.class, () -> batch.add(0, 1, MemorySegment.ofArray(new byte[4])),
                    "heap segment");
            assertEquals(0, batch.size());
        }
    }

    @Test
    void freedDestinationIsCaughtBeforeTheRead() throws IOException {
        try (FlashReader reader = FlashReader.open(file); ReadBatch batch = new ReadBatch(1)) {
            Arena arena = Arena.ofConfined();
            batch.add(0, 16, arena.allocate(16));
            arena.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> reader.read(batch));
            assertTrue(e.getMessage().contains("freed"), e.getMessage());
        }
    }
}
