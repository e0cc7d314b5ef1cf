package io.flashlm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.cli.FlashlmCommand;
import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineOptions;
import io.flashlm.engine.FlashEngine;
import io.flashlm.pack.PackLayout;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.tensor.DType;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `flashlm bench` on the tiny synthetic shape, as CI's smoke test: every mode runs and lands in the
 * table and the JSON with sane figures, mmap is either held in a memory cgroup or marked unbounded,
 * and a budget too small for a mode is a per-mode "does not fit", not a crash. No timing assertions.
 */
class BenchCommandTest {
    static final String ALL = "naive,hybrid,predictor,window,flash,dense,mmap";
    static Path root;
    static Path pack;
    static Path probe;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("bench");
        pack = root.resolve("tiny");
        SyntheticPackWriter.write(SyntheticShape.preset("tiny"), new SyntheticPackWriter.Options(pack, DType.F16,
                PackLayout.BUNDLED, 4096, 3, 0.97, 1, false), new PrintStream(OutputStream.nullOutputStream()), false);
        probe = root.resolve("probe.json");
        Files.writeString(probe, """
                {"format": "flashlm-probe", "version": 1, "results": [
                  {"backend": "io_uring", "chunk_bytes": 4096, "queue_depth": 32, "mb_per_s": 200},
                  {"backend": "io_uring", "chunk_bytes": 1048576, "queue_depth": 32, "mb_per_s": 2000}
                ]}""");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    record Run(int exit, String output) {
    }

    /** The command line as `flashlm` runs it, output captured. */
    static Run run(String... args) {
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(captured, true, StandardCharsets.UTF_8);
        CommandLine cli = new CommandLine(new FlashlmCommand());
        cli.setErr(new PrintWriter(ps, true));
        cli.setExecutionExceptionHandler((e, c, p) -> {
            ps.println("flashlm " + c.getCommandName() + ": " + e.getMessage());
            return 1;
        });
        System.setOut(ps);
        System.setErr(ps);
        try {
            return new Run(cli.execute(args), captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    static List<String> bench(Path json, String memory, String modes, String... more) {
        List<String> a = new ArrayList<>(List.of("bench", "--model", pack.toString(), "--memory", memory, "--tokens",
                "4", "--prompt-tokens", "4", "--modes", modes, "--threads", "1", "--json", json.toString()));
        a.addAll(List.of(more));
        return a;
    }

    static JsonNode mode(JsonNode root, String id) {
        for (JsonNode m : root.path("modes")) {
            if (m.path("mode").asText().equals(id)) {
                return m;
            }
        }
        throw new AssertionError("no mode " + id + " in " + root.path("modes"));
    }

    @Test
    void predictorAndWindowReadTheUnbundledTwin() throws IOException {
        Path twin = root.resolve("tiny-unbundled");
        SyntheticPackWriter.write(SyntheticShape.preset("tiny"), new SyntheticPackWriter.Options(twin, DType.F16,
                PackLayout.UNBUNDLED, 4096, 3, 0.97, 1, false), new PrintStream(OutputStream.nullOutputStream()), false);
        Path json = root.resolve("twin.json");
        Run r = run(bench(json, "64MiB", "window,flash", "--predictor", "trace", "--unbundled", twin.toString())
                .toArray(String[]::new));
        assertEquals(0, r.exit(), r.output());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertTrue(mode(j, "window").toString().contains("unbundled pack"), mode(j, "window").toString());
        assertFalse(mode(j, "flash").toString().contains("unbundled pack"), mode(j, "flash").toString());
        // flash says which cost model planned its reads, as a line of its own (issue 13); window plans none
        assertTrue(r.output().contains("flash: cost model: learned from "), r.output());
        assertFalse(r.output().contains("window: cost model"), r.output());
        // the bundled pack is not an unbundled twin
        Run bad = run(bench(root.resolve("bad.json"), "64MiB", "window", "--unbundled", pack.toString())
                .toArray(String[]::new));
        assertEquals(1, bad.exit());
        assertTrue(bad.output().contains("unbundled"), bad.output());
    }

    @Test
    void everyModeRunsAndIsReported() throws IOException {
        Path json = root.resolve("all.json");
        Run r = run(bench(json, "64MiB", ALL, "--predictor", "trace", "--probe", probe.toString())
                .toArray(String[]::new));
        assertEquals(0, r.exit(), r.output());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals(BenchReport.FORMAT, j.path("format").asText());
        assertEquals(BenchReport.VERSION, j.path("version").asInt());
        for (String key : List.of("cpu", "cores", "memory_bytes", "kernel", "jdk", "device")) {
            assertFalse(j.path("machine").path(key).isMissingNode(), "machine." + key);
        }
        assertEquals(64L << 20, j.path("options").path("memory_bytes").asLong());
        assertTrue(j.path("traces").path("used").asBoolean());
        assertEquals(512, j.path("traces").path("stats").path("neurons").asInt());
        assertTrue(j.path("page_cache").path("method").asText().contains("O_DIRECT"), j.path("page_cache").toString());
        assertEquals(7, j.path("modes").size());
        for (String id : ALL.split(",")) {
            JsonNode m = mode(j, id);
            assertEquals("ok", m.path("status").asText(), id + ": " + m.path("error").asText());
            assertEquals(4, m.path("summary").path("tokens").asInt(), id);
            assertTrue(m.path("median_ms").asDouble() > 0, id);
            assertTrue(m.path("p90_ms").asDouble() >= m.path("median_ms").asDouble(), id);
            assertTrue(m.path("budget_used_bytes").asLong() > 0, id);
            assertTrue(m.path("prefill_tokens_per_s").asDouble() > 0, id);
            assertTrue(r.output().contains("\n" + id), "table row for " + id + ":\n" + r.output());
        }
        for (String id : List.of("naive", "hybrid", "predictor", "window", "flash")) {
            assertTrue(mode(j, id).path("bytes_read_per_token").asDouble() > 0, id);
            assertTrue(mode(j, id).path("mean_read_bytes").asDouble() > 0, id);
        }
        assertEquals(0, mode(j, "dense").path("bytes_read_per_token").asDouble());
        assertEquals("trace", mode(j, "flash").path("predictor").asText());
        assertTrue(mode(j, "flash").path("cache_rows").asInt() > 0);
        assertTrue(mode(j, "flash").path("speedup_vs_naive").asDouble() > 0);

        // mmap: in a memory cgroup of the budget, or said to be unbounded and left out of the ratio
        JsonNode mmap = j.path("mmap");
        JsonNode vsMmap = target(j, "flash vs mmap");
        if (mmap.path("bounded").asBoolean()) {
            assertTrue(mmap.path("limit_bytes").asLong() >= 64L << 20, mmap.toString());
            assertTrue(mmap.path("description").asText().contains("cgroup"), mmap.toString());
            assertFalse(vsMmap.path("measured").isNull(), vsMmap.toString());
        } else {
            assertTrue(mode(j, "mmap").path("notes").toString().contains("page cache unbounded"), mmap.toString());
            assertEquals("n/a", vsMmap.path("status").asText());
            assertTrue(vsMmap.path("measured").isNull());
            assertTrue(r.output().contains("mmap*"), r.output());
        }
        // every target is checked here (a probe was given, every mode ran) except possibly flash vs mmap
        assertEquals(6, j.path("targets").size());
        for (JsonNode t : j.path("targets")) {
            String status = t.path("status").asText();
            assertTrue(status.equals("pass") || status.startsWith("MISS") || status.equals("n/a"), t.toString());
            if (!t.path("name").asText().startsWith("flash vs mmap")) {
                assertFalse(t.path("measured").isNull(), t.toString());
            }
        }
        assertTrue(r.output().contains("targets (set for"), r.output());
        assertTrue(r.output().contains("trace: synthetic activation traces"), r.output());
    }

    static JsonNode target(JsonNode root, String prefix) {
        for (JsonNode t : root.path("targets")) {
            if (t.path("name").asText().startsWith(prefix)) {
                return t;
            }
        }
        throw new AssertionError("no target " + prefix);
    }

    @Test
    void aModeTheBudgetCannotHoldDoesNotFit() throws IOException {
        long dense;
        try (FlashEngine e = FlashEngine.open(pack, EngineOptions.builder().mode(EngineMode.DENSE).threads(1).contextLength(9).build())) {
            dense = e.budget().used();
        }
        // one byte short of dense: dense does not fit, flash sizes its caches to what is left
        Path json = root.resolve("short.json");
        Run r = run(bench(json, Long.toString(dense - 1), "dense,flash", "--predictor", "trace", "--quiet")
                .toArray(String[]::new));
        assertEquals(0, r.exit(), r.output());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        JsonNode d = mode(j, "dense");
        assertEquals("does-not-fit", d.path("status").asText(), d.toString());
        assertTrue(d.path("error").asText().contains("--memory"), d.toString());
        assertEquals("ok", mode(j, "flash").path("status").asText(), mode(j, "flash").toString());
        assertTrue(r.output().contains("dense      does not fit: --memory"), r.output());
        // the flash-vs-naive target names why it is not checked
        assertTrue(target(j, "flash vs naive").path("detail").asText().contains("naive was not run"),
                target(j, "flash vs naive").toString());

        // nothing fits: every mode says so, the command still exits normally
        Path none = root.resolve("none.json");
        Run tiny = run(bench(none, "64K", "naive,flash,dense", "--predictor", "trace", "--quiet")
                .toArray(String[]::new));
        assertEquals(0, tiny.exit(), tiny.output());
        JsonNode n = new ObjectMapper().readTree(none.toFile());
        for (String id : List.of("naive", "flash", "dense")) {
            assertEquals("does-not-fit", mode(n, id).path("status").asText(), id);
        }
        assertEquals("n/a", target(n, "flash vs naive").path("status").asText());
    }

    @Test
    void mistakesGetOneClearLine() {
        Run noMemory = run("bench", "--model", pack.toString(), "--quiet");
        assertEquals(1, noMemory.exit());
        assertTrue(noMemory.output().contains("bench needs --memory"), noMemory.output());
        Run badMode = run("bench", "--model", pack.toString(), "--memory", "64MiB", "--modes", "flash,fast");
        assertEquals(1, badMode.exit());
        assertTrue(badMode.output().contains("unknown mode 'fast'"), badMode.output());
        Run notPack = run("bench", "--model", root.toString(), "--memory", "64MiB");
        assertEquals(1, notPack.exit());
        assertTrue(notPack.output().contains("is not a flash pack"), notPack.output());
        Run tooLong = run("bench", "--model", pack.toString(), "--memory", "64MiB", "--tokens", "300");
        assertEquals(1, tooLong.exit());
        assertTrue(tooLong.output().contains("the model holds 256"), tooLong.output());
    }
}
