package io.flashlm.model.arch;

import io.flashlm.api.ModelLoader;
import io.flashlm.model.LanguageModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An architecture flashlm does not run is refused, naming it and the supported ones, in each format. */
class ArchUnsupportedTest {
    @TempDir
    Path tmp;

    @Test
    void ggufBloomIsRefused() throws IOException {
        Path file = ArchModels.bloom().writeGguf(tmp.resolve("bloom.gguf"));
        String msg = refusal(file);
        assertTrue(msg.contains("bloom"), msg);
        assertTrue(msg.contains("llama"), "lists the supported architectures: " + msg);
    }

    @Test
    void hfBloomIsRefused() throws IOException {
        Path dir = ArchModels.bloom().writeHf(tmp.resolve("bloom"));
        String msg = refusal(dir);
        assertTrue(msg.contains("BloomForCausalLM"), msg);
        assertTrue(msg.contains("LlamaForCausalLM"), "lists the supported architectures: " + msg);
    }

    private static String refusal(Path model) {
        Exception e = assertThrows(Exception.class, () -> {
            try (LanguageModel m = ModelLoader.load(model, null, 1)) {
                m.config();
            }
        });
        return String.valueOf(e.getMessage());
    }
}
