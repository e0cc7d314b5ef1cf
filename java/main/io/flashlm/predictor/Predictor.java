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

    /** The predictor's kind, as stored and chosen on the command line. */
    PredictorKind kind();

    int layers();

    int dim();

    int neurons();
}
