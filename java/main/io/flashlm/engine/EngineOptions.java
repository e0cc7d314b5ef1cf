package io.flashlm.engine;

import io.flashlm.io.Backend;
import io.flashlm.compute.ComputePool;

import java.nio.file.Path;

/**
 * How the flash engine runs a pack.
 *
 * @param mode         the path through the engine
 * @param memoryBytes  the DRAM budget for everything the engine keeps resident; 0 for no limit
 * @param predictor    the predictor kind (trained, svd, threshold, oracle, trace); null for the best the pack has
 * @param window       k, the tokens whose active neurons stay resident; 0 for the default (5)
 * @param cacheRows    neuron-cache rows per layer; 0 to derive them from the budget
 * @param threads      compute threads
 * @param direct       read with O_DIRECT (bypassing the page cache, so that DRAM use is what the engine accounts)
 * @param contextLength positions the KV cache holds; 0 for the model's context
 * @param queueDepth   reads in flight per reader
 * @param backend      io_uring, pread or auto
 * @param probe        a flashlm-probe.json for the read planner's cost model; null to merge only neighbours
 */
public record EngineOptions(EngineMode mode, long memoryBytes, String predictor, int window, int cacheRows, int threads,
                            boolean direct, int contextLength, int queueDepth, Backend backend, Path probe) {
    public static final int DEFAULT_WINDOW = 5;

    public EngineOptions {
        if (mode == null || backend == null) {
            throw new IllegalArgumentException("mode and backend must be given");
        }
        if (memoryBytes < 0 || window < 0 || cacheRows < 0 || contextLength < 0) {
            throw new IllegalArgumentException("memory, window, cache rows and context must not be negative");
        }
        if (threads < 1 || threads > 256 || queueDepth < 1 || queueDepth > 4096) {
            throw new IllegalArgumentException("threads must be in 1..256 and queue depth in 1..4096, were " + threads
                    + " and " + queueDepth);
        }
    }

    /** flash mode, no memory limit, the pack's best predictor, O_DIRECT, all cores. */
    public static EngineOptions defaults() {
        return new EngineOptions(EngineMode.FLASH, 0, null, 0, 0,
                ComputePool.defaultThreads(Runtime.getRuntime().availableProcessors()), true, 0, 32, Backend.AUTO, null);
    }

    public int windowOrDefault() {
        return window == 0 ? DEFAULT_WINDOW : window;
    }

    public EngineOptions withMode(EngineMode m) {
        return new EngineOptions(m, memoryBytes, predictor, window, cacheRows, threads, direct, contextLength, queueDepth,
                backend, probe);
    }

    public EngineOptions withMemory(long bytes) {
        return new EngineOptions(mode, bytes, predictor, window, cacheRows, threads, direct, contextLength, queueDepth,
                backend, probe);
    }

    public EngineOptions withPredictor(String kind) {
        return new EngineOptions(mode, memoryBytes, kind, window, cacheRows, threads, direct, contextLength, queueDepth,
                backend, probe);
    }

    public EngineOptions withWindow(int k) {
        return new EngineOptions(mode, memoryBytes, predictor, k, cacheRows, threads, direct, contextLength, queueDepth,
                backend, probe);
    }

    public EngineOptions withCacheRows(int rows) {
        return new EngineOptions(mode, memoryBytes, predictor, window, rows, threads, direct, contextLength, queueDepth,
                backend, probe);
    }

    public EngineOptions withThreads(int n) {
        return new EngineOptions(mode, memoryBytes, predictor, window, cacheRows, n, direct, contextLength, queueDepth,
                backend, probe);
    }

    public EngineOptions withDirect(boolean d) {
        return new EngineOptions(mode, memoryBytes, predictor, window, cacheRows, threads, d, contextLength, queueDepth,
                backend, probe);
    }

    public EngineOptions withContextLength(int n) {
        return new EngineOptions(mode, memoryBytes, predictor, window, cacheRows, threads, direct, n, queueDepth,
                backend, probe);
    }

    public EngineOptions withQueueDepth(int q) {
        return new EngineOptions(mode, memoryBytes, predictor, window, cacheRows, threads, direct, contextLength, q,
                backend, probe);
    }

    public EngineOptions withBackend(Backend b) {
        return new EngineOptions(mode, memoryBytes, predictor, window, cacheRows, threads, direct, contextLength,
                queueDepth, b, probe);
    }

    public EngineOptions withProbe(Path p) {
        return new EngineOptions(mode, memoryBytes, predictor, window, cacheRows, threads, direct, contextLength,
                queueDepth, backend, p);
    }
}
