package io.flashlm.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes a byte stream arriving in chunks to text, holding back a trailing incomplete UTF-8 sequence until
 * the next chunk completes it. Malformed bytes become U+FFFD exactly as if the whole stream were decoded at
 * once: we only ever cut before a lead byte, where a decoder is between characters. Not thread-safe.
 */
public final class Utf8StreamDecoder {
    private byte[] pending = new byte[0];

    public String accept(byte[] bytes) {
        return accept(bytes, 0, bytes.length);
    }

    public String accept(byte[] bytes, int offset, int length) {
        byte[] all;
        if (pending.length == 0) {
            all = Arrays.copyOfRange(bytes, offset, offset + length);
        } else {
            all = Arrays.copyOf(pending, pending.length + length);
            System.arraycopy(bytes, offset, all, pending.length, length);
        }
        int cut = incompleteTailStart(all, all.length);
        pending = Arrays.copyOfRange(all, cut, all.length);
        return cut == 0 ? "" : new String(all, 0, cut, StandardCharsets.UTF_8);
    }

    /** Whatever is still held (an unfinished character) as replacement characters; the decoder is then empty. */
    public String finish() {
        String rest = new String(pending, StandardCharsets.UTF_8);
        pending = new byte[0];
        return rest;
    }

    /** Whether bytes of an unfinished character are being held. */
    public boolean hasPending() {
        return pending.length > 0;
    }

    /** Start of a lead byte near the end whose character needs more bytes than remain, else {@code n}. */
    static int incompleteTailStart(byte[] b, int n) {
        for (int i = n - 1; i >= 0 && i >= n - 3; i--) {
            int v = b[i] & 0xFF;
            if ((v & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for its lead
            }
            int need = v >= 0xC2 && v <= 0xDF ? 2 : v >= 0xE0 && v <= 0xEF ? 3 : v >= 0xF0 && v <= 0xF4 ? 4 : 1;
            return n - i < need ? i : n;
        }
        return n;
    }
}
