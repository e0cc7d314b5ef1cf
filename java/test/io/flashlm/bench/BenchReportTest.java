package io.flashlm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.engine.EngineStats;
import io.flashlm.planning.FlashCostModel;
import io.flashlm.predictor.TracePredictor;
import io.flashlm.testing.TestFiles;
import io.flashlm.util.MachineInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BenchReport's JSON and table for fixed inputs, so the file scripts read keeps its names, nesting and formats. */
class BenchReportTest {
    static Path dir;

    @BeforeAll
    static void setUp() throws IOException {
        dir = TestFiles.newDirectory("bench-report");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(dir);
    }

    static final MachineInfo MACHINE = new MachineInfo("Test CPU @ 2.0GHz", 8, 16L << 30, "Linux 6.1", "Vendor 25",
            "/dev/nvme0n1p1 (ssd)", "ext4");
    static final Instant CREATED = Instant.parse("2025-01-02T03:04:05.123456Z");

    static EngineStats.Summary summary(double scale, double hits, double misses, double bytesRead, double reads) {
        return new EngineStats.Summary(4, 12_500_000 * scale, 15_000_000.5 * scale, 13_100_000 * scale, 2e6 * scale,
                1e6, 0.5e6, 9e6, 2.5e6 * scale, 1.25e6, 0.75e6, 8.6e6, 100.5, hits, misses, bytesRead, reads, 3);
    }

    static EngineBench.Result ok(String mode, EngineStats.Summary s, String predictor, List<String> notes) {
        return new EngineBench.Result(mode, EngineBench.Status.OK, "", s, 50L << 20, 64L << 20, 128, predictor, true,
                1.75, "dram 10 MiB\ncache 40 MiB", notes, 40.0);
    }

    static BenchReport.Setup setup(TracePredictor.Params traces, TracePredictor.Stats stats, Path probe,
                                   String predictor) {
        return new BenchReport.Setup(Path.of("/packs/tiny"), "opt tiny f16", "opt, 2 layers, d_model 64, FFN 256",
                100L << 20, 30L << 20, 70L << 20, 64L << 20, 4, 8, 2, 32, "io_uring", true, 5, predictor, traces,
                stats, probe);
    }

    static FlashCostModel costs() {
        return new FlashCostModel(new long[]{4096, 1 << 20}, new int[]{1, 32},
                new double[][]{{0.05, 0.5}, {0.2, 2.0}});
    }

    /** Every part present: traces with stats, a probe, mmap in a cgroup, page-cache drops, every kind of mode. */
    static BenchReport full() {
        Map<String, PageCache.DropResult> drops = new LinkedHashMap<>();
        drops.put("naive", new PageCache.DropResult(true, "", 5L << 20, 1L << 20));
        drops.put("flash", new PageCache.DropResult(false, "not root", 6L << 20, 6L << 20));
        List<EngineBench.Result> results = List.of(
                ok("naive", summary(4, 0, 0, 3_000_000, 300), "trace", List.of()),
                ok("window", summary(1.5, 80, 20.5, 1_048_576, 64), "trace", List.of()),
                ok("flash", summary(1, 80, 20, 2_000_000.25, 16.25), "trace", List.of("a note", "another")),
                ok("mmap", summary(2, 0, 0, 4_000_000, 0), null, List.of("bytes from /proc/self/io")),
                EngineBench.Result.failed("dense", EngineBench.Status.DOES_NOT_FIT, "--memory 64 MiB < 80 MiB",
                        64L << 20, 0.25, List.of()),
                EngineBench.Result.failed("hybrid", EngineBench.Status.FAILED, "boom", 64L << 20, 0.5,
                        List.of("failed note")));
        return new BenchReport(setup(TracePredictor.opt67b(), new TracePredictor.Stats(256, 5, 40, 0.75, 0.1, 0.024,
                0.3, Double.NaN), Path.of("/probes/probe.json"), "trace"), MACHINE, results, drops,
                new BenchReport.MmapBound(true, "a memory cgroup (v2, swap held too)", 96L << 20, 32L << 20,
                        90L << 20, 0), costs(), CREATED);
    }

    /** Nothing optional: no traces, no probe, no mmap, no drops. */
    static BenchReport bare() {
        List<EngineBench.Result> results = List.of(
                EngineBench.Result.failed("naive", EngineBench.Status.FAILED, "", 64L << 20, 0.5, List.of()),
                ok("flash", summary(1, 10, 30, 0, 0), "dejavu", List.of()));
        return new BenchReport(setup(null, null, null, "dejavu"), MACHINE, results, Map.of(), null, null, CREATED);
    }

    /** Traces without stats, mmap unbounded, no drop worked. */
    static BenchReport partial() {
        Map<String, PageCache.DropResult> drops = new LinkedHashMap<>();
        drops.put("flash", new PageCache.DropResult(false, "no permission", 6L << 20, 6L << 20));
        drops.put("mmap", new PageCache.DropResult(false, "no permission", 7L << 20, 7L << 20));
        List<EngineBench.Result> results = List.of(
                ok("flash", summary(1, 10, 30, 100, 1), "trace", List.of()),
                ok("mmap", summary(3, 0, 0, 500, 0), null, List.of("page cache unbounded")));
        return new BenchReport(setup(new TracePredictor.Params(0.2, 0.05, 0.5, 7), null, null, "trace"), MACHINE,
                results, drops, BenchReport.MmapBound.unbounded("no cgroup v2 delegation"), null, CREATED);
    }

    static String json(BenchReport r) throws IOException {
        Path f = dir.resolve("report.json");
        r.writeJson(f);
        return Files.readString(f);
    }

    static String table(BenchReport r) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        r.print(new PrintStream(b, true, StandardCharsets.UTF_8));
        return b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void childResultsReadBackAsWritten() throws IOException {
        List<BenchReport> reports = List.of(full(), bare(), partial());
        for (int i = 0; i < reports.size(); i++) {
            Path f = dir.resolve("child-" + i + ".json");
            BenchReport.writeResults(reports.get(i).results(), f);
            assertEquals(reports.get(i).results(), BenchReport.readResults(f));
        }
        // a summary short of a component is refused, not read as zero
        Path f = dir.resolve("child-short.json");
        BenchReport.writeResults(full().results(), f);
        Files.writeString(f, Files.readString(f).replaceFirst(",\\s*\"window_shrinks\" : 3", ""));
        IOException e = assertThrows(IOException.class, () -> BenchReport.readResults(f));
        assertTrue(e.getMessage().contains("window_shrinks"), e.getMessage());
    }

    @Test
    void jsonKeepsItsNamesNestingAndNumberFormats() throws IOException {
        assertEquals(FULL_JSON, json(full()));
    }

    @Test
    void densePrefillIsCheckedAgainstDenseDecode() {
        // median 12.5 ms: 80 tokens/s generated
        EngineBench.Result dense = new EngineBench.Result("dense", EngineBench.Status.OK, "", summary(1, 0, 0, 0, 0),
                50L << 20, 64L << 20, 0, null, true, 1.0, "", List.of(), 400.0);
        BenchReport r = new BenchReport(setup(null, null, null, "trained"), MACHINE, List.of(dense), Map.of(), null,
                null, CREATED);
        BenchReport.Target t = r.targets().stream().filter(x -> x.name().startsWith("dense prefill")).findFirst()
                .orElseThrow();
        assertEquals(5.0, t.measured(), 1e-9);
        assertEquals("pass", t.status());
        assertEquals("400.0 vs 80.0 tokens/s", t.detail());
    }

    @Test
    void tableIsUnchanged() {
        assertEquals(FULL_TABLE, table(full()));
    }

    @Test
    void optionalPartsAreLeftOutOrNull() throws IOException {
        List<String> top = List.of("format", "version", "created", "machine", "pack", "options", "page_cache",
                "traces", "modes", "targets", "target_setting");
        JsonNode bare = new ObjectMapper().readTree(json(bare()));
        assertEquals(top, names(bare)); // no mmap
        assertTrue(bare.path("options").path("probe").isNull());
        assertEquals(0, bare.path("page_cache").path("drops").size());
        assertEquals(List.of("used", "description"), names(bare.path("traces")));
        assertEquals(List.of("mode", "status", "error", "budget_used_bytes", "budget_limit_bytes", "cache_rows",
                "predictor", "direct", "seconds", "budget_table", "notes"), names(bare.path("modes").get(0)));
        assertEquals("failed", bare.path("modes").get(0).path("status").asText());
        assertTrue(bare.path("modes").get(1).path("speedup_vs_naive").isNull()); // naive failed
        JsonNode targets = bare.path("targets"); // only the memory share is checked without naive, mmap, probe, window
        for (int i = 0; i < targets.size(); i++) {
            assertEquals(i < targets.size() - 1, targets.get(i).path("measured").isNull(), targets.get(i).toString());
        }

        JsonNode partial = new ObjectMapper().readTree(json(partial()));
        assertEquals(top.size() + 1, names(partial).size());
        assertEquals(List.of("used", "description", "params", "stats"), names(partial.path("traces")));
        assertTrue(partial.path("traces").path("stats").isNull());
        assertEquals(List.of("bounded", "how", "limit_bytes", "jvm_allowance_bytes", "peak_bytes", "oom_kills",
                "description"), names(partial.path("mmap")));
        assertEquals(-1, partial.path("mmap").path("peak_bytes").asLong());
    }

    static List<String> names(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** {@link #full()}'s JSON as flashlm bench --json has written it since version 1. */
    static final String FULL_JSON = """
            {
              "format" : "flashlm-bench",
              "version" : 1,
              "created" : "2025-01-02T03:04:05.123456Z",
              "machine" : {
                "cpu" : "Test CPU @ 2.0GHz",
                "cores" : 8,
                "memory_bytes" : 17179869184,
                "kernel" : "Linux 6.1",
                "jdk" : "Vendor 25",
                "device" : "/dev/nvme0n1p1 (ssd)",
                "filesystem" : "ext4"
              },
              "pack" : {
                "path" : "/packs/tiny",
                "model" : "opt tiny f16",
                "shape" : "opt, 2 layers, d_model 64, FFN 256",
                "bytes" : 104857600,
                "dram_bytes" : 31457280,
                "ffn_bytes" : 73400320
              },
              "options" : {
                "memory_bytes" : 67108864,
                "prompt_tokens" : 4,
                "tokens" : 8,
                "threads" : 2,
                "queue_depth" : 32,
                "backend" : "io_uring",
                "direct" : true,
                "window" : 5,
                "predictor" : "trace",
                "probe" : "/probes/probe.json"
              },
              "page_cache" : {
                "method" : "dropped before 1 of 2 modes (not root); engine reads use O_DIRECT and bypass it, but mmap and the mapped dram.bin may be served from the cache",
                "drops" : {
                  "naive" : {
                    "dropped" : true,
                    "reason" : "",
                    "cached_before_bytes" : 5242880,
                    "cached_after_bytes" : 1048576
                  },
                  "flash" : {
                    "dropped" : false,
                    "reason" : "not root",
                    "cached_before_bytes" : 6291456,
                    "cached_after_bytes" : 6291456
                  }
                }
              },
              "traces" : {
                "used" : true,
                "description" : "trace: synthetic activation traces with OPT-6.7B's statistics (10.0% of the FFN predicted per token, 2.4% new with a 5-token window, popularity skew 1.0, seed 1); realised on 256 neurons with a 5-token window: 10.0% predicted, 2.4% new, 30.0% resident per token",
                "params" : {
                  "predicted_share" : 0.1,
                  "new_share" : 0.024,
                  "popularity_skew" : 1.0,
                  "seed" : 1
                },
                "stats" : {
                  "neurons" : 256,
                  "window" : 5,
                  "tokens" : 40,
                  "reuse" : 0.75,
                  "predicted_share" : 0.1,
                  "new_share" : 0.024,
                  "resident_share" : 0.3,
                  "overlap" : null
                }
              },
              "mmap" : {
                "bounded" : true,
                "how" : "a memory cgroup (v2, swap held too)",
                "limit_bytes" : 100663296,
                "jvm_allowance_bytes" : 33554432,
                "peak_bytes" : 94371840,
                "oom_kills" : 0,
                "description" : "in a memory cgroup (v2, swap held too), limit 96 MiB (--memory + 32 MiB for the child JVM itself); peak 90 MiB, 0 OOM kills"
              },
              "modes" : [ {
                "mode" : "naive",
                "status" : "ok",
                "error" : "",
                "median_ms" : 50.0,
                "p90_ms" : 60.000002,
                "mean_ms" : 52.4,
                "io_ms" : 10.0,
                "memory_ms" : 1.25,
                "compute_ms" : 8.6,
                "predict_ms" : 0.75,
                "bytes_read_per_token" : 3000000.0,
                "read_mb_per_s" : 300.0,
                "mean_read_bytes" : 10000.0,
                "hit_rate" : null,
                "tokens_per_s" : 19.083969465648856,
                "speedup_vs_naive" : 1.0,
                "prefill_tokens_per_s" : 40.0,
                "summary" : {
                  "tokens" : 4,
                  "median_nanos" : 5.0E7,
                  "p90_nanos" : 6.0000002E7,
                  "mean_nanos" : 5.24E7,
                  "median_io_nanos" : 8000000.0,
                  "median_memory_nanos" : 1000000.0,
                  "median_predict_nanos" : 500000.0,
                  "median_compute_nanos" : 9000000.0,
                  "mean_io_nanos" : 1.0E7,
                  "mean_memory_nanos" : 1250000.0,
                  "mean_predict_nanos" : 750000.0,
                  "mean_compute_nanos" : 8600000.0,
                  "mean_predicted" : 100.5,
                  "mean_hits" : 0.0,
                  "mean_misses" : 0.0,
                  "mean_bytes_read" : 3000000.0,
                  "mean_reads" : 300.0,
                  "window_shrinks" : 3
                },
                "budget_used_bytes" : 52428800,
                "budget_limit_bytes" : 67108864,
                "cache_rows" : 128,
                "predictor" : "trace",
                "direct" : true,
                "seconds" : 1.75,
                "budget_table" : "dram 10 MiB\\ncache 40 MiB",
                "notes" : [ ]
              }, {
                "mode" : "window",
                "status" : "ok",
                "error" : "",
                "median_ms" : 18.75,
                "p90_ms" : 22.50000075,
                "mean_ms" : 19.65,
                "io_ms" : 3.75,
                "memory_ms" : 1.25,
                "compute_ms" : 8.6,
                "predict_ms" : 0.75,
                "bytes_read_per_token" : 1048576.0,
                "read_mb_per_s" : 279.6202666666667,
                "mean_read_bytes" : 16384.0,
                "hit_rate" : 0.7960199004975125,
                "tokens_per_s" : 50.89058524173028,
                "speedup_vs_naive" : 2.6666666666666665,
                "prefill_tokens_per_s" : 40.0,
                "summary" : {
                  "tokens" : 4,
                  "median_nanos" : 1.875E7,
                  "p90_nanos" : 2.250000075E7,
                  "mean_nanos" : 1.965E7,
                  "median_io_nanos" : 3000000.0,
                  "median_memory_nanos" : 1000000.0,
                  "median_predict_nanos" : 500000.0,
                  "median_compute_nanos" : 9000000.0,
                  "mean_io_nanos" : 3750000.0,
                  "mean_memory_nanos" : 1250000.0,
                  "mean_predict_nanos" : 750000.0,
                  "mean_compute_nanos" : 8600000.0,
                  "mean_predicted" : 100.5,
                  "mean_hits" : 80.0,
                  "mean_misses" : 20.5,
                  "mean_bytes_read" : 1048576.0,
                  "mean_reads" : 64.0,
                  "window_shrinks" : 3
                },
                "budget_used_bytes" : 52428800,
                "budget_limit_bytes" : 67108864,
                "cache_rows" : 128,
                "predictor" : "trace",
                "direct" : true,
                "seconds" : 1.75,
                "budget_table" : "dram 10 MiB\\ncache 40 MiB",
                "notes" : [ ]
              }, {
                "mode" : "flash",
                "status" : "ok",
                "error" : "",
                "median_ms" : 12.5,
                "p90_ms" : 15.0000005,
                "mean_ms" : 13.1,
                "io_ms" : 2.5,
                "memory_ms" : 1.25,
                "compute_ms" : 8.6,
                "predict_ms" : 0.75,
                "bytes_read_per_token" : 2000000.25,
                "read_mb_per_s" : 800.0001,
                "mean_read_bytes" : 123076.93846153846,
                "hit_rate" : 0.8,
                "tokens_per_s" : 76.33587786259542,
                "speedup_vs_naive" : 4.0,
                "prefill_tokens_per_s" : 40.0,
                "summary" : {
                  "tokens" : 4,
                  "median_nanos" : 1.25E7,
                  "p90_nanos" : 1.50000005E7,
                  "mean_nanos" : 1.31E7,
                  "median_io_nanos" : 2000000.0,
                  "median_memory_nanos" : 1000000.0,
                  "median_predict_nanos" : 500000.0,
                  "median_compute_nanos" : 9000000.0,
                  "mean_io_nanos" : 2500000.0,
                  "mean_memory_nanos" : 1250000.0,
                  "mean_predict_nanos" : 750000.0,
                  "mean_compute_nanos" : 8600000.0,
                  "mean_predicted" : 100.5,
                  "mean_hits" : 80.0,
                  "mean_misses" : 20.0,
                  "mean_bytes_read" : 2000000.25,
                  "mean_reads" : 16.25,
                  "window_shrinks" : 3
                },
                "budget_used_bytes" : 52428800,
                "budget_limit_bytes" : 67108864,
                "cache_rows" : 128,
                "predictor" : "trace",
                "direct" : true,
                "seconds" : 1.75,
                "budget_table" : "dram 10 MiB\\ncache 40 MiB",
                "notes" : [ "a note", "another" ]
              }, {
                "mode" : "mmap",
                "status" : "ok",
                "error" : "",
                "median_ms" : 25.0,
                "p90_ms" : 30.000001,
                "mean_ms" : 26.2,
                "io_ms" : 5.0,
                "memory_ms" : 1.25,
                "compute_ms" : 8.6,
                "predict_ms" : 0.75,
                "bytes_read_per_token" : 4000000.0,
                "read_mb_per_s" : 800.0,
                "mean_read_bytes" : 0.0,
                "hit_rate" : null,
                "tokens_per_s" : 38.16793893129771,
                "speedup_vs_naive" : 2.0,
                "prefill_tokens_per_s" : 40.0,
                "summary" : {
                  "tokens" : 4,
                  "median_nanos" : 2.5E7,
                  "p90_nanos" : 3.0000001E7,
                  "mean_nanos" : 2.62E7,
                  "median_io_nanos" : 4000000.0,
                  "median_memory_nanos" : 1000000.0,
                  "median_predict_nanos" : 500000.0,
                  "median_compute_nanos" : 9000000.0,
                  "mean_io_nanos" : 5000000.0,
                  "mean_memory_nanos" : 1250000.0,
                  "mean_predict_nanos" : 750000.0,
                  "mean_compute_nanos" : 8600000.0,
                  "mean_predicted" : 100.5,
                  "mean_hits" : 0.0,
                  "mean_misses" : 0.0,
                  "mean_bytes_read" : 4000000.0,
                  "mean_reads" : 0.0,
                  "window_shrinks" : 3
                },
                "budget_used_bytes" : 52428800,
                "budget_limit_bytes" : 67108864,
                "cache_rows" : 128,
                "predictor" : null,
                "direct" : true,
                "seconds" : 1.75,
                "budget_table" : "dram 10 MiB\\ncache 40 MiB",
                "notes" : [ "bytes from /proc/self/io" ]
              }, {
                "mode" : "dense",
                "status" : "does-not-fit",
                "error" : "--memory 64 MiB < 80 MiB",
                "budget_used_bytes" : 0,
                "budget_limit_bytes" : 67108864,
                "cache_rows" : 0,
                "predictor" : null,
                "direct" : false,
                "seconds" : 0.25,
                "budget_table" : "",
                "notes" : [ ]
              }, {
                "mode" : "hybrid",
                "status" : "failed",
                "error" : "boom",
                "budget_used_bytes" : 0,
                "budget_limit_bytes" : 67108864,
                "cache_rows" : 0,
                "predictor" : null,
                "direct" : false,
                "seconds" : 0.5,
                "budget_table" : "",
                "notes" : [ "failed note" ]
              } ],
              "targets" : [ {
                "name" : "flash vs naive (median latency)",
                "measured" : 4.0,
                "required" : ">= 5.0x",
                "status" : "MISS: 20% short",
                "detail" : ""
              }, {
                "name" : "flash vs mmap (median latency)",
                "measured" : 2.0,
                "required" : ">= 3.0x",
                "status" : "MISS: 33% short",
                "detail" : ""
              }, {
                "name" : "flash I/O time vs the probe's (bytes / throughput)",
                "measured" : 1.630712762467734,
                "required" : "<= 1.5x",
                "status" : "MISS: 9% over",
                "detail" : "2.50 ms measured, 1.53 ms expected for 1.9 MiB per token at 120.2 KiB reads, depth 32"
              }, {
                "name" : "bundling: flash read throughput vs window's",
                "measured" : 2.8610233068466187,
                "required" : ">= 1.7x",
                "status" : "pass",
                "detail" : "800.0 vs 279.6 MB/s"
              }, {
                "name" : "dense prefill vs decode (tokens/s)",
                "measured" : null,
                "required" : ">= 5.0x",
                "status" : "n/a",
                "detail" : "dense does not fit: --memory 64 MiB < 80 MiB"
              }, {
                "name" : "flash memory management share of latency",
                "measured" : 0.09541984732824428,
                "required" : "< 15%",
                "status" : "pass",
                "detail" : "1.25 of 13.10 ms (means)"
              } ],
              "target_setting" : "opt-6.7b f16 with --memory half the model"
            }""";

    /** {@link #full()}'s table. */
    static final String FULL_TABLE = """
            flashlm bench: /packs/tiny
              model: opt, 2 layers, d_model 64, FFN 256; 100 MiB in all: DRAM part 30 MiB, FFN 70 MiB
              machine: Test CPU @ 2.0GHz, 8 cores, 16 GiB RAM; Linux 6.1; /packs/tiny on /dev/nvme0n1p1 (ssd) (ext4); Vendor 25
              budget: --memory 64 MiB (64% of the model); 4 prompt tokens, then 8 generated greedily; figures are over the generated tokens
              reads: O_DIRECT (the page cache is bypassed), backend io_uring, queue depth 32, 2 compute threads
              cost model: learned from the reads, seeded by /probes/probe.json (flashlm probe); per mode below, as each run left it
              page cache: dropped before 1 of 2 modes (not root); engine reads use O_DIRECT and bypass it, but mmap and the mapped dram.bin may be served from the cache
              predictor: trace: synthetic activation traces with OPT-6.7B's statistics (10.0% of the FFN predicted per token, 2.4% new with a 5-token window, popularity skew 1.0, seed 1); realised on 256 neurons with a 5-token window: 10.0% predicted, 2.4% new, 30.0% resident per token
              mmap: in a memory cgroup (v2, swap held too), limit 96 MiB (--memory + 32 MiB for the child JVM itself); peak 90 MiB, 0 OOM kills
            
            mode       median ms    p90 ms   mean ms |    I/O ms    mem ms   compute   predict |   read/tok     MB/s mean read   hits | speed-up | prefill/s
            naive           50.0      60.0      52.4 |      10.0       1.3       8.6       0.8 |    2.9 MiB    300.0   9.8 KiB      - |    1.00x |      40.0
            window          18.8      22.5      19.7 |       3.8       1.3       8.6       0.8 |      1 MiB    279.6    16 KiB    80% |    2.67x |      40.0
            flash           12.5      15.0      13.1 |       2.5       1.3       8.6       0.8 |    1.9 MiB    800.0 120.2 KiB    80% |    4.00x |      40.0
            mmap            25.0      30.0      26.2 |         -       1.3       8.6       0.8 |    3.8 MiB    800.0         -      - |    2.00x |      40.0
            dense      does not fit: --memory 64 MiB < 80 MiB
            hybrid     failed: boom
              ms per token. I/O, mem (memory management), compute and predict are means; they add up to the mean. read/tok: bytes read from flash per token; MB/s: while reading; hits: neurons already in DRAM; speed-up: naive's median over the mode's; prefill/s: the prompt's tokens per second, run again in chunks of 64 once the mode is warm.
              mmap: bytes are what the kernel fetched (/proc/self/io); its I/O time is inside compute (page faults).
              flash: a note
              flash: another
              mmap: bytes from /proc/self/io
              hybrid: failed note
            
            targets (set for opt-6.7b f16 with --memory half the model; this run: opt, 2 layers, d_model 64, FFN 256, --memory 64% of the model):
              flash vs naive (median latency)                         4.00x  >= 5.0x  MISS: 20% short
              flash vs mmap (median latency)                          2.00x  >= 3.0x  MISS: 33% short
              flash I/O time vs the probe's (bytes / throughput)      1.63x  <= 1.5x  MISS: 9% over (2.50 ms measured, 1.53 ms expected for 1.9 MiB per token at 120.2 KiB reads, depth 32)
              bundling: flash read throughput vs window's             2.86x  >= 1.7x  pass (800.0 vs 279.6 MB/s)
              dense prefill vs decode (tokens/s)                        n/a  >= 5.0x  n/a (dense does not fit: --memory 64 MiB < 80 MiB)
              flash memory management share of latency                 9.5%  < 15%    pass (1.25 of 13.10 ms (means))
            """;
}
