package io.flashlm.engine;

/** {@link EngineMode#HYBRID}: the DRAM part resident; each token reads the whole FFN as bundled records. */
record HybridPlan() implements StreamingPlan {
    @Override
    public EngineMode mode() {
        return EngineMode.HYBRID;
    }

    @Override
    public boolean readsRecords(PlanContext cx) {
        return cx.bundled();
    }
}
