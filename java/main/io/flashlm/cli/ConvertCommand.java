package io.flashlm.cli;

import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.pack.PackConverter;
import io.flashlm.pack.PackFormat;
import io.flashlm.pack.PackLayout;
import io.flashlm.pack.RecordAlignment;
import io.flashlm.util.ByteSizes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** flashlm convert: a model file or directory to a flash pack. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a model (llama2.c .bin, GGUF, Hugging Face directory) to a flash pack: the DRAM part in"
                + " dram.bin, each layer's FFN on flash as neuron records (docs/flash-pack.md).",
                "Streams one layer at a time, writes into a temporary directory beside OUT and renames it when done."})
public final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, description = "The model: a .gguf file, a llama2.c checkpoint or a"
            + " Hugging Face directory.")
    Path from;

    @Option(names = "--out", required = true, description = "The pack directory to create.")
    Path out;

    @Option(names = "--tokenizer", description = "Tokenizer file of a llama2.c checkpoint (default: tokenizer.bin or"
            + " tok<vocab>.bin beside it).")
    Path tokenizer;

    @Option(names = "--dtype", description = "Storage type of the matrices: f32, f16, q8_0, q4_0, q4_k, q5_k, q6_k"
            + " (norms and biases stay f32). From a quantized source (GGUF q4_k_m etc.) the FFN's gate/up rows and the"
            + " DRAM matrices keep their block types unless the type is f32 or f16 (or --requantize), and the down"
            + " columns are quantized to it. Default: f16, or q8_0 down columns for a quantized source.")
    String dtype;

    @Option(names = "--requantize", description = "Re-encode every matrix to --dtype, also those a quantized source"
            + " stores in a block type the engine reads.")
    boolean requantize;

    @Option(names = "--layout", defaultValue = "bundled", description = "bundled (one record per neuron) or unbundled"
            + " (one file per matrix). Default: ${DEFAULT-VALUE}.")
    String layout;

    @Option(names = {"--alignment", "--align"}, defaultValue = "auto", description = "Where FFN records start:"
            + " auto (the layout whose record reads touch the fewest of the device's physical blocks, then the"
            + " smallest stride: docs/benchmarks.md), back-to-back (no padding; O_DIRECT reads are widened), dio"
            + " (padded to this device's O_DIRECT alignment) or a power of two from 512 (records padded to it; DRAM"
            + " tensors aligned to it too, else to 4096). Default: ${DEFAULT-VALUE}.")
    String align;

    @Option(names = "--force", description = "Replace OUT if it is a flash pack already.")
    boolean force;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        NativeLibrary.require(); // before any work: a missing library is one clear message
        PackConverter.Options o = new PackConverter.Options(from, tokenizer, out,
                dtype == null ? null : PackFormat.storageType(dtype), PackLayout.parse(layout),
                RecordAlignment.parse(align, () -> RecordAlignment.deviceAlignment(out)), force, requantize);
        PackConverter.Result r = PackConverter.convert(o, System.err, !quiet);
        System.out.printf(Locale.ROOT, "wrote %s: %s in %.1f s (%.0f MB/s)%n", r.dir(), ByteSizes.format(r.bytes()),
                r.seconds(), r.bytes() / 1e6 / Math.max(1e-9, r.seconds()));
        return 0;
    }
}
