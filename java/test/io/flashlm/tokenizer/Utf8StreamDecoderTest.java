package io.flashlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Utf8StreamDecoderTest {

    @Test
    void holdsAnIncompleteCharacterUntilItCompletes() {
        Utf8StreamDecoder d = new Utf8StreamDecoder();
        byte[] euro = "\u20ac".getBytes(StandardCharsets.UTF_8); // E2 82 AC
        assertEquals("x", d.accept(new byte[] {'x', euro[0]}));
        assertTrue(d.hasPending());
        assertEquals("", d.accept(new byte[] {euro[1]}));
        assertEquals("\u20acy", d.accept(new byte[] {euro[2], 'y'}));
        assertFalse(d.hasPending());
        assertEquals("", d.finish());
    }

    @Test
    void anyChunkingGivesTheSameTextAsDecodingAtOnce() {
        Random random = new Random(7);
        byte[] valid = "a\u00e9\u20ac\ud83d\ude00 z\u4e2d".getBytes(StandardCharsets.UTF_8);
        for (int trial = 0; trial < 2000; trial++) {
            byte[] bytes = trial % 2 == 0 ? valid : randomBytes(random, random.nextInt(20));
            Utf8StreamDecoder d = new Utf8StreamDecoder();
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < bytes.length; ) {
                int n = Math.min(bytes.length - i, random.nextInt(4));
                out.append(d.accept(bytes, i, n));
                i += n;
            }
            out.append(d.finish());
            assertEquals(new String(bytes, StandardCharsets.UTF_8), out.toString(), Arrays.toString(bytes));
        }
    }

    /** Mostly bytes that matter to UTF-8: leads, continuations, invalid ones, ASCII. */
    private static byte[] randomBytes(Random random, int n) {
        int[] interesting = {'a', 0x80, 0xBF, 0x9F, 0xA0, 0xC2, 0xC3, 0xC0, 0xE0, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF};
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) interesting[random.nextInt(interesting.length)];
        }
        return bytes;
    }
}
