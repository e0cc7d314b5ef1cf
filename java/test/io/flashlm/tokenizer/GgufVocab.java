package io.flashlm.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test-only: reads the tokenizer.ggml.* arrays from a GGUF header, just enough to feed
 * {@link SentencePieceBpeTokenizer#fromVocab}; the engine's own GGUF reader lives elsewhere.
 */
record GgufVocab(List<String> tokens, float[] scores, int[] types, int bos, int eos, int unk) {

    static GgufVocab read(Path file) throws IOException {
        ByteBuffer buf;
        try (FileChannel ch = FileChannel.open(file)) {
            buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
        }
        if (buf.getInt() != 0x46554747) { // "GGUF"
            throw new IOException(file + ": not GGUF");
        }
        buf.getInt(); // version
        buf.getLong(); // tensor count
        long kvCount = buf.getLong();
        List<String> tokens = null;
        float[] scores = null;
        int[] types = null;
        int bos = -1;
        int eos = -1;
        int unk = -1;
        for (long i = 0; i < kvCount; i++) {
            String key = string(buf);
            Object value = value(buf, buf.getInt());
            switch (key) {
                case "tokenizer.ggml.tokens" -> tokens = ((List<?>) value).stream().map(String.class::cast).toList();
                case "tokenizer.ggml.scores" -> {
                    List<?> list = (List<?>) value;
                    scores = new float[list.size()];
                    for (int k = 0; k < scores.length; k++) {
                        scores[k] = (Float) list.get(k);
                    }
                }
                case "tokenizer.ggml.token_type" -> types = ((List<?>) value).stream()
                        .mapToInt(v -> ((Number) v).intValue()).toArray();
                case "tokenizer.ggml.bos_token_id" -> bos = ((Number) value).intValue();
                case "tokenizer.ggml.eos_token_id" -> eos = ((Number) value).intValue();
                case "tokenizer.ggml.unknown_token_id" -> unk = ((Number) value).intValue();
                default -> {
                }
            }
        }
        return new GgufVocab(tokens, scores, types, bos, eos, unk);
    }

    private static String string(ByteBuffer buf) {
        byte[] bytes = new byte[Math.toIntExact(buf.getLong())];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static Object value(ByteBuffer buf, int type) throws IOException {
        return switch (type) {
            case 0, 1 -> (int) buf.get();
            case 2, 3 -> (int) buf.getShort();
            case 4, 5 -> buf.getInt();
            case 6 -> buf.getFloat();
            case 7 -> buf.get() != 0;
            case 8 -> string(buf);
            case 9 -> {
                int elementType = buf.getInt();
                long n = buf.getLong();
                List<Object> list = new ArrayList<>();
                for (long k = 0; k < n; k++) {
                    list.add(value(buf, elementType));
                }
                yield list;
            }
            case 10, 11 -> buf.getLong();
            case 12 -> buf.getDouble();
            default -> throw new IOException("unknown GGUF value type " + type);
        };
    }
}
