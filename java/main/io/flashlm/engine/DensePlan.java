package io.flashlm.engine;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.predictor.Predictor;
import io.flashlm.util.Progress;

import java.io.IOException;

/** {@link EngineMode#DENSE}: the whole FFN read once at open into DRAM as bundled records. */
record DensePlan() implements ModePlan {
    @Override
    public EngineMode mode() {
        return EngineMode.DENSE;
    }

    @Override
    public boolean readsRecords(PlanContext cx) {
        return cx.bundled();
    }

    @Override
    public Sizing accountFfn(PlanContext cx) {
        cx.budget.add("FFN, all layers", (long) cx.config.layers() * cx.geometry.neurons()
                * ResidentFfn.rowBytes(cx.geometry));
        cx.budget.add("batched prefill buffers (" + SparseFfn.BATCH_INPUTS + " tokens)",
                SparseFfn.batchBytes(cx.geometry.neurons(), cx.geometry.gated()));
        return new Sizing(cx.geometry.neurons(), 0);
    }

    @Override
    public EngineFfn build(PlanContext cx, Sizing sizing, SparseFfn sparse, Predictor predictor) throws IOException {
        sparse.allocateBatch(cx.arena, cx.geometry.gated());
        try (FfnReads reads = cx.reads()) {
            Progress p = new Progress("loading the FFN", (long) cx.config.layers() * cx.geometry.neurons()
                    * cx.geometry.recordBytes(), cx.progress == null ? System.err : cx.progress, cx.progress != null);
            ResidentFfn r = new ResidentFfn(cx.geometry, cx.config, cx.biases, sparse, cx.stats, reads,
                    Math.max(1, (cx.batchCapacity - 16) / cx.geometry.parts().size()), cx.arena, p);
            p.finish();
            return r;
        }
    }
}
