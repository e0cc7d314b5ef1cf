package io.flashlm.engine;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.predictor.Predictor;
import io.flashlm.util.Progress;

import java.io.IOException;

/**
 * The modes that keep nothing of the FFN between tokens: every token reads what it computes (all of
 * it, or the predicted neurons) through a scratch matrix of at most {@link FlashEngine#MAX_SCRATCH}.
 */
sealed interface StreamingPlan extends ModePlan permits NaivePlan, HybridPlan, PredictorPlan, ExactPlan {

    @Override
    default Sizing accountFfn(PlanContext cx) {
        return new Sizing(accountScratch(cx, cx.geometry.neurons()), 0);
    }

    /**
     * Adds the two scratch matrices (one read while the other is computed) of as many rows as the budget
     * allows, at most {@code maxRows}, and returns their rows.
     */
    default int accountScratch(PlanContext cx, long maxRows) {
        long rowBytes = ResidentFfn.rowBytes(cx.geometry);
        long room = Math.min(FlashEngine.MAX_SCRATCH, cx.budget.left());
        int rows = (int) Math.min(maxRows, room / (2 * (rowBytes + 4)));
        if (rows < 1) {
            cx.budget.add("two FFN records", 2 * (rowBytes + 4));
            cx.budget.require("the fixed part with two FFN records");
        }
        cx.budget.add("FFN scratch (2 x " + rows + " rows)", StreamingFfn.scratchBytes(cx.geometry, rows));
        return rows;
    }

    @Override
    default EngineFfn build(PlanContext cx, Sizing sizing, SparseFfn sparse, Predictor predictor) throws IOException {
        return streaming(cx, sizing, sparse, predicts() ? predictor : null, 0, null);
    }

    /**
     * The streaming FFN with its two readers (one per scratch matrix), {@code pinnedRows} neurons of each layer
     * pinned; the readers are closed again when it cannot be built.
     */
    default StreamingFfn streaming(PlanContext cx, Sizing sizing, SparseFfn sparse, Predictor predictor,
                                   int pinnedRows, Progress progress) throws IOException {
        FfnReads first = cx.reads();
        FfnReads second = null;
        try {
            second = cx.reads();
            return new StreamingFfn(cx.geometry, cx.config, cx.biases, sparse, cx.stats, new FfnReads[]{first, second},
                    predictor, sizing.maxRows(), readsRecords(cx), cx.arena, pinnedRows, progress);
        } catch (IOException | RuntimeException e) {
            first.close();
            if (second != null) {
                second.close();
            }
            throw e;
        }
    }
}
