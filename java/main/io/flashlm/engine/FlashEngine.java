package io.flashlm.engine;

import io.flashlm.io.ReaderOptions;
import io.flashlm.kernels.ComputePool;
import io.flashlm.kernels.SparseFfn;
import io.flashlm.model.FeedForward;
import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;
import io.flashlm.model.ModelAssembly;
import io.flashlm.model.ModelConfig;
import io.flashlm.model.VectorOps;
import io.flashlm.pack.DenseFfn;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.FfnPart;
import io.flashlm.pack.FlashPack;
import io.flashlm.pack.PackLoader;
import io.flashlm.pack.PackManifest;
import io.flashlm.pack.PackTensorNames;
import io.flashlm.predictor.FfnLayers;
import io.flashlm.predictor.Predictor;
import io.flashlm.predictor.PredictorKind;
import io.flashlm.predictor.PredictorStore;
import io.flashlm.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A flash pack run by the flash engine: the DRAM part in memory, the FFN on flash, read and computed
 * as the {@link EngineMode} says, under the {@code --memory} budget. Opening accounts for every buffer
 * in a {@link MemoryBudget}, refuses a budget the fixed part does not fit, and sizes the neuron caches
 * from what is left. Each forward pass is one token of {@link #stats()}.
 */
public final class FlashEngine implements LanguageModel {
    /** Cap on the scratch matrix of the streaming modes: large enough for long reads, small beside any budget. */
    static final long MAX_SCRATCH = 64L << 20;

    private final LanguageModel model;
    private final EngineStats stats;
    private final MemoryBudget budget;
    private final EngineOptions options;
    private final PredictorKind predictorKind;
    private final int cacheRows;
    private final String description;
    private long lastReadBytes = -1;

    private FlashEngine(LanguageModel model, EngineStats stats, MemoryBudget budget, EngineOptions options,
                        PredictorKind predictorKind, int cacheRows, String description) {
        this.model = model;
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
        ModePlan plan = o.mode().plan();
        ModelConfig pc = pack.config();
        int context = Math.min(o.contextLength().orElse(pc.contextLength()), pc.contextLength());
        ModelConfig c = pc.withContextLength(context);
        FfnGeometry g = pack.ffnGeometry();
        PredictorKind kind = plan.predicts() ? predictorKind(pack, o) : null;
        ReaderOptions readerOptions = new ReaderOptions(o.backend(), o.direct(), o.queueDepth(), 4);
        MemoryBudget budget = new MemoryBudget(o.memoryBytes().orElse(0));
        PlanContext cx = new PlanContext(pack, c, o, readerOptions, budget, new EngineStats(), arena, opened, progress);

        // the fixed part: DRAM tensors, vectors, KV cache, predictor
        plan.accountDram(cx);
        budget.add("norms and biases as f32", vectorBytes(pack.manifest()));
        budget.add("KV cache and activations (" + context + " positions)", InferenceState.bytesFor(c));
        Predictor predictor = null;
        if (kind != null && kind.needsUpGate()) {
            budget.add("up/gate rows for the " + kind.id() + " predictor", (long) c.layers() * DenseFfn.upGateBytes(g));
        } else if (kind != null) {
            predictor = kind.load(pack.dir(), c, null);
            budget.add(kind.residentLabel(), kind.residentBytes(predictor, c));
        }
        budget.require("the DRAM part with the KV cache and the predictor");

        // the FFN's own buffers, sized from what is left
        if (plan.usesReaders()) {
            int readers = c.layers() * g.filesPerLayer();
            budget.add("I/O buffers (" + readers + " readers)",
                    ioBytes(readerOptions, g, FfnReads.directBlock(pack.ffnFile(0, 0)), readers, cx.batchCapacity,
                            plan.readsRecords(cx)));
        }
        if (plan.usesReaders() && o.verifyReads()) {
            budget.add("FFN record checksums (CRC-32C)", (long) c.layers() * g.filesPerLayer() * g.neurons() * 4);
            cx.checksums = new int[c.layers()][];
            for (int l = 0; l < c.layers(); l++) {
                cx.checksums[l] = pack.unitChecksums(l);
                if (cx.checksums[l].length != g.filesPerLayer() * g.neurons()) {
                    throw new IOException(pack.dir().resolve(FfnGeometry.checksumFileName(l)) + ": holds "
                            + cx.checksums[l].length + " checksums, expected one per unit of each FFN file ("
                            + g.filesPerLayer() * g.neurons() + ")");
                }
            }
        }
        budget.require("the fixed part with the I/O buffers");
        ModePlan.Sizing sizing = plan.accountFfn(cx);
        budget.require("the engine");

        // the FFN, then the model over the DRAM part with the FFN's blocks in its layers
        cx.biases = upBiases(pack, c, arena);
        if (kind != null && kind.needsUpGate()) {
            predictor = kind.load(pack.dir(), c, upGateRows(pack, c, cx.biases, arena));
        }
        // the most rows one call computes: a chunk or cache (maxRows), or exact mode's pinned neurons (cacheRows)
        SparseFfn sparse = new SparseFfn(o.threads(), Math.max(1, Math.max(sizing.maxRows(), sizing.cacheRows())),
                arena);
        EngineFfn ffn;
        try {
            ffn = plan.build(cx, sizing, sparse, predictor);
        } catch (IOException | RuntimeException e) {
            sparse.close();
            throw e;
        }
        opened.addFirst(ffn);
        LayerStager stager = cx.stager;
        ModelAssembly assembly = ModelAssembly.of((layer, weights, dense) -> ffn.layer(layer),
                stager == null ? ModelAssembly.LayerPrelude.NONE : stager::loadUnchecked);
        LanguageModel model = PackLoader.model(pack, c, stager == null ? pack::tensor : name -> stager.tensor(pack, name),
                l -> DenseFfn.NONE, assembly, new ComputePool(o.threads()), () -> closeAll(opened),
                PackLoader.describe(pack.dir(), pack, o.mode().id()));
        String description = model.describe() + "; " + o.mode().description() + ": " + ffn.describe()
                + plan.describeExtra(cx);
        return new FlashEngine(model, cx.stats, budget, o, kind, sizing.cacheRows(), description);
    }

    /** The predictor kind asked for, or the best the pack holds. */
    private static PredictorKind predictorKind(FlashPack pack, EngineOptions o) {
        List<PredictorKind> available = PredictorStore.available(pack.dir());
        if (o.predictor().isPresent()) {
            PredictorKind k = o.predictor().get();
            if (k.stored() && !available.contains(k)) {
                throw new IllegalArgumentException("the pack " + pack.dir() + " has no " + k + " predictor (it has: "
                        + describeAvailable(available) + "); make one with flashlm calibrate, or use --predictor oracle"
                        + " (true activations) or trace (synthetic activation traces)");
            }
            return k;
        }
        if (available.isEmpty()) {
            throw new IllegalArgumentException("mode " + o.mode().id() + " needs a sparsity predictor and the pack "
                    + pack.dir() + " has none: run flashlm calibrate on it (trained, svd or threshold), or pass"
                    + " --predictor oracle to compute the true activations, or --predictor trace for synthetic"
                    + " activation traces (synthetic packs)");
        }
        return available.getFirst();
    }

    private static String describeAvailable(List<PredictorKind> a) {
        return a.isEmpty() ? "none" : a.stream().map(PredictorKind::id).collect(Collectors.joining(", "));
    }

    /** The up (and gate) rows of every layer in DRAM, for the predictors that compute from them. */
    private static FfnLayers upGateRows(FlashPack pack, ModelConfig c, MemorySegment[] biases, Arena arena)
            throws IOException {
        FfnLayers.Layer[] layers = new FfnLayers.Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            DenseFfn rows = DenseFfn.loadUpGate(pack, l, arena);
            layers[l] = new FfnLayers.Layer(rows.up(), biases[l], rows.gate());
        }
        return new FfnLayers(c, layers);
    }

    /**
     * Bytes of the readers' bounce buffers, which an O_DIRECT reader allocates (one 256 KiB slot per
     * read in flight, 64 MiB at most) once a request is not aligned to the block, and of the read
     * batches. Whole records are aligned when the stride is a multiple of the reader's O_DIRECT block
     * ({@code block}; a back-to-back pack's need not be); single parts when parts and rows are.
     */
    private static long ioBytes(ReaderOptions r, FfnGeometry g, long block, int readers, int batchCapacity,
                                boolean records) {
        boolean aligned = records ? g.stride() % block == 0 : partsAligned(g, block) && ResidentFfn.rowBytes(g) % block == 0;
        long bounce = r.direct() && !aligned ? (long) readers * Math.min(64L << 20, r.queueDepth() * (256L << 10)) : 0;
        return bounce + (long) g.filesPerLayer() * batchCapacity * 32L;
    }

    /** Whether every part's size and offset in a record are multiples of block (reads of single parts stay aligned). */
    private static boolean partsAligned(FfnGeometry g, long block) {
        for (FfnPart p : g.parts()) {
            if (g.partBytes(p) % block != 0 || g.partOffset(p) % block != 0) {
                return false;
            }
        }
        return true;
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

    /**
     * A prompt chunk through the model's batched pass: the attention and the modes that read every neuron
     * (naive, hybrid, exact) read each weight once for the chunk. The statistics record the chunk as its
     * tokens, each with an equal share. The mmap mode, which counts page-cache bytes per token, runs the
     * tokens one by one.
     */
    @Override
    public MemorySegment forwardBatch(InferenceState state, int[] tokens, int from, int count, int pos) {
        if (count == 1 || options.mode() == EngineMode.MMAP) {
            return LanguageModel.super.forwardBatch(state, tokens, from, count, pos);
        }
        long t0 = System.nanoTime();
        MemorySegment logits = model.forwardBatch(state, tokens, from, count, pos);
        stats.endTokens(System.nanoTime() - t0, count);
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
    public PredictorKind predictorKind() {
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
    public FeedForward feedForward(int layer) {
        return model.feedForward(layer);
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
