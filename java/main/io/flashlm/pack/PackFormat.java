package io.flashlm.pack;

import io.flashlm.tensor.DType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Names and limits of the flash-pack format (docs/flash-pack.md). */
public final class PackFormat {
    /** The manifest's "format" value. */
    public static final String FORMAT = "flashlm-pack";
    /** The newest manifest version this code reads and the one it writes. */
    public static final int VERSION = 1;
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

    /** The storage types a pack's matrices can have. */
    public static DType storageType(String text) {
        DType d = dtype(text);
        if (d != DType.F32 && d != DType.F16 && d != DType.Q8_0) {
            throw new IllegalArgumentException("storage dtype '" + text + "' is not one of f32, f16, q8_0");
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
