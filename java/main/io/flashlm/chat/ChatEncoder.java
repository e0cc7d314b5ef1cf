package io.flashlm.chat;

import io.flashlm.tokenizer.ByteLevelBpeTokenizer;
import io.flashlm.tokenizer.SentencePieceBpeTokenizer;
import io.flashlm.tokenizer.SpecialTokenSplitter;
import io.flashlm.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tokenizes a rendered chat prompt with its special tokens (e.g. {@code <|im_start|>}, {@code [INST]},
 * {@code <s>}) as single tokens, as llama.cpp does with {@code parse_special} and Hugging Face with its added
 * tokens:
 * <ul>
 *   <li>byte-level BPE already cuts every added token (special or not) out of the text first, so the text goes
 *       to it whole;</li>
 *   <li>SentencePiece cuts only user-defined tokens, so the text is first cut at every control and user-defined
 *       piece and each plain stretch is encoded alone (with its dummy-prefix space, as llama.cpp does after a
 *       special token);</li>
 *   <li>other tokenizers are cut at every piece they call special.</li>
 * </ul>
 * The BOS prefix is added only when the model wants one and the rendered text does not already start with it
 * (templates usually write {@code {{ bos_token }}} themselves).
 */
public final class ChatEncoder {
    private final Tokenizer tokenizer;
    private final SpecialTokenSplitter literals; // leftmost match, the longest there
    private final int[] bosPrefix;

    public ChatEncoder(Tokenizer tokenizer, boolean modelAddsBos) {
        this.tokenizer = tokenizer;
        this.bosPrefix = modelAddsBos ? tokenizer.encode("", true) : new int[0];
        List<SpecialTokenSplitter.Literal> found = new ArrayList<>();
        if (!(tokenizer instanceof ByteLevelBpeTokenizer)) {
            for (int id = 0; id < tokenizer.vocabSize(); id++) {
                String piece = tokenizer.piece(id);
                if (!piece.isEmpty() && cutsText(tokenizer, id)) {
                    found.add(new SpecialTokenSplitter.Literal(piece, id, false, false, false));
                }
            }
        }
        this.literals = new SpecialTokenSplitter(found);
    }

    private static boolean cutsText(Tokenizer tokenizer, int id) {
        if (tokenizer instanceof SentencePieceBpeTokenizer sp) {
            int type = sp.tokenType(id);
            return type == SentencePieceBpeTokenizer.TYPE_CONTROL || type == SentencePieceBpeTokenizer.TYPE_USER_DEFINED;
        }
        return tokenizer.isSpecial(id);
    }

    /** The ids of a rendered conversation, BOS first when the model wants it and the text lacks it. */
    public int[] encode(String rendered) {
        int[] ids = literals.isEmpty() ? tokenizer.encode(rendered, false) : encodeCut(rendered);
        if (bosPrefix.length == 0 || startsWith(ids, bosPrefix)) {
            return ids;
        }
        int[] out = Arrays.copyOf(bosPrefix, bosPrefix.length + ids.length);
        System.arraycopy(ids, 0, out, bosPrefix.length, ids.length);
        return out;
    }

    private int[] encodeCut(String text) {
        List<int[]> parts = new ArrayList<>();
        for (SpecialTokenSplitter.Segment seg : literals.split(text)) {
            parts.add(switch (seg) {
                case SpecialTokenSplitter.Text t -> tokenizer.encode(t.text(), false);
                case SpecialTokenSplitter.Special sp -> new int[]{sp.id()};
            });
        }
        int n = parts.stream().mapToInt(p -> p.length).sum();
        int[] out = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static boolean startsWith(int[] ids, int[] prefix) {
        if (ids.length < prefix.length) {
            return false;
        }
        for (int k = 0; k < prefix.length; k++) {
            if (ids[k] != prefix[k]) {
                return false;
            }
        }
        return true;
    }
}
