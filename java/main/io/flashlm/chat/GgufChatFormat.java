package io.flashlm.chat;

import io.flashlm.format.GgufFile;
import io.flashlm.format.GgufMetadata;
import io.flashlm.format.ModelFormatException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The chat format a GGUF file's metadata holds (see {@link ChatFormat}). */
final class GgufChatFormat {
    static final String TEMPLATE_KEY = "tokenizer.chat_template";
    private static final String K = "tokenizer.ggml.";

    private GgufChatFormat() {
    }

    static ChatFormat read(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            GgufMetadata m = GgufFile.open(file, arena).metadata();
            String template = m.getString(TEMPLATE_KEY, null);
            String[] tokens = m.contains(K + "tokens") ? m.getStringArray(K + "tokens") : new String[0];
            int bos = id(file, m, "bos_token_id", tokens.length);
            int eos = id(file, m, "eos_token_id", tokens.length);
            List<Integer> stops = new ArrayList<>();
            for (String key : new String[]{"eos_token_id", "eot_token_id", "eom_token_id"}) {
                int id = id(file, m, key, tokens.length);
                if (id >= 0 && !stops.contains(id)) {
                    stops.add(id);
                }
            }
            String origin = file + ": metadata " + TEMPLATE_KEY;
            return new ChatFormat(file, template, template != null ? origin : "no metadata " + TEMPLATE_KEY,
                    bos >= 0 ? tokens[bos] : null, eos >= 0 ? tokens[eos] : null, stops, List.of());
        }
    }

    /** A token id key: -1 when absent or "none" (all ones); else it must index the vocabulary. */
    private static int id(Path file, GgufMetadata m, String key, int vocab) throws ModelFormatException {
        if (!m.contains(K + key)) {
            return -1;
        }
        long id = m.getLong(K + key);
        if (id == 0xFFFFFFFFL || id == -1) {
            return -1;
        }
        if (id < 0 || id >= vocab) {
            throw new ModelFormatException(file, "metadata." + K + key, "token id " + id + " is outside the vocabulary"
                    + " of " + vocab + " tokens (" + K + "tokens)");
        }
        return (int) id;
    }
}
