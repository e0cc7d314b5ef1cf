package io.flashlm.model;

import io.flashlm.kernels.ComputePool;
import io.flashlm.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;

import static io.flashlm.model.VectorOps.add;
import static io.flashlm.model.VectorOps.addBias;
import static io.flashlm.model.VectorOps.layerNorm;

/**
 * The OPT forward pass (Hugging Face OPTForCausalLM): learned positions with an offset of 2,
 * LayerNorm with biases, pre- or post-norm, biased projections, a ReLU FFN, optional
 * project_in/project_out around the decoder, tied output head.
 */
public final class OptModel extends TransformerModel {
    private final OptWeights w;
    private final AttentionBlock[] attention;
    private final Vectors[] layers;
    private final MemorySegment finalNormWeight;
    private final MemorySegment finalNormBias;

    /** A layer's FFN norm and down bias as native f32, converted once. */
    private record Vectors(MemorySegment ffnNormW, MemorySegment ffnNormB, MemorySegment fc2Bias) {
    }

    public OptModel(ModelConfig c, OptWeights w, Tokenizer tokenizer, ComputePool pool, AutoCloseable source,
                    String description) {
        this(c, w, tokenizer, pool, source, description, ModelAssembly.dense());
    }

    public OptModel(ModelConfig c, OptWeights w, Tokenizer tokenizer, ComputePool pool, AutoCloseable source,
                    String description, ModelAssembly assembly) {
        super(c, tokenizer, pool, source, description, assembly);
        this.w = w;
        attention = new AttentionBlock[c.layers()];
        layers = new Vectors[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            OptWeights.Layer t = w.layers().get(l);
            attention[l] = new OptAttention(c, pool, t, arena);
            layers[l] = new Vectors(nat(t.ffnNormWeight()), nat(t.ffnNormBias()), nat(t.fc2Bias()));
        }
        finalNormWeight = nat(w.finalNormWeight());
        finalNormBias = nat(w.finalNormBias());
        MlpWeights[] mlp = new MlpWeights[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            OptWeights.Layer t = w.layers().get(l);
            mlp[l] = new MlpWeights(t.fc1(), t.fc1Bias(), null, t.fc2());
        }
        assemble(assembly, mlp);
    }

    private OptModel(OptModel base, ModelAssembly.FfnDecorator decorator) {
        super(base, decorator);
        this.w = base.w;
        this.attention = base.attention;
        this.layers = base.layers;
        this.finalNormWeight = base.finalNormWeight;
        this.finalNormBias = base.finalNormBias;
    }

    @Override
    public OptModel reassembled(ModelAssembly.FfnDecorator decorator) {
        return new OptModel(this, decorator);
    }

    private MemorySegment nat(io.flashlm.tensor.Tensor t) {
        return VectorOps.toNative(t, arena);
    }

    @Override
    public MemorySegment forward(InferenceState s, int token, int pos) {
        checkInput(token, pos);
        int dim = c.dim();
        float eps = c.normEps();
        // h = project_in(embed_tokens[token]) + embed_positions[pos + 2]
        if (w.projectIn() != null) {
            w.tokenEmbedding().rowToFloat(token, s.xb);
            Linear.apply(pool, w.projectIn(), s.xb, s.x);
        } else {
            w.tokenEmbedding().rowToFloat(token, s.x);
        }
        w.positionEmbedding().rowToFloat(pos + c.positionOffset(), s.xb2);
        add(s.x, s.xb2, dim);
        for (int l = 0; l < c.layers(); l++) {
            Vectors v = layers[l];
            prelude.beforeLayer(l);
            attention[l].apply(s, l, pos);
            // FFN block: h += fc2(act(fc1(x))), x = LN(h) if pre-norm
            MemorySegment in = s.x;
            if (c.normBefore()) {
                layerNorm(s.xb, s.x, v.ffnNormW(), v.ffnNormB(), dim, eps);
                in = s.xb;
            }
            ffn[l].apply(s, in, s.xb2);
            addBias(s.xb2, v.fc2Bias(), dim);
            add(s.x, s.xb2, dim);
            if (!c.normBefore()) {
                layerNorm(s.x, s.x, v.ffnNormW(), v.ffnNormB(), dim, eps);
            }
        }
        MemorySegment h = s.x;
        if (finalNormWeight != null) {
            layerNorm(s.xb, s.x, finalNormWeight, finalNormBias, dim, eps);
            h = s.xb;
        }
        if (w.projectOut() != null) {
            Linear.apply(pool, w.projectOut(), h, s.xb2);
            h = s.xb2;
        }
        Linear.apply(pool, w.output(), h, s.logits);
        return s.logits;
    }

    public OptWeights weights() {
        return w;
    }
}
