package io.flashlm.nativeabi;

import io.flashlm.tensor.DType;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The raw C ABI, on purpose below the facades: the C library checks its arguments itself (calls that
 * bypass the Java checks get error codes, the JVM survives), and the Java mirrors of the header's
 * constants (error codes, dtypes) agree with the library.
 */
class FlashNativeAbiTest {
    static Path dir;
    static Path file;

    @BeforeAll
    static void writeFile() throws IOException {
        dir = TestFiles.newDirectory("abi");
        file = TestFiles.writePattern(dir.resolve("small.bin"), 100_000, 3);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(dir);
    }

    @Test
    void libraryIsLoadedWithTheExpectedAbi() {
        NativeStatus s = NativeLibrary.status();
        assertTrue(s.available(), s.toString());
        assertTrue(s.libraryFile().isPresent());
        assertEquals(FlashNative.ABI_VERSION, FlashNative.abiVersion());
        NativeLibrary.require();
    }

    @Test
    void nativeLayerValidatesArgumentsWithoutCrashing() throws IOException {
        try (NativeReader reader = NativeReader.open(file, true, IoBackend.AUTO, 8, 2);
             Arena arena = Arena.ofConfined()) {
            long handle = reader.handle();
            MemorySegment offsets = arena.allocate(JAVA_LONG, 1);
            MemorySegment lengths = arena.allocate(JAVA_LONG, 1);
            MemorySegment dests = arena.allocate(JAVA_LONG, 1);
            MemorySegment failed = arena.allocate(JAVA_LONG);

            lengths.set(JAVA_LONG, 0, -1);
            dests.set(JAVA_LONG, 0, arena.allocate(16).address());
            assertEquals(FlashNative.E_BAD_ARG,
                    FlashNative.readerRead(handle, 1, offsets, lengths, dests, failed), "negative length");
            assertEquals(0, failed.get(JAVA_LONG, 0));

            lengths.set(JAVA_LONG, 0, 16);
            dests.set(JAVA_LONG, 0, 0);
            assertEquals(FlashNative.E_BAD_ARG,
                    FlashNative.readerRead(handle, 1, offsets, lengths, dests, failed), "null destination");

            assertEquals(FlashNative.E_BAD_ARG, FlashNative.readerRead(handle, 1, MemorySegment.NULL, lengths, dests,
                    failed), "null offsets array");
            assertEquals(FlashNative.E_BAD_ARG, FlashNative.readerRead(handle, -3, offsets, lengths, dests, failed),
                    "negative count");
            assertEquals(FlashNative.E_BAD_HANDLE, FlashNative.readerRead(12345, 1, offsets, lengths, dests, failed),
                    "unknown handle");
            assertEquals(FlashNative.E_BAD_HANDLE, FlashNative.readerClose(0), "handle 0");
        }
    }

    @Test
    void everyErrorCodeHasText() {
        for (int code : new int[]{FlashNative.E_BAD_ARG, FlashNative.E_BAD_HANDLE, FlashNative.E_PAST_EOF,
                FlashNative.E_NO_IO_URING, FlashNative.E_NO_DIRECT, FlashNative.E_NO_MEMORY, FlashNative.E_TOO_MANY,
                -5, -2}) {
            String text = FlashNative.describe(code);
            assertFalse(text.isBlank(), "code " + code);
        }
        assertTrue(FlashNative.describe(-2).toLowerCase().contains("no such file"));
        for (NativeError e : NativeError.values()) {
            assertFalse(NativeIo.describe(e.code()).isBlank(), e.name());
            assertTrue(e.code() <= FlashNative.E_BAD_ARG && e.code() >= FlashNative.E_TOO_MANY, e.name());
        }
    }

    /** The bundle kernels refuse an activation they do not know (the facade cannot even name one). */
    @Test
    void unknownActivationIsRefusedByTheNativeCode() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rows = arena.allocate(4 * 256L);
            MemorySegment x = arena.allocate(32 * 4L);
            MemorySegment h = arena.allocate(4 * 4L);
            MemorySegment order = arena.allocate(4 * 4L);
            assertEquals(0, FlashNative.bundleFfnUp(FlashNative.DTYPE_F32, FlashNative.DTYPE_F32, rows, 4, 256, 32, 0, FlashNative.ACT_RELU,
                    MemorySegment.NULL, x, order, 0, 1, h));
            assertEquals(FlashNative.E_BAD_ARG, FlashNative.bundleFfnUp(FlashNative.DTYPE_F32, FlashNative.DTYPE_F32, rows, 4, 256, 32, 0, 9,
                    MemorySegment.NULL, x, order, 0, 1, h));
        }
    }

    /** DType's native codes are the header's, and the facade's row sizes (computed in Java) match flm_row_bytes. */
    @Test
    void dtypeCodesAndRowSizesMatchTheLibrary() {
        assertEquals(FlashNative.DTYPE_F32, DType.F32.nativeCode());
        assertEquals(FlashNative.DTYPE_F16, DType.F16.nativeCode());
        assertEquals(FlashNative.DTYPE_BF16, DType.BF16.nativeCode());
        assertEquals(FlashNative.DTYPE_Q8_0, DType.Q8_0.nativeCode());
        assertEquals(FlashNative.DTYPE_Q4_0, DType.Q4_0.nativeCode());
        assertEquals(FlashNative.DTYPE_Q4_1, DType.Q4_1.nativeCode());
        assertEquals(FlashNative.DTYPE_Q5_0, DType.Q5_0.nativeCode());
        assertEquals(FlashNative.DTYPE_Q5_1, DType.Q5_1.nativeCode());
        assertEquals(FlashNative.DTYPE_IQ4_NL, DType.IQ4_NL.nativeCode());
        assertEquals(FlashNative.DTYPE_Q6_K, DType.Q6_K.nativeCode());
        assertEquals(FlashNative.DTYPE_Q4_K, DType.Q4_K.nativeCode());
        assertEquals(FlashNative.DTYPE_Q5_K, DType.Q5_K.nativeCode());
        assertEquals(FlashNative.DTYPE_Q3_K, DType.Q3_K.nativeCode());
        assertEquals(FlashNative.DTYPE_Q2_K, DType.Q2_K.nativeCode());
        assertEquals(FlashNative.DTYPE_IQ4_XS, DType.IQ4_XS.nativeCode());
        assertEquals(FlashNative.ACT_RELU, FfnActivation.RELU.code);
        assertEquals(FlashNative.ACT_SILU, FfnActivation.SILU.code);
        for (DType t : DType.values()) {
            for (long cols : new long[]{32, 64, 256, 288, 768, 4096, 11008}) {
                if (cols % t.blockSize() != 0) {
                    assertEquals(-1, FlashNative.rowBytes(t.nativeCode(), cols), t + " x " + cols);
                    continue;
                }
                assertEquals(t.bytesFor(cols), FlashNative.rowBytes(t.nativeCode(), cols), t + " x " + cols);
                assertEquals(t.bytesFor(cols), Kernels.rowBytes(t, cols), t + " x " + cols);
            }
        }
        assertEquals(-1, FlashNative.rowBytes(DType.Q8_0.nativeCode(), 33));
        // the checks' own arithmetic (masks and shifts) against the library's, valid and invalid sizes alike
        for (DType t : DType.values()) {
            assertEquals(0, t.blockSize() & (t.blockSize() - 1), t + ": a power-of-two block");
            for (long cols = -70; cols <= 600; cols++) {
                assertEquals(Math.max(0, FlashNative.rowBytes(t.nativeCode(), cols)), Kernels.rowBytesOrZero(t, cols),
                        t + " x " + cols);
            }
        }
    }
}
