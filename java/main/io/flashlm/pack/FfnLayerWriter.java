package io.flashlm.pack;

import io.flashlm.util.Progress;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes one layer's FFN files in the pack's layout and its per-unit checksum file. Neurons go
 * through in chunks of a multiple of 32 (whole q8_0 blocks for the fillers that transpose), each
 * chunk filled part by part into a zeroed buffer, so padding is zeros and memory stays at a few buffers.
 */
public final class FfnLayerWriter {
    private FfnLayerWriter() {
    }

    /** The smallest write buffer that holds 32 units of this geometry. */
    public static long minBufferBytes(FfnGeometry g) {
        return 32 * g.stride();
    }

    public static PackManifest.FfnLayer write(Path packDir, int layer, FfnGeometry g, Map<FfnPart, VectorFiller> fillers,
                                       WriteBehind io, Progress progress) throws IOException {
        for (FfnPart p : g.parts()) {
            if (!fillers.containsKey(p)) {
                throw new IllegalArgumentException("layer " + layer + ": no source for the FFN part " + p);
            }
        }
        Path ffnDir = packDir.resolve(PackFormat.FFN_DIR);
        if (!Files.isDirectory(ffnDir)) {
            Files.createDirectory(ffnDir); // not createDirectories: never recreate a pack directory removed on exit
        }
        int n = g.neurons();
        long stride = g.stride();
        long chunk = Math.max(32, io.bufferBytes() / stride / 32 * 32);
        int[] crcs = new int[g.filesPerLayer() * n];
        List<PackManifest.FfnFile> files = new ArrayList<>();
        for (int f = 0; f < g.filesPerLayer(); f++) {
            String name = g.fileName(layer, f);
            try (FileChannel ch = open(packDir.resolve(name), g, chunk)) {
                for (long first = 0; first < n; first += chunk) {
                    int count = (int) Math.min(chunk, n - first);
                    MemorySegment buf = io.take();
                    for (FfnPart part : g.partsOfFile(f)) {
                        fillers.get(part).fill(first, count, buf.asSlice(g.offsetInUnit(part)), stride);
                    }
                    for (int k = 0; k < count; k++) {
                        crcs[f * n + (int) first + k] = Crc32c.of(buf.asSlice(k * stride, stride));
                    }
                    io.write(ch, buf, count * stride);
                    progress.advance(count * stride);
                }
                io.flush();
                ch.force(true);
            }
            files.add(new PackManifest.FfnFile(name, g.partsOfFile(f), g.fileSize()));
        }
        return new PackManifest.FfnLayer(files, writeChecksums(packDir, layer, crcs));
    }

    /**
     * The FFN files are most of a pack: written with O_DIRECT where every write is whole blocks (chunks
     * of stride-aligned units), so they skip the page-cache copy and leave no cached pages to flatter a
     * benchmark that follows; otherwise, or where the filesystem refuses O_DIRECT, buffered.
     */
    private static FileChannel open(Path file, FfnGeometry g, long chunk) throws IOException {
        long block = Files.getFileStore(file.getParent()).getBlockSize();
        boolean wholeBlocks = (chunk * g.stride()) % block == 0 && g.fileSize() % block == 0
                && WriteBehind.BUFFER_ALIGNMENT % block == 0;
        if (wholeBlocks) {
            try {
                return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                        com.sun.nio.file.ExtendedOpenOption.DIRECT);
            } catch (IOException | UnsupportedOperationException e) {
                Files.deleteIfExists(file); // created before the refusal on some systems; buffered below
            }
        }
        return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    private static PackManifest.FileEntry writeChecksums(Path packDir, int layer, int[] crcs) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(crcs.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(crcs);
        String name = FfnGeometry.checksumFileName(layer);
        Files.write(packDir.resolve(name), b.array(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SYNC);
        return new PackManifest.FileEntry(name, b.capacity(), Crc32c.of(MemorySegment.ofArray(b.array())));
    }
}
