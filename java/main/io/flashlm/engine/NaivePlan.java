package io.flashlm.engine;

import java.io.IOException;

/**
 * {@link EngineMode#NAIVE}: nothing kept between tokens; each layer's attention matrices are staged
 * from dram.bin right before it runs ({@link LayerStager}) and its whole FFN read as bundled records.
 */
record NaivePlan() implements StreamingPlan {
    @Override
    public EngineMode mode() {
        return EngineMode.NAIVE;
    }

    @Override
    public boolean readsRecords(PlanContext cx) {
        return cx.bundled();
    }

    @Override
    public void accountDram(PlanContext cx) throws IOException {
        cx.stager = new LayerStager(cx.pack, cx.readerOptions, cx.stats, cx.arena);
        cx.opened.add(cx.stager);
        cx.budget.add("DRAM part without the layer matrices", cx.pack.dram().byteSize()
                - cx.stager.stagedTensorBytes());
        cx.budget.add("staging for one layer's matrices", cx.stager.stagingBytes());
    }
}
