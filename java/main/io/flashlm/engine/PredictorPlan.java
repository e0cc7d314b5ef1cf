package io.flashlm.engine;

/** {@link EngineMode#PREDICTOR}: each token reads the predicted neurons, each part on its own; no cache. */
record PredictorPlan() implements StreamingPlan {
    @Override
    public EngineMode mode() {
        return EngineMode.PREDICTOR;
    }

    @Override
    public boolean predicts() {
        return true;
    }

    @Override
    public boolean readsRecords(PlanContext cx) {
        return false;
    }
}
