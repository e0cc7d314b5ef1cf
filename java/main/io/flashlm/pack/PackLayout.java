package io.flashlm.pack;

import java.util.Locale;

/** How a pack stores each layer's FFN on flash. */
public enum PackLayout {
    /** Neuron i is one record [gate row i | up row i | down column i]: one read per neuron. */
    BUNDLED,
    /** Each matrix in its own file (down transposed, so a column is contiguous): 2-3 reads per neuron. */
    UNBUNDLED;

    /** The name used in manifests and on the command line. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static PackLayout parse(String text) {
        for (PackLayout l : values()) {
            if (l.jsonName().equalsIgnoreCase(text)) {
                return l;
            }
        }
        throw new IllegalArgumentException("layout '" + text + "' is not one of bundled, unbundled");
    }
}
