package io.flashlm.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The look-ahead guard's rule on synthetic per-token costs. */
class LookAheadGuardTest {

    /** Feeds {@code tokens} tokens, each costing {@code withMs} when it looks ahead and {@code withoutMs} when not. */
    private static void feed(LookAheadGuard g, int tokens, double withMs, double withoutMs) {
        for (int t = 0; t < tokens; t++) {
            g.endToken((long) ((g.lookingAhead() ? withMs : withoutMs) * 1e6));
        }
    }

    @Test
    void itStartsOffTriesLookAheadAndKeepsItWhenItPays() {
        LookAheadGuard g = new LookAheadGuard();
        assertFalse(g.lookingAhead());
        feed(g, LookAheadGuard.WINDOW - 1, 50, 100);
        assertFalse(g.lookingAhead());
        feed(g, 1, 50, 100);
        assertTrue(g.lookingAhead(), "the trial");
        feed(g, LookAheadGuard.TRIAL, 50, 100);
        assertTrue(g.lookingAhead(), "kept: 50 ms per token against 100");
        assertTrue(g.describe().contains("switched on"), g.describe());
        // the window on, then a trial without: still worse, so it stays on
        feed(g, LookAheadGuard.WINDOW, 50, 100);
        assertFalse(g.lookingAhead(), "the trial without");
        feed(g, LookAheadGuard.TRIAL, 50, 100);
        assertTrue(g.lookingAhead());
        assertTrue(g.describe().startsWith("guard: on"), g.describe());
    }

    @Test
    void aGuessThatCostsMoreIsDroppedAfterItsTrialAndRetriedLater() {
        LookAheadGuard g = new LookAheadGuard();
        feed(g, LookAheadGuard.WINDOW + LookAheadGuard.TRIAL, 200, 100);
        assertFalse(g.lookingAhead());
        assertTrue(g.describe().contains("kept off"), g.describe());
        feed(g, LookAheadGuard.WINDOW, 200, 100);
        assertTrue(g.lookingAhead(), "tried again after a window");
        // the device got slower: now look-ahead pays
        feed(g, LookAheadGuard.TRIAL, 80, 100);
        assertTrue(g.lookingAhead());
        feed(g, LookAheadGuard.WINDOW, 80, 100);
        feed(g, LookAheadGuard.TRIAL, 80, 100);
        assertTrue(g.lookingAhead());
    }
}
