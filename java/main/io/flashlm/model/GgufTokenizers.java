package io.flashlm.model;

import io.flashlm.format.GgufMetadata;
import io.flashlm.format.ModelFormatException;
import io.flashlm.tokenizer.ByteLevelBpeTokenizer;
import io.flashlm.tokenizer.GgufBpeVocab;
import io.flashlm.tokenizer.SentencePieceBpeTokenizer;
import io.flashlm.tokenizer.Tokenizer;
import io.flashlm.tokenizer.VocabFieldException;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The tokenizer a GGUF file's {@code tokenizer.ggml.*} keys describe: SentencePiece BPE ({@code model = llama})
 * or byte-level BPE ({@code model = gpt2}). Every problem is a {@link ModelFormatException} naming the file and
 * the key.
 */
public final class GgufTokenizers {
    private static final String K = "tokenizer.ggml.";

    private GgufTokenizers() {
    }

    public static Tokenizer read(Path path, GgufMetadata m) throws ModelFormatException {
        String model = m.getString(K + "model");
        return switch (model) {
            case "llama" -> sentencePiece(path, m);
            case "gpt2" -> byteLevelBpe(path, m);
            default -> throw new ModelFormatException(path, "metadata." + K + "model", "'" + model
                    + "' is not supported; expected 'llama' (SentencePiece BPE) or 'gpt2' (byte-level BPE)");
        };
    }

    private static Tokenizer sentencePiece(Path path, GgufMetadata m) throws ModelFormatException {
        String[] tokens = m.getStringArray(K + "tokens");
        float[] scores = m.contains(K + "scores") ? m.getFloatArray(K + "scores") : new float[tokens.length];
        int[] types = m.contains(K + "token_type") ? m.getIntArray(K + "token_type") : null;
        try {
            return SentencePieceBpeTokenizer.fromVocab(Arrays.asList(tokens), scores, types,
                    m.getInt(K + "bos_token_id", 1), m.getInt(K + "eos_token_id", 2),
                    m.getInt(K + "unknown_token_id", 0), m.getBoolean(K + "add_space_prefix", true));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(path, "metadata.tokenizer.ggml", e.getMessage(), e);
        }
    }

    private static Tokenizer byteLevelBpe(Path path, GgufMetadata m) throws ModelFormatException {
        try {
            return ByteLevelBpeTokenizer.fromGgufVocab(bpeVocab(path, m));
        } catch (VocabFieldException e) {
            throw new ModelFormatException(path, "metadata." + e.field(), e.problem(), e);
        }
    }

    /** The keys of a {@code gpt2} vocabulary, each of the type GGUF gives it; checked together when built. */
    public static GgufBpeVocab bpeVocab(Path path, GgufMetadata m) throws ModelFormatException {
        List<String> tokens = List.of(m.getStringArray(K + "tokens"));
        int[] types = m.contains(K + "token_type") ? m.getIntArray(K + "token_type") : null;
        List<String> merges = List.of(m.getStringArray(K + "merges"));
        Boolean addBos = m.contains(K + "add_bos_token") ? m.getBoolean(K + "add_bos_token") : null;
        m.getBoolean(K + "add_eos_token", false); // type-checked only: a prompt never ends with EOS (Tokenizer.encode)
        return new GgufBpeVocab(tokens, types, merges, m.getString(K + "pre", null), id(path, m, "bos_token_id"),
                id(path, m, "eos_token_id"), id(path, m, "unknown_token_id"), id(path, m, "padding_token_id"), addBos);
    }

    /**
     * A token id key, -1 when absent or when it holds the all-ones uint32 (or -1) that converters write for
     * "no such token"; the vocabulary checks the range.
     */
    private static int id(Path path, GgufMetadata m, String key) throws ModelFormatException {
        if (!m.contains(K + key)) {
            return -1;
        }
        long id = m.getLong(K + key);
        if (id == 0xFFFFFFFFL || id == -1) {
            return -1;
        }
        if (id != (int) id) {
            throw new ModelFormatException(path, "metadata." + K + key, "value " + id + " is not a token id");
        }
        return (int) id;
    }
}
