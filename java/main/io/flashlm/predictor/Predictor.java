package io.flashlm.predictor;

import java.lang.foreign.MemorySegment;

/**
 * Says, before any FFN weight is read, which neurons of a layer will be active for an FFN input.
 * Implementations keep their scratch buffers, so {@link #predict} allocates nothing; one caller at a time.
 */
public sealed interface Predictor permits OraclePredictor, LowRankPredictor, ThresholdPredictor, TracePredictor {

    /**
     * Writes the neurons predicted active for FFN input {@code x} (dim f32, after the FFN's norm) of
     * {@code layer} into {@code outActive}, ascending, and returns how many there are.
     * {@code outActive} must hold {@link #neurons()} ints.
     */
    int predict(int layer, MemorySegment x, int[] outActive);

    /**
     * A look-ahead guess of layer {@code layer}'s set from an earlier input (the previous layer's FFN input),
     * made before the layer's own input exists so that its reads can start early; same contract as
     * {@link #predict}. The set {@link #predict} later returns for the layer's own input is what is computed;
     * the guess only decides what is read ahead. By default the layer's predictor applied to the earlier
     * input (the predictors that depend only on their input); a predictor with per-layer state overrides it
     * so that the guess does not advance that state.
     */
    default int predictAhead(int layer, MemorySegment earlierX, int[] outActive) {
        return predict(layer, earlierX, outActive);
    }

    /** The predictor's kind, as stored and chosen on the command line. */
    PredictorKind kind();

    int layers();

    int dim();

    int neurons();
}
