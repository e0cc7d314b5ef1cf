package io.flashlm.engine;

import io.flashlm.model.InferenceState;
import io.flashlm.pack.FlashPack;
import io.flashlm.pack.PackLayout;
import io.flashlm.predictor.PredictorKind;
import io.flashlm.tensor.DType;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine runs under --memory: its own account stays within the limit, and what cannot fit is refused clearly. */
class EngineBudgetTest {
    static Path pack;
    static long dramBytes;
    static long ffnBytes;

    @BeforeAll
    static void setUp() throws IOException {
        EngineModesTest.setUp();
        pack = EngineModesTest.pack("F16-bundled-4096", DType.F16, PackLayout.BUNDLED, 4096);
        try (FlashPack p = FlashPack.open(pack)) {
            dramBytes = p.dram().byteSize();
            ffnBytes = p.ffnBytes();
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        EngineModesTest.cleanUp();
    }

    static EngineOptions options(EngineMode mode, long memory) {
        return EngineModesTest.oracle(mode).toBuilder().predictor(PredictorKind.TRACE).memory(memory).contextLength(96).build();
    }

    @Test
    void flashStaysWithinTheBudgetWhileGenerating() throws IOException {
        long limit = dramBytes + ffnBytes / 2; // the model does not fit
        try (FlashEngine e = FlashEngine.open(pack, options(EngineMode.FLASH, limit))) {
            MemoryBudget b = e.budget();
            assertEquals(limit, b.limit());
            assertTrue(b.used() <= limit, b.table());
            assertTrue(e.cacheRows() >= 1 && e.cacheRows() <= e.config().hiddenDim(), "rows " + e.cacheRows());
            // the cache took what was left: one more row per layer would not have fit
            long perRow;
            try (FlashPack p = FlashPack.open(pack)) {
                perRow = WindowedFfn.cacheRowBytes(p.ffnGeometry(), EngineOptions.DEFAULT_WINDOW);
            }
            assertTrue(e.cacheRows() == e.config().hiddenDim() || b.left() < (long) e.config().layers() * perRow,
                    b.table());
            // the account names the KV cache of the context asked for
            assertTrue(b.items().stream().anyMatch(i -> i.name().startsWith("KV cache")
                    && i.bytes() == InferenceState.bytesFor(e.config())), b.table());
            EngineModesTest.generate(e, null);
            assertTrue(e.stats().summary(0).meanBytesRead() > 0);
        }
    }

    @Test
    void aSmallerBudgetGivesASmallerCache() throws IOException {
        long overhead = 2L << 20; // KV cache, staging, batches
        long big = dramBytes + overhead + ffnBytes;
        long small = dramBytes + overhead + ffnBytes / 4;
        try (FlashEngine a = FlashEngine.open(pack, options(EngineMode.FLASH, big));
             FlashEngine b = FlashEngine.open(pack, options(EngineMode.FLASH, small))) {
            assertTrue(b.cacheRows() < a.cacheRows(), b.cacheRows() + " vs " + a.cacheRows());
        }
    }

    @Test
    void aBudgetBelowTheDramPartIsRefusedWithWhatItNeeds() {
        MemoryBudget.MemoryBudgetException e = assertThrows(MemoryBudget.MemoryBudgetException.class,
                () -> FlashEngine.open(pack, options(EngineMode.FLASH, dramBytes / 2)));
        assertTrue(e.getMessage().contains("DRAM part") && e.getMessage().contains("alone needs"), e.getMessage());
    }

    @Test
    void denseNeedsTheWholeFfn() {
        MemoryBudget.MemoryBudgetException e = assertThrows(MemoryBudget.MemoryBudgetException.class,
                () -> FlashEngine.open(pack, options(EngineMode.DENSE, dramBytes + ffnBytes / 2)));
        assertTrue(e.getMessage().contains("FFN, all layers"), e.getMessage());
    }

    @Test
    void streamingModesFitASmallBudget() throws IOException {
        long limit = dramBytes + (2L << 20) + ffnBytes / 4;
        for (EngineMode mode : new EngineMode[]{EngineMode.NAIVE, EngineMode.HYBRID, EngineMode.PREDICTOR,
                EngineMode.WINDOW}) {
            // buffered: with O_DIRECT, this pack's 128-byte parts would need 8 MiB of bounce slots per reader
            try (FlashEngine e = FlashEngine.open(pack, options(mode, limit).toBuilder().direct(false).build())) {
                assertTrue(e.budget().used() <= limit, mode + "\n" + e.budget().table());
            }
        }
    }
}
