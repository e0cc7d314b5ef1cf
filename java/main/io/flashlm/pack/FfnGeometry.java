package io.flashlm.pack;

import io.flashlm.tensor.DType;

import java.util.List;
import java.util.Locale;

/**
 * Where each FFN vector of a layer lies on flash. Every neuron has the same parts (gate row, up row,
 * down column; each {@code dim} values in the storage dtype). The unit of storage is a whole record of
 * parts (bundled) or one part (unbundled); units start at multiples of {@link #stride()}, which is the
 * unit size rounded up to the alignment (so an O_DIRECT read of any run of neurons is aligned), or the
 * unit size itself when the alignment is {@link RecordAlignment#BACK_TO_BACK} (no padding; an O_DIRECT
 * reader widens such reads to its block).
 *
 * @param dim       d_model: the length of every part
 * @param neurons   n_ffn: the number of neurons (units per file)
 * @param dtype     storage dtype of the parts (f32, f16, q8_0: blocks of 32 inside each part)
 * @param gated     whether neurons have a gate row
 * @param layout    bundled (one file of records) or unbundled (one file per part)
 * @param alignment unit alignment in bytes: a power of two from 512 to 1 MiB, or 1 (back to back)
 */
public record FfnGeometry(int dim, int neurons, DType dtype, boolean gated, PackLayout layout, int alignment) {

    public FfnGeometry {
        if (dim <= 0 || neurons <= 0) {
            throw new IllegalArgumentException("FFN of dim " + dim + " and " + neurons + " neurons");
        }
        RecordAlignment.check(alignment);
        if (dim % dtype.blockSize() != 0) {
            throw new IllegalArgumentException(PackFormat.dtypeName(dtype) + " stores blocks of " + dtype.blockSize()
                    + " values, but FFN vectors have d_model = " + dim + " values");
        }
    }

    /** The parts of a neuron, in record order: [gate,] up, down. */
    public List<FfnPart> parts() {
        return gated ? List.of(FfnPart.GATE, FfnPart.UP, FfnPart.DOWN) : List.of(FfnPart.UP, FfnPart.DOWN);
    }

    /** Bytes of one part (one vector of dim values). */
    public long partBytes() {
        return dtype.bytesFor(dim);
    }

    /** Bytes of a neuron's parts together, without padding. */
    public long recordBytes() {
        return parts().size() * partBytes();
    }

    /** Bytes of one storage unit before padding: a record (bundled) or a part (unbundled). */
    public long unitBytes() {
        return layout == PackLayout.BUNDLED ? recordBytes() : partBytes();
    }

    /** Distance between consecutive units: the unit size rounded up to the alignment (itself when back to back). */
    public long stride() {
        return RecordAlignment.stride(unitBytes(), alignment);
    }

    /** Size of each FFN file of a layer. */
    public long fileSize() {
        return Math.multiplyExact((long) neurons, stride());
    }

    /** FFN files per layer: 1 bundled, one per part unbundled. */
    public int filesPerLayer() {
        return layout == PackLayout.BUNDLED ? 1 : parts().size();
    }

    /** The parts file {@code file} of a layer holds, in unit order. */
    public List<FfnPart> partsOfFile(int file) {
        return layout == PackLayout.BUNDLED ? parts() : List.of(parts().get(file));
    }

    /** The index of the layer file holding {@code part}. */
    public int fileOf(FfnPart part) {
        int i = parts().indexOf(part);
        if (i < 0) {
            throw new IllegalArgumentException("an FFN that is " + (gated ? "" : "not ") + "gated has no " + part);
        }
        return layout == PackLayout.BUNDLED ? 0 : i;
    }

    /** Offset of {@code part} inside its unit. */
    public long offsetInUnit(FfnPart part) {
        int i = parts().indexOf(part);
        return layout == PackLayout.BUNDLED ? i * partBytes() : 0;
    }

    /** File offset of neuron {@code neuron}'s {@code part} in file {@link #fileOf(FfnPart)}. */
    public long offsetOf(long neuron, FfnPart part) {
        return neuron * stride() + offsetInUnit(part);
    }

    /** The path, relative to the pack, of file {@code file} of layer {@code layer}. */
    public String fileName(int layer, int file) {
        String base = String.format(Locale.ROOT, "%s/layer-%03d", PackFormat.FFN_DIR, layer);
        return layout == PackLayout.BUNDLED ? base + ".bin" : base + "." + parts().get(file).jsonName() + ".bin";
    }

    /** The path, relative to the pack, of layer {@code layer}'s per-unit checksums. */
    public static String checksumFileName(int layer) {
        return String.format(Locale.ROOT, "%s/layer-%03d.crc", PackFormat.FFN_DIR, layer);
    }

    /** Size of a layer's checksum file: one uint32 per unit of every file. */
    public long checksumFileSize() {
        return 4L * filesPerLayer() * neurons;
    }
}
