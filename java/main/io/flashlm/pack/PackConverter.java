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

/**
 * `flashlm convert`: any model the loaders read, written as a flash pack. One layer at a time goes
 * from the mapped source through a few write buffers to disk, so memory stays at a few megabytes
 * whatever the model's size; the pack appears under its name only when complete.
 */
public final class PackConverter {
    private PackConverter() {
    }

    /**
     * @param from      a .gguf file, a llama2.c checkpoint or a Hugging Face directory
     * @param tokenizer a llama2.c tokenizer file; null to look beside the checkpoint
     * @param dtype     storage dtype of the matrices: F32, F16 or Q8_0
     * @param force     replace an existing pack at out
     */
    public record Options(Path from, Path tokenizer, Path out, DType dtype, PackLayout layout, int alignment,
                          boolean force) {
        public Options {
            PackFormat.storageType(PackFormat.dtypeName(dtype));
            RecordAlignment.checkRequest(alignment); // FFN units (or AUTO); the DRAM tensors: dramAlignment
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
            FfnGeometry g;
            try {
                FfnGeometry packed = new FfnGeometry(c.dim(), c.hiddenDim(), o.dtype(), c.gatedFfn(), o.layout(),
                        RecordAlignment.BACK_TO_BACK);
                int alignment = RecordAlignment.resolve(o.alignment(), packed.unitBytes(),
                        () -> RecordAlignment.device(o.out()));
                g = new FfnGeometry(c.dim(), c.hiddenDim(), o.dtype(), c.gatedFfn(), o.layout(), alignment);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot store this model as " + PackFormat.dtypeName(o.dtype())
                        + ": " + e.getMessage(), e);
            }
            int dramAlignment = RecordAlignment.dramAlignment(g.alignment());
            long total = plannedBytes(src, g, o, dramAlignment);
            log.printf(Locale.ROOT, "flashlm: converting %s%n  to %s (%s, %s, alignment %s): %s%n", src.describe(),
                    o.out(), PackFormat.dtypeName(o.dtype()), o.layout().jsonName(), RecordAlignment.name(g.alignment()),
                    ByteSizes.format(total));
            try (PackPublisher publisher = PackPublisher.begin(o.out(), o.force(), log);
                 WriteBehind io = new WriteBehind(3, FfnLayerWriter.minBufferBytes(g));
                 Encoder matrices = new Encoder(o.dtype());
                 Encoder vectors = new Encoder(DType.F32)) {
                Path dir = publisher.dir();
                Progress progress = new Progress("convert", total, log, showProgress);
                List<PackManifest.FfnLayer> layers = new ArrayList<>();
                PackManifest.FileEntry dramFile;
                List<PackManifest.TensorEntry> tensors;
                try (DramWriter dram = new DramWriter(dir, dramAlignment, io, progress)) {
                    writeAll(dram, src.head(), matrices, vectors);
                    for (int l = 0; l < c.layers(); l++) {
                        writeAll(dram, src.layerTensors(l), matrices, vectors);
                        layers.add(FfnLayerWriter.write(dir, l, g, fillers(src.ffn(l), matrices), io, progress));
                    }
                    writeAll(dram, src.tail(), matrices, vectors);
                    dramFile = dram.finish();
                    tensors = dram.tensors();
                }
                PackManifest.TokenizerFiles tokenizer = PackTokenizer.copyFromSource(o.from(), o.tokenizer(),
                        c.vocabSize(), dir);
                PackManifest manifest = new PackManifest(PackFormat.VERSION, c, o.dtype(), dramAlignment,
                        src.describe(), "flashlm convert", tokenizer,
                        new PackManifest.DramPart(dramFile, tensors, src.tiedOutput()), new PackManifest.Ffn(g, layers));
                ManifestCodec.write(manifest, dir.resolve(PackFormat.MANIFEST));
                progress.finish();
                publisher.commit(o.force());
                return new Result(publisher.destination(), manifest, total, (System.nanoTime() - start) / 1e9);
            }
        }
    }

    /** The pack's size in bytes, known before anything is written (for the progress bar). */
    private static long plannedBytes(ConvertSource src, FfnGeometry g, Options o, int dramAlignment) {
        List<ConvertSource.Named> all = new ArrayList<>(src.head());
        for (int l = 0; l < src.config().layers(); l++) {
            all.addAll(src.layerTensors(l));
        }
        all.addAll(src.tail());
        long total = 0;
        for (ConvertSource.Named t : all) {
            total += DramWriter.plannedBytes(dtypeOf(t, o.dtype()), shapeOf(t), dramAlignment);
        }
        return total + (long) src.config().layers() * g.filesPerLayer() * g.fileSize();
    }

    private static void writeAll(DramWriter dram, List<ConvertSource.Named> tensors, Encoder matrices, Encoder vectors)
            throws IOException {
        for (ConvertSource.Named t : tensors) {
            Encoder enc = PackTensorNames.isVector(t.name()) ? vectors : matrices;
            long[] shape = shapeOf(t);
            if (enc.dtype().isQuantized() && shape[shape.length - 1] % enc.dtype().blockSize() != 0) {
                throw new IllegalArgumentException("cannot store tensor " + t.name() + " " + Arrays.toString(shape)
                        + " as " + PackFormat.dtypeName(enc.dtype()) + ": its rows are not whole blocks of "
                        + enc.dtype().blockSize());
            }
            dram.write(t.name(), enc.dtype(), shape, rows(t.tensor(), enc));
        }
    }

    private static DType dtypeOf(ConvertSource.Named t, DType storage) {
        return PackTensorNames.isVector(t.name()) ? DType.F32 : storage;
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
        float[] row = new float[(int) t.rowLength()];
        return (first, rows, dst) -> {
            for (int k = 0; k < rows; k++) {
                t.rowToFloat(first + k, row, 0);
                enc.encode(row, 0, row.length, dst.asSlice(k * outRowBytes, outRowBytes));
            }
        };
    }

    private static Map<FfnPart, VectorFiller> fillers(ConvertSource.Ffn ffn, Encoder enc) {
        Map<FfnPart, VectorFiller> m = new EnumMap<>(FfnPart.class);
        if (ffn.gate() != null) {
            m.put(FfnPart.GATE, matrixRows(ffn.gate(), enc));
        }
        m.put(FfnPart.UP, matrixRows(ffn.up(), enc));
        m.put(FfnPart.DOWN, matrixColumns(ffn.down(), enc));
        return m;
    }

    /** Row i of a [n_ffn, dim] matrix for neuron i. */
    private static VectorFiller matrixRows(Tensor m, Encoder enc) {
        long partBytes = enc.dtype().bytesFor(m.rowLength());
        float[] row = new float[(int) m.rowLength()];
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
            for (int k = 0; k < count; k++) {
                enc.encode(tile, k * dim, dim, dst.asSlice(k * stride, partBytes));
            }
        };
    }
}
