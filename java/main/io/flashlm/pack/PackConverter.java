package io.flashlm.pack;

import io.flashlm.model.ModelConfig;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import io.flashlm.util.ByteSizes;
import io.flashlm.util.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * `flashlm convert`: any model the loaders read, written as a flash pack. One layer at a time goes
 * from the mapped source through a few write buffers to disk, so memory stays at a few megabytes
 * whatever the model's size; the pack appears under its name only when complete.
 */
public final class PackConverter {
    private PackConverter() {
    }

    /**
     * @param from       a .gguf file, a llama2.c checkpoint or a Hugging Face directory
     * @param tokenizer  a llama2.c tokenizer file; null to look beside the checkpoint
     * @param dtype      storage dtype (one of {@link PackFormat#STORAGE_TYPES}); null to choose: f16 for an
     *                   unquantized source, q8_0 down columns (and the source's own rows) for a quantized one
     *                   ({@link StoragePlan})
     * @param force      replace an existing pack at out
     * @param requantize re-encode every matrix to dtype, even those kept in the source's block type by default
     */
    public record Options(Path from, Path tokenizer, Path out, DType dtype, PackLayout layout, int alignment,
                          boolean force, boolean requantize) {
        public Options {
            if (dtype != null) {
                PackFormat.storageType(PackFormat.dtypeName(dtype));
            }
            RecordAlignment.checkRequest(alignment); // FFN units (or AUTO); the DRAM tensors: dramAlignment
        }

        /** Without --requantize. */
        public Options(Path from, Path tokenizer, Path out, DType dtype, PackLayout layout, int alignment,
                       boolean force) {
            this(from, tokenizer, out, dtype, layout, alignment, force, false);
        }
    }

    /** What was written: the pack's directory and manifest, its bytes and how long it took. */
    public record Result(Path dir, PackManifest manifest, long bytes, double seconds) {
    }

    public static Result convert(Options o, PrintStream log, boolean showProgress) throws IOException {
        long start = System.nanoTime();
        PackPublisher.checkTarget(o.out().toAbsolutePath().normalize(), o.force()); // before the work
        try (ConvertSource src = ConvertSource.open(o.from(), o.tokenizer())) {
            ModelConfig c = src.config();
            StoragePlan plan = StoragePlan.choose(src, o.dtype(), o.requantize());
            FfnGeometry g;
            try {
                g = RecordAlignment.resolve(new FfnGeometry(c.dim(), c.hiddenDim(), plan.rowType(), plan.downType(),
                        c.gatedFfn(), o.layout(), RecordAlignment.BACK_TO_BACK), o.alignment(), o.out());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot store this model's FFN as " + types(plan) + ": "
                        + e.getMessage(), e);
            }
            int dramAlignment = RecordAlignment.dramAlignment(g.alignment());
            long total = plannedBytes(src, g, plan, dramAlignment);
            log.printf(Locale.ROOT, "flashlm: converting %s%n  to %s (%s, %s, alignment %s): %s%n", src.describe(),
                    o.out(), types(plan), o.layout().jsonName(), RecordAlignment.name(g.alignment()),
                    ByteSizes.format(total));
            plan.notes().forEach(n -> log.println("  " + n));
            try (PackPublisher publisher = PackPublisher.begin(o.out(), o.force(), log);
                 WriteBehind io = new WriteBehind(3, FfnLayerWriter.minBufferBytes(g));
                 Encoders encoders = new Encoders()) {
                Path dir = publisher.dir();
                Progress progress = new Progress("convert", total, log, showProgress);
                List<PackManifest.FfnLayer> layers = new ArrayList<>();
                PackManifest.FileEntry dramFile;
                List<PackManifest.TensorEntry> tensors;
                try (DramWriter dram = new DramWriter(dir, dramAlignment, io, progress)) {
                    writeAll(dram, src.head(), plan, encoders);
                    for (int l = 0; l < c.layers(); l++) {
                        writeAll(dram, src.layerTensors(l), plan, encoders);
                        layers.add(FfnLayerWriter.write(dir, l, g, fillers(src.ffn(l), encoders.of(g.rowDtype()),
                                encoders.of(g.downDtype())), io, progress));
                    }
                    writeAll(dram, src.tail(), plan, encoders);
                    dramFile = dram.finish();
                    tensors = dram.tensors();
                }
                PackManifest.TokenizerFiles tokenizer = PackTokenizer.copyFromSource(o.from(), o.tokenizer(),
                        c.vocabSize(), dir);
                PackManifest manifest = new PackManifest(PackFormat.versionFor(g), c, g.rowDtype(), dramAlignment,
                        src.describe(), "flashlm convert", tokenizer,
                        new PackManifest.DramPart(dramFile, tensors, src.tiedOutput()), new PackManifest.Ffn(g, layers));
                ManifestCodec.write(manifest, dir.resolve(PackFormat.MANIFEST));
                progress.finish();
                publisher.commit(o.force());
                return new Result(publisher.destination(), manifest, total, (System.nanoTime() - start) / 1e9);
            }
        }
    }

    /** "q8_0", or "rows q4_k, down q8_0" when they differ. */
    private static String types(StoragePlan plan) {
        return plan.rowType() == plan.downType() ? PackFormat.dtypeName(plan.rowType())
                : "rows " + PackFormat.dtypeName(plan.rowType()) + ", down " + PackFormat.dtypeName(plan.downType());
    }

    /** The pack's size in bytes, known before anything is written (for the progress bar). */
    private static long plannedBytes(ConvertSource src, FfnGeometry g, StoragePlan plan, int dramAlignment) {
        long total = 0;
        for (ConvertSource.Named t : src.allDramTensors()) {
            total += DramWriter.plannedBytes(plan.dramType(t), shapeOf(t), dramAlignment);
        }
        return total + (long) src.config().layers() * g.filesPerLayer() * g.fileSize();
    }

    private static void writeAll(DramWriter dram, List<ConvertSource.Named> tensors, StoragePlan plan,
                                 Encoders encoders) throws IOException {
        for (ConvertSource.Named t : tensors) {
            Encoder enc = encoders.of(plan.dramType(t));
            long[] shape = shapeOf(t);
            if (enc.dtype().isQuantized() && shape[shape.length - 1] % enc.dtype().blockSize() != 0) {
                throw new IllegalArgumentException("cannot store tensor " + t.name() + " " + Arrays.toString(shape)
                        + " as " + PackFormat.dtypeName(enc.dtype()) + ": its rows are not whole blocks of "
                        + enc.dtype().blockSize());
            }
            dram.write(t.name(), enc.dtype(), shape, rows(t.tensor(), enc));
        }
    }

    /** One encoder per storage type, made when first needed. */
    private static final class Encoders implements AutoCloseable {
        private final Map<DType, Encoder> byType = new EnumMap<>(DType.class);

        Encoder of(DType t) {
            return byType.computeIfAbsent(t, Encoder::new);
        }

        @Override
        public void close() {
            byType.values().forEach(Encoder::close);
        }
    }

    /** Vectors are stored as [n] even where the source says [1, n]. */
    private static long[] shapeOf(ConvertSource.Named t) {
        return PackTensorNames.isVector(t.name()) ? new long[]{t.tensor().elementCount()} : t.tensor().shape();
    }

    /** Rows of t in the encoder's dtype: the bytes themselves when the dtype is the same, so nothing changes. */
    private static RowFiller rows(Tensor t, Encoder enc) {
        long outRowBytes = enc.dtype().bytesFor(t.rowLength());
        if (t.dtype() == enc.dtype()) {
            return (first, rows, dst) -> MemorySegment.copy(t.data(), first * t.rowBytes(), dst, 0, rows * t.rowBytes());
        }
        int n = (int) t.rowLength();
        if (enc.concurrent()) { // Java quantizers: rows are independent, so spread them over the cores
            return (first, rows, dst) -> IntStream.range(0, rows).parallel().forEach(k -> {
                float[] row = new float[n];
                t.rowToFloat(first + k, row, 0);
                enc.encodeConcurrently(row, 0, n, dst.asSlice(k * outRowBytes, outRowBytes));
            });
        }
        float[] row = new float[n];
        return (first, rows, dst) -> {
            for (int k = 0; k < rows; k++) {
                t.rowToFloat(first + k, row, 0);
                enc.encode(row, 0, row.length, dst.asSlice(k * outRowBytes, outRowBytes));
            }
        };
    }

    private static Map<FfnPart, VectorFiller> fillers(ConvertSource.Ffn ffn, Encoder rows, Encoder down) {
        Map<FfnPart, VectorFiller> m = new EnumMap<>(FfnPart.class);
        if (ffn.gate() != null) {
            m.put(FfnPart.GATE, matrixRows(ffn.gate(), rows));
        }
        m.put(FfnPart.UP, matrixRows(ffn.up(), rows));
        m.put(FfnPart.DOWN, matrixColumns(ffn.down(), down));
        return m;
    }

    /** Row i of a [n_ffn, dim] matrix for neuron i. */
    private static VectorFiller matrixRows(Tensor m, Encoder enc) {
        long partBytes = enc.dtype().bytesFor(m.rowLength());
        int n = (int) m.rowLength();
        if (enc.concurrent() && m.dtype() != enc.dtype()) {
            return (first, count, dst, stride) -> IntStream.range(0, count).parallel().forEach(k -> {
                float[] row = new float[n];
                m.rowToFloat(first + k, row, 0);
                enc.encodeConcurrently(row, 0, n, dst.asSlice(k * stride, partBytes));
            });
        }
        float[] row = new float[n];
        return (first, count, dst, stride) -> {
            for (int k = 0; k < count; k++) {
                if (m.dtype() == enc.dtype()) {
                    MemorySegment.copy(m.data(), (first + k) * m.rowBytes(), dst, k * stride, partBytes);
                } else {
                    m.rowToFloat(first + k, row, 0);
                    enc.encode(row, 0, row.length, dst.asSlice(k * stride, partBytes));
                }
            }
        };
    }

    /**
     * Column i of a [dim, n_ffn] matrix for neuron i: a tile of neurons is transposed through f32 (exact
     * for f32, f16 and bf16 sources), reading each source row's slice once.
     */
    private static VectorFiller matrixColumns(Tensor m, Encoder enc) {
        int dim = (int) m.rowCount();
        long partBytes = enc.dtype().bytesFor(dim);
        return (first, count, dst, stride) -> {
            float[] slice = new float[count];
            float[] tile = new float[count * dim];
            for (int r = 0; r < dim; r++) {
                TensorDecoder.decode(m, r, first, count, slice, 0);
                for (int k = 0; k < count; k++) {
                    tile[k * dim + r] = slice[k];
                }
            }
            if (enc.concurrent()) {
                IntStream.range(0, count).parallel().forEach(k ->
                        enc.encodeConcurrently(tile, k * dim, dim, dst.asSlice(k * stride, partBytes)));
            } else {
                for (int k = 0; k < count; k++) {
                    enc.encode(tile, k * dim, dim, dst.asSlice(k * stride, partBytes));
                }
            }
        };
    }
}
