package io.flashlm.predictor;

import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;
import io.flashlm.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Text for calibration and evaluation: stories separated by blank lines, each run as its own sequence
 * from BOS (cut to the context length), up to a total number of positions.
 */
public final class CalibrationText {
    private CalibrationText() {
    }

    /** Called after each position's forward pass with the running index over all sequences. */
    @FunctionalInterface
    public interface PositionListener {
        void accept(int index, int token, MemorySegment logits);
    }

    /** The stories of a file, encoded with BOS, cut to {@code context}, at most {@code maxTokens} positions in all. */
    public static List<int[]> sequences(Path file, Tokenizer tokenizer, boolean addBos, int context, int maxTokens)
            throws IOException {
        String text = Files.readString(file).replace("\r\n", "\n");
        List<int[]> out = new ArrayList<>();
        int total = 0;
        for (String story : text.split("\n\\s*\n")) {
            String s = story.strip();
            if (s.isEmpty()) {
                continue;
            }
            int[] ids = tokenizer.encode(s, addBos);
            int n = Math.min(Math.min(ids.length, context), maxTokens - total);
            if (n <= 0) {
                break;
            }
            out.add(n == ids.length ? ids : java.util.Arrays.copyOf(ids, n));
            total += n;
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no text to run");
        }
        return out;
    }

    public static int positions(List<int[]> seqs) {
        int n = 0;
        for (int[] s : seqs) {
            n += s.length;
        }
        return n;
    }

    /** Runs every sequence through the model (whatever observer it has); returns the positions run. */
    public static int run(LanguageModel model, List<int[]> seqs, PositionListener listener, String label,
                          PrintStream progress) {
        int total = positions(seqs);
        int index = 0;
        long start = System.nanoTime();
        long last = start;
        try (InferenceState state = model.newState()) {
            for (int[] seq : seqs) {
                for (int pos = 0; pos < seq.length; pos++) {
                    MemorySegment logits = model.forward(state, seq[pos], pos);
                    if (listener != null) {
                        listener.accept(index, seq[pos], logits);
                    }
                    index++;
                }
                long now = System.nanoTime();
                if (progress != null && (now - last > 2_000_000_000L || index == total)) {
                    last = now;
                    progress.printf(Locale.ROOT, "%s: %d / %d positions (%.0f tokens/s)%n", label, index, total,
                            index / Math.max(1e-9, (now - start) / 1e9));
                }
            }
        }
        return index;
    }
}
