package io.flashlm.util;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ByteSizesTest {
    @Test
    void parsesBinaryUnits() {
        assertEquals(4096, ByteSizes.parse("4096"));
        assertEquals(4096, ByteSizes.parse("4K"));
        assertEquals(4096, ByteSizes.parse("4KiB"));
        assertEquals(512L << 20, ByteSizes.parse("512MiB"));
        assertEquals(4L << 30, ByteSizes.parse("4G"));
        assertEquals(3L << 29, ByteSizes.parse("1.5g"));
        assertEquals(1L << 40, ByteSizes.parse("1T"));
    }

    @Test
    void refusesNonsense() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("4 bananas"));
        assertTrue(e.getMessage().contains("4 bananas"));
        assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("-4K"));
        assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("0.3"));
        assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("99999999999T"));
    }

    @Test
    void formatsShortly() {
        assertEquals("123 B", ByteSizes.format(123));
        assertEquals("4 KiB", ByteSizes.format(4096));
        assertEquals("1.5 GiB", ByteSizes.format(3L << 29));
    }
}
