/*
 * flashlm.h - the only C ABI of libflashlm.
 *
 * Flat ints, longs and pointers only, so that the Java side can bind every
 * function by hand with the FFM API (java/main/io/flashlm/nativeabi/FlashNative.java).
 * Every function validates its arguments and returns an error code; nothing
 * here aborts the process.
 *
 * Error codes: 0 is success; a negative value is either a negated errno
 * (-EIO, -ENOENT, ...) or one of the FLM_E_* codes below.
 * flm_strerror() turns any of them into text.
 */
#ifndef FLASHLM_H
#define FLASHLM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLM_ABI_VERSION 2

/* flashlm's own error codes (chosen far from any errno value). */
#define FLM_E_BAD_ARG      (-100001) /* an argument is out of range or null */
#define FLM_E_BAD_HANDLE   (-100002) /* unknown or already closed reader handle */
#define FLM_E_PAST_EOF     (-100003) /* a read extends past the end of the file */
#define FLM_E_NO_IO_URING  (-100004) /* io_uring was asked for but the kernel refuses it */
#define FLM_E_NO_DIRECT    (-100005) /* the filesystem does not support O_DIRECT */
#define FLM_E_NO_MEMORY    (-100006) /* an internal buffer could not be allocated */
#define FLM_E_TOO_MANY     (-100007) /* the reader table is full */

/* Backends for flm_reader_open / flm_probe. */
#define FLM_BACKEND_AUTO     0 /* io_uring when the kernel allows it, else pread */
#define FLM_BACKEND_IO_URING 1
#define FLM_BACKEND_PREAD    2

/* Flags for flm_reader_open / flm_probe. */
#define FLM_OPEN_DIRECT 1 /* O_DIRECT: bypass the page cache (the default on the Java side) */

/* Indices of the values written by flm_reader_info. */
#define FLM_INFO_FILE_SIZE       0
#define FLM_INFO_BACKEND         1 /* FLM_BACKEND_IO_URING or FLM_BACKEND_PREAD, never AUTO */
#define FLM_INFO_BLOCK_SIZE      2 /* alignment used to widen O_DIRECT requests (1 when buffered) */
#define FLM_INFO_QUEUE_DEPTH     3
#define FLM_INFO_THREADS         4
#define FLM_INFO_DIRECT          5 /* 1 when the file is open with O_DIRECT */
#define FLM_INFO_REGISTERED_FILE 6 /* 1 when the fd is registered with the ring */
#define FLM_INFO_REGISTERED_BUFS 7 /* 1 when the bounce buffers are registered with the ring */
#define FLM_INFO_FAULTS_LEFT     8 /* armed faults not yet taken (flm_reader_inject) */
#define FLM_INFO_SLOTS_BUSY      9 /* io_uring slots holding a read (0 between calls; pread: 0) */
#define FLM_INFO_COUNT           10

/* Faults for flm_reader_inject. */
#define FLM_FAULT_NONE   0 /* disarm */
#define FLM_FAULT_SHORT  1 /* a read reports about half of what arrived (whole blocks under O_DIRECT) */
#define FLM_FAULT_EAGAIN 2 /* a read fails with EAGAIN before anything is read */
#define FLM_FAULT_EIO    3 /* a read fails with EIO before anything is read */

/* Indices of the values written by flm_probe. */
#define FLM_PROBE_IOS        0 /* reads completed */
#define FLM_PROBE_BYTES      1 /* bytes read */
#define FLM_PROBE_ELAPSED_NS 2 /* wall time of the measured phase */
#define FLM_PROBE_P50_NS     3 /* per-read latency, submission to completion */
#define FLM_PROBE_P99_NS     4
#define FLM_PROBE_MEAN_NS    5
#define FLM_PROBE_MAX_NS     6
#define FLM_PROBE_COUNT      7

/* ABI version of the loaded library; the Java side refuses a mismatch. */
int flm_abi_version(void);

/* Writes a NUL-terminated description of an error code into buf (at most buflen bytes,
 * buflen >= 1). Returns the length written, without the NUL, or FLM_E_BAD_ARG. */
int flm_strerror(int code, char *buf, int buflen);

/*
 * Opens a reader on path (read only).
 * backend: FLM_BACKEND_*; queue_depth: reads in flight at once (1..4096, io_uring ring size);
 * threads: pread worker threads (1..256, ignored by io_uring); flags: FLM_OPEN_*.
 * On success stores an opaque handle in *out_handle and returns 0.
 */
int flm_reader_open(const char *path, int flags, int backend, int queue_depth, int threads,
                    int64_t *out_handle);

/* Writes min(n, FLM_INFO_COUNT) values (FLM_INFO_*) into out. */
int flm_reader_info(int64_t handle, int64_t *out, int n);

/*
 * Reads count requests and returns when all have completed or one has failed.
 * Request i reads lengths[i] bytes at file offset offsets[i] into the memory at address
 * dests[i]. Any offset, length and destination is accepted: under O_DIRECT the library
 * widens unaligned requests to the block size through internal bounce buffers, and the
 * caller receives exactly the bytes it asked for. Short reads, EINTR and EAGAIN are retried.
 * A length of 0 reads nothing (its offset must still lie within the file). Requests may complete
 * in any order.
 * On failure returns the error code and, when out_failed is not null, stores the index of
 * the failed request in *out_failed (-1 when the failure is not tied to one request).
 * Calls on one handle are serialized; different handles may be used concurrently.
 */
int flm_reader_read(int64_t handle, int count, const int64_t *offsets, const int64_t *lengths,
                    const int64_t *dests, int64_t *out_failed);

/* Closes the reader; its handle becomes invalid (later calls get FLM_E_BAD_HANDLE). */
int flm_reader_close(int64_t handle);

/*
 * For tests of what a failing device does: the next `count` reads the reader makes (each
 * piece of a request, each retry) report the FLM_FAULT_* kind instead of what the kernel
 * returned. Short reads and EAGAIN are retried as real ones are, so reads stay exact; EIO fails
 * the call. Replaces any faults armed before; FLM_FAULT_NONE (or count 0) disarms.
 * FLM_E_BAD_ARG for an unknown kind or a negative count.
 */
int flm_reader_inject(int64_t handle, int kind, int64_t count);

/* Readers open in this process (handles not yet closed), for leak checks. */
int flm_readers_open(void);

/*
 * Measures random-read performance on path, the way fio's randread job does: chunk-byte
 * reads at random chunk-aligned offsets within the first span bytes of the file, depth reads
 * kept in flight at all times (io_uring: one ring of that depth; pread: depth threads),
 * for duration_ns after a short warm-up, or until max_ios reads (0: no limit); duration_ns 0 runs
 * until max_ios, and both 0 is FLM_E_BAD_ARG.
 * seed makes the offsets reproducible. Writes min(n, FLM_PROBE_COUNT) values into out.
 */
int flm_probe(const char *path, int flags, int backend, int64_t chunk, int depth, int64_t span,
              int64_t duration_ns, int64_t max_ios, int64_t seed, int64_t *out, int n);

/*
 * The O_DIRECT alignment of the device holding path (a file, or a directory: then of a file created
 * in it), for laying out and reading flash packs. Writes min(n, 3) values into out: the alignment in
 * bytes (a power of two); its source, FLM_DIO_SOURCE_*: statx STATX_DIOALIGN, else the device's
 * logical block size (BLKSSZGET's value, from sysfs), else st_blksize, else 512; and the device's
 * physical block size (sysfs; 0 when unknown).
 * flags: FLM_DIO_NO_STATX skips statx (to see the fallback). FLM_E_NO_DIRECT when statx says the
 * file cannot do direct I/O.
 */
#define FLM_DIO_NO_STATX             1
#define FLM_DIO_SOURCE_STATX         1
#define FLM_DIO_SOURCE_LOGICAL_BLOCK 2
#define FLM_DIO_SOURCE_BLKSIZE       3
#define FLM_DIO_SOURCE_DEFAULT       4
int flm_dio_alignment(const char *path, int flags, int64_t *out, int n);

/* ---- Kernels ---- */

/* Storage types of weight matrices (row-major; quantized types in blocks of 32, or super-blocks of 256,
 * along a row). */
#define FLM_DTYPE_F32  0
#define FLM_DTYPE_F16  1
#define FLM_DTYPE_BF16 2
#define FLM_DTYPE_Q8_0 3 /* 32 int8 after an f16 scale: 34 bytes per block */
#define FLM_DTYPE_Q4_0 4 /* 16 bytes of nibbles after an f16 scale: 18 bytes per block */
/* The other legacy GGUF blocks of 32. Value j is the low nibble of qs[j], value j + 16 its high
 * nibble; in the 5-bit types bit j of qh (a little-endian uint32) is the fifth bit of value j. */
#define FLM_DTYPE_Q4_1   5 /* f16 d, f16 m, qs[16]: 20 bytes; value d * q + m, q in 0..15 */
#define FLM_DTYPE_Q5_0   6 /* f16 d, qh[4], qs[16]: 22 bytes; value d * (q - 16), q in 0..31 */
#define FLM_DTYPE_Q5_1   7 /* f16 d, f16 m, qh[4], qs[16]: 24 bytes; value d * q + m, q in 0..31 */
#define FLM_DTYPE_IQ4_NL 8 /* f16 d, qs[16]: 18 bytes; value d * T[q], T the format's fixed 16 int8 values */
/* GGUF's k-quant super-blocks of 256 values: sub-blocks of 16 or 32, each with a small integer scale
 * (and a min, in some types) relative to the super-block's f16 d (and dmin); the layouts are in
 * native/kernels/matvec_k.c. Rows must be a multiple of 256 values. */
#define FLM_DTYPE_Q6_K   9 /* ql[128], qh[64], int8 scales[16], f16 d: 210 bytes; value d * sc * (q - 32), q 6 bits */
#define FLM_DTYPE_Q4_K  10 /* f16 d, f16 dmin, 6-bit scales/mins[12], qs[128]: 144 bytes; value d * sc * q - dmin * m */
#define FLM_DTYPE_Q5_K  11 /* q4_k's d, dmin and scales, qh[32], qs[128]: 176 bytes; q of 5 bits */
#define FLM_DTYPE_Q3_K  12 /* hmask[32], qs[64], 6-bit scales[12], f16 d: 110 bytes; value d * (sc - 32) * (q - 4) */
#define FLM_DTYPE_Q2_K  13 /* 4-bit scales/mins[16], qs[64], f16 d, f16 dmin: 84 bytes; value d * sc * q - dmin * m */
#define FLM_DTYPE_IQ4_XS 14 /* f16 d, 6-bit scales (u16 high, 4 bytes low), qs[128]: 136 bytes; d * (sc - 32) * T[q] */

/* Bytes of one row of cols values in dtype, or -1 (unknown dtype, cols not a multiple of 32 for a block
 * type, of 256 for a k-quant). */
int64_t flm_row_bytes(int dtype, int64_t cols);

/*
 * y[r] = dot(W[r, :], x) for r in [row_begin, row_end); W is rows x cols in dtype, x has cols
 * floats, y has rows floats (only the given range is written). A row's result depends only on
 * that row and x, so any split of the rows across threads gives the same output.
 */
int flm_matvec(int dtype, const void *w, int64_t rows, int64_t cols, const float *x, float *y,
               int64_t row_begin, int64_t row_end);

/*
 * The batched product: for each of batch vectors x_t (x + t * cols, token-major) and r in
 * [row_begin, row_end), y[t * rows + r] = dot(W[r, :], x_t); only those entries of y (batch x rows
 * floats) are written. Each entry is, bit for bit, flm_matvec's y[r] for x_t (so batched prefill equals
 * token-at-a-time); the weights are read once per tile of rows for all the tokens instead of once per
 * token. Same dtypes and checks as flm_matvec; batch 0 writes nothing. FLM_E_BAD_ARG, FLM_E_NO_MEMORY.
 */
int flm_matmul(int dtype, const void *w, int64_t rows, int64_t cols, const float *x, int64_t batch, float *y,
               int64_t row_begin, int64_t row_end);

/* flm_matmul over rows stride bytes apart (stride >= flm_row_bytes(dtype, cols)): row r at w + r * stride,
 * as the gate or up parts of bundled records are. The same bits. */
int flm_matmul_strided(int dtype, const void *w, int64_t stride, int64_t rows, int64_t cols, const float *x,
                       int64_t batch, float *y, int64_t row_begin, int64_t row_end);

/* 1 when the kernels use the AVX2/FMA/F16C paths on this CPU, 0 for the portable ones. */
int flm_kernels_simd(void);

/*
 * Loads each of the bytes bytes at p once, as fast as the core can (AVX2 when the kernels use it),
 * and stores their XOR, folded to 64 bits, in *out_checksum. For benchmarks: on a buffer much
 * larger than the caches, bytes / time is the memory-read bandwidth one thread gets.
 */
int flm_stream_read(const void *p, int64_t bytes, uint64_t *out_checksum);

/* ---- Flash pack: encoders and synthetic weights ---- */

/*
 * Encodes n f32 values at src into dtype at dst: FLM_DTYPE_F32 (a copy), F16 and BF16 (round to
 * nearest even), Q8_0 (n a multiple of 32; per block d = max|x| / 127 stored as f16 and
 * q = round(x / d), half away from zero, as ggml's reference quantizer). The other block types
 * (Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL and the k-quants) are refused.
 */
int flm_encode_f32(int dtype, const float *src, void *dst, int64_t n);

/*
 * Fills rows x cols seeded pseudo-random values of dtype at dst, row r at dst + r * stride_bytes
 * (stride_bytes >= flm_row_bytes(dtype, cols); bytes between rows are left as they are). F32, F16,
 * BF16 and Q8_0: values mean + std * z with z approximately standard normal (a sum of four uniforms,
 * bounded at +-3.46). The other block types (mean must be 0): random quants under fixed scales, about
 * uniform over [-std sqrt(3), std sqrt(3)] (speed tests' weights, not a model's). Row r comes from its
 * own generator, seeded by seed and first_row + r, so a matrix filled in any split of row ranges, by
 * any threads, is the same bytes.
 */
int flm_synth_fill(int dtype, void *dst, int64_t rows, int64_t cols, int64_t stride_bytes, float mean,
                   float std, uint64_t seed, int64_t first_row);

/* ---- Sparse FFN over bundled neuron records (the window cache) ----
 *
 * rows: count records, record_bytes apart (record_bytes >= the parts' size), each a neuron's parts
 * of dim values: [gate | up | down] when gated, else [up | down], at the offsets of the flash pack's
 * bundled record. The gate and up parts are in row_dtype, the down part in down_dtype, each F32, F16
 * or any block type of flm_matvec (blocks run along each part; BF16 is FLM_E_BAD_ARG), so a part is
 * flm_row_bytes(its dtype, dim) bytes. h holds one float per row (indexed by row), bias (may be NULL)
 * one float per row.
 */
#define FLM_ACT_RELU 0
#define FLM_ACT_SILU 1 /* v / (1 + exp(-v)) in double, rounded to float */
/* 0.5 v (1 + erf(v / sqrt 2)) in double with Abramowitz-Stegun 7.1.26's erf (|error| < 1.5e-7), rounded
 * to float: the exact GELU as the Java model computes it (Falcon) */
#define FLM_ACT_GELU 2
/* 0.5 v (1 + tanh(sqrt(2 / pi) (v + 0.044715 v^3))) in double, rounded to float (Gemma) */
#define FLM_ACT_GELU_TANH 3

/*
 * For i in [begin, end): r = order ? order[i] : i, and
 *   ReLU FFN:  h[r] = act(dot(up_r, x) + bias[r])
 *   gated FFN: h[r] = act(dot(gate_r, x)) * (dot(up_r, x) + bias[r])
 * (bias omitted when NULL). Each dot is flm_matvec's on that row, bit for bit, so a row's h depends
 * only on the row, its bias and x: any split of [begin, end) across threads gives the same bits.
 */
int flm_bundle_ffn_up(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes,
                      int64_t dim, int gated, int activation, const float *bias, const float *x, const int32_t *order,
                      int64_t begin, int64_t end, float *h);

/*
 * For each column j in [col_begin, col_end): for k = 0 .. n-1 in that order, with r = order[k]
 * and h[r] != 0, y[j] = fma(h[r], down_r[j], y[j]) (one rounding; down_r[j] is the weight decoded
 * with the operations of the Java decoders, tensor/QuantBlocks and SuperBlocks). So y depends only on the sequence of (h, down row) in order, not on where the rows lie,
 * on the column split or on the SIMD path: pass rows sorted by neuron id and the result depends
 * only on the multiset of (neuron, h). Rows may repeat in order (each visit adds).
 */
int flm_bundle_ffn_down(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes,
                        int64_t dim, int gated, const float *h, const int32_t *order, int64_t n, float *y,
                        int64_t col_begin, int64_t col_end);

/*
 * flm_bundle_ffn_up for batch inputs (x + t * dim) over the rows [row_begin, row_end) in place (no order):
 * h[t * count + r] gets, bit for bit, what flm_bundle_ffn_up gives h[r] for x_t. The dots run as
 * flm_matmul_strided over the records' parts, so each weight is read once per tile of rows for all the
 * inputs. g (batch x count floats) is scratch for the gate dots of a gated FFN (may be NULL otherwise).
 */
int flm_bundle_ffn_up_batch(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes,
                            int64_t dim, int gated, int activation, const float *bias, const float *x, int64_t batch,
                            float *h, float *g, int64_t row_begin, int64_t row_end);

/*
 * flm_bundle_ffn_down for batch inputs: for each t < batch, y + t * dim gets, bit for bit, what
 * flm_bundle_ffn_down gives y for h + t * count (the same rows in the same order, h == 0 skipped). f32 and
 * f16 down parts on the SIMD path apply each group of rows to every input while it is in L1; the other
 * types run flm_bundle_ffn_down input after input.
 */
int flm_bundle_ffn_down_batch(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes,
                              int64_t dim, int gated, const float *h, int64_t batch, const int32_t *order, int64_t n,
                              float *y, int64_t col_begin, int64_t col_end);

/* Advises the kernel to back the 2 MiB-aligned interior of [p, p + bytes) with huge pages
 * (madvise MADV_HUGEPAGE). Returns 0, 1 when the advice was not taken (harmless), or FLM_E_BAD_ARG. */
int flm_advise_hugepage(void *p, int64_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* FLASHLM_H */
