package io.flashlm.cli;

import io.flashlm.api.ModelLoader;
import io.flashlm.kernels.ComputePool;
import io.flashlm.model.FfnObserver;
import io.flashlm.model.LanguageModel;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.pack.PackFormat;
import io.flashlm.predictor.ActivationRecord;
import io.flashlm.predictor.Agreement;
import io.flashlm.predictor.CalibrationText;
import io.flashlm.predictor.FfnLayers;
import io.flashlm.predictor.LowRankPredictor;
import io.flashlm.predictor.OraclePredictor;
import io.flashlm.predictor.Predictor;
import io.flashlm.predictor.PredictorKind;
import io.flashlm.predictor.PredictorMetrics;
import io.flashlm.predictor.PredictorStore;
import io.flashlm.predictor.SvdBuilder;
import io.flashlm.predictor.ThresholdPredictor;
import io.flashlm.predictor.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** flashlm calibrate: record the dense model's FFN activity, build sparsity predictors, store them in the pack. */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Build the sparsity predictors of a flash pack and store them in it (PACK/predictors/KIND/).",
                "trained: runs the dense model over calibration text, records every layer's FFN input and active"
                        + " neurons, and trains one low-rank predictor per layer (d -> R -> n, weighted BCE, Adam).",
                "svd: training-free, from a truncated SVD of the up projection (text optional: used for the figures"
                        + " and for --recall).",
                "threshold: gated SiLU models; a per-layer magnitude threshold for a target --sparsity.",
                "Prints per layer: sparsity, recall, precision and the share of FFN bytes that would be read."})
public final class CalibrateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "The flash pack directory.")
    Path model;

    @Option(names = "--text", description = "Calibration text: stories separated by blank lines.")
    Path text;

    @Option(names = "--tokens", defaultValue = "32768", description = "Positions of calibration text at most."
            + " Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--predictor", description = "trained, svd or threshold (default: trained for ReLU models,"
            + " threshold for gated ones).")
    String kind;

    @Option(names = "--rank", defaultValue = "64", description = "Predictor rank. Default: ${DEFAULT-VALUE}.")
    int rank;

    @Option(names = "--last-rank", description = "Rank of the last --last-layers layers (default: 2 x --rank).")
    Integer lastRank;

    @Option(names = "--last-layers", defaultValue = "1", description = "How many of the last layers get --last-rank."
            + " Default: ${DEFAULT-VALUE}.")
    int lastLayers;

    @Option(names = "--epochs", defaultValue = "4", description = "Training epochs. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--batch", defaultValue = "32", description = "Mini-batch size. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--lr", defaultValue = "0.01", description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--pos-weight", defaultValue = "0", description = "Weight of a positive in the loss; 0 for"
            + " negatives / positives per layer (capped at 100). Default: ${DEFAULT-VALUE}.")
    double posWeight;

    @Option(names = "--recall", description = "Calibrate each layer's threshold on the calibration text so that this"
            + " share of active neurons is predicted (trained, svd), e.g. 0.99. Default: sigmoid 0.5 (trained),"
            + " sign (svd).")
    Double recall;

    @Option(names = "--svd-iterations", defaultValue = "8", description = "Subspace iterations of the svd predictor."
            + " Default: ${DEFAULT-VALUE}.")
    int svdIterations;

    @Option(names = "--sparsity", defaultValue = "0.5", description = "Target sparsity of the threshold predictor."
            + " Default: ${DEFAULT-VALUE}.")
    double sparsity;

    @Option(names = "--eval", description = "Held-out text: the same figures on it.")
    Path eval;

    @Option(names = "--eval-tokens", defaultValue = "32768", description = "Positions of held-out text at most."
            + " Default: ${DEFAULT-VALUE}.")
    int evalTokens;

    @Option(names = "--agreement", description = "Also run the held-out text with each FFN restricted to the predicted"
            + " neurons and report top-1 agreement with the dense model.")
    boolean agreement;

    @Option(names = "--no-save", description = "Do not store the predictor in the pack.")
    boolean noSave;

    @Option(names = "--threads", description = "Threads (default: all cores).")
    Integer threads;

    @Option(names = "--train-threads", description = "Threads training layers in parallel (default: up to 2).")
    Integer trainThreads;

    @Option(names = "--seed", defaultValue = "1234", description = "Training seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        NativeLibrary.require(); // before any work: a missing library is one clear message
        if (!PackFormat.isPack(model)) {
            throw new IllegalArgumentException(model + " is not a flash pack (flashlm convert makes one)");
        }
        int nThreads = threads != null ? threads : ComputePool.defaultThreads(256);
        PrintStream progress = quiet ? null : System.err;
        try (LanguageModel m = ModelLoader.load(model, null, nThreads)) {
            FfnLayers ffn = FfnLayers.of(m);
            PredictorKind k = kind != null ? PredictorKind.parse(kind)
                    : ffn.gated() ? PredictorKind.THRESHOLD : PredictorKind.TRAINED;
            if (k == PredictorKind.TRACE) {
                throw new IllegalArgumentException("--predictor must be trained, svd, threshold or oracle, not " + k);
            }
            if (text == null && k != PredictorKind.SVD && k != PredictorKind.ORACLE) {
                throw new IllegalArgumentException("--predictor " + k + " needs calibration text (--text FILE)");
            }
            System.err.println("flashlm: " + m.describe());
            ActivationRecord calib = text == null ? null : record(m, ffn, text, tokens, "record " + text.getFileName(),
                    progress);
            Map<String, Object> info = new LinkedHashMap<>();
            long t0 = System.nanoTime();
            Predictor p = switch (k) {
                case TRAINED -> {
                    Trainer.Options o = new Trainer.Options(rank, lastRank != null ? lastRank : 2 * rank, lastLayers,
                            epochs, learningRate, batch, posWeight, false,
                            trainThreads != null ? trainThreads : Math.min(2, nThreads), seed);
                    info.put("rank", o.rank());
                    info.put("last_rank", o.lastRank());
                    info.put("last_layers", o.lastLayers());
                    info.put("epochs", o.epochs());
                    yield Trainer.train(calib, o, progress);
                }
                case SVD -> {
                    int lr = lastRank != null ? lastRank : 2 * rank;
                    info.put("rank", rank);
                    info.put("last_rank", lr);
                    info.put("iterations", svdIterations);
                    yield SvdBuilder.build(ffn, rank, lr, lastLayers, svdIterations, seed, progress);
                }
                case THRESHOLD -> {
                    info.put("sparsity", sparsity);
                    yield ThresholdPredictor.calibrate(ffn, calib, sparsity);
                }
                case ORACLE, TRACE -> new OraclePredictor(ffn);
            };
            if (recall != null) {
                if (!(p instanceof LowRankPredictor lr)) {
                    throw new IllegalArgumentException("--recall applies to trained and svd predictors");
                }
                if (calib == null) {
                    throw new IllegalArgumentException("--recall needs calibration text (--text FILE)");
                }
                PredictorMetrics.calibrateRecall(lr, calib, recall);
                info.put("target_recall", recall);
            }
            if (text != null) {
                info.put("calibration_text", text.getFileName().toString());
                info.put("calibration_positions", calib.count(0));
            }
            System.err.printf(Locale.ROOT, "built the %s predictor in %.1f s%n", k, (System.nanoTime() - t0) / 1e9);
            if (calib != null) {
                System.out.printf(Locale.ROOT, "%s predictor on the calibration text (%d positions):%n", k,
                        calib.count(0));
                print(PredictorMetrics.evaluate(p, calib));
                gatedNote(ffn);
                calib.close();
            }
            if (!noSave && k.stored()) {
                Path dir = PredictorStore.save(model, p, info);
                System.out.println("stored in " + dir + (p instanceof LowRankPredictor lr ? String.format(Locale.ROOT,
                        " (%.2f MB of predictor weights)", lr.byteSize() / 1e6) : ""));
            }
            if (eval != null) {
                try (ActivationRecord held = record(m, ffn, eval, evalTokens, "record " + eval.getFileName(),
                        progress)) {
                    System.out.printf(Locale.ROOT, "%s predictor on held-out %s (%d positions):%n", k,
                            eval.getFileName(), held.count(0));
                    print(PredictorMetrics.evaluate(p, held));
                    gatedNote(ffn);
                }
                if (agreement) {
                    List<int[]> seqs = CalibrationText.sequences(eval, m.tokenizer(), m.addBos(),
                            m.config().contextLength(), evalTokens);
                    int[] dense = Agreement.denseTop1(m, seqs, progress);
                    Agreement.Result r = Agreement.measure(m, p, seqs, dense, progress);
                    System.out.printf(Locale.ROOT, "top-1 agreement with dense, FFN restricted to the predicted"
                            + " neurons: %.2f%% of %d positions; FFN read %.1f%% of neurons%n", 100 * r.agreement(),
                            r.positions(), 100 * r.totalReadShare());
                    for (int l = 0; l < p.layers(); l++) {
                        System.out.printf(Locale.ROOT, "  layer %2d: read %5.1f%%, recall %6.2f%%%n", l,
                                100 * r.readShare(l), 100 * r.recall(l));
                    }
                }
            }
        }
        return 0;
    }

    private static ActivationRecord record(LanguageModel m, FfnLayers ffn, Path file, int maxTokens, String label,
                                           PrintStream progress) throws java.io.IOException {
        List<int[]> seqs = CalibrationText.sequences(file, m.tokenizer(), m.addBos(), m.config().contextLength(),
                maxTokens);
        ActivationRecord rec = new ActivationRecord(ffn.layers(), ffn.dim(), ffn.neurons(),
                CalibrationText.positions(seqs));
        try (LanguageModel observed = FfnObserver.observing(m, rec)) {
            CalibrationText.run(observed, seqs, null, label, progress);
        }
        return rec;
    }

    private static void gatedNote(FfnLayers ffn) {
        if (ffn.gated()) {
            System.out.println("  (gated FFN: no neuron is exactly zero, so every neuron counts as active; read share"
                    + " is what matters, and --agreement measures the cost)");
        }
    }

    static void print(List<PredictorMetrics.Layer> layers) {
        System.out.println("  layer  sparsity   recall  precision  read share");
        for (PredictorMetrics.Layer l : layers) {
            row(String.format(Locale.ROOT, "%5d", l.layer()), l);
        }
        row("  all", PredictorMetrics.total(layers));
    }

    private static void row(String name, PredictorMetrics.Layer l) {
        System.out.printf(Locale.ROOT, "  %s  %7.2f%%  %6.2f%%  %8.2f%%  %9.2f%%%n", name, 100 * l.sparsity(),
                100 * l.recall(), 100 * l.precision(), 100 * l.readShare());
    }
}
