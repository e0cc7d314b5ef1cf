package io.flashlm.engine;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.predictor.Predictor;

import java.io.IOException;

/** {@link EngineMode#MMAP}: the FFN files mapped, their pages left to the OS page cache. */
record MmapPlan() implements ModePlan {
    @Override
    public EngineMode mode() {
        return EngineMode.MMAP;
    }

    @Override
    public boolean usesReaders() {
        return false;
    }

    @Override
    public boolean readsRecords(PlanContext cx) {
        return false;
    }

    @Override
    public Sizing accountFfn(PlanContext cx) {
        cx.budget.add("FFN pages (OS page cache, not held by the engine)", 0);
        return new Sizing(cx.geometry.neurons(), 0);
    }

    @Override
    public EngineFfn build(PlanContext cx, Sizing sizing, SparseFfn sparse, Predictor predictor) throws IOException {
        return new MappedFfn(cx.pack, cx.config, cx.biases, sparse, cx.stats, cx.arena);
    }
}
