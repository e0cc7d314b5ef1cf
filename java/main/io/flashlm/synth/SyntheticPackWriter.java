package io.flashlm.synth;

import io.flashlm.model.ModelConfig;
import io.flashlm.pack.DramWriter;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.FfnLayerWriter;
import io.flashlm.pack.FfnPart;
import io.flashlm.pack.ManifestCodec;
import io.flashlm.pack.PackFormat;
import io.flashlm.pack.PackLayout;
import io.flashlm.pack.PackManifest;
import io.flashlm.pack.PackPublisher;
import io.flashlm.pack.PackTensorNames;
import io.flashlm.pack.RecordAlignment;
import io.flashlm.pack.VectorFiller;
import io.flashlm.pack.WriteBehind;
import io.flashlm.tensor.DType;
import io.flashlm.util.ByteSizes;
import io.flashlm.util.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.flashlm.pack.PackTensorNames.layer;

/**
 * `flashlm synth`: a synthetic model written straight into the flash-pack layout. Values come from
 * the native generator on all cores, into a few buffers that a background thread writes
 * sequentially, so the pack is written about as fast as the disk takes it.
 */
public final class SyntheticPackWriter {
    private SyntheticPackWriter() {
    }

    /**
     * @param seed         the model seed: the same seed and shape give the same values in any layout
     * @param reluSparsity share of a ReLU FFN's neurons that are zero for a token (the up bias's offset)
     * @param threads      generator threads
     */
    public record Options(Path out, DType dtype, PackLayout layout, int alignment, long seed, double reluSparsity,
                          int threads, boolean force) {
        public Options {
            PackFormat.synthType(PackFormat.dtypeName(dtype));
            RecordAlignment.checkRequest(alignment); // FFN units (or AUTO); the DRAM tensors: dramAlignment
        }
    }

    public record Result(Path dir, PackManifest manifest, long bytes, double seconds) {
        public double megabytesPerSecond() {
            return bytes / 1e6 / Math.max(1e-9, seconds);
        }
    }

    /** A DRAM tensor to generate: its name, dtype and shape. */
    private record Planned(String name, DType dtype, long[] shape) {
    }

    public static Result write(SyntheticShape shape, Options o, PrintStream log, boolean showProgress)
            throws IOException {
        long start = System.nanoTime();
        ModelConfig c = shape.config();
        FfnGeometry g = geometry(c, o);
        int dramAlignment = RecordAlignment.dramAlignment(g.alignment());
        SyntheticWeights weights = new SyntheticWeights(c, o.seed(), o.reluSparsity());
        boolean tied = c.architecture() == ModelConfig.Architecture.OPT; // OPT ties its head, Llama-2 does not
        List<List<Planned>> groups = plan(c, o.dtype(), tied); // head, layer 0 .. n-1, tail
        long total = plannedBytes(c, o, g);
        String source = String.format(Locale.ROOT, "synthetic %s, seed %d%s", shape.name(), o.seed(),
                c.activation() == ModelConfig.Activation.RELU ? String.format(Locale.ROOT, ", ReLU sparsity %.2f",
                        o.reluSparsity()) : "");
        log.printf(Locale.ROOT, "flashlm: writing %s to %s (%s, %s, alignment %s): %s%n", source, o.out(),
                PackFormat.dtypeName(o.dtype()), o.layout().jsonName(), RecordAlignment.name(g.alignment()),
                ByteSizes.format(total));
        try (PackPublisher publisher = PackPublisher.begin(o.out(), o.force(), log);
             WriteBehind io = new WriteBehind(3, FfnLayerWriter.minBufferBytes(g));
             ParallelFill fill = new ParallelFill(o.threads())) {
            Path dir = publisher.dir();
            Progress progress = new Progress("synth", total, log, showProgress);
            List<PackManifest.FfnLayer> layers = new ArrayList<>();
            PackManifest.FileEntry dramFile;
            List<PackManifest.TensorEntry> tensors;
            try (DramWriter dram = new DramWriter(dir, dramAlignment, io, progress)) {
                writeAll(dram, groups.getFirst(), weights, fill);
                for (int l = 0; l < c.layers(); l++) {
                    writeAll(dram, groups.get(1 + l), weights, fill);
                    layers.add(FfnLayerWriter.write(dir, l, g, fillers(g, weights, l, fill), io, progress));
                }
                writeAll(dram, groups.getLast(), weights, fill);
                dramFile = dram.finish();
                tensors = dram.tensors();
            }
            PackManifest manifest = new PackManifest(PackFormat.versionFor(g), c, o.dtype(), dramAlignment, source,
                    "flashlm synth", SyntheticTokenizer.write(dir, c), new PackManifest.DramPart(dramFile, tensors, tied),
                    new PackManifest.Ffn(g, layers));
            ManifestCodec.write(manifest, dir.resolve(PackFormat.MANIFEST));
            progress.finish();
            publisher.commit(o.force());
            return new Result(publisher.destination(), manifest, total, (System.nanoTime() - start) / 1e9);
        }
    }

    /** The size of the pack {@link #write} writes for this shape and these options, in bytes. */
    public static long plannedBytes(SyntheticShape shape, Options o) {
        return plannedBytes(shape.config(), o, geometry(shape.config(), o));
    }

    /** The FFN's geometry, its record alignment resolved ({@link RecordAlignment#resolve}: auto asks the device). */
    private static FfnGeometry geometry(ModelConfig c, Options o) {
        return RecordAlignment.resolve(new FfnGeometry(c.dim(), c.hiddenDim(), o.dtype(), c.gatedFfn(), o.layout(),
                RecordAlignment.BACK_TO_BACK), o.alignment(), o.out());
    }

    private static long plannedBytes(ModelConfig c, Options o, FfnGeometry g) {
        long total = (long) c.layers() * g.filesPerLayer() * g.fileSize();
        for (List<Planned> group : plan(c, o.dtype(), c.architecture() == ModelConfig.Architecture.OPT)) {
            for (Planned p : group) {
                total += DramWriter.plannedBytes(p.dtype(), p.shape(), RecordAlignment.dramAlignment(g.alignment()));
            }
        }
        return total;
    }

    /** The DRAM tensors in file order: the head, then each layer's, then the tail. */
    private static List<List<Planned>> plan(ModelConfig c, DType dtype, boolean tied) {
        long dim = c.dim(), kv = c.kvDim(), vocab = c.vocabSize();
        boolean opt = c.architecture() == ModelConfig.Architecture.OPT;
        List<List<Planned>> groups = new ArrayList<>();
        List<Planned> head = new ArrayList<>();
        head.add(new Planned(PackTensorNames.TOKEN_EMBEDDING, dtype, new long[]{vocab, dim}));
        if (opt) {
            head.add(new Planned(PackTensorNames.POSITION_EMBEDDING, dtype,
                    new long[]{(long) c.contextLength() + c.positionOffset(), dim}));
        }
        groups.add(head);
        for (int l = 0; l < c.layers(); l++) {
            List<Planned> t = new ArrayList<>();
            vector(t, layer(l, PackTensorNames.ATTENTION_NORM_WEIGHT), dim);
            if (opt) {
                vector(t, layer(l, PackTensorNames.ATTENTION_NORM_BIAS), dim);
            }
            String[][] projections = {{PackTensorNames.WQ, PackTensorNames.BQ}, {PackTensorNames.WK, PackTensorNames.BK},
                    {PackTensorNames.WV, PackTensorNames.BV}, {PackTensorNames.WO, PackTensorNames.BO}};
            for (String[] p : projections) {
                boolean keyValue = p[0].equals(PackTensorNames.WK) || p[0].equals(PackTensorNames.WV);
                t.add(new Planned(layer(l, p[0]), dtype, new long[]{keyValue ? kv : dim, dim}));
                if (opt) {
                    vector(t, layer(l, p[1]), dim);
                }
            }
            vector(t, layer(l, PackTensorNames.FFN_NORM_WEIGHT), dim);
            if (opt) {
                vector(t, layer(l, PackTensorNames.FFN_NORM_BIAS), dim);
                vector(t, layer(l, PackTensorNames.FFN_UP_BIAS), c.hiddenDim());
                vector(t, layer(l, PackTensorNames.FFN_DOWN_BIAS), dim);
            }
            groups.add(t);
        }
        List<Planned> tail = new ArrayList<>();
        vector(tail, PackTensorNames.FINAL_NORM_WEIGHT, dim);
        if (opt) {
            vector(tail, PackTensorNames.FINAL_NORM_BIAS, dim);
        }
        if (!tied) {
            tail.add(new Planned(PackTensorNames.OUTPUT, dtype, new long[]{vocab, dim}));
        }
        groups.add(tail);
        return groups;
    }

    private static void vector(List<Planned> out, String name, long n) {
        out.add(new Planned(name, DType.F32, new long[]{n}));
    }

    private static void writeAll(DramWriter dram, List<Planned> tensors, SyntheticWeights weights, ParallelFill fill)
            throws IOException {
        for (Planned p : tensors) {
            SyntheticWeights.Distribution d = weights.tensor(p.name());
            long cols = p.shape()[p.shape().length - 1];
            long rowBytes = p.dtype().bytesFor(cols);
            dram.write(p.name(), p.dtype(), p.shape(), (first, rows, dst) ->
                    fill.fill(p.dtype(), dst, rows, cols, rowBytes, d, first));
        }
    }

    private static Map<FfnPart, VectorFiller> fillers(FfnGeometry g, SyntheticWeights weights, int layer,
                                                      ParallelFill fill) {
        Map<FfnPart, VectorFiller> m = new EnumMap<>(FfnPart.class);
        for (FfnPart part : g.parts()) {
            SyntheticWeights.Distribution d = weights.ffn(layer, part);
            m.put(part, (first, count, dst, stride) -> fill.fill(g.dtype(), dst, count, g.dim(), stride, d, first));
        }
        return m;
    }
}
