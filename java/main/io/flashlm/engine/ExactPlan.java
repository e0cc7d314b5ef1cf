package io.flashlm.engine;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.predictor.Predictor;
import io.flashlm.util.Progress;

import java.io.IOException;

/**
 * {@link EngineMode#EXACT}, exact output under a budget: the DRAM part resident, and of each layer's FFN as many
 * neurons pinned in DRAM as the budget leaves room for (a prefix: every neuron is computed every token, so
 * which ones are pinned does not change the bytes read), the rest read from flash every token in large
 * chunks, double-buffered under compute. Neurons are computed in ascending order, pinned then streamed, so
 * the output is dense's bit for bit.
 */
record ExactPlan() implements StreamingPlan {
    /** Bytes a streamed chunk aims for: reads of this size run near the device's sequential rate. */
    static final long CHUNK_BYTES = 8L << 20;

    @Override
    public EngineMode mode() {
        return EngineMode.EXACT;
    }

    @Override
    public boolean readsRecords(PlanContext cx) {
        return cx.bundled();
    }

    @Override
    public Sizing accountFfn(PlanContext cx) {
        long rowBytes = ResidentFfn.rowBytes(cx.geometry);
        int neurons = cx.geometry.neurons();
        int chunk = accountScratch(cx, Math.min(neurons, Math.max(1, CHUNK_BYTES / rowBytes)));
        long perRow = (long) cx.config.layers() * rowBytes;
        int pinned = (int) Math.min(neurons, Math.max(0, cx.budget.left()) / perRow);
        if (pinned > 0) {
            cx.budget.add("FFN pinned (" + pinned + " of " + neurons + " neurons a layer)", pinned * perRow);
        }
        return new Sizing(chunk, pinned);
    }

    @Override
    public EngineFfn build(PlanContext cx, Sizing sizing, SparseFfn sparse, Predictor predictor) throws IOException {
        int pinned = sizing.cacheRows();
        Progress p = new Progress("pinning " + pinned + " neurons a layer", (long) cx.config.layers() * pinned
                * cx.geometry.recordBytes(), cx.progress == null ? System.err : cx.progress, cx.progress != null);
        StreamingFfn f = streaming(cx, sizing, sparse, null, pinned, p);
        p.finish();
        return f;
    }
}
