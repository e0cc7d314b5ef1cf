package io.flashlm.bench;

import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Memory cgroups: the parsing of /proc everywhere; the cgroup itself where this process may make
 * one (root, a writable cgroup file system with the memory controller), else skipped with the reason.
 */
class MemoryCgroupTest {
    private static final long LIMIT = 64L << 20;
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    @Test
    void parsesMountInfo() {
        List<MemoryCgroup.Mount> mounts = MemoryCgroup.parseMounts(List.of(
                "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory",
                "41 31 0:38 /docker/abc /sys/fs/cgroup/my\\040dir rw,relatime - cgroup2 cgroup2 rw,nsdelegate",
                "garbage"));
        assertEquals(2, mounts.size());
        assertEquals(new MemoryCgroup.Mount("/", Path.of("/sys/fs/cgroup/memory"), "cgroup", Set.of("rw", "memory")),
                mounts.get(0));
        assertEquals("/docker/abc", mounts.get(1).root());
        assertEquals(Path.of("/sys/fs/cgroup/my dir"), mounts.get(1).point());
        assertEquals("cgroup2", mounts.get(1).type());
    }

    @Test
    void parsesMembership() {
        Map<String, String> m = MemoryCgroup.parseMembership(List.of("4:memory:/process_api/x", "3:cpu,cpuacct:/a",
                "1:name=systemd:/", "0::/user.slice/a:b"));
        assertEquals("/process_api/x", m.get("memory"));
        assertEquals("/a", m.get("cpuacct"));
        assertEquals("/user.slice/a:b", m.get(""));
    }

    @Test
    void resolvesTheCgroupPathAgainstTheMountRoot() {
        Path point = Path.of("/sys/fs/cgroup");
        var top = new MemoryCgroup.Mount("/", point, "cgroup2", Set.of());
        var nested = new MemoryCgroup.Mount("/docker/abc", point, "cgroup2", Set.of());
        assertEquals(point, MemoryCgroup.resolve(top, "/"));
        assertEquals(point.resolve("a/b"), MemoryCgroup.resolve(top, "/a/b"));
        assertEquals(point, MemoryCgroup.resolve(nested, "/docker/abc"));
        assertEquals(point.resolve("x"), MemoryCgroup.resolve(nested, "/docker/abc/x"));
        assertEquals(point, MemoryCgroup.resolve(nested, "/docker/abcd"));
        assertEquals(point, MemoryCgroup.resolve(nested, "/"));
    }

    @Test
    void manualCommandsCoverBothVersions() {
        String text = MemoryCgroup.manualCommands(LIMIT, "java -jar flashlm.jar bench");
        assertTrue(text.contains("MemoryMax=" + LIMIT), text);
        assertTrue(text.contains("memory.max"), text);
        assertTrue(text.contains("echo " + LIMIT + " > /sys/fs/cgroup/memory/flashlm-bench/memory.limit_in_bytes"),
                text);
        assertTrue(text.contains("exec java -jar flashlm.jar bench"), text);
    }

    @Test
    void refusesBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> MemoryCgroup.tryCreate("a/b", LIMIT));
        assertThrows(IllegalArgumentException.class, () -> MemoryCgroup.tryCreate("..", LIMIT));
        assertThrows(IllegalArgumentException.class, () -> MemoryCgroup.tryCreate("x", 0));
    }

    @Test
    void childRunsInsideTheCgroup() throws Exception {
        Path dir;
        try (MemoryCgroup cg = cgroupOrSkip()) {
            dir = cg.path();
            assertTrue(Files.isDirectory(dir));
            assertEquals(LIMIT, cg.limitBytes());
            Process p = cg.start(new ProcessBuilder("/bin/sh", "-c", "cat /proc/self/cgroup"));
            String out = output(p);
            assertEquals(0, exitValue(p), out);
            String suffix = "/" + dir.getFileName();
            String line = cg.version().equals("v2") ? "0::" : "memory";
            assertTrue(out.lines().anyMatch(l -> l.contains(line) && l.endsWith(suffix)),
                    "expected a " + line + " line ending in " + suffix + " in:\n" + out);
        }
        assertFalse(Files.exists(dir), "close removes " + dir);
    }

    @Test
    void closeRefusesWhileAChildLives() throws Exception {
        MemoryCgroup cg = cgroupOrSkip();
        Process p = cg.start(new ProcessBuilder("cat"));
        try {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, cg::close);
            assertTrue(e.getMessage().contains(cg.path().toString()) && e.getMessage().contains(
                    Long.toString(p.pid())), e.getMessage());
            assertTrue(Files.isDirectory(cg.path()));
        } finally {
            p.getOutputStream().close();
            exitValue(p);
        }
        cg.close();
        assertFalse(Files.exists(cg.path()));
        assertThrows(IllegalStateException.class, () -> cg.start(new ProcessBuilder("true")));
    }

    @Test
    void childBeyondTheLimitIsKilled() throws Exception {
        try (MemoryCgroup cg = cgroupOrSkip()) {
            assumeTrue(cg.swapLimited() || swapTotal() == 0, "swap is on and not limited: the child would swap");
            // tail -c N on a pipe keeps the last N bytes in memory: 200 MiB of anonymous memory.
            Process p = cg.start(new ProcessBuilder("/bin/sh", "-c",
                    "head -c 209715200 /dev/zero | tail -c 209715200 > /dev/null"));
            String out = output(p);
            assertNotEquals(0, exitValue(p), "the child outgrew " + LIMIT + " bytes and lived: " + out);
            if (cg.oomKills() >= 0) {
                assertTrue(cg.oomKills() >= 1, "oom_kill count " + cg.oomKills());
            }
            if (cg.peakBytes() >= 0) {
                assertTrue(cg.peakBytes() <= LIMIT, "peak " + cg.peakBytes());
            }
        }
    }

    @Test
    void pageCacheIsHeldToTheLimit() throws Exception {
        try (MemoryCgroup cg = cgroupOrSkip()) {
            Path dir = TestFiles.newDirectory("cgroup");
            try {
                Path file = dir.resolve("big.bin");
                byte[] block = new byte[1 << 20];
                try (OutputStream o = Files.newOutputStream(file)) {
                    for (int i = 0; i < 2 * (LIMIT >> 20); i++) {
                        block[0] = (byte) i;
                        o.write(block);
                    }
                }
                // Cold only where the drop evicted at least as much as the file (not on a tmpfs).
                PageCache.DropResult drop = PageCache.drop();
                String fs = Files.getFileStore(file).type();
                boolean cold = drop.dropped() && !fs.equals("tmpfs") && !fs.equals("ramfs")
                        && drop.cachedBeforeBytes() - drop.cachedAfterBytes() >= Files.size(file);
                Process p = cg.start(new ProcessBuilder("cat", file.toString()).redirectOutput(
                        ProcessBuilder.Redirect.DISCARD));
                String out = output(p);
                assertEquals(0, exitValue(p), "reading a file twice the limit is reclaim, not OOM: " + out);
                long peak = cg.peakBytes();
                if (peak >= 0) {
                    assertTrue(peak <= LIMIT, "peak " + peak);
                    if (cold) {
                        assertTrue(peak >= LIMIT / 2, "the page cache was charged to the cgroup: peak " + peak);
                    }
                }
            } finally {
                TestFiles.deleteRecursively(dir);
            }
        }
    }

    private static MemoryCgroup cgroupOrSkip() {
        String name = "flashlm-test-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        MemoryCgroup.Attempt a = MemoryCgroup.tryCreate(name, LIMIT);
        assumeTrue(a.created(), () -> "no memory cgroup here: " + a.reason());
        return a.cgroup();
    }

    private static String output(Process p) throws IOException {
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        return out + new String(p.getErrorStream().readAllBytes());
    }

    /** The exit status; a guard against a hung child, not a timing assertion. */
    private static int exitValue(Process p) throws InterruptedException {
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("child did not exit");
        }
        return p.exitValue();
    }

    private static long swapTotal() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("SwapTotal:")) {
                return Long.parseLong(line.trim().split("\\s+")[1]);
            }
        }
        return 0;
    }
}
