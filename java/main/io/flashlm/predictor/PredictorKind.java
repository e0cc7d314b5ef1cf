package io.flashlm.predictor;

import io.flashlm.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The kinds of sparsity predictor, as named on the command line and stored in a pack: how each is
 * loaded, and what it keeps resident. {@link #TRAINED}, {@link #SVD} and {@link #THRESHOLD} are made by
 * {@code flashlm calibrate} and stored; {@link #ORACLE} computes the true activations from the up (and
 * gate) rows, {@link #TRACE} follows synthetic activation traces (synthetic packs).
 */
public enum PredictorKind {
    /** Low-rank, trained on calibration text (the paper's predictor). */
    TRAINED,
    /** Low-rank, from a truncated SVD of the up projection. */
    SVD,
    /** The gate's magnitude against a calibrated per-layer threshold (gated FFNs). */
    THRESHOLD,
    /** The true activations, computed from the up/gate rows: exact. */
    ORACLE,
    /** Synthetic activation traces with the paper's statistics. */
    TRACE;

    /** The stored kinds in order of preference for the default predictor. */
    public static final List<PredictorKind> STORED = List.of(TRAINED, SVD, THRESHOLD);

    /** The name on the command line, in reports and in the pack. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return id();
    }

    /** Whether {@code flashlm calibrate} stores this kind in the pack. */
    public boolean stored() {
        return STORED.contains(this);
    }

    /** Whether the predictor computes from the FFN's up (and gate) rows, which then stay in DRAM. */
    public boolean needsUpGate() {
        return this == ORACLE || this == THRESHOLD;
    }

    /**
     * Loads the predictor of this kind for the pack at {@code pack} of config {@code c}.
     *
     * @param upGate the model's up/gate rows, required when {@link #needsUpGate()}, else ignored
     */
    public Predictor load(Path pack, ModelConfig c, FfnLayers upGate) throws IOException {
        if (needsUpGate() && upGate == null) {
            throw new IllegalArgumentException("the " + id() + " predictor needs the model's up/gate rows");
        }
        return switch (this) {
            case TRAINED, SVD -> PredictorStore.loadLowRank(pack, this, c.layers(), c.dim(), c.hiddenDim());
            case THRESHOLD -> PredictorStore.load(pack, this, upGate);
            case ORACLE -> new OraclePredictor(upGate);
            case TRACE -> new TracePredictor(c.layers(), c.dim(), c.hiddenDim(), TracePredictor.opt67b());
        };
    }

    /**
     * What a loaded predictor of this kind keeps resident, and the line naming it in a memory budget;
     * the up/gate rows of {@link #needsUpGate()} kinds are the engine's to account.
     */
    public long residentBytes(Predictor p, ModelConfig c) {
        return switch (p) {
            case LowRankPredictor lr -> lr.byteSize();
            case TracePredictor t -> 8L * c.layers() * c.hiddenDim();
            case OraclePredictor o -> 0;
            case ThresholdPredictor t -> 4L * c.layers();
        };
    }

    /** The budget line of {@link #residentBytes}. */
    public String residentLabel() {
        return this == TRACE ? "trace predictor state" : id() + " predictor";
    }

    public static PredictorKind parse(String text) {
        for (PredictorKind k : values()) {
            if (k.id().equalsIgnoreCase(text.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown predictor '" + text + "': expected one of "
                + Arrays.stream(values()).map(PredictorKind::id).collect(Collectors.joining(", ")));
    }
}
