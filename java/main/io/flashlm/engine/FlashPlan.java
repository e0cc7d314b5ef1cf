package io.flashlm.engine;

import io.flashlm.planning.FlashCostModel;
import io.flashlm.planning.LearnedCostModel;
import io.flashlm.planning.ReadPlanner;

import java.io.IOException;

/**
 * {@link EngineMode#FLASH}: predictor, window, and on a bundled pack whole records read as the
 * {@link ReadPlanner} merges them (on an unbundled pack, as window mode). The planner's cost model learns
 * from the engine's own reads ({@link LearnedCostModel}), seeded by the probe file when one is given, else
 * neutral (no merges across gaps until the reads show that they pay).
 */
record FlashPlan() implements WindowedPlan {
    @Override
    public EngineMode mode() {
        return EngineMode.FLASH;
    }

    @Override
    public boolean readsRecords(PlanContext cx) {
        return cx.bundled();
    }

    @Override
    public void accountStaging(PlanContext cx) {
        if (cx.bundled()) {
            cx.budget.add("staging for merged reads", WindowedFfn.stagingBytes(cx.geometry));
        }
    }

    @Override
    public ReadPlanner planner(PlanContext cx, int capacity) throws IOException {
        if (!cx.bundled()) {
            return null;
        }
        LearnedCostModel costs = cx.options.probe().isEmpty() ? LearnedCostModel.neutral()
                : LearnedCostModel.seededBy(FlashCostModel.fromProbeJson(cx.options.probe().get()));
        return new ReadPlanner(costs, cx.geometry.stride(), WindowedFfn.STAGING_ROWS / 4, capacity);
    }

    @Override
    public String describeExtra(PlanContext cx) {
        return cx.bundled() ? "; cost model: learned from the reads, " + cx.options.probe()
                .map(p -> "seeded by " + p).orElse("from a neutral start (no probe: gaps merge only once the reads"
                        + " show that they pay)") : "";
    }
}
