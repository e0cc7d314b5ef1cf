package io.flashlm.nativeabi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written bindings for every function in include/flashlm.h: what jextract would generate
 * (scripts/jextract.sh regenerates a comparable class where jextract exists). Constants mirror
 * the header's #defines; keep both in step with {@link #ABI_VERSION}.
 *
 * <p>Package-private: raw codes and handles stay here. The rest of flashlm calls the typed facades
 * ({@link Kernels}, {@link NativeIo}, {@link NativeReader}), which check every bound first, and asks
 * {@link NativeLibrary} whether the library is there. Loading happens once, when this class is first
 * used, and never throws; while the library is unavailable every call throws
 * {@link NativeLibraryUnavailableException} with the reason.
 */
final class FlashNative {
    static final int ABI_VERSION = 2;

    static final int E_BAD_ARG = -100001;
    static final int E_BAD_HANDLE = -100002;
    static final int E_PAST_EOF = -100003;
    static final int E_NO_IO_URING = -100004;
    static final int E_NO_DIRECT = -100005;
    static final int E_NO_MEMORY = -100006;
    static final int E_TOO_MANY = -100007;

    static final int BACKEND_AUTO = 0;
    static final int BACKEND_IO_URING = 1;
    static final int BACKEND_PREAD = 2;

    static final int OPEN_DIRECT = 1;
    static final int DIO_NO_STATX = 1;

    static final int INFO_FILE_SIZE = 0;
    static final int INFO_BACKEND = 1;
    static final int INFO_BLOCK_SIZE = 2;
    static final int INFO_QUEUE_DEPTH = 3;
    static final int INFO_THREADS = 4;
    static final int INFO_DIRECT = 5;
    static final int INFO_REGISTERED_FILE = 6;
    static final int INFO_REGISTERED_BUFS = 7;
    static final int INFO_FAULTS_LEFT = 8;
    static final int INFO_SLOTS_BUSY = 9;
    static final int INFO_COUNT = 10;

    static final int FAULT_NONE = 0;
    static final int FAULT_SHORT = 1;
    static final int FAULT_EAGAIN = 2;
    static final int FAULT_EIO = 3;

    static final int PROBE_IOS = 0;
    static final int PROBE_BYTES = 1;
    static final int PROBE_ELAPSED_NS = 2;
    static final int PROBE_P50_NS = 3;
    static final int PROBE_P99_NS = 4;
    static final int PROBE_MEAN_NS = 5;
    static final int PROBE_MAX_NS = 6;
    static final int PROBE_COUNT = 7;

    static final int DTYPE_F32 = 0;
    static final int DTYPE_F16 = 1;
    static final int DTYPE_BF16 = 2;
    static final int DTYPE_Q8_0 = 3;
    static final int DTYPE_Q4_0 = 4;
    static final int DTYPE_Q4_1 = 5;
    static final int DTYPE_Q5_0 = 6;
    static final int DTYPE_Q5_1 = 7;
    static final int DTYPE_IQ4_NL = 8;
    static final int DTYPE_Q6_K = 9;
    static final int DTYPE_Q4_K = 10;
    static final int DTYPE_Q5_K = 11;
    static final int DTYPE_Q3_K = 12;
    static final int DTYPE_Q2_K = 13;
    static final int DTYPE_IQ4_XS = 14;

    static final int ACT_RELU = 0;
    static final int ACT_SILU = 1;
    static final int ACT_GELU = 2;
    static final int ACT_GELU_TANH = 3;

    /** Opened once, when this class is first used; never throws (a failure is kept for {@link #STATUS}). */
    private static final NativeLibraryLoader.Loaded LIB = NativeLibraryLoader.load();

    // int flm_abi_version(void)
    private static final MethodHandle ABI_VERSION_MH = LIB.bind("flm_abi_version",
            FunctionDescriptor.of(JAVA_INT));
    // int flm_strerror(int code, char *buf, int buflen)
    private static final MethodHandle STRERROR_MH = LIB.bind("flm_strerror",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    // int flm_reader_open(const char *path, int flags, int backend, int queue_depth, int threads, int64_t *out)
    private static final MethodHandle READER_OPEN_MH = LIB.bind("flm_reader_open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    // int flm_reader_info(int64_t handle, int64_t *out, int n)
    private static final MethodHandle READER_INFO_MH = LIB.bind("flm_reader_info",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT));
    // int flm_reader_read(int64_t handle, int count, const int64_t *offsets, const int64_t *lengths,
    //                     const int64_t *dests, int64_t *out_failed)
    private static final MethodHandle READER_READ_MH = LIB.bind("flm_reader_read",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    // int flm_reader_close(int64_t handle)
    private static final MethodHandle READER_CLOSE_MH = LIB.bind("flm_reader_close",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
    // int flm_reader_inject(int64_t handle, int kind, int64_t count)
    private static final MethodHandle READER_INJECT_MH = LIB.bind("flm_reader_inject",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG));
    // int flm_readers_open(void)
    private static final MethodHandle READERS_OPEN_MH = LIB.bind("flm_readers_open", FunctionDescriptor.of(JAVA_INT));
    // int flm_probe(const char *path, int flags, int backend, int64_t chunk, int depth, int64_t span,
    //               int64_t duration_ns, int64_t max_ios, int64_t seed, int64_t *out, int n)
    private static final MethodHandle PROBE_MH = LIB.bind("flm_probe",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG,
                    JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT));
    // int flm_dio_alignment(const char *path, int flags, int64_t *out, int n)
    private static final MethodHandle DIO_ALIGNMENT_MH = LIB.bind("flm_dio_alignment",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));

    // int64_t flm_row_bytes(int dtype, int64_t cols)
    private static final MethodHandle ROW_BYTES_MH = LIB.bind("flm_row_bytes",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG));
    // int flm_matvec(int dtype, const void *w, int64_t rows, int64_t cols, const float *x, float *y,
    //                int64_t row_begin, int64_t row_end)
    private static final MethodHandle MATVEC_MH = LIB.bind("flm_matvec",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG,
                    JAVA_LONG));
    // int flm_matmul(int dtype, const void *w, int64_t rows, int64_t cols, const float *x, int64_t batch,
    //                float *y, int64_t row_begin, int64_t row_end)
    private static final MethodHandle MATMUL_MH = LIB.bind("flm_matmul",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS,
                    JAVA_LONG, JAVA_LONG));
    // int flm_kernels_simd(void)
    private static final MethodHandle KERNELS_SIMD_MH = LIB.bind("flm_kernels_simd",
            FunctionDescriptor.of(JAVA_INT));
    // int flm_stream_read(const void *p, int64_t bytes, uint64_t *out_checksum)
    private static final MethodHandle STREAM_READ_MH = LIB.bind("flm_stream_read",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));

    // int flm_encode_f32(int dtype, const float *src, void *dst, int64_t n)
    private static final MethodHandle ENCODE_F32_MH = LIB.bind("flm_encode_f32",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    // int flm_synth_fill(int dtype, void *dst, int64_t rows, int64_t cols, int64_t stride_bytes, float mean,
    //                    float std, uint64_t seed, int64_t first_row)
    private static final MethodHandle SYNTH_FILL_MH = LIB.bind("flm_synth_fill",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_FLOAT,
                    JAVA_FLOAT, JAVA_LONG, JAVA_LONG));

    // int flm_bundle_ffn_up(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes,
    //                       int64_t dim, int gated, int activation, const float *bias, const float *x,
    //                       const int32_t *order, int64_t begin, int64_t end, float *h)
    private static final MethodHandle BUNDLE_FFN_UP_MH = LIB.bind("flm_bundle_ffn_up",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    // int flm_bundle_ffn_down(int row_dtype, int down_dtype, const void *rows, int64_t count,
    //                         int64_t record_bytes, int64_t dim, int gated, const float *h, const int32_t *order,
    //                         int64_t n, float *y, int64_t col_begin, int64_t col_end)
    private static final MethodHandle BUNDLE_FFN_DOWN_MH = LIB.bind("flm_bundle_ffn_down",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS,
                    ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG));
    // int flm_bundle_ffn_up_batch(int row_dtype, int down_dtype, const void *rows, int64_t count,
    //                             int64_t record_bytes, int64_t dim, int gated, int activation, const float *bias,
    //                             const float *x, int64_t batch, float *h, float *g, int64_t row_begin,
    //                             int64_t row_end)
    private static final MethodHandle BUNDLE_FFN_UP_BATCH_MH = LIB.bind("flm_bundle_ffn_up_batch",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT,
                    JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
    // int flm_bundle_ffn_down_batch(int row_dtype, int down_dtype, const void *rows, int64_t count,
    //                               int64_t record_bytes, int64_t dim, int gated, const float *h, int64_t batch,
    //                               const int32_t *order, int64_t n, float *y, int64_t col_begin, int64_t col_end)
    private static final MethodHandle BUNDLE_FFN_DOWN_BATCH_MH = LIB.bind("flm_bundle_ffn_down_batch",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT,
                    ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG));
    // int flm_advise_hugepage(void *p, int64_t bytes)
    private static final MethodHandle ADVISE_HUGEPAGE_MH = LIB.bind("flm_advise_hugepage",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    /**
     * The outcome of loading, after every handle above is bound. When the library is unavailable the
     * handles are null (or belong to a library of another ABI) and every call below throws
     * {@link NativeLibraryUnavailableException} with the reason instead of reaching them.
     */
    static final NativeStatus STATUS = LIB.verify(ABI_VERSION_MH, ABI_VERSION);
    // A static final: once this class is initialised, the JIT folds the check in every call away.
    private static final boolean AVAILABLE = STATUS.available();

    private FlashNative() {
    }

    /** The ABI version of the library loaded; only for a library that passed the check (tests). */
    static int abiVersion() {
        check();
        try {
            return (int) ABI_VERSION_MH.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Text for an error code returned by any flm_* function. */
    static String describe(int code) {
        check();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            int n = (int) STRERROR_MH.invokeExact(code, buf, 256);
            return n < 0 ? "error " + code : buf.getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readerOpen(MemorySegment path, int flags, int backend, int queueDepth, int threads,
                          MemorySegment outHandle) {
        check();
        try {
            return (int) READER_OPEN_MH.invokeExact(path, flags, backend, queueDepth, threads, outHandle);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readerInfo(long handle, MemorySegment out, int n) {
        check();
        try {
            return (int) READER_INFO_MH.invokeExact(handle, out, n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readerRead(long handle, int count, MemorySegment offsets, MemorySegment lengths,
                          MemorySegment dests, MemorySegment outFailed) {
        check();
        try {
            return (int) READER_READ_MH.invokeExact(handle, count, offsets, lengths, dests, outFailed);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readerClose(long handle) {
        check();
        try {
            return (int) READER_CLOSE_MH.invokeExact(handle);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readerInject(long handle, int kind, long count) {
        check();
        try {
            return (int) READER_INJECT_MH.invokeExact(handle, kind, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int readersOpen() {
        check();
        try {
            return (int) READERS_OPEN_MH.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int probe(MemorySegment path, int flags, int backend, long chunk, int depth, long span,
                     long durationNs, long maxIos, long seed, MemorySegment out, int n) {
        check();
        try {
            return (int) PROBE_MH.invokeExact(path, flags, backend, chunk, depth, span, durationNs, maxIos, seed,
                    out, n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int dioAlignment(MemorySegment path, int flags, MemorySegment out, int n) {
        check();
        try {
            return (int) DIO_ALIGNMENT_MH.invokeExact(path, flags, out, n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long rowBytes(int dtype, long cols) {
        check();
        try {
            return (long) ROW_BYTES_MH.invokeExact(dtype, cols);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int matvec(int dtype, MemorySegment w, long rows, long cols, MemorySegment x, MemorySegment y,
                      long rowBegin, long rowEnd) {
        check();
        try {
            return (int) MATVEC_MH.invokeExact(dtype, w, rows, cols, x, y, rowBegin, rowEnd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int matmul(int dtype, MemorySegment w, long rows, long cols, MemorySegment x, long batch,
                      MemorySegment y, long rowBegin, long rowEnd) {
        check();
        try {
            return (int) MATMUL_MH.invokeExact(dtype, w, rows, cols, x, batch, y, rowBegin, rowEnd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static boolean kernelsSimd() {
        check();
        try {
            return (int) KERNELS_SIMD_MH.invokeExact() != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Reads bytes bytes at p once (a memory-bandwidth probe); their XOR goes to outChecksum (8 bytes). */
    static int streamRead(MemorySegment p, long bytes, MemorySegment outChecksum) {
        check();
        try {
            return (int) STREAM_READ_MH.invokeExact(p, bytes, outChecksum);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Encodes n f32 values at src into dtype (F32, F16, BF16, Q8_0) at dst. */
    static int encodeF32(int dtype, MemorySegment src, MemorySegment dst, long n) {
        check();
        try {
            return (int) ENCODE_F32_MH.invokeExact(dtype, src, dst, n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Fills rows x cols seeded pseudo-random values of dtype at dst, row r at dst + r * strideBytes. */
    static int synthFill(int dtype, MemorySegment dst, long rows, long cols, long strideBytes, float mean,
                         float std, long seed, long firstRow) {
        check();
        try {
            return (int) SYNTH_FILL_MH.invokeExact(dtype, dst, rows, cols, strideBytes, mean, std, seed, firstRow);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** h[r] = act(up_r . x + bias[r]) (or act(gate_r . x) * (up_r . x + bias[r])) for r = order[i], i in [begin, end). */
    static int bundleFfnUp(int rowDtype, int downDtype, MemorySegment rows, long count, long recordBytes, long dim, int gated,
                           int activation, MemorySegment bias, MemorySegment x, MemorySegment order, long begin,
                           long end, MemorySegment h) {
        check();
        try {
            return (int) BUNDLE_FFN_UP_MH.invokeExact(rowDtype, downDtype, rows, count, recordBytes, dim, gated, activation, bias, x,
                    order, begin, end, h);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** y[j] = fma(h[r], down_r[j], y[j]) for r = order[0..n) in order (h != 0), j in [colBegin, colEnd). */
    static int bundleFfnDown(int rowDtype, int downDtype, MemorySegment rows, long count, long recordBytes, long dim, int gated,
                             MemorySegment h, MemorySegment order, long n, MemorySegment y, long colBegin,
                             long colEnd) {
        check();
        try {
            return (int) BUNDLE_FFN_DOWN_MH.invokeExact(rowDtype, downDtype, rows, count, recordBytes, dim, gated, h, order, n, y,
                    colBegin, colEnd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** flm_bundle_ffn_up for batch inputs over rows [rowBegin, rowEnd): h and g are batch x count floats. */
    static int bundleFfnUpBatch(int rowDtype, int downDtype, MemorySegment rows, long count, long recordBytes, long dim,
                                int gated, int activation, MemorySegment bias, MemorySegment x, long batch,
                                MemorySegment h, MemorySegment g, long rowBegin, long rowEnd) {
        check();
        try {
            return (int) BUNDLE_FFN_UP_BATCH_MH.invokeExact(rowDtype, downDtype, rows, count, recordBytes, dim, gated,
                    activation, bias, x, batch, h, g, rowBegin, rowEnd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** flm_bundle_ffn_down for batch inputs: h is batch x count floats, y batch x dim. */
    static int bundleFfnDownBatch(int rowDtype, int downDtype, MemorySegment rows, long count, long recordBytes,
                                  long dim, int gated, MemorySegment h, long batch, MemorySegment order, long n,
                                  MemorySegment y, long colBegin, long colEnd) {
        check();
        try {
            return (int) BUNDLE_FFN_DOWN_BATCH_MH.invokeExact(rowDtype, downDtype, rows, count, recordBytes, dim, gated,
                    h, batch, order, n, y, colBegin, colEnd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** madvise(MADV_HUGEPAGE) on the 2 MiB-aligned interior of the segment: 0, 1 (advice not taken) or an error. */
    static int adviseHugepage(MemorySegment p, long bytes) {
        check();
        try {
            return (int) ADVISE_HUGEPAGE_MH.invokeExact(p, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Throws, every time, while the library is unavailable; compiled away once it is loaded. */
    private static void check() {
        if (!AVAILABLE) {
            throw new NativeLibraryUnavailableException(STATUS.reason());
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }
}
