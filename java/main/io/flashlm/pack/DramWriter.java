package io.flashlm.pack;

import io.flashlm.tensor.DType;
import io.flashlm.util.Progress;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes dram.bin: tensors one after the other, each starting on the alignment (zeros in between),
 * with a CRC-32C per tensor and one over the whole file.
 */
public final class DramWriter implements AutoCloseable {
    private final Path file;
    private final int alignment;
    private final WriteBehind io;
    private final Progress progress;
    private final FileChannel channel;
    private final CRC32C fileCrc = new CRC32C();
    private final List<PackManifest.TensorEntry> tensors = new ArrayList<>();
    private long position;

    public DramWriter(Path dir, int alignment, WriteBehind io, Progress progress) throws IOException {
        this.file = dir.resolve(PackFormat.DRAM_FILE);
        this.alignment = alignment;
        this.io = io;
        this.progress = progress;
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    /** Bytes a tensor of this dtype and shape adds to dram.bin, alignment padding included (for planning):
     * the file is the sum of these over its tensors. */
    public static long plannedBytes(DType dtype, long[] shape, int alignment) {
        return PackFormat.alignUp(dtype.bytesFor(Arrays.stream(shape).reduce(1, Math::multiplyExact)), alignment);
    }

    public PackManifest.TensorEntry write(String name, DType dtype, long[] shape, RowFiller filler) throws IOException {
        long rowLength = shape[shape.length - 1];
        long rowCount = Arrays.stream(shape, 0, shape.length - 1).reduce(1, Math::multiplyExact);
        long rowBytes = dtype.bytesFor(rowLength);
        long rowsPerBuffer = io.bufferBytes() / rowBytes;
        if (rowsPerBuffer < 1) {
            throw new IllegalArgumentException(name + ": a row of " + rowBytes + " bytes exceeds the write buffer");
        }
        long padding = PackFormat.alignUp(position, alignment) - position;
        if (padding > 0) {
            MemorySegment zeros = io.take();
            emit(zeros, padding, null);
        }
        long offset = position;
        CRC32C tensorCrc = new CRC32C();
        for (long row = 0; row < rowCount; ) {
            int n = (int) Math.min(rowsPerBuffer, rowCount - row);
            MemorySegment buf = io.take();
            filler.fill(row, n, buf.asSlice(0, n * rowBytes));
            emit(buf, n * rowBytes, tensorCrc);
            row += n;
        }
        PackManifest.TensorEntry entry = new PackManifest.TensorEntry(name, dtype, shape, offset, position - offset,
                (int) tensorCrc.getValue());
        tensors.add(entry);
        return entry;
    }

    private void emit(MemorySegment buf, long bytes, CRC32C tensorCrc) throws IOException {
        MemorySegment data = buf.asSlice(0, bytes);
        Crc32c.update(fileCrc, data);
        if (tensorCrc != null) {
            Crc32c.update(tensorCrc, data);
        }
        io.write(channel, buf, bytes);
        position += bytes;
        progress.advance(bytes);
    }

    public List<PackManifest.TensorEntry> tensors() {
        return List.copyOf(tensors);
    }

    /** Pads the file to the alignment (so one aligned read takes all of it), waits, syncs and describes it. */
    public PackManifest.FileEntry finish() throws IOException {
        long padding = PackFormat.alignUp(position, alignment) - position;
        if (padding > 0) {
            emit(io.take(), padding, null);
        }
        io.flush();
        channel.force(true);
        return new PackManifest.FileEntry(PackFormat.DRAM_FILE, position, (int) fileCrc.getValue());
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    Path file() {
        return file;
    }
}
