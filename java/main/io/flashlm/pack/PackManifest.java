package io.flashlm.pack;

import io.flashlm.model.ModelConfig;
import io.flashlm.tensor.DType;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The contents of a pack's manifest.json (docs/flash-pack.md): what the model is, where every byte
 * of it lies, and the checksums that say the bytes are the ones written.
 *
 * @param version   manifest version: 1, or 2 where the FFN needs it ({@link PackFormat#versionFor})
 * @param config    the model's shape and conventions
 * @param dtype     storage dtype of the FFN's gate and up rows, the geometry's {@link FfnGeometry#rowDtype()}
 *                  (the down columns' is {@link #downDtype()}; each DRAM tensor has its own, and norms and
 *                  biases are always f32)
 * @param alignment alignment of every DRAM tensor and FFN unit, in bytes
 * @param source    what the pack was made from (for people, not parsed)
 * @param createdBy the flashlm version and command that wrote it
 * @param tokenizer the tokenizer files in the pack
 * @param dram      the DRAM-resident part
 * @param ffn       the flash-resident FFN
 */
public record PackManifest(int version, ModelConfig config, DType dtype, int alignment, String source,
                           String createdBy, TokenizerFiles tokenizer, DramPart dram, Ffn ffn) {

    public PackManifest {
        tokenizer = requireNonNull(tokenizer, "tokenizer");
        dram = requireNonNull(dram, "dram");
        ffn = requireNonNull(ffn, "ffn");
        if (dtype != ffn.geometry().rowDtype()) {
            throw new IllegalArgumentException("dtype " + dtype + " is not the FFN rows' " + ffn.geometry().rowDtype());
        }
        if (version < PackFormat.versionFor(ffn.geometry())) {
            throw new IllegalArgumentException("version " + version + " cannot describe FFN rows of "
                    + PackFormat.dtypeName(dtype) + " and down columns of "
                    + PackFormat.dtypeName(ffn.geometry().downDtype()) + "; it needs version "
                    + PackFormat.versionFor(ffn.geometry()));
        }
    }

    /** Storage dtype of the FFN's down columns (the manifest's down_dtype; dtype in version 1). */
    public DType downDtype() {
        return ffn.geometry().downDtype();
    }

    private static <T> T requireNonNull(T v, String what) {
        if (v == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        return v;
    }

    public PackLayout layout() {
        return ffn.geometry().layout();
    }

    /** A file of the pack, relative to its directory, with its size and CRC-32C. */
    public record FileEntry(String path, long size, int crc32c) {
    }

    /**
     * The tokenizer, as files copied into the pack.
     *
     * @param kind  {@link PackTokenizer#HF_JSON}, {@link PackTokenizer#LLAMA2C}, {@link PackTokenizer#SP_VOCAB} or
     *              {@link PackTokenizer#BPE_VOCAB}
     * @param files the files, the main one first
     */
    public record TokenizerFiles(String kind, List<FileEntry> files) {
        public TokenizerFiles {
            files = List.copyOf(files);
        }
    }

    /**
     * One tensor of dram.bin.
     *
     * @param offset file offset, a multiple of the alignment
     * @param bytes  exactly what dtype and shape need
     */
    public record TensorEntry(String name, DType dtype, long[] shape, long offset, long bytes, int crc32c) {
        public TensorEntry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorEntry t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                    && offset == t.offset && bytes == t.bytes && crc32c == t.crc32c;
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Long.hashCode(offset);
        }

        @Override
        public String toString() {
            return "TensorEntry[" + name + ", " + dtype + ", " + Arrays.toString(shape) + ", offset " + offset + ", "
                    + bytes + " bytes]";
        }
    }

    /**
     * The DRAM-resident part: one file of aligned tensors.
     *
     * @param file       dram.bin with the CRC-32C of all its bytes (checked on open)
     * @param tensors    the tensor table, in file order
     * @param tiedOutput whether the output head is the token embedding (then there is no "output" tensor)
     */
    public record DramPart(FileEntry file, List<TensorEntry> tensors, boolean tiedOutput) {
        public DramPart {
            tensors = List.copyOf(tensors);
        }

        public Optional<TensorEntry> tensor(String name) {
            return tensors.stream().filter(t -> t.name().equals(name)).findFirst();
        }
    }

    /**
     * One FFN file of a layer.
     *
     * @param parts the parts each unit holds, in order
     */
    public record FfnFile(String path, List<FfnPart> parts, long size) {
        public FfnFile {
            parts = List.copyOf(parts);
        }
    }

    /**
     * One layer's FFN.
     *
     * @param files     the files ({@link FfnGeometry#filesPerLayer()} of them)
     * @param checksums the per-unit CRC-32C file: for each file in order, one little-endian uint32 per neuron,
     *                  over the unit's whole stride (padding included)
     */
    public record FfnLayer(List<FfnFile> files, FileEntry checksums) {
        public FfnLayer {
            files = List.copyOf(files);
        }
    }

    /** The flash-resident FFN: its geometry and each layer's files. */
    public record Ffn(FfnGeometry geometry, List<FfnLayer> layers) {
        public Ffn {
            layers = List.copyOf(layers);
        }
    }
}
