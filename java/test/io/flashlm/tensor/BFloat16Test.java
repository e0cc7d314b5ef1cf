package io.flashlm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BFloat16Test {
    @Test
    void knownValues() {
        assertEquals(1.0f, BFloat16.toFloat((short) 0x3F80));
        assertEquals(-2.0f, BFloat16.toFloat((short) 0xC000));
        assertEquals(3.140625f, BFloat16.toFloat((short) 0x4049));
        assertEquals(Float.POSITIVE_INFINITY, BFloat16.toFloat((short) 0x7F80));
        assertEquals(0x1p-133f, BFloat16.toFloat((short) 0x0001)); // smallest subnormal
        assertEquals((short) 0x3F80, BFloat16.fromFloat(1.0f));
        assertEquals((short) 0x4049, BFloat16.fromFloat(3.140625f));
        assertEquals((short) 0x8000, BFloat16.fromFloat(-0.0f));
    }

    @Test
    void roundsToNearestEven() {
        // 1 + 2^-8 is halfway between 1 (0x3F80, even) and 1 + 2^-7 (0x3F81): to even.
        assertEquals((short) 0x3F80, BFloat16.fromFloat(1.0f + 0x1p-8f));
        // 1 + 3 * 2^-8 is halfway between 0x3F81 and 0x3F82: to even (0x3F82).
        assertEquals((short) 0x3F82, BFloat16.fromFloat(1.0f + 3 * 0x1p-8f));
        assertEquals((short) 0x3F81, BFloat16.fromFloat(1.0f + 0x1p-8f + 0x1p-20f)); // just above halfway
        assertEquals((short) 0x7F80, BFloat16.fromFloat(Float.MAX_VALUE)); // overflows to infinity
    }

    @Test
    void nanStaysNan() {
        // A NaN whose payload is only in the low half must not become infinity.
        float nan = Float.intBitsToFloat(0x7F800001);
        assertTrue(Float.isNaN(BFloat16.toFloat(BFloat16.fromFloat(nan))));
        assertTrue(Float.isNaN(BFloat16.toFloat(BFloat16.fromFloat(Float.NaN))));
    }

    @Test
    void everyBf16RoundTrips() {
        for (int b = 0; b < 0x10000; b++) {
            float f = BFloat16.toFloat((short) b);
            if (!Float.isNaN(f)) {
                assertEquals((short) b, BFloat16.fromFloat(f), String.format("%04x", b));
            }
        }
    }
}
