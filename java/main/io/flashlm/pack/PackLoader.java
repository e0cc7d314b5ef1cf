package io.flashlm.pack;

import io.flashlm.format.ModelFormatException;
import io.flashlm.kernels.ComputePool;
import io.flashlm.model.LanguageModel;
import io.flashlm.model.LlamaModel;
import io.flashlm.model.LayerExtras;
import io.flashlm.model.LlamaWeights;
import io.flashlm.model.ModelAssembly;
import io.flashlm.model.ModelConfig;
import io.flashlm.model.OptModel;
import io.flashlm.model.OptWeights;
import io.flashlm.tensor.Tensor;
import io.flashlm.tokenizer.Tokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static io.flashlm.pack.PackTensorNames.layer;

/**
 * Loads a flash pack densely: the DRAM part straight from the mapping of dram.bin, the FFN gathered
 * into memory ({@link DenseFfn}), and the ordinary forward pass over them. The same kernels on the
 * same values as the source, so the logits are bit-identical to the source's for f32 and f16 packs.
 */
public final class PackLoader {
    private PackLoader() {
    }

    public static LanguageModel load(Path dir, int threads) throws IOException {
        return load(dir, threads, 0);
    }

    /** @param context positions the KV cache holds; 0 for the pack's context */
    public static LanguageModel load(Path dir, int threads, int context) throws IOException {
        FlashPack pack = FlashPack.open(dir);
        Arena ffnArena = Arena.ofShared();
        try {
            AutoCloseable source = () -> {
                ffnArena.close();
                pack.close();
            };
            ModelConfig c = context > 0 ? pack.config().withContextLength(context) : pack.config();
            if (c.architecture() == ModelConfig.Architecture.OPT && c.contextLength() > pack.config().contextLength()) {
                throw new IllegalArgumentException("context " + context + " exceeds the " + pack.config().contextLength()
                        + " learned positions of this OPT pack");
            }
            return model(pack, c, pack::tensor, l -> DenseFfn.load(pack, l, ffnArena),
                    ModelAssembly.dense(), new ComputePool(threads), source, describe(dir, pack, "dense"));
        } catch (IOException | RuntimeException e) {
            ffnArena.close();
            pack.close();
            throw e;
        }
    }

    /** Where the FFN matrices of a layer come from; null tensors for an engine that runs the FFN itself. */
    @FunctionalInterface
    public interface FfnSource {
        DenseFfn layer(int layer) throws IOException;
    }

    /** Where a DRAM tensor comes from (the mapping of dram.bin, or a staging buffer the engine fills). */
    @FunctionalInterface
    public interface TensorSource {
        Tensor tensor(String name) throws ModelFormatException;
    }

    /**
     * The forward pass over a pack's DRAM part: tensors from {@code tensors} (checked against the
     * config's shapes), FFN matrices from {@code ffn}, each layer's FFN block as {@code assembly} chooses;
     * {@code config} may differ from the pack's only in its context length. The model closes {@code source} when it is closed.
     */
    public static LanguageModel model(FlashPack pack, ModelConfig config, TensorSource tensors, FfnSource ffn,
                                      ModelAssembly assembly, ComputePool pool, AutoCloseable source,
                                      String description) throws IOException {
        Checked t = new Checked(pack, tensors);
        Tokenizer tokenizer = pack.tokenizer();
        return switch (config.architecture()) {
            case LLAMA -> new LlamaModel(config, llama(pack, t, ffn), tokenizer, pool, source, description, assembly);
            case OPT -> new OptModel(config, opt(pack, t, ffn), tokenizer, pool, source, description, assembly);
        };
    }

    private static LlamaWeights llama(FlashPack pack, Checked t, FfnSource ffnSource) throws IOException {
        ModelConfig c = pack.config();
        long dim = c.dim(), q = c.qDim(), kv = c.kvDim(), vocab = c.vocabSize();
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            DenseFfn ffn = ffnSource.layer(l);
            LayerExtras extras = new LayerExtras(t.optional(layer(l, PackTensorNames.BQ), q),
                    t.optional(layer(l, PackTensorNames.BK), kv), t.optional(layer(l, PackTensorNames.BV), kv),
                    t.optional(layer(l, PackTensorNames.BO), dim),
                    t.optionalEither(layer(l, PackTensorNames.Q_NORM_WEIGHT), c.headDim(), q),
                    t.optionalEither(layer(l, PackTensorNames.K_NORM_WEIGHT), c.headDim(), kv),
                    t.optional(layer(l, PackTensorNames.ATTENTION_NORM_BIAS), dim),
                    t.optional(layer(l, PackTensorNames.POST_ATTENTION_NORM_WEIGHT), dim),
                    t.optional(layer(l, PackTensorNames.FFN_NORM_BIAS), dim),
                    t.optional(layer(l, PackTensorNames.POST_FFN_NORM_WEIGHT), dim), null);
            Tensor ffnNorm = c.variant().parallelBlock() ? t.optional(layer(l, PackTensorNames.FFN_NORM_WEIGHT), dim)
                    : t.get(layer(l, PackTensorNames.FFN_NORM_WEIGHT), dim);
            layers.add(new LlamaWeights.Layer(t.get(layer(l, PackTensorNames.ATTENTION_NORM_WEIGHT), dim),
                    t.get(layer(l, PackTensorNames.WQ), q, dim), t.get(layer(l, PackTensorNames.WK), kv, dim),
                    t.get(layer(l, PackTensorNames.WV), kv, dim), t.get(layer(l, PackTensorNames.WO), dim, q),
                    ffnNorm, ffn.gate(), ffn.up(), ffn.down(), extras));
        }
        Tensor embedding = t.get(PackTensorNames.TOKEN_EMBEDDING, vocab, dim);
        Tensor output = pack.manifest().dram().tiedOutput() ? embedding : t.get(PackTensorNames.OUTPUT, vocab, dim);
        return new LlamaWeights(embedding, layers, t.get(PackTensorNames.FINAL_NORM_WEIGHT, dim),
                t.optional(PackTensorNames.FINAL_NORM_BIAS, dim), output);
    }

    private static OptWeights opt(FlashPack pack, Checked t, FfnSource ffnSource) throws IOException {
        ModelConfig c = pack.config();
        long dim = c.dim(), proj = c.embedProjDim(), vocab = c.vocabSize(), hidden = c.hiddenDim();
        List<OptWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            DenseFfn ffn = ffnSource.layer(l);
            layers.add(new OptWeights.Layer(t.get(layer(l, PackTensorNames.ATTENTION_NORM_WEIGHT), dim),
                    t.get(layer(l, PackTensorNames.ATTENTION_NORM_BIAS), dim),
                    t.get(layer(l, PackTensorNames.WQ), dim, dim), t.get(layer(l, PackTensorNames.BQ), dim),
                    t.get(layer(l, PackTensorNames.WK), dim, dim), t.get(layer(l, PackTensorNames.BK), dim),
                    t.get(layer(l, PackTensorNames.WV), dim, dim), t.get(layer(l, PackTensorNames.BV), dim),
                    t.get(layer(l, PackTensorNames.WO), dim, dim), t.get(layer(l, PackTensorNames.BO), dim),
                    t.get(layer(l, PackTensorNames.FFN_NORM_WEIGHT), dim), t.get(layer(l, PackTensorNames.FFN_NORM_BIAS), dim),
                    ffn.up(), t.get(layer(l, PackTensorNames.FFN_UP_BIAS), hidden), ffn.down(),
                    t.get(layer(l, PackTensorNames.FFN_DOWN_BIAS), dim)));
        }
        Tensor embedding = t.get(PackTensorNames.TOKEN_EMBEDDING, vocab, proj);
        Tensor output = pack.manifest().dram().tiedOutput() ? embedding : t.get(PackTensorNames.OUTPUT, vocab, proj);
        boolean projected = proj != dim;
        return new OptWeights(embedding,
                t.get(PackTensorNames.POSITION_EMBEDDING, (long) c.contextLength() + c.positionOffset(), dim),
                projected ? t.get(PackTensorNames.PROJECT_IN, dim, proj) : null,
                projected ? t.get(PackTensorNames.PROJECT_OUT, proj, dim) : null,
                t.optional(PackTensorNames.FINAL_NORM_WEIGHT, dim), t.optional(PackTensorNames.FINAL_NORM_BIAS, dim),
                layers, output);
    }

    /** One line on a pack opened for {@code how} (dense, or an engine mode). */
    public static String describe(Path dir, FlashPack pack, String how) {
        ModelConfig c = pack.config();
        PackManifest m = pack.manifest();
        return String.format(Locale.ROOT, "flash pack %s (%s): %s, %d layers, dim %d, ffn %d (%s%s), %d heads (%d kv),"
                        + " vocab %d, context %d, %s, %s", dir.getFileName(), how,
                c.architecture() == ModelConfig.Architecture.OPT ? "opt" : c.variant().family(), c.layers(), c.dim(),
                c.hiddenDim(),
                c.gatedFfn() ? "gated " : "", c.activation().name().toLowerCase(Locale.ROOT), c.heads(), c.kvHeads(),
                c.vocabSize(), c.contextLength(), m.dtype() == m.downDtype() ? PackFormat.dtypeName(m.dtype())
                        : "rows " + PackFormat.dtypeName(m.dtype()) + ", down " + PackFormat.dtypeName(m.downDtype()),
                m.layout().jsonName());
    }

    /** Tensors of the table, with the shape the config implies. */
    private record Checked(FlashPack pack, TensorSource source) {
        Tensor get(String name, long... shape) throws ModelFormatException {
            return check(source.tensor(name), shape);
        }

        Tensor optional(String name, long... shape) throws ModelFormatException {
            return pack.manifest().dram().tensor(name).isPresent() ? get(name, shape) : null;
        }

        /** An optional vector of either length (a q/k norm per head or over all heads). */
        Tensor optionalEither(String name, long a, long b) throws ModelFormatException {
            if (pack.manifest().dram().tensor(name).isEmpty()) {
                return null;
            }
            Tensor t = source.tensor(name);
            return check(t, t.elementCount() == a ? a : b);
        }

        private Tensor check(Tensor t, long... shape) throws ModelFormatException {
            if (!Arrays.equals(t.shape(), shape)) {
                throw new ModelFormatException(pack.dir().resolve(PackFormat.MANIFEST), "dram.tensors '" + t.name() + "'",
                        "shape " + Arrays.toString(t.shape()) + " disagrees with the config, which implies "
                                + Arrays.toString(shape));
            }
            return t;
        }
    }
}
