package io.flashlm.pack;

import io.flashlm.tensor.DType;
import io.flashlm.tensor.QuantBlocks;
import io.flashlm.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * One layer's FFN gathered from the pack back into the dense matrices the engine multiplies: gate and
 * up [n_ffn, dim] rows copied byte for byte, down transposed back to [dim, n_ffn] (its elements copied
 * for f32 and f16, so the engine's row dot products see exactly the source's values; q8_0 columns,
 * whose blocks run along d_model, are dequantized to f32, as are the down columns of any other block type).
 */
public record DenseFfn(Tensor gate, Tensor up, Tensor down) {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The dtype the dense down matrix has for a pack of this storage dtype. */
    public static DType denseDownType(DType storage) {
        return storage.isQuantized() ? DType.F32 : storage;
    }

    /** No FFN matrices: for an engine that runs the FFN from flash itself. */
    public static final DenseFfn NONE = new DenseFfn(null, null, null);

    /** Layer {@code layer}'s FFN, in memory of {@code arena}. */
    public static DenseFfn load(FlashPack pack, int layer, Arena arena) throws IOException {
        return load(pack, layer, arena, true);
    }

    /**
     * Only the up (and gate) rows of layer {@code layer}, for predictors that compute them (the
     * oracle, the gate threshold); down is null.
     */
    public static DenseFfn loadUpGate(FlashPack pack, int layer, Arena arena) throws IOException {
        return load(pack, layer, arena, false);
    }

    /** Bytes {@link #loadUpGate} takes per layer. */
    public static long upGateBytes(FfnGeometry g) {
        return (g.gated() ? 2 : 1) * g.partBytes(FfnPart.UP) * g.neurons();
    }

    private static DenseFfn load(FlashPack pack, int layer, Arena arena, boolean withDown) throws IOException {
        FfnGeometry g = pack.ffnGeometry();
        try (Arena files = Arena.ofConfined()) {
            MemorySegment[] mapped = new MemorySegment[g.filesPerLayer()];
            for (int f = 0; f < mapped.length; f++) {
                try (FileChannel ch = FileChannel.open(pack.ffnFile(layer, f), StandardOpenOption.READ)) {
                    mapped[f] = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), files);
                }
            }
            String p = "layers." + layer + ".";
            Tensor gate = g.gated() ? rows(g, mapped, FfnPart.GATE, p + "ffn_gate", arena) : null;
            Tensor up = rows(g, mapped, FfnPart.UP, p + "ffn_up", arena);
            Tensor down = withDown ? columnsTransposed(g, mapped, p + "ffn_down", arena) : null;
            return new DenseFfn(gate, up, down);
        }
    }

    private static Tensor rows(FfnGeometry g, MemorySegment[] files, FfnPart part, String name, Arena arena) {
        MemorySegment src = files[g.fileOf(part)];
        long partBytes = g.partBytes(part);
        MemorySegment out = arena.allocate(partBytes * g.neurons(), 64);
        for (long i = 0; i < g.neurons(); i++) {
            MemorySegment.copy(src, g.offsetOf(i, part), out, i * partBytes, partBytes);
        }
        return Tensor.of(name, g.dtype(part), out, g.neurons(), g.dim());
    }

    private static Tensor columnsTransposed(FfnGeometry g, MemorySegment[] files, String name, Arena arena) {
        MemorySegment src = files[g.fileOf(FfnPart.DOWN)];
        int dim = g.dim();
        long n = g.neurons();
        DType stored = g.downDtype();
        DType type = denseDownType(stored);
        MemorySegment out = arena.allocate(type.bytesFor(dim * n), 64);
        float[] column = new float[dim];
        for (long i = 0; i < n; i++) {
            long base = g.offsetOf(i, FfnPart.DOWN);
            switch (stored) {
                case F16 -> {
                    for (int r = 0; r < dim; r++) {
                        out.set(I16, (r * n + i) * 2, src.get(I16, base + r * 2L));
                    }
                }
                case F32 -> {
                    for (int r = 0; r < dim; r++) {
                        out.set(I32, (r * n + i) * 4, src.get(I32, base + r * 4L));
                    }
                }
                default -> { // a block type: the column's blocks decoded, then scattered down the rows
                    int block = stored.blockSize();
                    for (int b = 0; b < dim / block; b++) {
                        QuantBlocks.decodeBlock(stored, src, base + (long) b * stored.bytesPerBlock(), column, b * block);
                    }
                    for (int r = 0; r < dim; r++) {
                        out.set(F32, (r * n + i) * 4, column[r]);
                    }
                }
            }
        }
        return Tensor.of(name, type, out, dim, n);
    }
}
