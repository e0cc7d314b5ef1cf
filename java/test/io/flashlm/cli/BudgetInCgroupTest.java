package io.flashlm.cli;

import io.flashlm.bench.MemoryCgroup;
import io.flashlm.pack.PackLayout;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.tensor.DType;
import io.flashlm.testing.TestFiles;
import io.flashlm.util.ByteSizes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14: the memory budget holds from outside. `flashlm generate` runs in a child JVM inside a memory cgroup
 * of --memory plus the JVM allowance bench uses for its mmap child ({@value BenchCommand#DEFAULT_JVM_ALLOWANCE},
 * with bench's child JVM flags), swap held; every mode must finish without an OOM kill, and the cgroup's peak
 * stays inside its limit. Skipped with the reason where no memory cgroup can be made (not root, no controller).
 */
class BudgetInCgroupTest {
    static Path root;
    static Path pack;
    /** Half the pack (about 42 MiB): the FFN does not fit; the caches and scratch get what is left. */
    static final long MEMORY = 21L << 20;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("budget-cgroup");
        pack = root.resolve("pack");
        SyntheticShape shape = SyntheticShape.custom("opt", 4, 512, 4096, 8, 300, 128, null);
        SyntheticPackWriter.write(shape, new SyntheticPackWriter.Options(pack, DType.F16, PackLayout.BUNDLED, 4096, 3,
                0.9, 1, false), new PrintStream(OutputStream.nullOutputStream()), false);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"naive", "hybrid", "exact", "predictor", "window", "flash"})
    void generateStaysInsideMemoryPlusTheJvmAllowance(String mode) throws IOException, InterruptedException {
        long limit = MEMORY + ByteSizes.parse(BenchCommand.DEFAULT_JVM_ALLOWANCE);
        MemoryCgroup.Attempt attempt = MemoryCgroup.tryCreate("flashlm-test-" + ProcessHandle.current().pid() + "-"
                + mode, limit);
        Assumptions.assumeTrue(attempt.created(), "no memory cgroup: " + attempt.reason());
        try (MemoryCgroup cg = attempt.cgroup()) {
            String java = ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            List<String> c = new ArrayList<>(List.of(java));
            c.addAll(BenchCommand.CHILD_JVM_FLAGS);
            String lib = System.getProperty("flashlm.native.lib");
            if (lib != null && !lib.isBlank()) {
                c.add("-Dflashlm.native.lib=" + lib);
            }
            c.addAll(List.of("-cp", System.getProperty("java.class.path"), FlashlmCommand.class.getName(), "generate",
                    "--model", pack.toString(), "--mode", mode, "--memory", Long.toString(MEMORY), "--prompt",
                    "The quick brown fox", "-n", "16", "--threads", "2"));
            if (!mode.equals("naive") && !mode.equals("hybrid") && !mode.equals("exact")) {
                c.addAll(List.of("--predictor", "trace"));
            }
            Path err = root.resolve(mode + ".err");
            Process p = cg.start(new ProcessBuilder(c).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(err.toFile()));
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), mode + " did not finish in 120 s");
            String log = Files.readString(err, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), mode + " in a cgroup of " + ByteSizes.format(limit) + ": " + log);
            assertEquals(0, cg.oomKills(), mode + ": OOM kills");
            long peak = cg.peakBytes();
            assertTrue(peak <= limit, mode + ": peak " + ByteSizes.format(peak) + " over " + ByteSizes.format(limit));
        }
    }
}
