package io.flashlm.pack;

import io.flashlm.api.ModelLoader;
import io.flashlm.synth.SyntheticLlamaGguf;
import io.flashlm.tensor.DType;
import io.flashlm.testing.Logits;
import io.flashlm.testing.TestFiles;
import io.flashlm.util.Progress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model 1.5x larger than the JVM's heap converts: `flashlm convert` runs in a child JVM with -Xmx64m on
 * a ~110 MB GGUF, then the pack verifies and gives the source's logits.
 */
class LargeConvertTest {
    static final long HEAP_MB = 64;
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("pack-large");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    /** SIGTERM (as Ctrl-C) in the middle of writing: no pack appears and the temporary directory is removed. */
    @Test
    void anInterruptedSynthLeavesNothingBehind() throws Exception {
        Path out = root.resolve("interrupted");
        Path temp = null;
        Process p = javaProcess("-Xmx64m", "synth", "--shape", "custom", "--arch", "opt", "--layers", "16", "--dim",
                "1024", "--ffn", "4096", "--heads", "8", "--vocab", "1000", "--out", out.toString(), "--quiet",
                "--threads", "1");
        try {
            for (int i = 0; i < 600 && temp == null; i++) {
                try (var s = Files.list(root)) {
                    temp = s.filter(f -> f.getFileName().toString().startsWith(".interrupted.flashlm-tmp-"))
                            .filter(f -> Files.isDirectory(f.resolve("ffn"))).findFirst().orElse(null);
                }
                Thread.sleep(20);
            }
            assertTrue(temp != null, "the synth never started writing");
        } finally {
            p.destroy(); // SIGTERM: shutdown hooks run
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        }
        assertTrue(p.exitValue() != 0, "it was interrupted");
        assertTrue(!Files.exists(out), "no pack under the destination's name");
        assertTrue(!Files.exists(temp), "temporary directory removed: " + temp);
    }

    private static Process javaProcess(String heap, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, heap, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "io.flashlm.cli.FlashlmCommand"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    @Test
    void convertsAModelLargerThanTheHeap() throws Exception {
        Path src = root.resolve("big.gguf");
        SyntheticLlamaGguf.write(new SyntheticLlamaGguf.Spec(512, 6, 8, 8, 2048, 4096, 128, DType.F32, 3), src);
        long size = Files.size(src);
        assertTrue(size >= 1.5 * (HEAP_MB << 20), "the model (" + size + " bytes) must be 1.5x the heap");
        Path out = root.resolve("big-pack");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "-Xmx" + HEAP_MB + "m", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "io.flashlm.cli.FlashlmCommand", "convert",
                "--from", src.toString(), "--out", out.toString(), "--dtype", "f32", "--quiet"))
                .redirectErrorStream(true).start(); // the output is small: read after the exit
        boolean done = p.waitFor(300, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(done, "conversion did not finish: " + output);
        assertEquals(0, p.exitValue(), output);
        System.out.printf("converted a %d MB model with -Xmx%dm: %s", size >> 20, HEAP_MB, output);

        try (FlashPack pack = FlashPack.open(out)) {
            assertTrue(PackVerifier.verify(pack, new Progress("", 0, System.err, false)).ok());
        }
        int[] tokens = {1, 100, 2000, 4095};
        float[][] expected;
        float[][] actual;
        try (var m = ModelLoader.load(src, null, 2)) {
            expected = Logits.of(m, tokens);
        }
        try (var m = ModelLoader.load(out, null, 2)) {
            actual = Logits.of(m, tokens);
        }
        assertNull(Logits.firstDifference(expected, actual));
    }
}
