package io.flashlm.planning;

import io.flashlm.cli.FlashlmCommand;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the probe's results go by default: a per-device file in the user's cache, never the working directory. */
class ProbeLocationTest {
    static Path dir;

    @BeforeAll
    static void setUp() throws IOException {
        dir = TestFiles.newDirectory("probe-location");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(dir);
    }

    @Test
    void theCacheIsXdgCacheHomeElseDotCacheInTheHome() {
        assertEquals(Path.of("/x/cache/flashlm"), ProbeLocation.cacheDir(Map.of("XDG_CACHE_HOME", "/x/cache"), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/flashlm"), ProbeLocation.cacheDir(Map.of(), "/home/u"));
        // the XDG spec: a relative path is invalid and ignored
        assertEquals(Path.of("/home/u/.cache/flashlm"), ProbeLocation.cacheDir(Map.of("XDG_CACHE_HOME", "rel"), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/flashlm"), ProbeLocation.cacheDir(Map.of("XDG_CACHE_HOME", ""), "/home/u"));
    }

    @Test
    void theDeviceIdIsMajorMinorOfTheFilesystem() throws IOException {
        // glibc's makedev(259, 1) and makedev(8, 300)
        long nvme = (259L << 8) | 1;
        assertEquals(259, ProbeLocation.major(nvme));
        assertEquals(1, ProbeLocation.minor(nvme));
        long big = ((300L & 0xffffff00L) << 12) | (8L << 8) | (300 & 0xff);
        assertEquals(8, ProbeLocation.major(big));
        assertEquals(300, ProbeLocation.minor(big));
        Path a = Files.writeString(dir.resolve("a"), "a");
        Files.createDirectories(dir.resolve("sub"));
        Path b = Files.writeString(dir.resolve("sub/b"), "b");
        String id = ProbeLocation.deviceId(a);
        assertTrue(id.matches("\\d+-\\d+|fs-.+-[0-9a-f]{8}"), id);
        assertEquals(id, ProbeLocation.deviceId(b), "one filesystem, one device id");
        assertEquals(Path.of("/c/flashlm/probe-" + id + ".json"), ProbeLocation.probeFile(Path.of("/c/flashlm"), a));
    }

    @Test
    void probeWithoutJsonWritesTheDevicesFileInTheCacheNotTheWorkingDirectory() throws IOException {
        Path cache = dir.resolve("xdg");
        Path file = dir.resolve("device.bin");
        String before = System.getProperty(ProbeLocation.CACHE_HOME_PROPERTY);
        System.setProperty(ProbeLocation.CACHE_HOME_PROPERTY, cache.toString());
        try {
            StringWriter err = new StringWriter();
            StringWriter out = new StringWriter();
            CommandLine cli = new CommandLine(new FlashlmCommand());
            cli.setErr(new PrintWriter(err));
            cli.setOut(new PrintWriter(out));
            int rc = cli.execute("probe", "--file", file.toString(), "--size", "1M", "--chunks", "4K",
                    "--depths", "1", "--backends", "io_uring", "--ios", "8", "--quiet");
            assertEquals(0, rc, err.toString());
            Path expected = cache.resolve("flashlm").resolve("probe-" + ProbeLocation.deviceId(file) + ".json");
            assertTrue(Files.isRegularFile(expected), "wrote " + expected);
            assertEquals(expected, ProbeLocation.probeFile(file));
            // and the flash engine finds it as the cost model's seed
            FlashCostModel m = FlashCostModel.fromProbeJson(expected);
            assertTrue(m.readNanos(4096, 1) > 0);
            assertFalse(Files.exists(Path.of("flashlm-probe.json").toAbsolutePath())
                            && Files.getLastModifiedTime(Path.of("flashlm-probe.json")).toMillis()
                            > System.currentTimeMillis() - 60_000,
                    "nothing written to the working directory");
        } finally {
            if (before == null) {
                System.clearProperty(ProbeLocation.CACHE_HOME_PROPERTY);
            } else {
                System.setProperty(ProbeLocation.CACHE_HOME_PROPERTY, before);
            }
        }
    }
}
