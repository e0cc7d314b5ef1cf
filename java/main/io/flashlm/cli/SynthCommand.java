package io.flashlm.cli;

import io.flashlm.model.ModelConfig;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.pack.PackFormat;
import io.flashlm.pack.PackLayout;
import io.flashlm.pack.RecordAlignment;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.util.ByteSizes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** flashlm synth: a synthetic model of a real model's shape, written straight into a flash pack. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a synthetic model (seeded random weights scaled like a trained model's, a byte-level"
                + " tokenizer) straight into a flash pack, at disk speed.",
                "Shapes: opt-6.7b (13.4 GB in f16), opt-1.3b, llama-2-7b, tiny (a few MB, for tests), or custom:"
                        + " --shape custom with --arch --layers --dim --ffn --heads --vocab."})
public final class SynthCommand implements Callable<Integer> {
    @Option(names = "--shape", required = true, description = "opt-6.7b, opt-1.3b, llama-2-7b, tiny or custom.")
    String shape;

    @Option(names = "--out", required = true, description = "The pack directory to create.")
    Path out;

    @Option(names = "--dtype", defaultValue = "f16", description = "f32, f16, q8_0, or q4_0, q4_k, q5_k, q6_k (random quants under"
            + " fixed scales: speed tests). Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--layout", defaultValue = "bundled", description = "bundled or unbundled. Default: ${DEFAULT-VALUE}.")
    String layout;

    @Option(names = {"--alignment", "--align"}, defaultValue = "auto", description = "Where FFN records start:"
            + " auto (the layout whose record reads touch the fewest of the device's physical blocks, then the"
            + " smallest stride: docs/benchmarks.md), back-to-back (no padding; O_DIRECT reads are widened), dio"
            + " (padded to this device's O_DIRECT alignment) or a power of two from 512 (records padded to it; DRAM"
            + " tensors aligned to it too, else to 4096). Default: ${DEFAULT-VALUE}.")
    String align;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the weights. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--relu-sparsity", defaultValue = "0.97", description = "Share of a ReLU FFN's neurons that are"
            + " zero for a token (OPT-6.7B: 0.97). Default: ${DEFAULT-VALUE}.")
    double reluSparsity;

    @Option(names = "--arch", description = "Custom shapes: opt (ReLU, learned positions) or llama (gated SiLU, RoPE).")
    String arch;

    @Option(names = "--layers", description = "Custom shapes: decoder layers.")
    Integer layers;

    @Option(names = "--dim", description = "Custom shapes: d_model.")
    Integer dim;

    @Option(names = "--ffn", description = "Custom shapes: FFN width (neurons per layer).")
    Integer ffn;

    @Option(names = "--heads", description = "Custom shapes: attention heads.")
    Integer heads;

    @Option(names = "--vocab", description = "Custom shapes: vocabulary size (at least 260). Default: 50272 (opt),"
            + " 32000 (llama).")
    Integer vocab;

    @Option(names = "--context", description = "Custom shapes: context length. Default: 2048.")
    Integer context;

    @Option(names = "--activation", description = "Custom llama shapes: silu (default), relu or gelu.")
    String activation;

    @Option(names = "--threads", description = "Generator threads (default: all cores).")
    Integer threads;

    @Option(names = "--force", description = "Replace OUT if it is a flash pack already.")
    boolean force;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        NativeLibrary.require(); // before any work: a missing library is one clear message
        boolean customFlags = arch != null || layers != null || dim != null || ffn != null || heads != null
                || vocab != null || context != null || activation != null;
        if (!shape.equalsIgnoreCase("custom") && customFlags) {
            throw new IllegalArgumentException("--arch, --layers, --dim, --ffn, --heads, --vocab, --context and"
                    + " --activation go with --shape custom, not with the preset " + shape);
        }
        SyntheticShape s = shape.equalsIgnoreCase("custom") ? custom() : SyntheticShape.preset(shape);
        SyntheticPackWriter.Options o = new SyntheticPackWriter.Options(out, PackFormat.synthType(dtype),
                PackLayout.parse(layout), RecordAlignment.parse(align, () -> RecordAlignment.deviceAlignment(out)),
                seed, reluSparsity,
                threads != null ? threads : Runtime.getRuntime().availableProcessors(), force);
        SyntheticPackWriter.Result r = SyntheticPackWriter.write(s, o, System.err, !quiet);
        System.out.printf(Locale.ROOT, "wrote %s: %s in %.1f s (%.0f MB/s)%n", r.dir(), ByteSizes.format(r.bytes()),
                r.seconds(), r.megabytesPerSecond());
        return 0;
    }

    private SyntheticShape custom() {
        if (arch == null || layers == null || dim == null || ffn == null || heads == null) {
            throw new IllegalArgumentException("--shape custom needs --arch, --layers, --dim, --ffn and --heads");
        }
        boolean opt = arch.equalsIgnoreCase("opt");
        ModelConfig.Activation act = null;
        if (activation != null) {
            try {
                act = ModelConfig.Activation.valueOf(activation.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--activation " + activation + " is not one of silu, relu, gelu");
            }
        }
        return SyntheticShape.custom(arch, layers, dim, ffn, heads, vocab != null ? vocab : opt ? 50272 : 32000,
                context != null ? context : 2048, act);
    }
}
