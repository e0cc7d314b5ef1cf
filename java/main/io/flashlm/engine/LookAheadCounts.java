package io.flashlm.engine;

import io.flashlm.util.ByteSizes;

import java.util.Locale;

/**
 * What the flash engine's look-ahead realised since the engine opened: per layer that had a guess, how much of
 * the true set the guess held (recall), how large the guess was, and how many of the records read ahead the
 * true set did not use (wasted reads; they stay in the window as that token's neurons). Counting allocates
 * nothing.
 */
final class LookAheadCounts {
    private long layers;
    private long trueNeurons;
    private long recalled;
    private long guessed;
    private long readAhead;
    private long wasted;
    private long wastedBytes;

    /**
     * Counts one layer's guess ({@code guess[0..guessCount)}, ascending) against its true set
     * ({@code truth[0..n)}, ascending), where {@code read[0..readCount)} (ascending) are the guessed neurons that
     * were read ahead; returns how many of those the true set holds.
     */
    synchronized int count(int[] guess, int guessCount, int[] read, int readCount, int[] truth, int n,
                           long recordBytes) {
        int held = intersection(guess, guessCount, truth, n);
        int used = intersection(read, readCount, truth, n);
        layers++;
        trueNeurons += n;
        recalled += held;
        guessed += guessCount;
        readAhead += readCount;
        wasted += readCount - used;
        wastedBytes += (readCount - used) * recordBytes;
        return used;
    }

    /** |a[0..na) and b[0..nb)|, both ascending. */
    static int intersection(int[] a, int na, int[] b, int nb) {
        int i = 0, j = 0, k = 0;
        while (i < na && j < nb) {
            int d = Integer.compare(a[i], b[j]);
            if (d == 0) {
                k++;
                i++;
                j++;
            } else if (d < 0) {
                i++;
            } else {
                j++;
            }
        }
        return k;
    }

    /** The share of the true sets' neurons that the guesses held (NaN before any guess). */
    synchronized double recall() {
        return trueNeurons == 0 ? Double.NaN : (double) recalled / trueNeurons;
    }

    /** The share of the records read ahead that their layer did not use (NaN before any read ahead). */
    synchronized double wastedShare() {
        return readAhead == 0 ? Double.NaN : (double) wasted / readAhead;
    }

    synchronized String describe() {
        if (layers == 0) {
            return "look-ahead: no guesses yet (prompt chunks and each token's first layer read at their turn)";
        }
        return String.format(Locale.ROOT, "look-ahead: %d layer guesses held %.1f%% of the true sets (guesses %.2fx"
                        + " their size); %d records read ahead, %.1f%% of them unused (%s)", layers, 100 * recall(),
                (double) guessed / trueNeurons, readAhead, readAhead == 0 ? 0 : 100 * wastedShare(),
                ByteSizes.format(wastedBytes));
    }
}
