package io.flashlm.model;

import io.flashlm.kernels.ComputePool;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The FFN as dense matrix-vector products over a layer's matrices: h = act(up x + b), or
 * act(gate x) * up x when gated, then y = down h. In two steps, {@link #activate} and
 * {@link #project}, so that a decorator ({@link ObservedFfn}) can see and change h in between.
 */
public final class DenseMlp implements FeedForward {
    private final ComputePool pool;
    private final Tensor up;
    private final Tensor gate;
    private final Tensor down;
    private final MemorySegment upBias; // f32 [n], or null
    private final int hidden;
    private final ModelConfig.Activation activation;

    /**
     * @param arena holds the up bias converted to f32 (the model's arena)
     * @throws IllegalArgumentException if the weights lack the matrices (an engine keeps them elsewhere)
     */
    public DenseMlp(ModelConfig c, MlpWeights w, ComputePool pool, Arena arena) {
        if (!w.isPresent() || (c.gatedFfn() && w.gate() == null)) {
            throw new IllegalArgumentException("the dense FFN needs the layer's up, " + (c.gatedFfn() ? "gate, " : "")
                    + "and down matrices, which these weights do not hold");
        }
        this.pool = pool;
        this.up = w.up();
        this.gate = c.gatedFfn() ? w.gate() : null;
        this.down = w.down();
        this.upBias = w.upBias() == null ? null : VectorOps.toNative(w.upBias(), arena);
        this.hidden = c.hiddenDim();
        this.activation = c.activation();
    }

    /** Computes the activation of x into the state's FFN hidden vector and returns it (hiddenDim f32). */
    public MemorySegment activate(InferenceState s, MemorySegment x) {
        if (gate != null) {
            Linear.apply(pool, gate, x, s.hb);
            Linear.apply(pool, up, x, s.hb2);
            VectorOps.gatedActivate(s.hb, s.hb2, hidden, activation);
        } else {
            Linear.apply(pool, up, x, s.hb);
            if (upBias != null) {
                VectorOps.addBias(s.hb, upBias, hidden);
            }
            VectorOps.activate(s.hb, hidden, activation);
        }
        return s.hb;
    }

    /** y = down h. */
    public void project(MemorySegment h, MemorySegment y) {
        Linear.apply(pool, down, h, y);
    }

    @Override
    public void apply(InferenceState s, MemorySegment x, MemorySegment y) {
        project(activate(s, x), y);
    }

    /** {@link #apply} for n inputs with matrix products over all of them (the same bits). */
    @Override
    public void applyBatch(InferenceState s, MemorySegment x, int n, MemorySegment y, int dim) {
        BatchBuffers b = s.batch(n);
        if (gate != null) {
            Linear.applyBatch(pool, gate, x, n, b.h1);
            Linear.applyBatch(pool, up, x, n, b.h2);
            for (int t = 0; t < n; t++) {
                VectorOps.gatedActivate(BatchBuffers.row(b.h1, t, hidden), BatchBuffers.row(b.h2, t, hidden), hidden,
                        activation);
            }
        } else {
            Linear.applyBatch(pool, up, x, n, b.h1);
            for (int t = 0; t < n; t++) {
                MemorySegment h = BatchBuffers.row(b.h1, t, hidden);
                if (upBias != null) {
                    VectorOps.addBias(h, upBias, hidden);
                }
                VectorOps.activate(h, hidden, activation);
            }
        }
        Linear.applyBatch(pool, down, b.h1, n, y);
    }

    public Tensor up() {
        return up;
    }

    /** The up projection's bias as f32 (lives as long as the model), or null. */
    public MemorySegment upBias() {
        return upBias;
    }

    /** The gate projection, or null for an ungated FFN. */
    public Tensor gate() {
        return gate;
    }

    public Tensor down() {
        return down;
    }
}
