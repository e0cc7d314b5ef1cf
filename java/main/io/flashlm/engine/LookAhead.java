package io.flashlm.engine;

import java.util.Locale;

/**
 * Whether the windowed modes start a layer's reads from a guess made at the previous layer
 * ({@link io.flashlm.predictor.Predictor#predictAhead}), which changes what is read and when, never the result.
 */
public enum LookAhead {
    /** Each layer reads once its own set is predicted. */
    OFF,
    /**
     * Look-ahead is tried on the run's own tokens and kept only while it costs less time per token than
     * reading at each layer's turn ({@link LookAheadGuard}); it starts off.
     */
    AUTO,
    /** Every layer after the first reads from the previous layer's guess. */
    ON;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses off, auto or on (any case). */
    public static LookAhead parse(String s) {
        for (LookAhead l : values()) {
            if (l.id().equalsIgnoreCase(s.trim())) {
                return l;
            }
        }
        throw new IllegalArgumentException("look-ahead must be off, auto or on, was '" + s + "'");
    }
}
