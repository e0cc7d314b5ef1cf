package io.flashlm.engine;

import io.flashlm.io.Backend;
import io.flashlm.kernels.ComputePool;
import io.flashlm.predictor.PredictorKind;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How the flash engine runs a pack; made with {@link #builder()} (or {@link #toBuilder()} from another).
 * What is left unset is derived when the pack is opened, as each accessor says.
 *
 * @param mode          the path through the engine
 * @param memoryBytes   the DRAM budget for everything the engine keeps resident; empty for no limit
 * @param predictor     the predictor kind; empty for the best the pack has
 * @param window        k, the tokens whose active neurons stay resident ({@value #DEFAULT_WINDOW} by default)
 * @param cacheRows     neuron-cache rows per layer; empty to derive them from the budget
 * @param threads       compute threads
 * @param direct        read with O_DIRECT (bypassing the page cache, so that DRAM use is what the engine accounts)
 * @param contextLength positions the KV cache holds; empty for the model's context
 * @param queueDepth    reads in flight per reader
 * @param backend       io_uring, pread or auto
 * @param probe         a flashlm-probe.json for the read planner's cost model; empty to merge only neighbours
 * @param verifyReads   check every whole FFN record read from flash against the pack's CRC-32C (on by default)
 * @param lookAhead     window and flash modes: whether each layer's reads start from a guess made at the previous
 *                      layer ({@link LookAhead#AUTO} by default; the result is the same either way)
 */
public record EngineOptions(EngineMode mode, OptionalLong memoryBytes, Optional<PredictorKind> predictor, int window,
                            OptionalInt cacheRows, int threads, boolean direct, OptionalInt contextLength,
                            int queueDepth, Backend backend, Optional<Path> probe, LookAhead lookAhead,
                            boolean verifyReads) {
    public static final int DEFAULT_WINDOW = 5;

    public EngineOptions {
        if (mode == null || backend == null || memoryBytes == null || predictor == null || cacheRows == null
                || contextLength == null || probe == null || lookAhead == null) {
            throw new IllegalArgumentException("engine options: every field must be given (use Optional.empty() for"
                    + " the defaults)");
        }
        if (memoryBytes.orElse(1) <= 0) {
            throw new IllegalArgumentException("memory must be positive, was " + memoryBytes.getAsLong()
                    + " bytes (leave it unset for no limit)");
        }
        if (cacheRows.orElse(1) <= 0 || contextLength.orElse(1) <= 0) {
            throw new IllegalArgumentException("cache rows and context must be positive when given, were "
                    + cacheRows.orElse(0) + " and " + contextLength.orElse(0) + " (leave them unset for the defaults)");
        }
        if (window < 1 || threads < 1 || threads > 256 || queueDepth < 1 || queueDepth > 4096) {
            throw new IllegalArgumentException("window must be at least 1, threads in 1..256 and queue depth in"
                    + " 1..4096, were " + window + ", " + threads + " and " + queueDepth);
        }
    }

    /** flash mode, no memory limit, the pack's best predictor, O_DIRECT, all cores. */
    public static EngineOptions defaults() {
        return builder().build();
    }

    /** A builder with the defaults of {@link #defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these options, to change some of them. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.mode = mode;
        b.memoryBytes = memoryBytes;
        b.predictor = predictor;
        b.window = window;
        b.cacheRows = cacheRows;
        b.threads = threads;
        b.direct = direct;
        b.contextLength = contextLength;
        b.queueDepth = queueDepth;
        b.backend = backend;
        b.probe = probe;
        b.lookAhead = lookAhead;
        b.verifyReads = verifyReads;
        return b;
    }

    /** Builds {@link EngineOptions}; each setter documents its field on the record. */
    public static final class Builder {
        private EngineMode mode = EngineMode.FLASH;
        private OptionalLong memoryBytes = OptionalLong.empty();
        private Optional<PredictorKind> predictor = Optional.empty();
        private int window = DEFAULT_WINDOW;
        private OptionalInt cacheRows = OptionalInt.empty();
        private int threads = ComputePool.defaultThreads(Runtime.getRuntime().availableProcessors());
        private boolean direct = true;
        private OptionalInt contextLength = OptionalInt.empty();
        private int queueDepth = 32;
        private Backend backend = Backend.AUTO;
        private Optional<Path> probe = Optional.empty();
        private LookAhead lookAhead = LookAhead.AUTO;
        private boolean verifyReads = true;

        private Builder() {
        }

        public Builder mode(EngineMode m) {
            mode = m;
            return this;
        }

        /** The DRAM budget in bytes. */
        public Builder memory(long bytes) {
            memoryBytes = OptionalLong.of(bytes);
            return this;
        }

        /** No memory limit. */
        public Builder unlimitedMemory() {
            memoryBytes = OptionalLong.empty();
            return this;
        }

        public Builder predictor(PredictorKind kind) {
            predictor = Optional.ofNullable(kind);
            return this;
        }

        public Builder window(int k) {
            window = k;
            return this;
        }

        public Builder cacheRows(int rows) {
            cacheRows = OptionalInt.of(rows);
            return this;
        }

        public Builder threads(int n) {
            threads = n;
            return this;
        }

        public Builder direct(boolean d) {
            direct = d;
            return this;
        }

        public Builder contextLength(int n) {
            contextLength = OptionalInt.of(n);
            return this;
        }

        public Builder queueDepth(int q) {
            queueDepth = q;
            return this;
        }

        public Builder backend(Backend b) {
            backend = b;
            return this;
        }

        public Builder probe(Path p) {
            probe = Optional.ofNullable(p);
            return this;
        }

        public Builder lookAhead(LookAhead l) {
            lookAhead = l;
            return this;
        }

        public Builder verifyReads(boolean on) {
            verifyReads = on;
            return this;
        }

        public EngineOptions build() {
            return new EngineOptions(mode, memoryBytes, predictor, window, cacheRows, threads, direct, contextLength,
                    queueDepth, backend, probe, lookAhead, verifyReads);
        }
    }
}
