package io.flashlm.synth;

import io.flashlm.api.ModelLoader;
import io.flashlm.format.GgufFile;
import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Synthetic models in the k-quants: values spread over [-a, a] (a = sqrt(3) / sqrt(fan-in)), and they run. */
class SyntheticLlamaGgufTest {
    @TempDir
    Path tmp;

    @Test
    void kQuantModelsSpreadTheirValuesAndRun() throws IOException {
        for (DType type : DType.values()) {
            if (type.blockSize() != 256) {
                continue;
            }
            Path file = tmp.resolve(type + ".gguf");
            SyntheticLlamaGguf.write(new SyntheticLlamaGguf.Spec(256, 1, 4, 2, 512, 300, 64, type, 3), file);
            try (Arena arena = Arena.ofConfined()) {
                Tensor q = GgufFile.open(file, arena).tensor("blk.0.attn_q.weight");
                assertEquals(type, q.dtype());
                float a = (float) (Math.sqrt(3) / Math.sqrt(256));
                float max = 0;
                for (float v : q.toFloatArray()) {
                    max = Math.max(max, Math.abs(v));
                }
                assertTrue(max <= a * 1.01f && max >= a * 0.5f, type + ": largest |value| " + max + ", a = " + a);
            }
            try (LanguageModel m = ModelLoader.load(file, null, 1); InferenceState s = m.newState()) {
                MemorySegment logits = m.forward(s, 1, 0);
                for (int v = 0; v < 300; v++) {
                    assertTrue(Float.isFinite(logits.getAtIndex(JAVA_FLOAT, v)), type + " logit " + v);
                }
            }
        }
    }
}
