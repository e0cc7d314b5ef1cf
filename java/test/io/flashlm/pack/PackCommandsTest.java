package io.flashlm.pack;

import io.flashlm.cli.FlashlmCommand;
import io.flashlm.tensor.DType;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The convert, synth and verify commands: options reach the writers, mistakes get one clear line. */
class PackCommandsTest {
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("pack-cli");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    /** Exit code and everything printed (stdout, stderr), as `flashlm` runs it. */
    record Run(int exit, String output) {
    }

    static Run run(String... args) {
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(captured, true, StandardCharsets.UTF_8);
        CommandLine cli = new CommandLine(new FlashlmCommand());
        cli.setErr(new PrintWriter(ps, true));
        cli.setExecutionExceptionHandler((e, c, p) -> { // as FlashlmCommand.main does
            ps.println("flashlm " + c.getCommandName() + ": " + e.getMessage());
            return 1;
        });
        System.setOut(ps);
        System.setErr(ps);
        try {
            int exit = cli.execute(args);
            return new Run(exit, captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    @Test
    void synthConvertVerify() throws IOException {
        Path tiny = root.resolve("tiny");
        Run synth = run("synth", "--shape", "tiny", "--out", tiny.toString(), "--dtype", "q8_0", "--layout",
                "unbundled", "--align", "512", "--seed", "9", "--quiet");
        assertEquals(0, synth.exit(), synth.output());
        PackManifest m = ManifestCodec.read(tiny);
        assertEquals(DType.Q8_0, m.dtype());
        assertEquals(PackLayout.UNBUNDLED, m.layout());
        assertEquals(512, m.alignment());
        assertTrue(m.source().contains("seed 9"), m.source());
        assertEquals(0, run("verify", "--quiet", tiny.toString()).exit());

        Run again = run("synth", "--shape", "tiny", "--out", tiny.toString(), "--quiet");
        assertEquals(1, again.exit());
        assertTrue(again.output().contains("already exists; pass --force"), again.output());
        assertEquals(0, run("synth", "--shape", "tiny", "--out", tiny.toString(), "--quiet", "--force").exit());

        Path src = HfTestModel.opt(1, false).write(root.resolve("opt-src"), "F32");
        Run convert = run("convert", "--from", src.toString(), "--out", root.resolve("opt").toString(), "--dtype",
                "f32", "--align", "4K", "--quiet");
        assertEquals(0, convert.exit(), convert.output());
        assertTrue(convert.output().contains("wrote "), convert.output());
        assertEquals(0, run("verify", "--quiet", root.resolve("opt").toString()).exit());
    }

    @Test
    void customShapes() throws IOException {
        Path out = root.resolve("custom");
        Run r = run("synth", "--shape", "custom", "--arch", "llama", "--layers", "1", "--dim", "64", "--ffn", "96",
                "--heads", "4", "--vocab", "300", "--context", "32", "--out", out.toString(), "--quiet");
        assertEquals(0, r.exit(), r.output());
        PackManifest m = ManifestCodec.read(out);
        assertEquals(1, m.config().layers());
        assertTrue(m.config().gatedFfn());
        assertEquals(3, m.ffn().geometry().parts().size());
    }

    @Test
    void mistakesGetOneClearLine() {
        Path out = root.resolve("never");
        assertMessage(run("synth", "--shape", "tiny", "--layers", "2", "--out", out.toString()), "go with --shape custom");
        assertMessage(run("synth", "--shape", "gpt-5", "--out", out.toString()), "unknown shape 'gpt-5'");
        assertMessage(run("synth", "--shape", "custom", "--arch", "opt", "--out", out.toString()), "needs --arch");
        assertMessage(run("synth", "--shape", "tiny", "--dtype", "q3_k", "--out", out.toString()),
                "synth dtype 'q3_k' is not one of f32, f16, q8_0, q4_0, q4_k, q5_k, q6_k");
        assertMessage(run("synth", "--shape", "tiny", "--align", "1000", "--out", out.toString()), "power of two");
        assertMessage(run("synth", "--shape", "tiny", "--layout", "zigzag", "--out", out.toString()), "bundled, unbundled");
        assertMessage(run("convert", "--from", root.resolve("nothing-here").toString(), "--out", out.toString()),
                "nothing-here");
        assertMessage(run("convert", "--from", root.resolve("nothing-here").toString(), "--out", out.toString(),
                "--dtype", "q3_k"), "storage dtype 'q3_k' is not one of f32, f16, q8_0, q4_0, q4_k, q5_k, q6_k");
        assertMessage(run("verify", root.resolve("nothing-here").toString()), "not a flash pack");
    }

    private static void assertMessage(Run r, String expected) {
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains(expected), "expected '" + expected + "' in: " + r.output());
    }
}
