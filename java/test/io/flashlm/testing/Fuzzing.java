package io.flashlm.testing;

import io.flashlm.model.InferenceState;
import io.flashlm.pack.PackLayout;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.tensor.DType;
import io.flashlm.model.LanguageModel;
import io.flashlm.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The contract every parser fuzz target checks (the {@code *FuzzTest} classes, run by Jazzer): whatever the
 * bytes, a file is loaded or refused with an {@link IOException} whose message says why. Anything else that
 * escapes (a RuntimeException such as an index or arithmetic error, an OutOfMemoryError, a StackOverflowError)
 * is a finding, and so is a hang (Jazzer's per-input timeout in fuzzing mode).
 *
 * <p>Each target runs in regression mode in every {@code ./build test} (the seeds below, the empty input and
 * the saved inputs in {@code java/test-resources/<package>/<Class>Inputs/}) and is fuzzed for a fixed
 * number of executions from a fixed libFuzzer seed in the build's {@code fuzz-smoke} execution. A finding is
 * written to {@code target/fuzz/}; copy it into the Inputs directory so that it stays a regression test.
 */
public final class Fuzzing {
    private Fuzzing() {
    }

    /** A parser call that may refuse its input. */
    @FunctionalInterface
    public interface Load {
        void run() throws IOException;
    }

    /** A text with every kind of character a tokenizer meets: ASCII, Latin-1, CJK, an emoji, a special's spelling. */
    public static final String TEXT = "Once upon a time, \u00fcber caf\u00e9 \u4f60\u597d \ud83d\ude42 <s> 12345!\n\t  end";

    /** Runs {@code load}: a refusal is an IOException with a message; any other throwable propagates. */
    public static void loadedOrRefused(Load load) {
        loadedOrRefused(null, load);
    }

    /**
     * Runs {@code load}: a refusal is an IOException, or an exception of the parser's documented runtime type
     * {@code documented} (null for none), with a message; any other throwable propagates.
     */
    public static void loadedOrRefused(Class<? extends RuntimeException> documented, Load load) {
        try {
            load.run();
        } catch (IOException e) {
            requireMessage(e);
        } catch (RuntimeException e) {
            if (documented == null || !documented.isInstance(e)) {
                throw e;
            }
            requireMessage(e);
        }
    }

    private static void requireMessage(Exception e) {
        if (e.getMessage() == null || e.getMessage().isBlank()) {
            throw new AssertionError("refused with an exception that does not say why", e);
        }
    }

    /**
     * Uses a model that loaded as a user would at once: encodes a text with every kind of character, runs two
     * positions forward and decodes every token id, so that a header the parser accepted cannot fail later.
     */
    public static void exercise(LanguageModel model) {
        Tokenizer tokenizer = model.tokenizer();
        int vocab = model.config().vocabSize();
        int[] ids = tokenizer.encode(TEXT, model.addBos());
        for (int id = 0; id < vocab; id++) {
            tokenizer.decodeBytes(id);
        }
        tokenizer.decode(ids);
        try (InferenceState state = model.newState()) {
            for (int pos = 0; pos < Math.min(2, model.config().contextLength()); pos++) {
                int token = ids.length > pos ? ids[pos] : 0;
                model.forward(state, Math.floorMod(token, vocab), pos);
            }
        }
    }

    /**
     * A directory for this JVM's scratch files, emptied before each use: the fuzzer runs one input at a time,
     * so every execution writes its files here under the same names.
     */
    public static Path scratch(String name) {
        try {
            Path dir = Path.of("target", "fuzz-scratch", name + "-" + ProcessHandle.current().pid()).toAbsolutePath();
            if (Files.exists(dir)) {
                TestFiles.deleteRecursively(dir);
            }
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A tiny synthetic pack (synth's "tiny" shape: OPT, 4 layers, d_model 128, 512 neurons, f16, bundled) in a
     * fresh scratch directory, for targets that fuzz one of a pack's files in place.
     */
    public static Path tinyPack(String name) {
        Path dir = scratch(name).resolve("pack");
        try {
            SyntheticPackWriter.write(SyntheticShape.preset("tiny"), new SyntheticPackWriter.Options(dir, DType.F16,
                    PackLayout.BUNDLED, 4096, 42, 0.97, 1, false), new PrintStream(OutputStream.nullOutputStream()), false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /**
     * Inputs that stand for several files (a model directory, a pack's manifest with its predictor) are the
     * files' bytes joined by this separator; a mutation that breaks a separator merges two files, which is one
     * more malformed input.
     */
    private static final byte[] SEPARATOR = "\n\u0000flashlm-fuzz-next-file\u0000\n".getBytes(StandardCharsets.UTF_8);

    /** One input made of {@code files}, in order; an empty file stands for an absent one. */
    public static byte[] join(byte[]... files) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < files.length; i++) {
            if (i > 0) {
                out.writeBytes(SEPARATOR);
            }
            out.writeBytes(files[i]);
        }
        return out.toByteArray();
    }

    /**
     * Writes an input made by {@link #join} into {@code dir} as the files {@code names}: the last name takes the
     * rest of the input, a missing or empty part leaves its file absent. Returns {@code dir}.
     */
    public static Path writeFiles(Path dir, byte[] input, String... names) {
        int from = 0;
        try {
            for (int i = 0; i < names.length && from <= input.length; i++) {
                int end = i == names.length - 1 ? -1 : indexOf(input, SEPARATOR, from);
                int to = end < 0 ? input.length : end;
                if (to > from) {
                    Path file = dir.resolve(names[i]);
                    Files.createDirectories(file.getParent());
                    Files.write(file, Arrays.copyOfRange(input, from, to));
                }
                if (end < 0) {
                    break;
                }
                from = end + SEPARATOR.length;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    private static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Reads a seed file written by a fixture. */
    public static byte[] bytes(Path file) {
        try {
            return Files.exists(file) ? Files.readAllBytes(file) : new byte[0];
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A seed made of real test model files (joined as {@link #join} does; "" for an absent part), where the
     * shared models are: an empty stream when any is missing, so that the corpus never depends on them.
     */
    public static Stream<byte[]> sharedModelSeed(String... relativePaths) {
        Path root = SharedModels.dir();
        List<byte[]> parts = new ArrayList<>();
        for (String relative : relativePaths) {
            if (relative.isEmpty()) {
                parts.add(new byte[0]);
                continue;
            }
            Path file = root.resolve(relative);
            if (!Files.isRegularFile(file)) {
                return Stream.empty();
            }
            parts.add(bytes(file));
        }
        return Stream.of(join(parts.toArray(byte[][]::new)));
    }
}
