package io.flashlm.model;

import io.flashlm.kernels.ComputePool;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.flashlm.model.VectorOps.get;
import static io.flashlm.model.VectorOps.set;

/**
 * A mixture-of-experts FFN run densely (every expert's matrices where the weights left them, usually the
 * mapped file): p = softmax(router x) over all experts; the k experts of largest p (ties: the lower index)
 * run as gated MLPs; y = sum over them of w_e expert_e(x), in order of decreasing p, with w_e = p_e, or
 * p_e / (sum of the k chosen p) when the variant renormalises the top k (Mixtral, Qwen3-MoE with
 * norm_topk_prob). The flash path for experts is not here: a pack cannot hold a mixture yet.
 */
final class MoeFfn implements FeedForward {
    private final ComputePool pool;
    private final MoeWeights w;
    private final DenseMlp[] experts;
    private final int used;
    private final boolean normalize;
    private final int dim;

    MoeFfn(ModelConfig c, MoeWeights w, ComputePool pool, Arena arena) {
        ModelVariant v = c.variant();
        if (w.experts().size() != v.experts()) {
            throw new IllegalArgumentException(w.experts().size() + " experts in a layer of a model of " + v.experts());
        }
        this.pool = pool;
        this.w = w;
        this.experts = new DenseMlp[w.experts().size()];
        for (int e = 0; e < experts.length; e++) {
            experts[e] = new DenseMlp(c, w.experts().get(e), pool, arena);
        }
        this.used = v.expertsUsed();
        this.normalize = v.normalizeTopK();
        this.dim = c.dim();
    }

    @Override
    public void apply(InferenceState s, MemorySegment x, MemorySegment y) {
        int n = experts.length;
        Linear.apply(pool, w.router(), x, s.routerLogits);
        VectorOps.softmax(s.routerLogits, 0, n);
        int[] chosen = s.expertsChosen;
        topK(s.routerLogits, n, chosen, s.expertTaken);
        float sum = 0;
        for (int e : chosen) {
            sum += get(s.routerLogits, e);
        }
        for (int i = 0; i < dim; i++) {
            set(y, i, 0f);
        }
        for (int e : chosen) {
            float weight = normalize ? get(s.routerLogits, e) / sum : get(s.routerLogits, e);
            experts[e].apply(s, x, s.expertOut);
            for (int i = 0; i < dim; i++) {
                set(y, i, get(y, i) + weight * get(s.expertOut, i));
            }
        }
    }

    /** Writes into out the out.length indices of the largest p, largest first; among equal p the lower index first. */
    static void topK(MemorySegment p, int n, int[] out, boolean[] taken) {
        Arrays.fill(taken, false);
        for (int r = 0; r < out.length; r++) {
            int best = -1;
            for (int e = 0; e < n; e++) {
                if (!taken[e] && (best < 0 || get(p, e) > get(p, best))) {
                    best = e;
                }
            }
            taken[best] = true;
            out[r] = best;
        }
    }
}
