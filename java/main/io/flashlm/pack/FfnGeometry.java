package io.flashlm.pack;

import io.flashlm.tensor.DType;

import java.util.List;
import java.util.Locale;

/**
 * Where each FFN vector of a layer lies on flash. Every neuron has the same parts (gate row, up row,
 * down column; each {@code dim} values): the rows in {@link #rowDtype()}, the down column in
 * {@link #downDtype()} (the two differ when a quantized model's rows are kept as stored and its down
 * columns re-quantized). The unit of storage is a whole record of parts (bundled) or one part
 * (unbundled); units start at multiples of {@link #stride()}, which is the unit size rounded up to the
 * alignment (so an O_DIRECT read of any run of neurons is aligned), or the unit size itself when the
 * alignment is {@link RecordAlignment#BACK_TO_BACK} (no padding; an O_DIRECT reader widens such reads to
 * its block). Unbundled, every file has the same stride, that of the largest part, so a mixed pack pads
 * its smaller parts there.
 *
 * @param dim       d_model: the length of every part
 * @param neurons   n_ffn: the number of neurons (units per file)
 * @param rowDtype  storage dtype of the gate and up rows (any of {@link PackFormat#isFfnType})
 * @param downDtype storage dtype of the down columns
 * @param gated     whether neurons have a gate row
 * @param layout    bundled (one file of records) or unbundled (one file per part)
 * @param alignment unit alignment in bytes: a power of two from 512 to 1 MiB, or 1 (back to back)
 */
public record FfnGeometry(int dim, int neurons, DType rowDtype, DType downDtype, boolean gated, PackLayout layout,
                          int alignment) {

    public FfnGeometry {
        if (dim <= 0 || neurons <= 0) {
            throw new IllegalArgumentException("FFN of dim " + dim + " and " + neurons + " neurons");
        }
        RecordAlignment.check(alignment);
        for (DType t : new DType[] {rowDtype, downDtype}) {
            if (!PackFormat.isFfnType(t)) {
                throw new IllegalArgumentException("an FFN part cannot be stored as " + PackFormat.dtypeName(t)
                        + "; a pack stores " + PackFormat.FFN_TYPE_NAMES);
            }
            if (dim % t.blockSize() != 0) {
                throw new IllegalArgumentException(PackFormat.dtypeName(t) + " stores blocks of " + t.blockSize()
                        + " values, but FFN vectors have d_model = " + dim + " values");
            }
        }
    }

    /** Every part in {@code dtype}. */
    public FfnGeometry(int dim, int neurons, DType dtype, boolean gated, PackLayout layout, int alignment) {
        this(dim, neurons, dtype, dtype, gated, layout, alignment);
    }

    /** This geometry with another unit alignment (the unit size does not depend on it). */
    public FfnGeometry withAlignment(int alignment) {
        return new FfnGeometry(dim, neurons, rowDtype, downDtype, gated, layout, alignment);
    }

    /** Whether rows and down columns share one dtype. */
    public boolean uniform() {
        return rowDtype == downDtype;
    }

    /**
     * The one dtype of every part, for code that assumes a single type.
     *
     * @throws IllegalStateException when rows and down columns differ ({@link #uniform()} false): such code
     *                               would misread the pack; use {@link #dtype(FfnPart)}
     */
    public DType dtype() {
        requireUniform("dtype()");
        return rowDtype;
    }

    /** The storage dtype of {@code part}: {@link #downDtype()} for DOWN, else {@link #rowDtype()}. */
    public DType dtype(FfnPart part) {
        return part == FfnPart.DOWN ? downDtype : rowDtype;
    }

    private static final List<FfnPart> GATED_PARTS = List.of(FfnPart.GATE, FfnPart.UP, FfnPart.DOWN);
    private static final List<FfnPart> UNGATED_PARTS = List.of(FfnPart.UP, FfnPart.DOWN);

    /** The parts of a neuron, in record order: [gate,] up, down (shared immutable lists: no allocation per call). */
    public List<FfnPart> parts() {
        return gated ? GATED_PARTS : UNGATED_PARTS;
    }

    /** Bytes of {@code part} (one vector of dim values in its dtype). */
    public long partBytes(FfnPart part) {
        return dtype(part).bytesFor(dim);
    }

    /**
     * Bytes of every part, for code that assumes a single type.
     *
     * @throws IllegalStateException when the parts differ in size ({@link #uniform()} false); use
     *                               {@link #partBytes(FfnPart)}
     */
    public long partBytes() {
        requireUniform("partBytes()");
        return partBytes(FfnPart.UP);
    }

    /** Offset of {@code part} inside a record: the bytes of the parts before it. */
    public long partOffset(FfnPart part) {
        // [gate,] up, down: the rows (each partBytes(UP)) come first
        long row = partBytes(FfnPart.UP);
        return switch (part) {
            case GATE -> {
                if (!gated) {
                    throw new IllegalArgumentException("an FFN that is not gated has no " + part);
                }
                yield 0;
            }
            case UP -> gated ? row : 0;
            case DOWN -> gated ? 2 * row : row;
        };
    }

    /** Bytes of a neuron's parts together, without padding. */
    public long recordBytes() {
        long total = 0;
        for (FfnPart p : parts()) {
            total += partBytes(p);
        }
        return total;
    }

    /** Bytes of one storage unit before padding: a record (bundled) or the largest part (unbundled). */
    public long unitBytes() {
        return layout == PackLayout.BUNDLED ? recordBytes() : Math.max(partBytes(FfnPart.UP), partBytes(FfnPart.DOWN));
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
        long inRecord = partOffset(part); // also refuses a part the FFN does not have
        return layout == PackLayout.BUNDLED ? inRecord : 0;
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

    private void requireUniform(String what) {
        if (!uniform()) {
            throw new IllegalStateException(what + " of an FFN whose rows are " + PackFormat.dtypeName(rowDtype)
                    + " and down columns " + PackFormat.dtypeName(downDtype) + ": ask per part (dtype(part),"
                    + " partBytes(part))");
        }
    }
}
