package io.flashlm.pack;

import io.flashlm.nativeabi.NativeIo;
import io.flashlm.nativeabi.NativeIoException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Where FFN units start (issue 11): at multiples of a power of two (the unit padded with zeros up to
 * it), or back to back ({@link #BACK_TO_BACK}: stride = unit bytes, no padding; an O_DIRECT reader
 * widens each read to its block and copies the wanted bytes out of a bounce buffer).
 */
public final class RecordAlignment {
    /** The alignment value that means "no padding": every stride is a multiple of 1. */
    public static final int BACK_TO_BACK = 1;
    /** The writers' "choose for me" value ({@link #resolve}); never stored in a pack. */
    public static final int AUTO = 0;
    /** What {@code --alignment} accepts besides a power of two. */
    public static final String ACCEPTED = "auto, back-to-back, dio, or a power of two from " + PackFormat.MIN_ALIGNMENT
            + " to " + PackFormat.MAX_ALIGNMENT + " (512, 4K, 4096, ...)";

    private RecordAlignment() {
    }

    /**
     * Parses an {@code --alignment} value: {@code back-to-back} (also {@code packed}), a power of two (records
     * padded to it), {@code dio} (padded to the device's O_DIRECT alignment, asked of {@code dio} only then) or
     * {@code auto} ({@link #AUTO}, resolved by the writer once it knows the unit's size: {@link #resolve}).
     */
    public static int parse(String text, LongSupplier dio) {
        String t = text == null ? "" : text.trim().toLowerCase(java.util.Locale.ROOT);
        switch (t) {
            case "auto":
                return AUTO;
            case "back-to-back", "packed":
                return BACK_TO_BACK;
            case "dio":
                return PackFormat.checkAlignment(Math.max(PackFormat.MIN_ALIGNMENT, dio.getAsLong()));
            default:
                break;
        }
        long v;
        try {
            v = io.flashlm.util.ByteSizes.parse(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--alignment '" + text + "' is not one of " + ACCEPTED);
        }
        if (v < PackFormat.MIN_ALIGNMENT || v > PackFormat.MAX_ALIGNMENT || Long.bitCount(v) != 1) {
            throw new IllegalArgumentException("--alignment '" + text + "' is not one of " + ACCEPTED);
        }
        return (int) v;
    }

    /**
     * The alignment a writer uses for units of {@code unitBytes}: {@code requested} itself, or for {@link #AUTO}
     * the rule measured in docs/benchmarks.md ("Record alignment (issue 11)"). A read costs about the number of
     * the device's physical blocks P it touches (4 KiB on the disk measured, whose O_DIRECT alignment d is
     * 512), so among back to back, d, 2d, ..., P, auto takes the layout whose single-record reads (the flash
     * engine's usual read: misses of a sparse layer are scattered) touch the fewest physical blocks on
     * average over the records, and of equals the one with the smallest stride (smaller pack, more cache
     * rows per byte). Examples (d 512, P 4096): 8704 B (OPT q8_0) and 4608 B (q4 ungated) touch 3 and 2
     * blocks in every layout: back to back; 13056 B (gated q8_0) touches 4.125 back to back, 4 at 512:
     * 512 (13312); 6912 B (gated q4) touches 2.625 back to back, 2.5 at 512, 2 at 2048 or 4096: 2048 (stride 8192).
     *
     * @param device the device's O_DIRECT alignment and physical block ({@link #device(Path)})
     */
    public static int resolve(int requested, long unitBytes, Supplier<Device> device) {
        if (requested != AUTO) {
            return check(requested);
        }
        Device dev = device.get();
        long d = dev.dio();
        if (d < PackFormat.MIN_ALIGNMENT || d > PackFormat.MAX_ALIGNMENT || Long.bitCount(d) != 1) {
            return BACK_TO_BACK; // no usable answer from the device: no padding, the reader widens
        }
        long p = Math.max(d, dev.physical() >= d && Long.bitCount(dev.physical()) == 1 ? dev.physical() : d);
        int best = BACK_TO_BACK;
        double bestBlocks = blocksTouched(unitBytes, unitBytes, p);
        for (long a = d; a <= p; a *= 2) {
            double blocks = blocksTouched(unitBytes, PackFormat.alignUp(unitBytes, a), p);
            if (blocks < bestBlocks - 1e-9) { // strictly fewer: equal blocks keep the smaller stride
                best = (int) a;
                bestBlocks = blocks;
            }
        }
        return best;
    }

    /**
     * {@code g} with its alignment resolved from a writer's request ({@link #resolve(int, long, Supplier)}:
     * auto asks the device that {@code destination} would be written to).
     */
    public static FfnGeometry resolve(FfnGeometry g, int requested, Path destination) {
        return g.withAlignment(resolve(requested, g.unitBytes(), () -> device(destination)));
    }

    /** The device facts auto needs: its O_DIRECT alignment and its physical block (0 when unknown). */
    public record Device(long dio, long physical) {
    }

    /**
     * The mean number of {@code block}-byte blocks a read of one {@code unitBytes} unit touches, over the
     * units of a file with this stride: unit i starts at offset o_i = (i * stride) mod block within its
     * block and touches ceil((o_i + unitBytes) / block) blocks; o_i repeats with period
     * block / gcd(stride, block), so that many units give the exact mean.
     */
    public static double blocksTouched(long unitBytes, long stride, long block) {
        long period = block / gcd(stride % block == 0 ? block : stride % block, block);
        long sum = 0;
        for (long i = 0; i < period; i++) {
            long o = i * stride % block;
            sum += (o + unitBytes + block - 1) / block;
        }
        return sum / (double) period;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** A writer's requested alignment: {@link #AUTO} or a record alignment ({@link #check}). */
    public static int checkRequest(long alignment) {
        return alignment == AUTO ? AUTO : check(alignment);
    }

    /**
     * The O_DIRECT alignment of the device that {@code destination} (a file or directory that may not exist
     * yet) would be written to, asked of its nearest existing ancestor: statx's, else the device's logical
     * block, else st_blksize, else 512 ({@link NativeIo#dioAlignment}).
     */
    public static long deviceAlignment(Path destination) {
        return device(destination).dio();
    }

    /** The O_DIRECT alignment and physical block of the device {@code destination} would be written to. */
    public static Device device(Path destination) {
        Path p = destination.toAbsolutePath().normalize();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalArgumentException("no existing directory above " + destination);
        }
        try {
            NativeIo.DioAlignment a = NativeIo.dioAlignment(p, true);
            return new Device(a.bytes(), a.physicalBlock());
        } catch (NativeIoException e) {
            throw new IllegalArgumentException("--alignment dio: cannot learn the O_DIRECT alignment of " + p + ": "
                    + e.getMessage() + "; give one (512, 4096) or back-to-back", e);
        }
    }

    /** A record alignment: {@link #BACK_TO_BACK} or a power of two from 512 to 1 MiB. */
    public static int check(long alignment) {
        return alignment == BACK_TO_BACK ? BACK_TO_BACK : PackFormat.checkAlignment(alignment);
    }

    /** Distance between consecutive units: {@code unitBytes} rounded up to the alignment (itself when back to back). */
    public static long stride(long unitBytes, int alignment) {
        return PackFormat.alignUp(unitBytes, check(alignment));
    }

    /** The alignment of the DRAM part's tensors for a record alignment: the default 4096 when back to back. */
    public static int dramAlignment(int recordAlignment) {
        return recordAlignment == BACK_TO_BACK ? PackFormat.DEFAULT_ALIGNMENT : check(recordAlignment);
    }

    /** "back-to-back" or the number of bytes. */
    public static String name(int alignment) {
        return alignment == BACK_TO_BACK ? "back-to-back" : Integer.toString(alignment);
    }
}
