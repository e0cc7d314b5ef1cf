package io.flashlm.engine;

import io.flashlm.compute.ComputePool;
import io.flashlm.io.ReaderOptions;
import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;
import io.flashlm.model.ModelConfig;
import io.flashlm.model.TransformerModel;
import io.flashlm.model.VectorOps;
import io.flashlm.pack.DenseFfn;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.FlashPack;
import io.flashlm.pack.PackLayout;
import io.flashlm.pack.PackLoader;
import io.flashlm.pack.PackManifest;
import io.flashlm.pack.PackTensorNames;
import io.flashlm.predictor.FfnLayers;
import io.flashlm.predictor.LowRankPredictor;
import io.flashlm.predictor.Predictor;
import io.flashlm.predictor.PredictorStore;
import io.flashlm.predictor.TracePredictor;
import io.flashlm.sparse.FlashCostModel;
import io.flashlm.sparse.ReadPlanner;
import io.flashlm.sparse.SparseFfn;
import io.flashlm.tokenizer.Tokenizer;
import io.flashlm.util.ByteSizes;
import io.flashlm.util.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A flash pack run by the flash engine: the DRAM part in memory, the FFN on flash, read and computed
 * as the {@link EngineMode} says, under the {@code --memory} budget. Opening accounts for every buffer
 * in a {@link MemoryBudget}, refuses a budget the fixed part does not fit, and sizes the neuron caches
 * from what is left. Each forward pass is one token of {@link #stats()}.
 */
public final class FlashEngine implements LanguageModel {
    /** Cap on the scratch matrix of the streaming modes: large enough for long reads, small beside any budget. */
    static final long MAX_SCRATCH = 64L << 20;

    private final TransformerModel model;
    private final EngineFfn ffn;
    private final EngineStats stats;
    private final MemoryBudget budget;
    private final EngineOptions options;
    private final String predictorKind;
    private final int cacheRows;
    private final String description;
    private long lastReadBytes = -1;

    private FlashEngine(TransformerModel model, EngineFfn ffn, EngineStats stats, MemoryBudget budget,
                        EngineOptions options, String predictorKind, int cacheRows, String description) {
        this.model = model;
        this.ffn = ffn;
        this.stats = stats;
        this.budget = budget;
        this.options = options;
        this.predictorKind = predictorKind;
        this.cacheRows = cacheRows;
        this.description = description;
    }

    public static FlashEngine open(Path dir, EngineOptions o) throws IOException {
        return open(dir, o, null);
    }

    /**
     * Opens a pack for the engine.
     *
     * @param progress where to show progress of long loads (dense mode), or null
     * @throws MemoryBudget.MemoryBudgetException the budget cannot hold the fixed part or one cache row per layer
     */
    public static FlashEngine open(Path dir, EngineOptions o, PrintStream progress) throws IOException {
        List<AutoCloseable> opened = new ArrayList<>();
        FlashPack pack = FlashPack.open(dir);
        opened.add(pack);
        Arena arena = Arena.ofShared();
        opened.add(arena::close);
        try {
            return build(pack, o, arena, opened, progress);
        } catch (IOException | RuntimeException e) {
            closeAll(opened);
            throw e;
        }
    }

    private static FlashEngine build(FlashPack pack, EngineOptions o, Arena arena, List<AutoCloseable> opened,
                                     PrintStream progress) throws IOException {
        EngineMode mode = o.mode();
        ModelConfig pc = pack.config();
        FfnGeometry g = pack.ffnGeometry();
        int context = o.contextLength() == 0 ? pc.contextLength() : Math.min(o.contextLength(), pc.contextLength());
        ModelConfig c = pc.withContextLength(context);
        boolean bundled = g.layout() == PackLayout.BUNDLED;
        String kind = mode.predicts() ? predictorKind(pack, o) : null;
        boolean upGateInDram = "oracle".equals(kind) || "threshold".equals(kind);
        EngineStats stats = new EngineStats();
        ReaderOptions readerOptions = new ReaderOptions(o.backend(), o.direct(), o.queueDepth(), 4);
        MemoryBudget budget = new MemoryBudget(o.memoryBytes());

        // the fixed part: DRAM tensors, vectors, KV cache, predictor
        LayerStager stager = null;
        if (mode == EngineMode.NAIVE) {
            stager = new LayerStager(pack, readerOptions, stats, arena);
            opened.add(stager);
            budget.add("DRAM part without the layer matrices", pack.dram().byteSize() - stager.stagedTensorBytes());
            budget.add("staging for one layer's matrices", stager.stagingBytes());
        } else {
            budget.add("DRAM part (dram.bin)", pack.dram().byteSize());
        }
        budget.add("norms and biases as f32", vectorBytes(pack.manifest()));
        budget.add("KV cache and activations (" + context + " positions)", InferenceState.bytesFor(c));
        if (upGateInDram) {
            budget.add("up/gate rows for the " + kind + " predictor", (long) c.layers() * DenseFfn.upGateBytes(g));
        }
        Predictor fromPack = null;
        if ("trace".equals(kind)) {
            fromPack = new TracePredictor(c.layers(), c.dim(), c.hiddenDim(), TracePredictor.opt67b());
            budget.add("trace predictor state", 8L * c.layers() * c.hiddenDim());
        } else if (kind != null && !upGateInDram) {
            fromPack = PredictorStore.loadLowRank(pack.dir(), kind, c.layers(), c.dim(), c.hiddenDim());
            budget.add(kind + " predictor", ((LowRankPredictor) fromPack).byteSize());
        }
        budget.require("the DRAM part with the KV cache and the predictor");

        // the FFN's own buffers, sized from what is left
        long rowBytes = ResidentFfn.rowBytes(g);
        int parts = g.parts().size();
        boolean recordReads = mode.bundledReads() && bundled;
        int files = g.filesPerLayer();
        int batchCapacity = g.neurons() * parts + 16;
        if (mode.readsFfn() || mode == EngineMode.DENSE) {
            budget.add("I/O buffers (" + c.layers() * files + " readers)",
                    ioBytes(readerOptions, g, c.layers() * files, batchCapacity, recordReads || mode == EngineMode.DENSE
                            && bundled));
        }
        budget.require("the fixed part with the I/O buffers");
        int maxRows;
        int cacheRows = 0;
        switch (mode) {
            case DENSE -> {
                budget.add("FFN, all layers", (long) c.layers() * g.neurons() * rowBytes);
                maxRows = g.neurons();
            }
            case MMAP -> {
                budget.add("FFN pages (OS page cache, not held by the engine)", 0);
                maxRows = g.neurons();
            }
            case NAIVE, HYBRID, PREDICTOR -> {
                long room = Math.min(MAX_SCRATCH, budget.left());
                maxRows = (int) Math.min(g.neurons(), room / (rowBytes + 4));
                if (maxRows < 1) {
                    budget.add("one FFN record", rowBytes + 4);
                    budget.require("the fixed part with one FFN record");
                }
                budget.add("FFN scratch (" + maxRows + " rows)", StreamingFfn.scratchBytes(g, maxRows));
            }
            case WINDOW, FLASH -> {
                if (mode == EngineMode.FLASH && bundled) {
                    budget.add("staging for merged reads", WindowedFfn.stagingBytes(g));
                }
                long perRow = (long) c.layers() * WindowedFfn.cacheRowBytes(g, o.windowOrDefault());
                long fixed = (long) c.layers() * WindowedFfn.cacheBytes(g, 0, o.windowOrDefault());
                cacheRows = o.cacheRows() > 0 ? Math.min(o.cacheRows(), g.neurons())
                        : (int) Math.min(g.neurons(), Math.max(0, (budget.left() - fixed) / perRow));
                if (cacheRows < 1) {
                    budget.add("one neuron-cache row per layer", fixed + perRow);
                    budget.require("the fixed part with one neuron-cache row per layer");
                }
                budget.add("neuron caches (" + c.layers() + " layers x " + cacheRows + " rows of "
                        + ByteSizes.format(rowBytes) + ", window " + o.windowOrDefault() + ")",
                        (long) c.layers() * WindowedFfn.cacheBytes(g, cacheRows, o.windowOrDefault()));
                maxRows = cacheRows;
            }
            default -> throw new IllegalStateException(mode.toString());
        }
        budget.require("the engine");

        // the model over the DRAM part, then its FFN
        MemorySegment[] biases = upBiases(pack, c, arena);
        final LayerStager staged = stager;
        TransformerModel model = (TransformerModel) PackLoader.model(pack, c,
                staged == null ? pack::tensor : name -> staged.tensor(pack, name),
                upGateInDram ? l -> DenseFfn.loadUpGate(pack, l, arena) : l -> DenseFfn.NONE,
                new ComputePool(o.threads()), () -> closeAll(opened), PackLoader.describe(pack.dir(), pack, mode.id()));
        Predictor predictor = fromPack;
        if (upGateInDram) {
            FfnLayers layers = new FfnLayers(model);
            opened.add(layers);
            predictor = PredictorStore.load(pack.dir(), kind, layers);
        }
        SparseFfn sparse = new SparseFfn(o.threads(), Math.max(1, maxRows), arena);
        EngineFfn ffn;
        try {
            ffn = switch (mode) {
                case DENSE -> {
                    try (FfnReads reads = new FfnReads(pack, readerOptions, batchCapacity, stats)) {
                        Progress p = new Progress("loading the FFN", (long) c.layers() * g.neurons() * g.recordBytes(),
                                progress == null ? System.err : progress, progress != null);
                        ResidentFfn r = new ResidentFfn(g, c, biases, sparse, stats, reads,
                                Math.max(1, (batchCapacity - 16) / parts), arena, p);
                        p.finish();
                        yield r;
                    }
                }
                case MMAP -> new MappedFfn(pack, c, biases, sparse, stats, arena);
                case NAIVE, HYBRID, PREDICTOR -> new StreamingFfn(g, c, biases, sparse, stats, staged,
                        new FfnReads(pack, readerOptions, batchCapacity, stats), predictor, maxRows, recordReads, arena);
                case WINDOW, FLASH -> {
                    ReadPlanner planner = mode == EngineMode.FLASH && bundled
                            ? planner(o, g, cacheRows) : null;
                    yield new WindowedFfn(g, c, biases, sparse, stats,
                            new FfnReads(pack, readerOptions, batchCapacity, stats), predictor, cacheRows,
                            o.windowOrDefault(), planner, arena);
                }
            };
        } catch (IOException | RuntimeException e) {
            sparse.close();
            model.close();
            throw e;
        }
        opened.add(0, ffn);
        model.setFeedForward(ffn);
        String description = model.describe() + "; " + mode.description() + ": " + ffn.describe()
                + (mode == EngineMode.FLASH && bundled ? "; cost model: " + (o.probe() == null
                ? "none (only neighbouring records share a read)" : o.probe().toString()) : "");
        return new FlashEngine(model, ffn, stats, budget, o, kind, cacheRows, description);
    }

    /** The predictor kind asked for, or the best the pack holds. */
    private static String predictorKind(FlashPack pack, EngineOptions o) {
        if (o.predictor() != null) {
            String k = o.predictor();
            if (!k.equals("oracle") && !k.equals("trace") && !PredictorStore.available(pack.dir()).contains(k)) {
                throw new IllegalArgumentException("the pack " + pack.dir() + " has no " + k + " predictor (it has: "
                        + describeAvailable(pack) + "); make one with flashlm calibrate, or use --predictor oracle"
                        + " (true activations) or trace (synthetic activation traces)");
            }
            return k;
        }
        List<String> available = PredictorStore.available(pack.dir());
        if (available.isEmpty()) {
            throw new IllegalArgumentException("mode " + o.mode().id() + " needs a sparsity predictor and the pack "
                    + pack.dir() + " has none: run flashlm calibrate on it (trained, svd or threshold), or pass"
                    + " --predictor oracle to compute the true activations, or --predictor trace for synthetic"
                    + " activation traces (synthetic packs)");
        }
        return available.get(0);
    }

    private static String describeAvailable(FlashPack pack) {
        List<String> a = PredictorStore.available(pack.dir());
        return a.isEmpty() ? "none" : String.join(", ", a);
    }

    /** The read planner, with the probe's cost model when one was given (else neighbours only). */
    private static ReadPlanner planner(EngineOptions o, FfnGeometry g, int capacity) throws IOException {
        if (o.probe() == null) {
            return new ReadPlanner(null, g.stride(), 0, capacity);
        }
        return new ReadPlanner(FlashCostModel.fromProbeJson(o.probe()), g.stride(), WindowedFfn.STAGING_ROWS / 4,
                capacity);
    }

    /**
     * Bytes of the readers' bounce buffers, which an O_DIRECT reader allocates (one 256 KiB slot per
     * read in flight, 64 MiB at most) once a request is not aligned to the block, and of the read
     * batches. Whole records are aligned when the stride is; single parts when parts and rows are.
     */
    private static long ioBytes(ReaderOptions r, FfnGeometry g, int readers, int batchCapacity, boolean records) {
        long block = 4096;
        boolean aligned = records ? g.stride() % block == 0
                : g.partBytes() % block == 0 && ResidentFfn.rowBytes(g) % block == 0;
        long bounce = r.direct() && !aligned ? (long) readers * Math.min(64L << 20, r.queueDepth() * (256L << 10)) : 0;
        return bounce + (long) g.filesPerLayer() * batchCapacity * 32L;
    }

    private static long vectorBytes(PackManifest m) {
        long n = 0;
        for (PackManifest.TensorEntry t : m.dram().tensors()) {
            if (PackTensorNames.isVector(t.name())) {
                n += Arrays.stream(t.shape()).reduce(1, Math::multiplyExact) * Float.BYTES;
            }
        }
        return n;
    }

    /** Each layer's up bias as f32 (OPT's fc1 bias), or nulls for an FFN without one. */
    private static MemorySegment[] upBiases(FlashPack pack, ModelConfig c, Arena arena) {
        MemorySegment[] out = new MemorySegment[c.layers()];
        for (int l = 0; l < out.length; l++) {
            String name = PackTensorNames.layer(l, PackTensorNames.FFN_UP_BIAS);
            out[l] = pack.optionalTensor(name).map(t -> VectorOps.toNative(t, arena)).orElse(null);
        }
        return out;
    }

    private static void closeAll(List<AutoCloseable> resources) {
        RuntimeException first = null;
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                if (first == null) {
                    first = new IllegalStateException("closing the engine: " + e.getMessage(), e);
                }
            }
        }
        resources.clear();
        if (first != null) {
            throw first;
        }
    }

    @Override
    public MemorySegment forward(InferenceState state, int token, int pos) {
        boolean mmap = options.mode() == EngineMode.MMAP;
        if (mmap && lastReadBytes < 0) {
            lastReadBytes = ProcIo.readBytes();
        }
        long t0 = System.nanoTime();
        MemorySegment logits = model.forward(state, token, pos);
        long t1 = System.nanoTime();
        if (mmap && lastReadBytes >= 0) {
            long now = ProcIo.readBytes();
            stats.bytesRead += Math.max(0, now - lastReadBytes);
            lastReadBytes = now;
        }
        stats.endToken(t1 - t0);
        return logits;
    }

    /** Per-token statistics since open (or the last {@link EngineStats#reset()}). */
    public EngineStats stats() {
        return stats;
    }

    /** The engine's account of what it holds, against the limit. */
    public MemoryBudget budget() {
        return budget;
    }

    public EngineMode mode() {
        return options.mode();
    }

    public EngineOptions options() {
        return options;
    }

    /** The predictor in use, or null for the modes without one. */
    public String predictorKind() {
        return predictorKind;
    }

    /** Neuron-cache rows per layer (window and flash modes; 0 otherwise). */
    public int cacheRows() {
        return cacheRows;
    }

    @Override
    public ModelConfig config() {
        return model.config();
    }

    @Override
    public Tokenizer tokenizer() {
        return model.tokenizer();
    }

    @Override
    public InferenceState newState() {
        return model.newState();
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        model.close(); // closes the FFN, readers, predictor layers, arena and pack through its source
    }
}
