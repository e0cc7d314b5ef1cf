package io.flashlm.util;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar for long work measured in bytes: done/total, rate and ETA, redrawn in
 * place a few times a second on a terminal; when the output is a log (no console) a plain line is
 * printed every few seconds instead. Silent when disabled (tests, --quiet).
 */
public final class Progress {
    private static final long REDRAW_NS = 250_000_000L;
    private static final long LOG_LINE_NS = 5_000_000_000L;
    private static final boolean TERMINAL = System.console() != null && System.console().isTerminal();

    private final String label;
    private final long total;
    private final PrintStream out;
    private final boolean enabled;
    private final long startNs = System.nanoTime();
    private long lastDrawNs;
    private long done;

    public Progress(String label, long total, PrintStream out, boolean enabled) {
        this.label = label;
        this.total = total;
        this.out = out;
        this.enabled = enabled;
    }

    /** Whether progress can be redrawn in place (a console), or must go out as whole lines (a log). */
    public static boolean isTerminal() {
        return TERMINAL;
    }

    public void advance(long bytes) {
        done += bytes;
        long now = System.nanoTime();
        if (enabled && now - lastDrawNs >= (TERMINAL ? REDRAW_NS : LOG_LINE_NS)) {
            lastDrawNs = now;
            draw(now, false);
        }
    }

    public void finish() {
        if (enabled) {
            draw(System.nanoTime(), true);
        }
    }

    private void draw(long now, boolean last) {
        double seconds = Math.max(1e-9, (now - startNs) / 1e9);
        double rate = done / seconds;
        double fraction = total > 0 ? Math.min(1.0, (double) done / total) : 1.0;
        int width = 30;
        int filled = (int) Math.round(fraction * width);
        String bar = "#".repeat(filled) + "-".repeat(width - filled);
        String eta = last ? String.format(Locale.ROOT, "in %.1f s", seconds)
                : rate > 0 ? String.format(Locale.ROOT, "ETA %.0f s", (total - done) / rate) : "ETA ?";
        out.printf(Locale.ROOT, "%s%s [%s] %s / %s, %.0f MB/s, %s%s", TERMINAL ? "\r" : "", label, bar,
                ByteSizes.format(done), ByteSizes.format(total), rate / 1e6, eta, last || !TERMINAL ? "\n" : "   ");
        out.flush();
    }
}
