package io.flashlm.chat;

import io.flashlm.tokenizer.SentencePieceBpeTokenizer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Special tokens in a rendered prompt become single tokens; BOS comes once; stop tokens follow the rule. */
class ChatEncoderTest {
    // 0 <unk>, 1 <s>, 2 </s>, 3 <|im_start|>, 4 <|im_end|> (control), then the characters of the plain text.
    private static final List<String> PIECES = List.of("<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>",
            "\u2581", "u", "s", "e", "r", "h", "i", "\n", "<", "|", ">", "_", "m", "t", "a", "d");
    private static final int UNK = 0, BOS = 1, EOS = 2, START = 3, END = 4;

    private static SentencePieceBpeTokenizer tokenizer() {
        int[] types = new int[PIECES.size()];
        java.util.Arrays.fill(types, SentencePieceBpeTokenizer.TYPE_NORMAL);
        types[UNK] = SentencePieceBpeTokenizer.TYPE_UNKNOWN;
        types[BOS] = types[EOS] = types[START] = types[END] = SentencePieceBpeTokenizer.TYPE_CONTROL;
        return SentencePieceBpeTokenizer.fromVocab(PIECES, new float[PIECES.size()], types, BOS, EOS, UNK, false);
    }

    private static int id(String piece) {
        return PIECES.indexOf(piece);
    }

    @Test
    void controlTokensAreSingleTokensAndBosIsAddedOnce() {
        ChatEncoder encoder = new ChatEncoder(tokenizer(), true);
        int[] expected = {BOS, START, id("u"), id("s"), id("e"), id("r"), id("\n"), id("h"), id("i"), END, id("\n")};
        assertArrayEquals(expected, encoder.encode("<|im_start|>user\nhi<|im_end|>\n"));
        assertArrayEquals(expected, encoder.encode("<s><|im_start|>user\nhi<|im_end|>\n"),
                "a template that writes bos_token gets no second BOS");
    }

    @Test
    void byteLevelBpeKeepsItsAddedTokensWhole() throws Exception {
        var tok = io.flashlm.tokenizer.ByteLevelBpeTokenizer.fromTokenizerJson(
                io.flashlm.testing.SharedModels.require("tinyllama-gqa/tokenizer.json"));
        ChatEncoder encoder = new ChatEncoder(tok, true);
        int[] ids = encoder.encode("<s>user:hi</s>");
        assertArrayEquals(ids, encoder.encode("user:hi</s>"), "BOS once, whether or not the template wrote it");
        assertArrayEquals(new int[]{0}, java.util.Arrays.copyOf(ids, 1));
        assertArrayEquals(new int[]{2}, java.util.Arrays.copyOfRange(ids, ids.length - 1, ids.length),
                "</s> is one token, not '<', '/s', '>'");
    }

    @Test
    void withoutBosWhenTheModelAddsNone() {
        ChatEncoder encoder = new ChatEncoder(tokenizer(), false);
        assertArrayEquals(new int[]{START, id("h"), id("i"), END}, encoder.encode("<|im_start|>hi<|im_end|>"));
    }

    @Test
    void stopTokensAreEosTheFilesIdsAndTheTemplatesEndOfTurnMarkers() {
        ChatFormat format = new ChatFormat(java.nio.file.Path.of("m"), null, "none", null, null, List.of(), List.of());
        assertArrayEquals(new int[]{EOS, END}, StopTokens.resolve(format, "{{ '<|im_end|>' }}", tokenizer()));
        assertArrayEquals(new int[]{EOS}, StopTokens.resolve(format, "{{ 'no marker' }}", tokenizer()));
        ChatFormat named = new ChatFormat(java.nio.file.Path.of("m"), null, "none", null, null, List.of(START),
                List.of("<|im_end|>", "<|not_in_vocab|>"));
        assertArrayEquals(new int[]{EOS, START, END}, StopTokens.resolve(named, "", tokenizer()));
    }
}
