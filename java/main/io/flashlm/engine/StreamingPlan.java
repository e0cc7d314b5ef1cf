package io.flashlm.engine;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.predictor.Predictor;

import java.io.IOException;

/**
 * The modes that keep nothing of the FFN between tokens: every token reads what it computes (all of
 * it, or the predicted neurons) through a scratch matrix of at most {@link FlashEngine#MAX_SCRATCH}.
 */
sealed interface StreamingPlan extends ModePlan permits NaivePlan, HybridPlan, PredictorPlan, ExactPlan {

    @Override
    default Sizing accountFfn(PlanContext cx) {
        long rowBytes = ResidentFfn.rowBytes(cx.geometry);
        long room = Math.min(FlashEngine.MAX_SCRATCH, cx.budget.left());
        // two scratch matrices: one read while the other is computed
        int maxRows = (int) Math.min(cx.geometry.neurons(), room / (2 * (rowBytes + 4)));
        if (maxRows < 1) {
            cx.budget.add("two FFN records", 2 * (rowBytes + 4));
            cx.budget.require("the fixed part with two FFN records");
        }
        cx.budget.add("FFN scratch (2 x " + maxRows + " rows)", StreamingFfn.scratchBytes(cx.geometry, maxRows));
        return new Sizing(maxRows, 0);
    }

    @Override
    default EngineFfn build(PlanContext cx, Sizing sizing, SparseFfn sparse, Predictor predictor) throws IOException {
        FfnReads first = cx.reads();
        FfnReads second;
        try {
            second = cx.reads();
        } catch (IOException | RuntimeException e) {
            first.close();
            throw e;
        }
        return new StreamingFfn(cx.geometry, cx.config, cx.biases, sparse, cx.stats, new FfnReads[]{first, second},
                predicts() ? predictor : null, sizing.maxRows(), readsRecords(cx), cx.arena);
    }
}
