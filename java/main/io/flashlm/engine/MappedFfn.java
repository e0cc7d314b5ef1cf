package io.flashlm.engine;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.model.ModelConfig;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.FlashPack;
import io.flashlm.pack.PackLayout;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * {@link EngineMode#MMAP}: each layer's bundled FFN file memory-mapped and computed over in place, as
 * llama.cpp does; what stays in DRAM is up to the OS page cache, so the engine cannot account for it
 * (run it in a memory cgroup to hold the cache to a budget). The bytes the kernel reads from the
 * device are taken from /proc/self/io per token.
 */
final class MappedFfn extends EngineFfn {
    private final MemorySegment[] files;
    private final long stride;

    MappedFfn(FlashPack pack, ModelConfig c, MemorySegment[] biases, SparseFfn sparse, EngineStats stats, Arena arena)
            throws IOException {
        super(pack.ffnGeometry(), c, biases, sparse, stats, pack.ffnGeometry().neurons());
        FfnGeometry geometry = pack.ffnGeometry();
        if (geometry.layout() != PackLayout.BUNDLED) {
            throw new IllegalArgumentException("mode mmap computes over the mapped records, so it needs a bundled pack;"
                    + " " + pack.dir() + " is unbundled");
        }
        this.stride = geometry.stride();
        this.files = new MemorySegment[c.layers()];
        for (int l = 0; l < files.length; l++) {
            try (FileChannel ch = FileChannel.open(pack.ffnFile(l, 0), StandardOpenOption.READ)) {
                files[l] = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
        }
    }

    @Override
    protected void run(int layer, MemorySegment x, MemorySegment y) {
        computeInOrder(files[layer], neurons, stride, biases[layer], x, y);
        stats.predicted += neurons;
    }

    @Override
    String describe() {
        return "FFN memory-mapped (page cache managed by the OS)";
    }
}
