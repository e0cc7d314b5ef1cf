package io.flashlm.chat;

import io.flashlm.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The tokens that end an assistant's turn. The rule: the tokenizer's EOS; every id the model file names (GGUF
 * eos/eot/eom ids, generation_config.json's eos_token_id); every token string it names (tokenizer_config.json's
 * eos_token); and each well-known end-of-turn marker ({@link #END_OF_TURN_MARKERS}) that the chat template
 * writes and the vocabulary has as one token. Strings are resolved to ids through the vocabulary's pieces; a
 * string the vocabulary lacks is skipped (it cannot be generated as one token).
 */
public final class StopTokens {
    /** End-of-turn markers of the common chat formats (ChatML, Llama 3, Phi-3, Gemma, GPT-2 style). */
    public static final List<String> END_OF_TURN_MARKERS = List.of("<|im_end|>", "<|eot_id|>", "<|eom_id|>",
            "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>");

    private StopTokens() {
    }

    /** The stop ids for {@code format} rendered with {@code template} (its source is searched for markers). */
    public static int[] resolve(ChatFormat format, String templateSource, Tokenizer tokenizer) {
        Set<Integer> ids = new LinkedHashSet<>();
        if (tokenizer.eos() >= 0) {
            ids.add(tokenizer.eos());
        }
        for (int id : format.stopIds()) {
            if (id < tokenizer.vocabSize()) {
                ids.add(id);
            }
        }
        List<String> wanted = new ArrayList<>(format.stopTokens());
        for (String marker : END_OF_TURN_MARKERS) {
            if (templateSource != null && templateSource.contains(marker)) {
                wanted.add(marker);
            }
        }
        ids.addAll(idsOf(wanted, tokenizer));
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The ids whose piece is exactly one of {@code pieces}. */
    static List<Integer> idsOf(List<String> pieces, Tokenizer tokenizer) {
        List<Integer> out = new ArrayList<>();
        if (pieces.isEmpty()) {
            return out;
        }
        Set<String> set = Set.copyOf(pieces);
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            if (set.contains(tokenizer.piece(id))) {
                out.add(id);
            }
        }
        return out;
    }
}
