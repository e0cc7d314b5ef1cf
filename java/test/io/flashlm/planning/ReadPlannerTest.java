package io.flashlm.planning;

import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReadPlannerTest {
    static final long STRIDE = 16384;

    /** Throughput independent of the read size: merging across a gap only adds bytes, so it never pays. */
    static FlashCostModel flat() {
        return new FlashCostModel(new long[]{4096, 1 << 20}, new int[]{32}, new double[][]{{1.0, 1.0}});
    }

    /** 16 KiB reads at 0.2 B/ns, 64 KiB at 1.0, 1 MiB at 2.0: small reads are expensive. */
    static FlashCostModel steep() {
        return new FlashCostModel(new long[]{16384, 65536, 1 << 20}, new int[]{1, 32},
                new double[][]{{0.05, 0.2, 0.5}, {0.2, 1.0, 2.0}});
    }

    @Test
    void neighboursShareOneReadAndGapsNeverMergeWhenSizeDoesNotMatter() {
        ReadPlanner p = new ReadPlanner(flat(), STRIDE, 8, 64);
        int n = p.plan(new int[]{3, 4, 5, 9, 10, 30}, 6, 32);
        assertEquals(3, n);
        assertEquals(3, p.first(0));
        assertEquals(3, p.count(0));
        assertEquals(9, p.first(1));
        assertEquals(2, p.count(1));
        assertEquals(30, p.first(2));
        assertEquals(1, p.count(2));
    }

    @Test
    void smallGapsMergeWhenLargerReadsAreFasterButNotBeyondMaxGap() {
        ReadPlanner p = new ReadPlanner(steep(), STRIDE, 2, 64);
        // 10 and 12: one unwanted record between; 20 is 7 records further than 12.
        int n = p.plan(new int[]{10, 12, 20}, 3, 32);
        assertEquals(2, n);
        assertEquals(10, p.first(0));
        assertEquals(3, p.count(0));
        assertEquals(20, p.first(1));
        assertEquals(4, p.recordsCovered());
    }

    @Test
    void everyWantedRecordIsCoveredExactlyOnce() {
        Random rnd = new Random(3);
        ReadPlanner p = new ReadPlanner(steep(), STRIDE, 4, 4096);
        for (int round = 0; round < 200; round++) {
            TreeSet<Integer> wanted = new TreeSet<>();
            int size = 1 + rnd.nextInt(300);
            while (wanted.size() < size) {
                wanted.add(rnd.nextInt(4096));
            }
            int[] ids = wanted.stream().mapToInt(Integer::intValue).toArray();
            int reads = p.plan(ids, ids.length, 1 + rnd.nextInt(64));
            int covered = 0;
            int lastEnd = -1;
            for (int r = 0; r < reads; r++) {
                assertTrue(p.first(r) > lastEnd, "reads are ascending and disjoint");
                assertTrue(wanted.contains(p.first(r)) && wanted.contains(p.first(r) + p.count(r) - 1),
                        "a read starts and ends on a wanted record");
                lastEnd = p.first(r) + p.count(r) - 1;
                covered += wanted.subSet(p.first(r), true, lastEnd, true).size();
            }
            assertEquals(ids.length, covered);
        }
    }

    @Test
    void refusesUnsortedInputAndOverflow() {
        ReadPlanner p = new ReadPlanner(flat(), STRIDE, 2, 4);
        assertThrows(IllegalArgumentException.class, () -> p.plan(new int[]{5, 5}, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> p.plan(new int[]{5, 3}, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> p.plan(new int[]{1, 2, 3, 4, 5}, 5, 1));
    }

    @Test
    void costModelReadsTheProbeJsonAndInterpolates() throws IOException {
        Path dir = TestFiles.newDirectory("cost");
        try {
            Path json = dir.resolve("probe.json");
            Files.writeString(json, """
                    {"format": "flashlm-probe", "version": 1, "results": [
                      {"backend": "io_uring", "chunk_bytes": 4096, "queue_depth": 1, "mb_per_s": 50},
                      {"backend": "io_uring", "chunk_bytes": 65536, "queue_depth": 1, "mb_per_s": 400},
                      {"backend": "io_uring", "chunk_bytes": 4096, "queue_depth": 32, "mb_per_s": 200},
                      {"backend": "io_uring", "chunk_bytes": 65536, "queue_depth": 32, "mb_per_s": 800},
                      {"backend": "pread", "chunk_bytes": 4096, "queue_depth": 1, "mb_per_s": 1}
                    ]}""");
            FlashCostModel m = FlashCostModel.fromProbeJson(json);
            assertEquals(4096 / 0.05, m.readNanos(4096, 1), 1e-6);         // 50 MB/s = 0.05 B/ns
            assertEquals(65536 / 0.8, m.readNanos(65536, 30), 1e-6);       // nearest depth 32
            double mid = m.readNanos(16384, 32);                            // halfway in log size: 500 MB/s
            assertEquals(16384 / 0.5, mid, 1e-6);
            Files.writeString(json, "{\"format\": \"something-else\"}");
            IOException e = assertThrows(IOException.class, () -> FlashCostModel.fromProbeJson(json));
            assertTrue(e.getMessage().contains("format"), e.getMessage());
        } finally {
            TestFiles.deleteRecursively(dir);
        }
    }
}
