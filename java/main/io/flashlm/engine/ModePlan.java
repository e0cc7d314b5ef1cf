package io.flashlm.engine;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.predictor.Predictor;

import java.io.IOException;

/**
 * How one {@link EngineMode} runs: the lines it adds to the memory budget and the FFN it builds. The
 * engine opens a pack by asking its mode's plan, in this order: {@link #accountDram}, the shared fixed
 * part (vectors, KV cache, predictor), the readers' buffers if {@link #usesReaders}, {@link #accountFfn}
 * with what is left, then {@link #build}.
 */
sealed interface ModePlan permits DensePlan, MmapPlan, StreamingPlan, WindowedPlan {

    /** The plan of a mode. */
    static ModePlan of(EngineMode mode) {
        return switch (mode) {
            case DENSE -> new DensePlan();
            case NAIVE -> new NaivePlan();
            case HYBRID -> new HybridPlan();
            case MMAP -> new MmapPlan();
            case PREDICTOR -> new PredictorPlan();
            case WINDOW -> new WindowPlan();
            case FLASH -> new FlashPlan();
            case EXACT -> new ExactPlan();
        };
    }

    /** What the FFN's buffers come to: the rows the sparse kernels take at once, and the neuron-cache rows. */
    record Sizing(int maxRows, int cacheRows) {
    }

    EngineMode mode();

    /** Whether a sparsity predictor picks the neurons computed. */
    default boolean predicts() {
        return false;
    }

    /** Whether the FFN is read through the engine's readers (which hold I/O buffers). */
    default boolean usesReaders() {
        return true;
    }

    /** Whether a neuron is read as one bundled record (else one read per part, as unbundled storage). */
    boolean readsRecords(PlanContext cx);

    /** Adds the DRAM part's lines to the budget. */
    default void accountDram(PlanContext cx) throws IOException {
        cx.budget.add("DRAM part (dram.bin)", cx.pack.dram().byteSize());
    }

    /** Adds the FFN's buffers, sized from what the budget has left, and says what they come to. */
    Sizing accountFfn(PlanContext cx);

    /** Builds the FFN (the caller closes it, and {@code sparse} with it). */
    EngineFfn build(PlanContext cx, Sizing sizing, SparseFfn sparse, Predictor predictor) throws IOException;

    /** What the mode's description adds after the FFN's (the cost model of planned reads). */
    default String describeExtra(PlanContext cx) {
        return "";
    }
}
