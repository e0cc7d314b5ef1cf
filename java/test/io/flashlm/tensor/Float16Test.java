package io.flashlm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Float16Test {
    private static void f16(int bits, float value) {
        assertEquals(Float.floatToRawIntBits(value), Float.floatToRawIntBits(Float16.toFloat((short) bits)),
                () -> String.format("f16 %04x", bits));
        assertEquals((short) bits, Float16.fromFloat(value), () -> "f32 " + value);
    }

    @Test
    void knownValues() {
        f16(0x0000, 0.0f);
        f16(0x8000, -0.0f);
        f16(0x3C00, 1.0f);
        f16(0xC000, -2.0f);
        f16(0x3800, 0.5f);
        f16(0x3555, 0.333251953125f);
        f16(0x7BFF, 65504.0f); // largest finite
        f16(0x0400, 0x1p-14f); // smallest normal
        f16(0x0001, 0x1p-24f); // smallest subnormal
        f16(0x03FF, 1023 * 0x1p-24f); // largest subnormal
        f16(0x8001, -0x1p-24f);
        f16(0x7C00, Float.POSITIVE_INFINITY);
        f16(0xFC00, Float.NEGATIVE_INFINITY);
    }

    @Test
    void nanStaysNan() {
        assertTrue(Float.isNaN(Float16.toFloat((short) 0x7E00)));
        assertTrue(Float.isNaN(Float16.toFloat((short) 0x7C01))); // signalling payload
        short h = Float16.fromFloat(Float.NaN);
        assertEquals(0x7C00, h & 0x7C00);
        assertTrue((h & 0x03FF) != 0);
    }

    @Test
    void roundsToNearestEven() {
        assertEquals((short) 0x7BFF, Float16.fromFloat(65519.0f)); // below the halfway point to 65536
        assertEquals((short) 0x7C00, Float16.fromFloat(65520.0f)); // halfway: ties to even = infinity
        assertEquals((short) 0x0000, Float16.fromFloat(0x1p-25f)); // half of the smallest subnormal: to even (0)
        assertEquals((short) 0x0002, Float16.fromFloat(3 * 0x1p-25f)); // 1.5 ulp: to even (2)
        assertEquals((short) 0x0001, Float16.fromFloat(0x1.8p-25f)); // 0.75 ulp: up
        assertEquals((short) 0x3C00, Float16.fromFloat(1.0f + 0x1p-11f)); // tie between 1 and 1+2^-10: to even
        assertEquals((short) 0x3C02, Float16.fromFloat(1.0f + 3 * 0x1p-11f)); // tie: to even (0x3C02)
    }

    @Test
    void everyFiniteHalfRoundTrips() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Float16.toFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals((short) h, Float16.fromFloat(f), String.format("%04x", h));
            }
        }
    }
}
