package io.flashlm.cli;

import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineOptions;
import io.flashlm.engine.LookAhead;
import io.flashlm.io.Backend;
import io.flashlm.kernels.ComputePool;
import io.flashlm.planning.ProbeLocation;
import io.flashlm.predictor.PredictorKind;
import io.flashlm.predictor.PredictorStore;
import io.flashlm.util.ByteSizes;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The flash engine's options, shared by the commands that run a pack (generate, bench, evaluate). */
final class EngineOptionsMixin {
    @Option(names = "--memory", description = "DRAM budget for everything the engine keeps resident (DRAM part,"
            + " KV cache, neuron caches, I/O buffers), e.g. 512MiB, 4GiB or bytes. Default: no limit.")
    String memory;

    @Option(names = "--predictor", description = "trained, svd, threshold, oracle or trace (default: the best the"
            + " pack has).")
    String predictor;

    @Option(names = "--window", defaultValue = "0", description = "Tokens whose active neurons stay resident (k)."
            + " Default: 5.")
    int window;

    @Option(names = "--cache-rows", defaultValue = "0", description = "Neuron-cache rows per layer. Default: as many"
            + " as the budget leaves room for (at most the FFN width).")
    int cacheRows;

    @Option(names = "--context", defaultValue = "0", description = "Positions the KV cache holds. Default: for a"
            + " pack what the command needs (generate: the prompt and -n), at most the model's context; for a model"
            + " file its trained context, at most 4096.")
    int context;

    @Option(names = "--probe", description = "A flashlm probe JSON to seed the read planner's cost model, which then"
            + " learns from the engine's own reads. Default: the probe file of the pack's device in the user's cache"
            + " ($XDG_CACHE_HOME/flashlm/probe-<major>-<minor>.json, as flashlm probe writes it) when present, else a"
            + " neutral start that merges only neighbouring records until the reads show that gaps pay.")
    Path probe;

    @Option(names = "--buffered", description = "Read through the page cache instead of O_DIRECT.")
    boolean buffered;

    @Option(names = "--queue-depth", defaultValue = "32", description = "Reads in flight. Default: ${DEFAULT-VALUE}.")
    int queueDepth;

    @Option(names = "--backend", defaultValue = "auto", description = "io_uring, pread or auto. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--threads", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--no-verify-reads", description = "Do not check the FFN records read from flash against the"
            + " pack's CRC-32C checksums (checked by default: a record that fails is read again once, then the run"
            + " stops with an error naming the file, layer, neuron and offset).")
    boolean noVerifyReads;

    @Option(names = "--look-ahead", defaultValue = "auto", description = "window and flash: start each layer's reads"
            + " from a guess made at the previous layer, while it computes: off, on, or auto (tried on the run's own"
            + " tokens and kept while it saves time). The output is the same. Default: ${DEFAULT-VALUE}.")
    String lookAhead = "auto";

    /**
     * The options for {@code mode} on the pack at {@code pack}; without --probe, the pack's device's probe
     * file from the cache when there is one (said on stderr), never a file in the working directory.
     */
    EngineOptions options(EngineMode mode, Path pack) {
        Path costs = probe != null ? probe : defaultProbe(pack);
        EngineOptions.Builder b = EngineOptions.builder().mode(mode)
                .threads(threads != null ? threads : ComputePool.defaultThreads(256)).direct(!buffered)
                .queueDepth(queueDepth).backend(Backend.parse(backend)).probe(costs).lookAhead(LookAhead.parse(lookAhead)).verifyReads(!noVerifyReads);
        if (memory != null) {
            b.memory(ByteSizes.parse(memory));
        }
        if (predictor != null) {
            b.predictor(PredictorKind.parse(predictor));
        }
        if (window != 0) {
            b.window(window);
        }
        if (cacheRows != 0) {
            b.cacheRows(cacheRows);
        }
        if (context != 0) {
            b.contextLength(context);
        }
        return b.build();
    }

    /** The cache's probe file for the device holding {@code pack}, if it exists (printed), else null. */
    static Path defaultProbe(Path pack) {
        if (pack == null || !Files.exists(pack)) {
            return null;
        }
        try {
            Path p = ProbeLocation.probeFile(pack);
            if (Files.isRegularFile(p)) {
                System.err.println("cost model: seeded by " + p + " (flashlm probe of this device; --probe to choose"
                        + " another)");
                return p;
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("cost model: no probe file (" + e.getMessage() + ")");
        }
        return null;
    }

    /** Whether any engine-only option was given (they need a flash pack). */
    boolean anyGiven() {
        return memory != null || predictor != null || window != 0 || cacheRows != 0 || probe != null || buffered
                || !"auto".equals(lookAhead) || noVerifyReads;
    }


    /**
     * The mode a command runs when --mode is not given: flash when the pack holds a sparsity predictor, else
     * exact (dense's output under the budget), saying so on stderr.
     */
    static EngineMode modeOrDefault(String mode, Path pack) {
        if (mode != null) {
            return EngineMode.parse(mode);
        }
        if (!PredictorStore.available(pack).isEmpty()) {
            return EngineMode.FLASH;
        }
        System.err.println("flashlm: " + pack + " holds no sparsity predictor (flashlm calibrate makes one): running"
                + " --mode exact, which gives dense's output under the budget");
        return EngineMode.EXACT;
    }
}
