package io.flashlm.engine;

import io.flashlm.io.ReaderOptions;
import io.flashlm.model.ModelConfig;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.FlashPack;
import io.flashlm.pack.PackLayout;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * What a {@link ModePlan} works with while the engine opens a pack: the pack, its config (with the
 * engine's context length) and FFN geometry, the options, the budget being filled, the arena and the
 * list of what to close, and, once built, the naive mode's layer stager.
 */
final class PlanContext {
    final FlashPack pack;
    final ModelConfig config;
    final FfnGeometry geometry;
    final EngineOptions options;
    final ReaderOptions readerOptions;
    final MemoryBudget budget;
    final EngineStats stats;
    final Arena arena;
    final List<AutoCloseable> opened;
    final PrintStream progress;
    /** The read batch capacity of an FFN reader: every part of every neuron, and a margin. */
    final int batchCapacity;
    /** Each layer's up bias as f32, or nulls; set before the FFN is built. */
    MemorySegment[] biases;
    /** The naive mode's staging of each layer's matrices; null in the other modes. */
    LayerStager stager;
    /** Per layer, the CRC-32C of every FFN unit (file-major), to check reads against; null when not checked. */
    int[][] checksums;

    PlanContext(FlashPack pack, ModelConfig config, EngineOptions options, ReaderOptions readerOptions,
                MemoryBudget budget, EngineStats stats, Arena arena, List<AutoCloseable> opened, PrintStream progress) {
        this.pack = pack;
        this.config = config;
        this.geometry = pack.ffnGeometry();
        this.options = options;
        this.readerOptions = readerOptions;
        this.budget = budget;
        this.stats = stats;
        this.arena = arena;
        this.opened = opened;
        this.progress = progress;
        this.batchCapacity = geometry.neurons() * geometry.parts().size() + 16;
    }

    /** A new reader of the pack's FFN files with this context's options and statistics. */
    FfnReads reads() throws IOException {
        return new FfnReads(pack, readerOptions, batchCapacity, stats, checksums);
    }

    boolean bundled() {
        return geometry.layout() == PackLayout.BUNDLED;
    }
}
