package io.flashlm.predictor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.format.ModelFormatException;
import io.flashlm.pack.Crc32c;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Predictors in a flash pack: {@code PACK/predictors/KIND/manifest.json} (format, version, kind,
 * geometry, per layer rank, threshold, file, size and CRC-32C) and, for low-rank kinds, one
 * {@code layer-NNN.bin} per layer: A [r, d], B [n, r], c [n] as little-endian f32. See docs/predictors.md.
 */
public final class PredictorStore {
    public static final String DIR = "predictors";
    public static final String FORMAT = "flashlm-predictors";
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PredictorStore() {
    }

    public static Path dir(Path pack, PredictorKind kind) {
        return pack.resolve(DIR).resolve(kind.id());
    }

    /** The kinds stored in a pack, best first. */
    public static List<PredictorKind> available(Path pack) {
        List<PredictorKind> out = new ArrayList<>();
        for (PredictorKind k : PredictorKind.STORED) {
            if (Files.isRegularFile(dir(pack, k).resolve("manifest.json"))) {
                out.add(k);
            }
        }
        return out;
    }

    /** Writes a predictor (replacing one of the same kind); {@code info} goes into the manifest as is. */
    public static Path save(Path pack, Predictor p, Map<String, Object> info) throws IOException {
        if (p instanceof OraclePredictor || p instanceof TracePredictor) {
            throw new IllegalArgumentException("the " + p.kind() + " predictor has nothing to store");
        }
        Path root = pack.resolve(DIR);
        Files.createDirectories(root);
        Path tmp = root.resolve("." + p.kind() + ".tmp-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        ObjectNode m = JSON.createObjectNode();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("kind", p.kind().id());
        m.put("dim", p.dim());
        m.put("neurons", p.neurons());
        m.put("layer_count", p.layers());
        if (p instanceof LowRankPredictor lr) {
            m.put("hidden_relu", lr.hiddenRelu());
        }
        m.set("info", JSON.valueToTree(info == null ? Map.of() : info));
        ArrayNode layers = m.putArray("layers");
        for (int l = 0; l < p.layers(); l++) {
            ObjectNode e = layers.addObject();
            switch (p) {
                case LowRankPredictor lr -> {
                    LowRankPredictor.Layer w = lr.layer(l);
                    String name = String.format("layer-%03d.bin", l);
                    long bytes = w.a().byteSize() + w.b().byteSize() + w.bias().byteSize();
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment buf = a.allocate(bytes);
                        long off = 0;
                        for (MemorySegment s : new MemorySegment[]{w.a(), w.b(), w.bias()}) {
                            for (long i = 0; i < s.byteSize() / 4; i++) {
                                buf.set(LE, off + i * 4, s.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                            }
                            off += s.byteSize();
                        }
                        Files.write(tmp.resolve(name), buf.toArray(ValueLayout.JAVA_BYTE));
                        e.put("rank", w.rank());
                        e.put("threshold", (double) w.threshold());
                        e.put("file", name);
                        e.put("size", bytes);
                        e.put("crc32c", Crc32c.hex(Crc32c.of(buf)));
                    }
                }
                case ThresholdPredictor t -> e.put("threshold", (double) t.threshold(l));
                case OraclePredictor o -> throw new IllegalStateException();
                case TracePredictor t -> throw new IllegalStateException();
            }
        }
        JSON.writeValue(tmp.resolve("manifest.json").toFile(), m);
        Path dst = dir(pack, p.kind());
        deleteTree(dst);
        Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE);
        return dst;
    }

    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Loads the predictor of {@code kind} from a pack for a model's FFN layers ({@code ffn}). */
    public static Predictor load(Path pack, PredictorKind kind, FfnLayers ffn) throws IOException {
        if (kind == PredictorKind.ORACLE) {
            return new OraclePredictor(ffn);
        }
        return load(pack, kind, ffn.layers(), ffn.dim(), ffn.neurons(), ffn);
    }

    /** Loads a low-rank predictor (trained, svd) for the given geometry, without the model. */
    public static LowRankPredictor loadLowRank(Path pack, PredictorKind kind, int layerCount, int modelDim, int modelNeurons)
            throws IOException {
        return (LowRankPredictor) load(pack, kind, layerCount, modelDim, modelNeurons, null);
    }

    private static Predictor load(Path pack, PredictorKind kind, int layerCount, int modelDim, int modelNeurons,
                                  FfnLayers ffn) throws IOException {
        if (!kind.stored()) {
            throw new IllegalArgumentException("predictor kind must be trained, svd, threshold or oracle, not " + kind);
        }
        if (kind == PredictorKind.THRESHOLD && ffn == null) {
            throw new IllegalArgumentException("the threshold predictor needs the model's gate weights");
        }
        Path d = dir(pack, kind);
        Path mf = d.resolve("manifest.json");
        if (!Files.isRegularFile(mf)) {
            throw new java.nio.file.NoSuchFileException(mf.toString(), null, "no " + kind + " predictor in this pack"
                    + " (run flashlm calibrate); it has: " + available(pack));
        }
        JsonNode m = JSON.readTree(mf.toFile());
        if (!FORMAT.equals(m.path("format").asText())) {
            throw new ModelFormatException(mf, "format", "expected " + FORMAT);
        }
        int version = m.path("version").asInt(-1);
        if (version < 1 || version > VERSION) {
            throw new ModelFormatException(mf, "version", "version " + version + " is not one this flashlm reads ("
                    + VERSION + ")");
        }
        if (!kind.id().equals(m.path("kind").asText())) {
            throw new ModelFormatException(mf, "kind", m.path("kind").asText() + ", expected " + kind);
        }
        int dim = m.path("dim").asInt(), n = m.path("neurons").asInt(), layers = m.path("layer_count").asInt();
        if (dim != modelDim || n != modelNeurons || layers != layerCount || m.path("layers").size() != layers) {
            throw new ModelFormatException(mf, "dim/neurons/layers", dim + "/" + n + "/" + layers
                    + " disagree with the model's " + modelDim + "/" + modelNeurons + "/" + layerCount);
        }
        JsonNode ls = m.path("layers");
        if (kind == PredictorKind.THRESHOLD) {
            float[] t = new float[layers];
            for (int l = 0; l < layers; l++) {
                t[l] = Float.parseFloat(ls.get(l).path("threshold").asText());
            }
            return new ThresholdPredictor(ffn, t);
        }
        Arena arena = Arena.ofAuto();
        LowRankPredictor.Layer[] out = new LowRankPredictor.Layer[layers];
        for (int l = 0; l < layers; l++) {
            JsonNode e = ls.get(l);
            int r = e.path("rank").asInt();
            Path f = d.resolve(e.path("file").asText());
            if (!f.normalize().startsWith(d.normalize())) {
                throw new ModelFormatException(mf, "layers[" + l + "].file", "leaves the predictor directory");
            }
            long expect = 4L * ((long) r * dim + (long) n * r + n);
            byte[] bytes = Files.readAllBytes(f);
            if (r <= 0 || bytes.length != expect || e.path("size").asLong() != expect) {
                throw new ModelFormatException(f, "size", bytes.length + " bytes; rank " + r + " needs " + expect);
            }
            MemorySegment heap = MemorySegment.ofArray(bytes);
            int crc = Crc32c.of(heap);
            if (!Crc32c.hex(crc).equals(e.path("crc32c").asText())) {
                throw new ModelFormatException(f, "crc32c", "checksum " + Crc32c.hex(crc) + " differs from "
                        + e.path("crc32c").asText() + " in the manifest: the file is damaged");
            }
            MemorySegment a = arena.allocate(ValueLayout.JAVA_FLOAT, (long) r * dim);
            MemorySegment b = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * r);
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, n);
            long off = 0;
            for (MemorySegment s : new MemorySegment[]{a, b, c}) {
                for (long i = 0; i < s.byteSize() / 4; i++) {
                    s.setAtIndex(ValueLayout.JAVA_FLOAT, i, heap.get(LE, off + i * 4));
                }
                off += s.byteSize();
            }
            out[l] = new LowRankPredictor.Layer(r, a, b, c, Float.parseFloat(e.path("threshold").asText()));
        }
        return new LowRankPredictor(kind, dim, n, m.path("hidden_relu").asBoolean(false), out);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
