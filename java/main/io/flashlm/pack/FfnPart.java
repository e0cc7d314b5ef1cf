package io.flashlm.pack;

import java.util.Locale;

/** The vectors one FFN neuron owns; each is d_model values long. */
public enum FfnPart {
    /** Row i of the gate projection (gated FFNs only). */
    GATE,
    /** Row i of the up projection (OPT's fc1). */
    UP,
    /** Column i of the down projection (OPT's fc2), stored contiguously. */
    DOWN;

    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static FfnPart parse(String text) {
        for (FfnPart p : values()) {
            if (p.jsonName().equals(text)) {
                return p;
            }
        }
        throw new IllegalArgumentException("FFN part '" + text + "' is not one of gate, up, down");
    }
}
