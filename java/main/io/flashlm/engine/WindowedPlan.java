package io.flashlm.engine;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.planning.ReadPlanner;
import io.flashlm.predictor.Predictor;
import io.flashlm.util.ByteSizes;

import java.io.IOException;

/**
 * The modes with the paper's sliding window: the predicted neurons of the last k tokens stay resident
 * in per-layer neuron caches sized from what the budget leaves, and only the missing ones are read.
 */
sealed interface WindowedPlan extends ModePlan permits WindowPlan, FlashPlan {

    @Override
    default boolean predicts() {
        return true;
    }

    /** The read planner of the missing neurons, or null to read each part of each on its own. */
    ReadPlanner planner(PlanContext cx, int capacity) throws IOException;

    /** Extra buffers of the reads (the planner's staging of merged reads). */
    default void accountStaging(PlanContext cx) {
    }

    @Override
    default Sizing accountFfn(PlanContext cx) {
        accountStaging(cx);
        int window = cx.options.window();
        long perRow = (long) cx.config.layers() * WindowedFfn.cacheRowBytes(cx.geometry, window);
        long fixed = (long) cx.config.layers() * WindowedFfn.cacheBytes(cx.geometry, 0, window);
        int cacheRows = cx.options.cacheRows().isPresent()
                ? Math.min(cx.options.cacheRows().getAsInt(), cx.geometry.neurons())
                : (int) Math.min(cx.geometry.neurons(), Math.max(0, (cx.budget.left() - fixed) / perRow));
        if (cacheRows < 1) {
            cx.budget.add("one neuron-cache row per layer", fixed + perRow);
            cx.budget.require("the fixed part with one neuron-cache row per layer");
        }
        cx.budget.add("neuron caches (" + cx.config.layers() + " layers x " + cacheRows + " rows of "
                + ByteSizes.format(ResidentFfn.rowBytes(cx.geometry)) + ", window " + window + ")",
                (long) cx.config.layers() * WindowedFfn.cacheBytes(cx.geometry, cacheRows, window));
        return new Sizing(cacheRows, cacheRows);
    }

    @Override
    default EngineFfn build(PlanContext cx, Sizing sizing, SparseFfn sparse, Predictor predictor) throws IOException {
        FfnReads reads = cx.reads();
        FfnReads ahead = null;
        try {
            ahead = cx.options.lookAhead() != LookAhead.OFF && cx.config.layers() > 1 ? cx.reads() : null;
            return new WindowedFfn(cx.geometry, cx.config, cx.biases, sparse, cx.stats, reads, ahead,
                    cx.options.lookAhead() == LookAhead.AUTO, predictor, sizing.cacheRows(), cx.options.window(),
                    planner(cx, sizing.cacheRows()), cx.arena);
        } catch (IOException | RuntimeException e) {
            reads.close();
            if (ahead != null) {
                ahead.close();
            }
            throw e;
        }
    }
}
