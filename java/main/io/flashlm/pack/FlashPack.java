package io.flashlm.pack;

import io.flashlm.format.ModelFormatException;
import io.flashlm.model.ModelConfig;
import io.flashlm.tensor.Tensor;
import io.flashlm.tokenizer.Tokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An opened flash pack: the manifest, checked; every file present with the size it must have; the
 * tokenizer and checksum files and all of dram.bin matching their CRC-32C. dram.bin is mapped
 * read-only; the FFN files are only named here (readers open them as they need). A pack that fails a
 * check is refused with an error that names the file and what was expected, never used.
 */
public final class FlashPack implements AutoCloseable {
    private final Path dir;
    private final PackManifest manifest;
    private final Arena arena;
    private final MemorySegment dram;

    private FlashPack(Path dir, PackManifest manifest, Arena arena, MemorySegment dram) {
        this.dir = dir;
        this.manifest = manifest;
        this.arena = arena;
        this.dram = dram;
    }

    public static FlashPack open(Path dir) throws IOException {
        PackManifest m = ManifestCodec.read(dir);
        for (PackManifest.FileEntry f : m.tokenizer().files()) {
            checkFile(dir, f, true);
        }
        checkFile(dir, m.dram().file(), false);
        for (PackManifest.FfnLayer layer : m.ffn().layers()) {
            for (PackManifest.FfnFile f : layer.files()) {
                checkSize(dir.resolve(f.path()), f.size());
            }
            checkFile(dir, layer.checksums(), true);
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment dram = map(dir.resolve(m.dram().file().path()), arena);
            checkDram(dir, m, dram);
            return new FlashPack(dir, m, arena, dram);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static MemorySegment map(Path file, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
    }

    private static void checkFile(Path dir, PackManifest.FileEntry f, boolean crc) throws IOException {
        Path p = dir.resolve(f.path());
        checkSize(p, f.size());
        if (crc) {
            int actual = Crc32c.ofFile(p);
            if (actual != f.crc32c()) {
                throw new ModelFormatException(p, "crc32c", "checksum " + Crc32c.hex(actual) + " differs from "
                        + Crc32c.hex(f.crc32c()) + " in the manifest: the file is damaged");
            }
        }
    }

    private static void checkSize(Path p, long expected) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString(), null, "missing from the flash pack (the manifest lists it)");
        }
        long size = Files.size(p);
        if (size != expected) {
            throw new ModelFormatException(p, "size", size + " bytes, but the manifest expects " + expected
                    + (size < expected ? ": the file is truncated" : ": the file has grown"));
        }
    }

    /** The whole file's checksum; on a mismatch, the tensors whose own checksums fail are named. */
    private static void checkDram(Path dir, PackManifest m, MemorySegment dram) throws IOException {
        int actual = Crc32c.of(dram);
        if (actual == m.dram().file().crc32c()) {
            return;
        }
        List<String> damaged = new ArrayList<>();
        for (PackManifest.TensorEntry t : m.dram().tensors()) {
            if (Crc32c.of(dram.asSlice(t.offset(), t.bytes())) != t.crc32c()) {
                damaged.add(t.name());
            }
        }
        throw new ModelFormatException(dir.resolve(m.dram().file().path()), "crc32c", "checksum " + Crc32c.hex(actual)
                + " differs from " + Crc32c.hex(m.dram().file().crc32c()) + " in the manifest: the DRAM part is damaged"
                + (damaged.isEmpty() ? " (in the padding between tensors)" : " in tensor(s) " + String.join(", ",
                damaged.subList(0, Math.min(8, damaged.size()))) + (damaged.size() > 8 ? ", ..." : "")));
    }

    public Path dir() {
        return dir;
    }

    public PackManifest manifest() {
        return manifest;
    }

    public ModelConfig config() {
        return manifest.config();
    }

    public FfnGeometry ffnGeometry() {
        return manifest.ffn().geometry();
    }

    /** All of dram.bin, mapped read-only. */
    public MemorySegment dram() {
        return dram;
    }

    /** A DRAM tensor by its {@link PackTensorNames name}, a view of the mapping. */
    public Tensor tensor(String name) throws ModelFormatException {
        return optionalTensor(name).orElseThrow(() -> new ModelFormatException(dir.resolve(PackFormat.MANIFEST),
                "dram.tensors", "no tensor '" + name + "'"));
    }

    public Optional<Tensor> optionalTensor(String name) {
        return manifest.dram().tensor(name).map(t -> Tensor.of(t.name(), t.dtype(), dram.asSlice(t.offset(), t.bytes()),
                t.shape()));
    }

    /** FFN file {@code file} of {@code layer} (see {@link FfnGeometry#fileOf(FfnPart)}). */
    public Path ffnFile(int layer, int file) {
        return dir.resolve(manifest.ffn().layers().get(layer).files().get(file).path());
    }

    /** The file holding {@code part} of layer {@code layer}'s neurons. */
    public Path ffnFile(int layer, FfnPart part) {
        return ffnFile(layer, ffnGeometry().fileOf(part));
    }

    /** Layer {@code layer}'s unit checksums: index file * neurons + neuron. */
    public int[] unitChecksums(int layer) throws IOException {
        byte[] b = Files.readAllBytes(dir.resolve(manifest.ffn().layers().get(layer).checksums().path()));
        int[] out = new int[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    public Tokenizer tokenizer() throws IOException {
        return PackTokenizer.load(dir, manifest.tokenizer(), config().vocabSize());
    }

    /** Bytes of all FFN files. */
    public long ffnBytes() {
        FfnGeometry g = ffnGeometry();
        return (long) config().layers() * g.filesPerLayer() * g.fileSize();
    }

    @Override
    public void close() {
        arena.close();
    }
}
