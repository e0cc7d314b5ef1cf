package io.flashlm.planning;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.cli.FlashlmCommand;
import io.flashlm.io.Backend;
import io.flashlm.io.FlashIOException;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe's bookkeeping (not its speed: no timing is asserted). */
class ProbeTest {
    static Path dir;

    @BeforeAll
    static void setUp() throws IOException {
        dir = TestFiles.newDirectory("probe");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(dir);
    }

    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"IO_URING", "PREAD"})
    void countsAreConsistent(Backend backend) throws IOException {
        Path file = TestFiles.writePattern(dir.resolve("probe-" + backend + ".bin"), 4 << 20, 1);
        ProbeResult r = FlashProbe.measure(file, backend, true, 4096, 4, 4 << 20, Duration.ZERO, 300, 9);
        assertEquals(300, r.ios());
        assertEquals(300 * 4096, r.bytes());
        assertTrue(r.p50Ns() > 0 && r.p50Ns() <= r.p99Ns() && r.p99Ns() <= r.maxNs(), r.toString());
        assertTrue(r.megabytesPerSecond() > 0);
    }

    @Test
    void unalignedChunkUnderDirectIsRefused() throws IOException {
        Path file = TestFiles.writePattern(dir.resolve("probe-bad.bin"), 1 << 20, 1);
        assertThrows(FlashIOException.class,
                () -> FlashProbe.measure(file, Backend.IO_URING, true, 1000, 1, 1 << 20, Duration.ofMillis(10), 1));
    }

    @Test
    void commandCreatesTheFileAndWritesJson() throws IOException {
        Path file = dir.resolve("created.bin");
        Path json = dir.resolve("probe.json");
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new FlashlmCommand());
        cli.setErr(new PrintWriter(err));
        int rc = cli.execute("probe", "--file", file.toString(), "--size", "2M", "--chunks", "4K,64K",
                "--depths", "1,8", "--ios", "40", "--json", json.toString(), "--quiet");
        assertEquals(0, rc, err.toString());
        assertEquals(2 << 20, Files.size(file));
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals("flashlm-probe", root.get("format").asText());
        assertEquals(8, root.get("results").size()); // 2 backends x 2 chunks x 2 depths
        for (JsonNode row : root.get("results")) {
            assertEquals(40, row.get("ios").asLong());
            assertEquals(row.get("ios").asLong() * row.get("chunk_bytes").asLong(), row.get("bytes").asLong());
        }
        assertTrue(root.get("machine").get("cores").asInt() > 0);
    }
}
