package io.flashlm.engine;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The paths through the engine, one per row of the paper's ablation (each adds one technique to the
 * one before, from {@link #HYBRID} on). Every mode computes with the same sparse FFN kernels, so on a
 * ReLU model with the oracle predictor they all give the logits of {@link #DENSE}, bit for bit.
 */
public enum EngineMode {
    /** Everything in DRAM, the FFN as bundled records: the upper bound. */
    DENSE("everything in DRAM"),
    /** Nothing kept between tokens: each token reads every layer's weights, attention and FFN, from flash. */
    NAIVE("every token reads every layer's weights (attention and FFN) from flash"),
    /** The DRAM part resident; each token reads all of every layer's FFN from flash. */
    HYBRID("DRAM part resident, the whole FFN read from flash for every token"),
    /** The FFN files memory-mapped and left to the OS page cache (what llama.cpp does). */
    MMAP("FFN memory-mapped, left to the OS page cache"),
    /** Reads only the neurons the predictor selects, each part (gate, up, down) on its own; no cache. */
    PREDICTOR("predicted neurons read from flash, parts read separately, nothing cached"),
    /** Predictor and the sliding window of resident neurons, parts read separately (unbundled). */
    WINDOW("predictor + sliding window, parts read separately (unbundled)"),
    /** Predictor, window, bundled records and read planning with the probe's cost model. */
    FLASH("predictor + window + bundled records + cost-model read planning"),
    /**
     * Not a row of the paper's ablation: dense's output under a budget the FFN does not fit. As much of each
     * layer's FFN pinned in DRAM as the budget leaves room for, the rest read every token in large chunks
     * under compute. What a model without ReLU sparsity (or a pack without a predictor) should run.
     */
    EXACT("dense's output under the budget: the FFN pinned as far as it fits, the rest streamed under compute");

    private final String description;

    EngineMode(String description) {
        this.description = description;
    }

    /** The name on the command line and in reports. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String description() {
        return description;
    }

    /** How this mode runs: its budget lines and its FFN. */
    ModePlan plan() {
        return ModePlan.of(this);
    }

    /** Whether a sparsity predictor picks the neurons computed. */
    public boolean predicts() {
        return plan().predicts();
    }

    public static EngineMode parse(String text) {
        for (EngineMode m : values()) {
            if (m.id().equalsIgnoreCase(text.trim())) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + text + "': expected one of "
                + Arrays.stream(values()).map(EngineMode::id).collect(Collectors.joining(", ")));
    }
}
