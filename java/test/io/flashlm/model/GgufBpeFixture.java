package io.flashlm.model;

import io.flashlm.format.GgufValue;
import io.flashlm.format.GgufValueType;
import io.flashlm.format.GgufWriter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The tokenizer.ggml.* keys of a small byte-level BPE ({@code gpt2}) vocabulary for {@link GgufModelFixture}'s
 * {@value GgufModelFixture#VOCAB} rows, laid out as tinyllama-gqa's: 0 {@code <s>}, 1 {@code <pad>},
 * 2 {@code </s>}, 3 {@code <unk>} (control), 4..259 the bytes in GPT-2's byte map, then four merges' results.
 * Each key can be replaced or removed to break the file.
 */
final class GgufBpeFixture implements Consumer<GgufWriter> {
    static final int BOS = 0, PAD = 1, EOS = 2, UNK = 3, BYTES = 4;
    static final int G_T = 260, HE = 261, G_THE = 262, ER = 263; // "Ġt", "he", "Ġthe", "er"
    static final List<String> MERGES = List.of("\u0120 t", "h e", "\u0120t he", "e r");

    final Map<String, GgufValue> keys = new LinkedHashMap<>();

    GgufBpeFixture() {
        List<String> tokens = new ArrayList<>(List.of("<s>", "<pad>", "</s>", "<unk>"));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(byteChar(b)));
        }
        tokens.addAll(List.of("\u0120t", "he", "\u0120the", "er"));
        if (tokens.size() != GgufModelFixture.VOCAB) {
            throw new IllegalStateException(tokens.size() + " tokens for " + GgufModelFixture.VOCAB + " rows");
        }
        int[] types = new int[tokens.size()];
        Arrays.fill(types, 1); // normal
        Arrays.fill(types, 0, BYTES, 3); // control
        keys.put("tokenizer.ggml.model", str("gpt2"));
        keys.put("tokenizer.ggml.pre", str("gpt-2"));
        keys.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens.toArray(String[]::new)));
        keys.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        keys.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, MERGES.toArray(String[]::new)));
        keys.put("tokenizer.ggml.bos_token_id", u32(BOS));
        keys.put("tokenizer.ggml.eos_token_id", u32(EOS));
        keys.put("tokenizer.ggml.padding_token_id", u32(PAD));
        keys.put("tokenizer.ggml.unknown_token_id", u32(UNK));
        keys.put("tokenizer.ggml.add_bos_token", GgufValue.scalar(GgufValueType.BOOL, true));
        keys.put("tokenizer.ggml.add_eos_token", GgufValue.scalar(GgufValueType.BOOL, false));
    }

    /** The id of byte {@code b}'s token. */
    static int byteId(int b) {
        return BYTES + b;
    }

    GgufBpeFixture set(String key, GgufValue value) {
        keys.put(key, value);
        return this;
    }

    GgufBpeFixture remove(String key) {
        keys.remove(key);
        return this;
    }

    @Override
    public void accept(GgufWriter w) {
        keys.forEach(w::kv);
    }

    static GgufValue str(String s) {
        return GgufValue.scalar(GgufValueType.STRING, s);
    }

    static GgufValue u32(long v) {
        return GgufValue.scalar(GgufValueType.UINT32, v);
    }

    /**
     * GPT-2's byte-to-character map, written out here rather than taken from the tokenizer package: printable
     * Latin-1 bytes stand for themselves, the others for U+0100 onwards in byte order.
     */
    static char byteChar(int b) {
        int next = 256;
        for (int x = 0; x < 256; x++) {
            boolean printable = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
            char c = printable ? (char) x : (char) next++;
            if (x == b) {
                return c;
            }
        }
        throw new IllegalArgumentException("byte " + b);
    }
}
