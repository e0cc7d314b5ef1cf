package io.flashlm.pack;

import io.flashlm.tensor.DType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** Names and limits of the flash-pack format (docs/flash-pack.md). */
public final class PackFormat {
    /** The manifest's "format" value. */
    public static final String FORMAT = "flashlm-pack";
    /**
     * The newest manifest version this code reads. Writers write {@link #versionFor}: 1 where version 1
     * says everything (every FFN part in one of f32, f16, q8_0), else 2 (a down_dtype of its own, or a
     * row type version 1 readers do not know), so that an older flashlm refuses what it would misread.
     */
    public static final int VERSION = 2;
    public static final String MANIFEST = "manifest.json";
    public static final String DRAM_FILE = "dram.bin";
    public static final String FFN_DIR = "ffn";
    public static final int DEFAULT_ALIGNMENT = 4096;
    public static final int MIN_ALIGNMENT = 512;
    public static final int MAX_ALIGNMENT = 1 << 20;

    private PackFormat() {
    }

    /** Whether {@code dir} looks like a flash pack (it has a manifest); nothing is validated. */
    public static boolean isPack(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(MANIFEST));
    }

    /** Alignments are powers of two from 512 B (a sector) to 1 MiB. */
    public static int checkAlignment(long alignment) {
        if (alignment < MIN_ALIGNMENT || alignment > MAX_ALIGNMENT || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment " + alignment + " must be a power of two from "
                    + MIN_ALIGNMENT + " to " + MAX_ALIGNMENT + " (512 and 4096 are the usual O_DIRECT block sizes)");
        }
        return (int) alignment;
    }

    /** The types `convert --dtype` writes (f32, f16 and q8_0 through the native encoder, the rest in Java). */
    public static final List<DType> STORAGE_TYPES = List.of(DType.F32, DType.F16, DType.Q8_0, DType.Q4_0, DType.Q4_K,
            DType.Q5_K, DType.Q6_K);
    /** The types `synth` generates (natively: the 4- to 6-bit ones as random quants under fixed scales). */
    public static final List<DType> SYNTH_TYPES = List.of(DType.F32, DType.F16, DType.Q8_0, DType.Q4_0, DType.Q4_K,
            DType.Q5_K, DType.Q6_K);
    /** The FFN types version 1 manifests describe (one type for every part). */
    static final List<DType> V1_TYPES = List.of(DType.F32, DType.F16, DType.Q8_0);
    /** The names of the types an FFN part can have in a pack: every type flashlm reads but bf16. */
    public static final String FFN_TYPE_NAMES = Arrays.stream(DType.values()).filter(PackFormat::isFfnType)
            .map(PackFormat::dtypeName).collect(Collectors.joining(", "));

    /** A storage type of `convert --dtype` by name; the error lists {@link #STORAGE_TYPES}. */
    public static DType storageType(String text) {
        return oneOf(text, STORAGE_TYPES, "storage dtype");
    }

    /** A type of `synth --dtype` by name; the error lists {@link #SYNTH_TYPES}. */
    public static DType synthType(String text) {
        return oneOf(text, SYNTH_TYPES, "synth dtype");
    }

    /**
     * Whether an FFN part (a gate or up row, a down column) can be stored in {@code t}: f32, f16 and every
     * block type (rows of a quantized source are kept as stored); not bf16, which convert turns into f16.
     */
    public static boolean isFfnType(DType t) {
        return t != DType.BF16;
    }

    /** The manifest version a pack of this FFN geometry needs (see {@link #VERSION}). */
    public static int versionFor(FfnGeometry g) {
        return g.uniform() && V1_TYPES.contains(g.rowDtype()) ? 1 : 2;
    }

    private static DType oneOf(String text, List<DType> allowed, String what) {
        DType d = null;
        try {
            d = dtype(text);
        } catch (IllegalArgumentException e) {
            // reported below with the list that applies here
        }
        if (d == null || !allowed.contains(d)) {
            throw new IllegalArgumentException(what + " '" + text + "' is not one of "
                    + allowed.stream().map(PackFormat::dtypeName).collect(Collectors.joining(", ")));
        }
        return d;
    }

    /** A dtype by its manifest name (its DType name in lower case: f32, f16, bf16, q8_0, q4_0, ...). */
    public static DType dtype(String text) {
        for (DType d : DType.values()) {
            if (dtypeName(d).equalsIgnoreCase(text)) {
                return d;
            }
        }
        throw new IllegalArgumentException("dtype '" + text + "' is not one of " + Arrays.stream(DType.values())
                .map(PackFormat::dtypeName).collect(Collectors.joining(", ")));
    }

    public static String dtypeName(DType d) {
        return d.name().toLowerCase(Locale.ROOT);
    }

    static long alignUp(long value, long alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }
}
