package io.flashlm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineStats;
import io.flashlm.engine.FlashEngine;
import io.flashlm.model.InferenceState;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.pack.ManifestCodec;
import io.flashlm.pack.PackManifest;
import io.flashlm.pack.PackTokenizer;
import io.flashlm.predictor.CalibrationText;
import io.flashlm.sampler.GreedySampler;
import io.flashlm.tokenizer.Tokenizer;
import io.flashlm.util.ByteSizes;
import io.flashlm.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * flashlm evaluate: runs held-out text through the engine in several modes and reports, per mode, the
 * top-1 agreement of its next-token predictions with dense, the bytes read per token, the window's
 * hit rate and the neurons computed: how much fidelity each technique costs and what it saves.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Run text through the flash engine in several modes; report top-1 agreement with dense, bytes"
                + " read per token and the window's hit rate.")
public final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "The flash pack directory.")
    Path model;

    @Option(names = "--text", required = true, description = "Text to run (stories separated by blank lines), for"
            + " instance held-out text the predictor was not trained on.")
    Path text;

    @Option(names = "--tokens", defaultValue = "8192", description = "Positions at most. Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--modes", split = ",", defaultValue = "dense,hybrid,predictor,window,flash",
            description = "Modes to run; dense always runs first, as the reference. Default: ${DEFAULT-VALUE}.")
    List<String> modes;

    @Option(names = "--json", description = "Also write the figures as JSON here.")
    Path json;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    @Mixin
    EngineOptionsMixin engine = new EngineOptionsMixin();

    /** One mode's figures over the text. */
    record ModeResult(String mode, String predictor, int positions, int agree, EngineStats.Summary stats,
                      int cacheRows) {
        double agreement() {
            return positions == 0 ? Double.NaN : (double) agree / positions;
        }
    }

    @Override
    public Integer call() throws Exception {
        NativeLibrary.require(); // before any work: a missing library is one clear message
        List<EngineMode> list = new ArrayList<>();
        list.add(EngineMode.DENSE);
        for (String m : modes) {
            EngineMode mode = EngineMode.parse(m);
            if (!list.contains(mode)) {
                list.add(mode);
            }
        }
        PackManifest m = ManifestCodec.read(model); // not FlashPack.open: that checksums all of dram.bin
        Tokenizer tok = PackTokenizer.load(model, m.tokenizer(), m.config().vocabSize());
        List<int[]> seqs = CalibrationText.sequences(text, tok, true, m.config().contextLength(), tokens);
        int context = seqs.stream().mapToInt(s -> s.length).max().orElse(1);
        int positions = CalibrationText.positions(seqs);
        System.err.printf(Locale.ROOT, "flashlm evaluate: %d sequences, %d positions of %s%n", seqs.size(), positions,
                text);
        int[] reference = null;
        List<ModeResult> results = new ArrayList<>();
        for (EngineMode mode : list) {
            try (FlashEngine e = FlashEngine.open(model, engine.options(mode, model).toBuilder().contextLength(context).build())) {
                Progress p = new Progress(mode.id(), positions, System.err, !quiet && Progress.isTerminal());
                int[] top1 = run(e, seqs, p);
                p.finish();
                if (reference == null) {
                    reference = top1;
                }
                int agree = 0;
                for (int i = 0; i < top1.length; i++) {
                    agree += top1[i] == reference[i] ? 1 : 0;
                }
                results.add(new ModeResult(mode.id(), e.predictorKind() == null ? null : e.predictorKind().id(), top1.length, agree, e.stats().summary(0),
                        e.cacheRows()));
            }
        }
        print(results);
        if (json != null) {
            writeJson(results, positions);
            System.err.println("wrote " + json);
        }
        return 0;
    }

    /** The argmax at every position of every sequence, each sequence from a fresh state. */
    private static int[] run(FlashEngine e, List<int[]> seqs, Progress p) {
        int[] out = new int[CalibrationText.positions(seqs)];
        int vocab = e.config().vocabSize();
        int k = 0;
        for (int[] seq : seqs) {
            try (InferenceState s = e.newState()) {
                for (int pos = 0; pos < seq.length; pos++) {
                    out[k++] = GreedySampler.argmax(e.forward(s, seq[pos], pos), vocab);
                }
            }
            p.advance(seq.length);
        }
        return out;
    }

    private static void print(List<ModeResult> results) {
        double hybridBytes = results.stream().filter(r -> r.mode().equals("hybrid")).mapToDouble(
                r -> r.stats().meanBytesRead()).findFirst().orElse(Double.NaN);
        System.out.printf(Locale.ROOT, "%-10s %-9s %9s %10s %12s %9s %9s %10s %9s%n", "mode", "predictor", "positions",
                "agreement", "read/token", "vs hybrid", "hit rate", "neurons", "ms/token");
        for (ModeResult r : results) {
            EngineStats.Summary s = r.stats();
            System.out.printf(Locale.ROOT, "%-10s %-9s %9d %9.2f%% %12s %9s %9s %10.0f %9.2f%n", r.mode(),
                    r.predictor() == null ? "-" : r.predictor(), r.positions(), 100 * r.agreement(),
                    ByteSizes.format((long) s.meanBytesRead()),
                    Double.isNaN(hybridBytes) || hybridBytes == 0 ? "-"
                            : String.format(Locale.ROOT, "%.1f%%", 100 * s.meanBytesRead() / hybridBytes),
                    Double.isNaN(s.hitRate()) || r.cacheRows() == 0 ? "-"
                            : String.format(Locale.ROOT, "%.1f%%", 100 * s.hitRate()),
                    s.meanPredicted(), s.meanNanos() / 1e6);
        }
    }

    private void writeJson(List<ModeResult> results, int positions) throws java.io.IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", "flashlm-evaluate");
        root.put("version", 1);
        root.put("model", model.toString());
        root.put("text", text.toString());
        root.put("positions", positions);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ModeResult r : results) {
            Map<String, Object> m = new LinkedHashMap<>();
            EngineStats.Summary s = r.stats();
            m.put("mode", r.mode());
            m.put("predictor", r.predictor());
            m.put("agreement", r.agreement());
            m.put("bytes_read_per_token", s.meanBytesRead());
            m.put("reads_per_token", s.meanReads());
            m.put("neurons_per_token", s.meanPredicted());
            m.put("hit_rate", Double.isNaN(s.hitRate()) ? null : s.hitRate());
            m.put("cache_rows", r.cacheRows());
            m.put("mean_ms_per_token", s.meanNanos() / 1e6);
            rows.add(m);
        }
        root.put("modes", rows);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), root);
    }
}
