package io.flashlm.model;

import io.flashlm.format.ModelFormatException;
import io.flashlm.format.TensorStore;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a Llama-family layer's tensors by role, whatever the file format calls them: each format gives a
 * {@link Names} that maps a role to its tensor name (null where the format has no such tensor), and the
 * reader finds which of the optional ones are present, splits fused projections (qkv, gate_up), picks the
 * experts out of stacks, and checks every shape against the config.
 */
final class LayerReader {

    /** What a tensor does in a layer. */
    enum Role {
        ATTN_NORM, ATTN_NORM_BIAS, Q, K, V, QKV, Q_BIAS, K_BIAS, V_BIAS, QKV_BIAS, O, O_BIAS, Q_NORM, K_NORM,
        POST_ATTN_NORM, FFN_NORM, FFN_NORM_BIAS, GATE, UP, GATE_UP, DOWN, POST_FFN_NORM,
        /** The router of a mixture of experts. */
        ROUTER,
        /** Experts stacked in one tensor [experts, rows, cols] (GGUF). */
        GATE_EXPS, UP_EXPS, DOWN_EXPS,
        /** One expert's matrices, named per expert (Hugging Face). */
        EXPERT_GATE, EXPERT_UP, EXPERT_DOWN
    }

    /** A format's name for a role in layer {@code layer} (and expert {@code expert}); null when it has none. */
    @FunctionalInterface
    interface Names {
        String of(Role role, int layer, int expert);
    }

    /** Changes a norm weight as read (Gemma's Hugging Face norms are 1 + w), or leaves it. */
    @FunctionalInterface
    interface NormWeights {
        NormWeights AS_STORED = (t, arena) -> t;

        Tensor adjust(Tensor weight, Arena arena);
    }

    private final ShapeCheck s;
    private final TensorStore store;
    private final ModelConfig c;
    private final Names names;
    private final NormWeights norms;
    private final Arena arena;

    LayerReader(TensorStore store, ModelConfig c, Names names, NormWeights norms, Arena arena) {
        this.store = store;
        this.s = new ShapeCheck(store);
        this.c = c;
        this.names = names;
        this.norms = norms;
        this.arena = arena;
    }

    LlamaWeights.Layer layer(int l) throws ModelFormatException {
        long dim = c.dim(), q = c.qDim(), kv = c.kvDim(), n = c.hiddenDim();
        Tensor wq, wk, wv, bq, bk, bv;
        if (present(Role.QKV, l)) {
            Tensor qkv = s.get(name(Role.QKV, l), q + 2 * kv, dim);
            wq = qkv.rows(qkv.name() + "[q]", 0, q);
            wk = qkv.rows(qkv.name() + "[k]", q, kv);
            wv = qkv.rows(qkv.name() + "[v]", q + kv, kv);
            Tensor b = optional(Role.QKV_BIAS, l, q + 2 * kv);
            bq = b == null ? null : slice(b, "q", 0, q);
            bk = b == null ? null : slice(b, "k", q, kv);
            bv = b == null ? null : slice(b, "v", q + kv, kv);
        } else {
            wq = s.get(name(Role.Q, l), q, dim);
            wk = s.get(name(Role.K, l), kv, dim);
            wv = s.get(name(Role.V, l), kv, dim);
            bq = optional(Role.Q_BIAS, l, q);
            bk = optional(Role.K_BIAS, l, kv);
            bv = optional(Role.V_BIAS, l, kv);
        }
        Tensor wo = s.get(name(Role.O, l), dim, q);
        Tensor gate = null, up = null, down = null;
        MoeWeights experts = null;
        if (c.variant().isMixtureOfExperts()) {
            experts = experts(l);
        } else if (present(Role.GATE_UP, l)) {
            Tensor gu = s.get(name(Role.GATE_UP, l), 2 * n, dim);
            gate = gu.rows(gu.name() + "[gate]", 0, n);
            up = gu.rows(gu.name() + "[up]", n, n);
            down = s.get(name(Role.DOWN, l), dim, n);
        } else {
            gate = c.gatedFfn() ? s.get(name(Role.GATE, l), n, dim) : null;
            up = s.get(name(Role.UP, l), n, dim);
            down = s.get(name(Role.DOWN, l), dim, n);
        }
        Tensor ffnNorm = c.variant().parallelBlock() ? optionalNorm(Role.FFN_NORM, l, dim) : norm(Role.FFN_NORM, l, dim);
        LayerExtras extras = new LayerExtras(bq, bk, bv, optional(Role.O_BIAS, l, dim), qkNorm(Role.Q_NORM, l, q),
                qkNorm(Role.K_NORM, l, kv), optional(Role.ATTN_NORM_BIAS, l, dim),
                optionalNorm(Role.POST_ATTN_NORM, l, dim), optional(Role.FFN_NORM_BIAS, l, dim),
                optionalNorm(Role.POST_FFN_NORM, l, dim), experts);
        return new LlamaWeights.Layer(norm(Role.ATTN_NORM, l, dim), wq, wk, wv, wo, ffnNorm, gate, up, down, extras);
    }

    /** A final or other model-level norm weight, adjusted as the format needs. */
    Tensor norm(String name, long dim) throws ModelFormatException {
        return norms.adjust(s.get(name, dim), arena);
    }

    private MoeWeights experts(int l) throws ModelFormatException {
        int e = c.variant().experts();
        long dim = c.dim(), n = c.hiddenDim();
        Tensor router = s.get(name(Role.ROUTER, l), e, dim);
        List<MlpWeights> list = new ArrayList<>(e);
        if (present(Role.GATE_EXPS, l)) {
            Tensor gates = s.get(name(Role.GATE_EXPS, l), e, n, dim);
            Tensor ups = s.get(name(Role.UP_EXPS, l), e, n, dim);
            Tensor downs = s.get(name(Role.DOWN_EXPS, l), e, dim, n);
            for (int x = 0; x < e; x++) {
                list.add(new MlpWeights(ups.matrix(ups.name() + "[" + x + "]", x), null,
                        gates.matrix(gates.name() + "[" + x + "]", x), downs.matrix(downs.name() + "[" + x + "]", x)));
            }
        } else {
            for (int x = 0; x < e; x++) {
                list.add(new MlpWeights(s.get(names.of(Role.EXPERT_UP, l, x), n, dim), null,
                        s.get(names.of(Role.EXPERT_GATE, l, x), n, dim), s.get(names.of(Role.EXPERT_DOWN, l, x), dim, n)));
            }
        }
        return new MoeWeights(router, list);
    }

    /** A q or k norm: [headDim] (each head) or [width] (all heads at once), or absent. */
    private Tensor qkNorm(Role role, int l, long width) throws ModelFormatException {
        String name = names.of(role, l, -1);
        if (name == null || !store.contains(name)) {
            return null;
        }
        Tensor t = store.tensor(name);
        long count = t.elementCount();
        return norms.adjust(s.check(t, count == c.headDim() ? c.headDim() : width), arena);
    }

    private Tensor norm(Role role, int l, long dim) throws ModelFormatException {
        return norms.adjust(s.get(name(role, l), dim), arena);
    }

    private Tensor optionalNorm(Role role, int l, long dim) throws ModelFormatException {
        Tensor t = optional(role, l, dim);
        return t == null ? null : norms.adjust(t, arena);
    }

    private Tensor optional(Role role, int l, long... shape) throws ModelFormatException {
        String name = names.of(role, l, -1);
        return name == null ? null : s.optional(name, shape);
    }

    private boolean present(Role role, int l) {
        String name = names.of(role, l, -1);
        return name != null && store.contains(name);
    }

    private String name(Role role, int l) {
        String name = names.of(role, l, -1);
        if (name == null) {
            throw new IllegalStateException("no tensor name for " + role + " in this format");
        }
        return name;
    }

    /** Elements [from, from + count) of a vector, as a vector sharing its bytes. */
    private static Tensor slice(Tensor v, String part, long from, long count) {
        Tensor m = new Tensor(v.name(), v.dtype(), new long[]{v.elementCount(), 1}, v.data());
        Tensor rows = m.rows(v.name() + "[" + part + "]", from, count);
        return new Tensor(rows.name(), rows.dtype(), new long[]{count}, rows.data());
    }
}
