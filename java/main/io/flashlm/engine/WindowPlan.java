package io.flashlm.engine;

import io.flashlm.planning.ReadPlanner;

/** {@link EngineMode#WINDOW}: predictor and sliding window, each part of a missing neuron read on its own. */
record WindowPlan() implements WindowedPlan {
    @Override
    public EngineMode mode() {
        return EngineMode.WINDOW;
    }

    @Override
    public boolean readsRecords(PlanContext cx) {
        return false;
    }

    @Override
    public ReadPlanner planner(PlanContext cx, int capacity) {
        return null;
    }
}
