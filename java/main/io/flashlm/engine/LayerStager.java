package io.flashlm.engine;

import io.flashlm.format.ModelFormatException;
import io.flashlm.io.FlashReader;
import io.flashlm.io.ReadBatch;
import io.flashlm.io.ReaderOptions;
import io.flashlm.kernels.LargeBuffers;
import io.flashlm.pack.FlashPack;
import io.flashlm.pack.PackManifest;
import io.flashlm.pack.PackTensorNames;
import io.flashlm.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link EngineMode#NAIVE}'s DRAM part: a layer's matrices (attention projections) are not kept but
 * read from dram.bin into one staging buffer right before the layer runs. Every layer's matrix
 * tensors are views of that buffer; the embeddings, the output head and the small vectors (norms,
 * biases, converted once by the model) stay resident.
 */
final class LayerStager implements AutoCloseable {
    private final FlashReader reader;
    private final ReadBatch batch;
    private final MemorySegment staging;
    private final long[] spanStart;
    private final long[] spanBytes;
    private final Map<String, PackManifest.TensorEntry> staged = new HashMap<>();
    private final EngineStats stats;

    LayerStager(FlashPack pack, ReaderOptions options, EngineStats stats, Arena arena) throws IOException {
        this.stats = stats;
        int layers = pack.config().layers();
        spanStart = new long[layers];
        spanBytes = new long[layers];
        java.util.Arrays.fill(spanStart, Long.MAX_VALUE);
        long[] spanEnd = new long[layers];
        for (PackManifest.TensorEntry t : pack.manifest().dram().tensors()) {
            int l = layerOf(t.name());
            if (l >= 0 && !PackTensorNames.isVector(t.name())) {
                staged.put(t.name(), t);
                spanStart[l] = Math.min(spanStart[l], t.offset());
                spanEnd[l] = Math.max(spanEnd[l], t.offset() + t.bytes());
            }
        }
        long max = 0;
        for (int l = 0; l < layers; l++) {
            if (spanEnd[l] == 0) {
                spanStart[l] = 0;
            }
            spanBytes[l] = (spanEnd[l] - spanStart[l] + 4095) / 4096 * 4096;
            max = Math.max(max, spanBytes[l]);
        }
        staging = LargeBuffers.allocate(arena, Math.max(4096, max));
        batch = new ReadBatch((int) (max / FfnReads.MAX_READ) + 2);
        try {
            reader = FfnReads.openPreferDirect(pack.dir().resolve(pack.manifest().dram().file().path()), options);
        } catch (IOException | RuntimeException e) {
            batch.close();
            throw e;
        }
    }

    /** The layer index of a tensor named layers.L.*, or -1. */
    private static int layerOf(String name) {
        if (!name.startsWith("layers.")) {
            return -1;
        }
        int dot = name.indexOf('.', 7);
        return dot < 0 ? -1 : Integer.parseInt(name.substring(7, dot));
    }

    /** Bytes of the staging buffer. */
    long stagingBytes() {
        return staging.byteSize();
    }

    /** Bytes of the tensors that are staged rather than resident. */
    long stagedTensorBytes() {
        return staged.values().stream().mapToLong(PackManifest.TensorEntry::bytes).sum();
    }

    /** The tensor, as a view of the staging buffer when it is a staged layer matrix, else from the pack. */
    Tensor tensor(FlashPack pack, String name) throws ModelFormatException {
        PackManifest.TensorEntry t = staged.get(name);
        if (t == null) {
            return pack.tensor(name);
        }
        int l = layerOf(name);
        return Tensor.of(name, t.dtype(), staging.asSlice(t.offset() - spanStart[l], t.bytes()), t.shape());
    }

    /** Reads layer {@code layer}'s matrices into the staging buffer (timed and counted as I/O). */
    /** {@link #load} for a model's layer prelude, which cannot throw a checked exception. */
    void loadUnchecked(int layer) {
        try {
            load(layer);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    void load(int layer) throws IOException {
        long bytes = Math.min(spanBytes[layer], reader.fileSize() - spanStart[layer]);
        for (long done = 0; done < bytes; done += FfnReads.MAX_READ) {
            long n = Math.min(FfnReads.MAX_READ, bytes - done);
            batch.add(spanStart[layer] + done, n, staging, done);
            stats.reads++;
            stats.bytesRead += n;
        }
        long t0 = System.nanoTime();
        try {
            reader.read(batch);
        } finally {
            batch.clear();
            long t = System.nanoTime() - t0;
            stats.ioNanos += t;
            stats.readNanos += t;
        }
    }

    @Override
    public void close() {
        reader.close();
        batch.close();
    }
}
