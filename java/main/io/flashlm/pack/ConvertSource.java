package io.flashlm.pack;

import io.flashlm.format.ModelFormatException;
import io.flashlm.model.LanguageModel;
import io.flashlm.model.LlamaModel;
import io.flashlm.model.LlamaWeights;
import io.flashlm.model.LayerExtras;
import io.flashlm.model.ModelConfig;
import io.flashlm.model.ModelFiles;
import io.flashlm.model.OptModel;
import io.flashlm.model.OptWeights;
import io.flashlm.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.flashlm.pack.PackTensorNames.layer;

/**
 * A model to convert, opened by the ordinary loaders (so every source they read converts) and seen
 * as pack-named tensors. The loaders map the source files, so nothing here is read before the writer
 * asks for it: memory stays at what the writer holds.
 */
final class ConvertSource implements AutoCloseable {
    /** A tensor under its pack name. */
    record Named(String name, Tensor tensor) {
    }

    /** A layer's FFN matrices as the source stores them: gate/up [n_ffn, dim] (gate null if ungated), down [dim, n_ffn]. */
    record Ffn(Tensor gate, Tensor up, Tensor down) {
    }

    private final LanguageModel model;
    private final LlamaWeights llama;
    private final OptWeights opt;

    private ConvertSource(LanguageModel model) {
        this.model = model;
        this.llama = model instanceof LlamaModel m ? m.weights() : null;
        this.opt = model instanceof OptModel m ? m.weights() : null;
    }

    static ConvertSource open(Path from, Path tokenizer) throws IOException {
        if (PackFormat.isPack(from)) {
            throw new ModelFormatException(from, "source", "is already a flash pack; convert reads llama2.c, GGUF and"
                    + " Hugging Face models");
        }
        LanguageModel m = ModelFiles.load(from, tokenizer, 1);
        if (!(m instanceof LlamaModel) && !(m instanceof OptModel)) {
            String kind = m.getClass().getSimpleName();
            m.close();
            throw new ModelFormatException(from, "source", "a " + kind + " cannot be converted");
        }
        if (m.config().variant().isMixtureOfExperts()) {
            String family = m.config().variant().family();
            m.close();
            throw new ModelFormatException(from, "architecture", "'" + family + "' is a mixture of experts, which a"
                    + " flash pack cannot hold yet; run it from its own file");
        }
        return new ConvertSource(m);
    }

    ModelConfig config() {
        return model.config();
    }

    String describe() {
        return model.describe();
    }

    /** Tensors before the layers. */
    List<Named> head() {
        List<Named> out = new ArrayList<>();
        if (llama != null) {
            out.add(new Named(PackTensorNames.TOKEN_EMBEDDING, llama.tokenEmbedding()));
        } else {
            out.add(new Named(PackTensorNames.TOKEN_EMBEDDING, opt.tokenEmbedding()));
            out.add(new Named(PackTensorNames.POSITION_EMBEDDING, opt.positionEmbedding()));
            addIfPresent(out, PackTensorNames.PROJECT_IN, opt.projectIn());
        }
        return out;
    }

    /** A layer's DRAM tensors: attention, norms, FFN biases. */
    List<Named> layerTensors(int l) {
        List<Named> out = new ArrayList<>();
        if (llama != null) {
            LlamaWeights.Layer t = llama.layers().get(l);
            add(out, l, PackTensorNames.ATTENTION_NORM_WEIGHT, t.attentionNorm());
            add(out, l, PackTensorNames.WQ, t.wq());
            add(out, l, PackTensorNames.WK, t.wk());
            add(out, l, PackTensorNames.WV, t.wv());
            add(out, l, PackTensorNames.WO, t.wo());
            LayerExtras e = t.extras();
            addIfPresent(out, l, PackTensorNames.ATTENTION_NORM_BIAS, e.attentionNormBias());
            addIfPresent(out, l, PackTensorNames.BQ, e.qBias());
            addIfPresent(out, l, PackTensorNames.BK, e.kBias());
            addIfPresent(out, l, PackTensorNames.BV, e.vBias());
            addIfPresent(out, l, PackTensorNames.BO, e.oBias());
            addIfPresent(out, l, PackTensorNames.Q_NORM_WEIGHT, e.qNorm());
            addIfPresent(out, l, PackTensorNames.K_NORM_WEIGHT, e.kNorm());
            addIfPresent(out, l, PackTensorNames.POST_ATTENTION_NORM_WEIGHT, e.postAttentionNorm());
            addIfPresent(out, l, PackTensorNames.FFN_NORM_WEIGHT, t.ffnNorm());
            addIfPresent(out, l, PackTensorNames.FFN_NORM_BIAS, e.ffnNormBias());
            addIfPresent(out, l, PackTensorNames.POST_FFN_NORM_WEIGHT, e.postFfnNorm());
        } else {
            OptWeights.Layer t = opt.layers().get(l);
            add(out, l, PackTensorNames.ATTENTION_NORM_WEIGHT, t.attentionNormWeight());
            add(out, l, PackTensorNames.ATTENTION_NORM_BIAS, t.attentionNormBias());
            add(out, l, PackTensorNames.WQ, t.wq());
            add(out, l, PackTensorNames.BQ, t.bq());
            add(out, l, PackTensorNames.WK, t.wk());
            add(out, l, PackTensorNames.BK, t.bk());
            add(out, l, PackTensorNames.WV, t.wv());
            add(out, l, PackTensorNames.BV, t.bv());
            add(out, l, PackTensorNames.WO, t.wo());
            add(out, l, PackTensorNames.BO, t.bo());
            add(out, l, PackTensorNames.FFN_NORM_WEIGHT, t.ffnNormWeight());
            add(out, l, PackTensorNames.FFN_NORM_BIAS, t.ffnNormBias());
            add(out, l, PackTensorNames.FFN_UP_BIAS, t.fc1Bias());
            add(out, l, PackTensorNames.FFN_DOWN_BIAS, t.fc2Bias());
        }
        return out;
    }

    Ffn ffn(int l) {
        if (llama != null) {
            LlamaWeights.Layer t = llama.layers().get(l);
            return new Ffn(config().gatedFfn() ? t.gate() : null, t.up(), t.down());
        }
        OptWeights.Layer t = opt.layers().get(l);
        return new Ffn(null, t.fc1(), t.fc2());
    }

    /** Tensors after the layers (the output head only when it is not the token embedding). */
    List<Named> tail() {
        List<Named> out = new ArrayList<>();
        if (llama != null) {
            out.add(new Named(PackTensorNames.FINAL_NORM_WEIGHT, llama.finalNorm()));
            addIfPresent(out, PackTensorNames.FINAL_NORM_BIAS, llama.finalNormBias());
            if (!tiedOutput()) {
                out.add(new Named(PackTensorNames.OUTPUT, llama.output()));
            }
        } else {
            addIfPresent(out, PackTensorNames.FINAL_NORM_WEIGHT, opt.finalNormWeight());
            addIfPresent(out, PackTensorNames.FINAL_NORM_BIAS, opt.finalNormBias());
            addIfPresent(out, PackTensorNames.PROJECT_OUT, opt.projectOut());
            if (!tiedOutput()) {
                out.add(new Named(PackTensorNames.OUTPUT, opt.output()));
            }
        }
        return out;
    }

    /** Every DRAM tensor, in pack order: head, each layer's, tail. */
    List<Named> allDramTensors() {
        List<Named> all = new ArrayList<>(head());
        for (int l = 0; l < config().layers(); l++) {
            all.addAll(layerTensors(l));
        }
        all.addAll(tail());
        return all;
    }

    /** Whether the output head is the token embedding's bytes (then the pack stores them once). */
    boolean tiedOutput() {
        Tensor e = llama != null ? llama.tokenEmbedding() : opt.tokenEmbedding();
        Tensor o = llama != null ? llama.output() : opt.output();
        return e == o || (e.dtype() == o.dtype() && e.data().address() == o.data().address()
                && e.byteSize() == o.byteSize());
    }

    private static void add(List<Named> out, int l, String suffix, Tensor t) {
        out.add(new Named(layer(l, suffix), t));
    }

    private static void addIfPresent(List<Named> out, int l, String suffix, Tensor t) {
        addIfPresent(out, layer(l, suffix), t);
    }

    private static void addIfPresent(List<Named> out, String name, Tensor t) {
        if (t != null) {
            out.add(new Named(name, t));
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
