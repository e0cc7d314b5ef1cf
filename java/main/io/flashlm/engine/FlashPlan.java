package io.flashlm.engine;

import io.flashlm.planning.FlashCostModel;
import io.flashlm.planning.ReadPlanner;

import java.io.IOException;

/**
 * {@link EngineMode#FLASH}: predictor, window, and on a bundled pack whole records read as the
 * {@link ReadPlanner} merges them with the probe's cost model (on an unbundled pack, as window mode).
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
        if (cx.options.probe().isEmpty()) {
            return new ReadPlanner(null, cx.geometry.stride(), 0, capacity);
        }
        return new ReadPlanner(FlashCostModel.fromProbeJson(cx.options.probe().get()), cx.geometry.stride(),
                WindowedFfn.STAGING_ROWS / 4, capacity);
    }

    @Override
    public String describeExtra(PlanContext cx) {
        return cx.bundled() ? "; cost model: " + cx.options.probe().map(Object::toString)
                .orElse("none (only neighbouring records share a read)") : "";
    }
}
