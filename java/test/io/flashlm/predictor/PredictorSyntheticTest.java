package io.flashlm.predictor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer, metrics and storage on synthetic data (no model needed). */
class PredictorSyntheticTest {

    /** Active when W x + b > 0 for a rank-4 W and a bias that makes ~15% of neurons fire. */
    private static ActivationRecord synthetic(int positions, long seed) {
        int d = 32, n = 128, r = 4;
        SplittableRandom rnd = new SplittableRandom(7);
        float[][] u = new float[n][r], v = new float[r][d];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < r; k++) {
                u[i][k] = (float) Trainer.gauss(rnd);
            }
            b[i] = (float) (-2.0 + 0.3 * Trainer.gauss(rnd));
        }
        for (int k = 0; k < r; k++) {
            for (int j = 0; j < d; j++) {
                v[k][j] = (float) (Trainer.gauss(rnd) / Math.sqrt(d));
            }
        }
        ActivationRecord rec = new ActivationRecord(2, d, n, positions);
        SplittableRandom data = new SplittableRandom(seed);
        float[] x = new float[d];
        boolean[] act = new boolean[n];
        for (int layer = 0; layer < 2; layer++) {
            for (int t = 0; t < positions; t++) {
                for (int j = 0; j < d; j++) {
                    x[j] = (float) Trainer.gauss(data);
                }
                for (int i = 0; i < n; i++) {
                    double s = b[i];
                    for (int k = 0; k < r; k++) {
                        double vx = 0;
                        for (int j = 0; j < d; j++) {
                            vx += v[k][j] * x[j];
                        }
                        s += u[i][k] * vx;
                    }
                    act[i] = s > 0;
                }
                rec.add(layer, x, act);
            }
        }
        return rec;
    }

    @Test
    void trainerReachesHighRecallOnASyntheticProblem() {
        try (ActivationRecord train = synthetic(3000, 1); ActivationRecord test = synthetic(1000, 2)) {
            LowRankPredictor p = Trainer.train(train, Trainer.Options.defaults().withRanks(8, 8).withEpochs(6).withBatch(16), null);
            List<PredictorMetrics.Layer> m = PredictorMetrics.evaluate(p, test);
            for (PredictorMetrics.Layer l : m) {
                assertTrue(l.sparsity() > 0.7 && l.sparsity() < 0.95, "sparsity " + l.sparsity());
                assertTrue(l.recall() >= 0.95, "recall " + l.recall());
                assertTrue(l.precision() >= 0.35, "precision " + l.precision());
                assertTrue(l.readShare() < 0.35, "read share " + l.readShare());
            }
            // A target recall on the training data is met there.
            PredictorMetrics.calibrateRecall(p, train, 0.995);
            for (PredictorMetrics.Layer l : PredictorMetrics.evaluate(p, train)) {
                assertTrue(l.recall() >= 0.995, "calibrated recall " + l.recall());
            }
        }
    }

    @Test
    void trainingIsDeterministicWhateverTheThreads() {
        try (ActivationRecord train = synthetic(500, 3)) {
            Trainer.Options o = Trainer.Options.defaults().withRanks(4, 6).withEpochs(2);
            LowRankPredictor a = Trainer.train(train, o.withThreads(1), null);
            LowRankPredictor b = Trainer.train(train, o.withThreads(2), null);
            for (int l = 0; l < 2; l++) {
                assertEquals(-1, a.layer(l).b().mismatch(b.layer(l).b()));
                assertEquals(-1, a.layer(l).a().mismatch(b.layer(l).a()));
            }
            assertEquals(6, a.layer(1).rank());
        }
    }

    @Test
    void saveAndLoadAreBitExact(@TempDir Path pack) throws IOException {
        int d = 24, n = 40;
        SplittableRandom rnd = new SplittableRandom(5);
        Arena arena = Arena.ofAuto();
        LowRankPredictor.Layer[] layers = new LowRankPredictor.Layer[3];
        for (int l = 0; l < 3; l++) {
            int r = 3 + l;
            MemorySegment a = arena.allocate(JAVA_FLOAT, (long) r * d), b = arena.allocate(JAVA_FLOAT, (long) n * r),
                    c = arena.allocate(JAVA_FLOAT, n);
            for (MemorySegment s : new MemorySegment[]{a, b, c}) {
                for (long i = 0; i < s.byteSize() / 4; i++) {
                    s.setAtIndex(JAVA_FLOAT, i, (float) Trainer.gauss(rnd) * 1e-3f * (i + 1));
                }
            }
            layers[l] = new LowRankPredictor.Layer(r, a, b, c, (float) Trainer.gauss(rnd) / 3f);
        }
        LowRankPredictor p = new LowRankPredictor(PredictorKind.TRAINED, d, n, true, layers);
        PredictorStore.save(pack, p, Map.of("note", "test"));
        assertEquals(List.of(PredictorKind.TRAINED), PredictorStore.available(pack));
        LowRankPredictor q = PredictorStore.loadLowRank(pack, PredictorKind.TRAINED, 3, d, n);
        assertTrue(q.hiddenRelu());
        for (int l = 0; l < 3; l++) {
            assertEquals(p.layer(l).rank(), q.layer(l).rank());
            assertEquals(Float.floatToRawIntBits(p.layer(l).threshold()), Float.floatToRawIntBits(q.layer(l).threshold()));
            assertEquals(-1, p.layer(l).a().mismatch(q.layer(l).a()));
            assertEquals(-1, p.layer(l).b().mismatch(q.layer(l).b()));
            assertEquals(-1, p.layer(l).bias().mismatch(q.layer(l).bias()));
        }
        // Saving again replaces; a damaged file is refused.
        PredictorStore.save(pack, p, null);
        Path f = PredictorStore.dir(pack, PredictorKind.TRAINED).resolve("layer-001.bin");
        byte[] bytes = Files.readAllBytes(f);
        bytes[17] ^= 1;
        Files.write(f, bytes);
        Exception e = assertThrows(IOException.class, () -> PredictorStore.loadLowRank(pack, PredictorKind.TRAINED, 3, d, n));
        assertTrue(e.getMessage().contains("crc32c"), e.getMessage());
        assertThrows(IOException.class, () -> PredictorStore.loadLowRank(pack, PredictorKind.TRAINED, 3, d + 1, n));
        assertThrows(IOException.class, () -> PredictorStore.loadLowRank(pack, PredictorKind.SVD, 3, d, n));
    }
}
