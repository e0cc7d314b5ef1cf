package io.flashlm.pack;

import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Any column range of a row decodes to the same floats as the whole row, whatever blocks it cuts through. */
class TensorDecoderTest {
    @Test
    void rangesCutThroughBlocksAndSuperBlocks() {
        Random rnd = new Random(5);
        for (DType type : new DType[] {DType.Q4_0, DType.Q8_0, DType.Q6_K}) {
            int cols = 512;
            byte[] bytes = new byte[(int) type.bytesFor(2L * cols)];
            rnd.nextBytes(bytes);
            for (int b = 0; b < bytes.length; b += type.bytesPerBlock()) { // finite f16 scales
                int at = b + (type == DType.Q6_K ? 208 : 0);
                bytes[at] = (byte) rnd.nextInt();
                bytes[at + 1] = (byte) (0x20 + rnd.nextInt(16));
            }
            Tensor t = Tensor.of("m", type, MemorySegment.ofArray(bytes), 2, cols);
            float[] row = new float[cols];
            t.rowToFloat(1, row, 0);
            int[][] ranges = {{0, 512}, {0, 32}, {100, 200}, {255, 2}, {31, 258}, {480, 32}, {7, 1}};
            for (int[] r : ranges) {
                float[] dst = new float[r[1] + 3];
                TensorDecoder.decode(t, 1, r[0], r[1], dst, 3);
                assertArrayEquals(Arrays.copyOfRange(row, r[0], r[0] + r[1]), Arrays.copyOfRange(dst, 3, r[1] + 3),
                        type + " [" + r[0] + ", +" + r[1] + ")");
            }
            assertThrows(IndexOutOfBoundsException.class, () -> TensorDecoder.decode(t, 1, 500, 13, new float[13], 0));
        }
    }
}
