package io.flashlm.util;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and prints byte sizes: "4096", "4K", "4KiB", "512MiB", "1.5G". K/M/G/T are binary (1024) multiples. */
public final class ByteSizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(i?b?)", Pattern.CASE_INSENSITIVE);

    private ByteSizes() {
    }

    public static long parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("size must not be null");
        }
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid size '" + text + "': expected a number with an optional"
                    + " unit K, M, G or T (binary multiples, e.g. 4K, 512MiB, 4G)");
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        double value = Double.parseDouble(m.group(1)) * Math.pow(2, shift);
        if (value > Long.MAX_VALUE / 2) {
            throw new IllegalArgumentException("size '" + text + "' is too large");
        }
        long bytes = Math.round(value);
        if (bytes != value) {
            throw new IllegalArgumentException("size '" + text + "' is not a whole number of bytes");
        }
        return bytes;
    }

    /** A short human form: 4 KiB, 1.5 GiB, 123 B. */
    public static String format(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        if (u == 0 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%d %s", (long) v, units[u]);
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
