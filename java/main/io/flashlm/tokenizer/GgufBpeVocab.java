package io.flashlm.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A byte-level BPE vocabulary as a GGUF file stores it ({@code tokenizer.ggml.model = gpt2}), its keys already
 * read; {@link ByteLevelBpeTokenizer#fromGgufVocab} checks them and builds the same tokenizer a tokenizer.json
 * gives. Token types decide the specials, as in the reference engine with special tokens parsed: control,
 * unknown and user-defined tokens are cut out of the text whole before pre-tokenization; control and unknown
 * ones decode to no text, user-defined ones to their own text (stored raw, not byte-mapped).
 *
 * @param tokens  {@code tokenizer.ggml.tokens}: id to piece, normal pieces in GPT-2's byte map
 * @param types   {@code tokenizer.ggml.token_type}, one per token, or null (all normal)
 * @param merges  {@code tokenizer.ggml.merges}: "a b", rank = index
 * @param pre     {@code tokenizer.ggml.pre}, or null ("default", as in the reference engine)
 * @param bos     {@code tokenizer.ggml.bos_token_id}, or -1 for none; likewise eos, unk and pad
 * @param addBos  {@code tokenizer.ggml.add_bos_token}, or null for the pre-tokenizer's default (true only for
 *                Llama 3's and tekken's, false for GPT-2 style vocabularies)
 */
public record GgufBpeVocab(List<String> tokens, int[] types, List<String> merges, String pre, int bos, int eos,
        int unk, int pad, Boolean addBos) {

    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String TYPES = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String PRE = "tokenizer.ggml.pre";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";

    // GGUF's token types (llama.cpp's llama_token_type, SentencePiece's numbering).
    static final int UNDEFINED = 0, NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    public GgufBpeVocab {
        tokens = List.copyOf(tokens);
        types = types == null ? null : types.clone();
        merges = List.copyOf(merges);
    }

    /** Checks every key against the others; each problem is a {@link VocabFieldException} naming its key. */
    ByteLevelBpeTokenizer.Spec spec() {
        int n = tokens.size();
        if (n == 0) {
            throw new VocabFieldException(TOKENS, "is empty; expected the vocabulary's pieces");
        }
        if (types != null && types.length != n) {
            throw new VocabFieldException(TYPES, "has " + types.length + " entries for the " + n + " tokens of "
                    + TOKENS + "; expected one type per token");
        }
        String preName = pre == null ? GgufPreTokenizers.DEFAULT : pre;
        GgufPreTokenizers.Preset preset = GgufPreTokenizers.byName(preName);
        if (preset == null) {
            throw new VocabFieldException(PRE, "'" + preName + "' is not supported; supported: "
                    + String.join(", ", GgufPreTokenizers.names()));
        }
        Map<String, Integer> vocab = HashMap.newHashMap(n);
        List<ByteLevelBpeTokenizer.AddedToken> specials = new ArrayList<>();
        Set<Integer> silent = new HashSet<>();
        for (int id = 0; id < n; id++) {
            String piece = tokens.get(id);
            int type = types == null ? NORMAL : types[id];
            if (!piece.isEmpty()) { // an empty piece can be neither looked up nor matched in text
                Integer earlier = vocab.put(piece, id);
                if (earlier != null) {
                    throw new VocabFieldException(TOKENS + "[" + id + "]", "'" + piece + "' repeats token " + earlier
                            + "; expected distinct pieces");
                }
            }
            switch (type) {
                case NORMAL -> {
                }
                case CONTROL, UNKNOWN, USER_DEFINED -> {
                    if (!piece.isEmpty()) {
                        specials.add(new ByteLevelBpeTokenizer.AddedToken(id, piece, type != USER_DEFINED, false,
                                false, false));
                    }
                }
                case UNUSED, BYTE, UNDEFINED -> silent.add(id);
                default -> throw new VocabFieldException(TYPES + "[" + id + "]", "type " + type + " of '" + piece
                        + "' is not one of 0 (undefined), 1 (normal), 2 (unknown), 3 (control), 4 (user-defined),"
                        + " 5 (unused), 6 (byte)");
            }
        }
        MergeTable mergeTable = mergeTable(vocab);
        checkId("tokenizer.ggml.bos_token_id", bos, n);
        checkId("tokenizer.ggml.eos_token_id", eos, n);
        checkId("tokenizer.ggml.unknown_token_id", unk, n);
        checkId("tokenizer.ggml.padding_token_id", pad, n);
        boolean withBos = addBos != null ? addBos : preset.addBos();
        if (withBos && bos < 0) {
            throw new VocabFieldException("tokenizer.ggml.bos_token_id", "missing, but BOS is to be added ("
                    + (addBos != null ? ADD_BOS + " = true" : "the default for " + PRE + " '" + preName + "'") + ")");
        }
        // unk -1: a byte missing from the vocabulary is dropped, as the reference engine does for BPE.
        return new ByteLevelBpeTokenizer.Spec(vocab, mergeTable, specials, silent, s -> s, preset.preTokenizer(),
                preset.ignoreMerges(), -1, withBos ? new int[] {bos} : new int[0], eos);
    }

    private MergeTable mergeTable(Map<String, Integer> vocab) {
        MergeTableBuilder table = new MergeTableBuilder(vocab, merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String rule = merges.get(rank);
            String[] pair = MergeTableBuilder.splitPair(rule);
            if (pair == null) {
                throw new VocabFieldException(MERGES + "[" + rank + "]", "'" + rule
                        + "' is not two pieces separated by one space");
            }
            String missing = table.add(pair[0], pair[1]);
            if (missing != null) {
                throw new VocabFieldException(MERGES + "[" + rank + "]", "'" + pair[0] + "' + '" + pair[1]
                        + "' uses '" + missing + "', which is not in " + TOKENS);
            }
        }
        return table.build();
    }

    private static void checkId(String field, int id, int n) {
        if (id < -1 || id >= n) {
            throw new VocabFieldException(field, "id " + id + " is outside the " + n + " tokens of " + TOKENS);
        }
    }
}
