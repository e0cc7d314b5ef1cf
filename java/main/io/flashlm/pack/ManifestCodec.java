package io.flashlm.pack;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.format.ModelFormatException;
import io.flashlm.model.ModelConfig;
import io.flashlm.tensor.DType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * manifest.json to and from {@link PackManifest}. Reading checks the format and version first (a
 * newer version is refused before anything else is interpreted), then every field, then that the
 * parts agree with each other (FFN geometry with the config, sizes with shapes).
 */
public final class ManifestCodec {
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private ManifestCodec() {
    }

    public static void write(PackManifest m, Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", PackFormat.FORMAT);
        root.put("version", m.version());
        root.put("created_by", m.createdBy());
        root.put("source", m.source());
        ConfigJson.write(m.config(), root.putObject("config"));
        root.put("dtype", PackFormat.dtypeName(m.dtype()));
        if (m.version() >= 2) {
            root.put("down_dtype", PackFormat.dtypeName(m.downDtype()));
        }
        root.put("layout", m.layout().jsonName());
        root.put("alignment", m.alignment());
        ObjectNode tok = root.putObject("tokenizer");
        tok.put("kind", m.tokenizer().kind());
        ArrayNode tokFiles = tok.putArray("files");
        m.tokenizer().files().forEach(f -> fileEntry(tokFiles.addObject(), f));

        ObjectNode dram = root.putObject("dram");
        fileEntry(dram, m.dram().file());
        dram.put("tied_output", m.dram().tiedOutput());
        ArrayNode tensors = dram.putArray("tensors");
        for (PackManifest.TensorEntry t : m.dram().tensors()) {
            ObjectNode o = tensors.addObject();
            o.put("name", t.name());
            o.put("dtype", PackFormat.dtypeName(t.dtype()));
            ArrayNode shape = o.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            o.put("offset", t.offset());
            o.put("bytes", t.bytes());
            o.put("crc32c", Crc32c.hex(t.crc32c()));
        }

        FfnGeometry g = m.ffn().geometry();
        ObjectNode ffn = root.putObject("ffn");
        ffn.put("dim", g.dim());
        ffn.put("neurons", g.neurons());
        ffn.put("gated", g.gated());
        ArrayNode parts = ffn.putArray("parts");
        g.parts().forEach(p -> parts.add(p.jsonName()));
        ffn.put("part_bytes", g.partBytes(FfnPart.UP));
        if (m.version() >= 2) {
            ffn.put("down_part_bytes", g.partBytes(FfnPart.DOWN));
        }
        ffn.put("unit_bytes", g.unitBytes());
        ffn.put("alignment", g.alignment());
        ffn.put("stride", g.stride());
        ArrayNode layers = ffn.putArray("layers");
        for (PackManifest.FfnLayer layer : m.ffn().layers()) {
            ObjectNode l = layers.addObject();
            ArrayNode files = l.putArray("files");
            for (PackManifest.FfnFile f : layer.files()) {
                ObjectNode o = files.addObject();
                o.put("path", f.path());
                ArrayNode fp = o.putArray("parts");
                f.parts().forEach(p -> fp.add(p.jsonName()));
                o.put("size", f.size());
            }
            fileEntry(l.putObject("checksums"), layer.checksums());
        }
        Files.writeString(file, root.toPrettyString() + "\n");
    }

    private static void fileEntry(ObjectNode o, PackManifest.FileEntry f) {
        o.put("path", f.path());
        o.put("size", f.size());
        o.put("crc32c", Crc32c.hex(f.crc32c()));
    }

    /** Reads and checks {@code dir}/manifest.json. */
    public static PackManifest read(Path dir) throws IOException {
        Path file = dir.resolve(PackFormat.MANIFEST);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "not a flash pack: no " + PackFormat.MANIFEST);
        }
        JsonNode node;
        try {
            node = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file, "manifest", "invalid JSON: " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new ModelFormatException(file, "manifest", "expected a JSON object");
        }
        Json root = new Json(file, "", node);
        String format = root.get("format").text();
        if (!format.equals(PackFormat.FORMAT)) {
            throw root.get("format").error("\"" + format + "\" is not a flash pack; expected \"" + PackFormat.FORMAT + "\"");
        }
        int version = root.get("version").intValue(1, Integer.MAX_VALUE);
        if (version > PackFormat.VERSION) {
            throw root.get("version").error("version " + version + " is newer than this flashlm reads (version "
                    + PackFormat.VERSION + "); use a newer flashlm, or convert the model again with this one");
        }
        ModelConfig config = ConfigJson.read(root.get("config"));
        DType dtype = dtype(root.get("dtype"));
        DType downDtype = dtype;
        if (version >= 2) {
            downDtype = dtype(root.get("down_dtype"));
        } else if (root.has("down_dtype")) {
            throw root.get("down_dtype").error("a version 1 manifest has one dtype for every FFN part; down_dtype"
                    + " needs version 2");
        }
        PackLayout layout = layout(root.get("layout"));
        int alignment = root.get("alignment").intValue(PackFormat.MIN_ALIGNMENT, PackFormat.MAX_ALIGNMENT);
        if (Integer.bitCount(alignment) != 1) {
            throw root.get("alignment").error("value " + alignment + "; expected a power of two");
        }
        Json tok = root.get("tokenizer");
        List<PackManifest.FileEntry> tokFiles = new ArrayList<>();
        for (int i = 0; i < tok.get("files").size(); i++) {
            tokFiles.add(fileEntry(tok.get("files").at(i)));
        }
        if (tokFiles.isEmpty()) {
            throw tok.get("files").error("empty; expected the tokenizer's files");
        }
        PackManifest.TokenizerFiles tokenizer = new PackManifest.TokenizerFiles(tok.get("kind").text(), tokFiles);

        Json dramJson = root.get("dram");
        PackManifest.FileEntry dramFile = fileEntry(dramJson);
        List<PackManifest.TensorEntry> tensors = new ArrayList<>();
        Json tensorsJson = dramJson.get("tensors");
        for (int i = 0; i < tensorsJson.size(); i++) {
            tensors.add(tensor(tensorsJson.at(i), dramFile.size(), alignment));
        }
        checkNoOverlap(tensorsJson, tensors);
        PackManifest.DramPart dram = new PackManifest.DramPart(dramFile, tensors, dramJson.get("tied_output").bool());

        PackManifest.Ffn ffn = ffn(root.get("ffn"), config, dtype, downDtype, layout, alignment, version);
        return new PackManifest(version, config, dtype, alignment, root.has("source") ? root.get("source").text() : "",
                root.has("created_by") ? root.get("created_by").text() : "", tokenizer, dram, ffn);
    }

    private static PackManifest.Ffn ffn(Json j, ModelConfig c, DType dtype, DType downDtype, PackLayout layout,
                                        int alignment, int version) throws ModelFormatException {
        int dim = j.get("dim").positiveInt();
        int neurons = j.get("neurons").positiveInt();
        boolean gated = j.get("gated").bool();
        if (dim != c.dim() || neurons != c.hiddenDim() || gated != c.gatedFfn()) {
            throw j.error("dim " + dim + ", " + neurons + " neurons, gated " + gated + " disagree with the config (dim "
                    + c.dim() + ", hidden_dim " + c.hiddenDim() + ", gated_ffn " + c.gatedFfn() + ")");
        }
        // The units' own alignment (1: back to back); packs written before it existed align their
        // units like their tensors.
        int unitAlignment = alignment;
        if (j.has("alignment")) {
            unitAlignment = j.get("alignment").intValue(1, PackFormat.MAX_ALIGNMENT);
            try {
                RecordAlignment.check(unitAlignment);
            } catch (IllegalArgumentException e) {
                throw j.get("alignment").error("value " + unitAlignment + "; expected 1 (back to back) or a power of"
                        + " two from " + PackFormat.MIN_ALIGNMENT + " to " + PackFormat.MAX_ALIGNMENT);
            }
        }
        FfnGeometry g;
        try {
            g = new FfnGeometry(dim, neurons, dtype, downDtype, gated, layout, unitAlignment);
        } catch (IllegalArgumentException e) {
            throw j.error(e.getMessage());
        }
        if (version < PackFormat.versionFor(g)) { // a pack only a newer writer makes: never guess at it
            throw j.error("FFN rows of " + PackFormat.dtypeName(dtype) + " and down columns of "
                    + PackFormat.dtypeName(downDtype) + " need manifest version " + PackFormat.versionFor(g)
                    + ", but the manifest says " + version);
        }
        List<FfnPart> parts = parts(j.get("parts"));
        if (!parts.equals(g.parts())) {
            throw j.get("parts").error(names(parts) + " but a" + (gated ? " gated" : "n ungated") + " FFN has "
                    + names(g.parts()));
        }
        expect(j.get("part_bytes"), g.partBytes(FfnPart.UP));
        if (version >= 2) {
            expect(j.get("down_part_bytes"), g.partBytes(FfnPart.DOWN));
        }
        expect(j.get("unit_bytes"), g.unitBytes());
        expect(j.get("stride"), g.stride());
        Json layersJson = j.get("layers");
        if (layersJson.size() != c.layers()) {
            throw layersJson.error(layersJson.size() + " layers; the config has " + c.layers());
        }
        List<PackManifest.FfnLayer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            Json lj = layersJson.at(l);
            Json filesJson = lj.get("files");
            if (filesJson.size() != g.filesPerLayer()) {
                throw filesJson.error(filesJson.size() + " files; a " + layout.jsonName() + " layer has "
                        + g.filesPerLayer());
            }
            List<PackManifest.FfnFile> files = new ArrayList<>();
            for (int f = 0; f < g.filesPerLayer(); f++) {
                Json fj = filesJson.at(f);
                List<FfnPart> fileParts = parts(fj.get("parts"));
                if (!fileParts.equals(g.partsOfFile(f))) {
                    throw fj.get("parts").error(names(fileParts) + "; expected " + names(g.partsOfFile(f)));
                }
                expect(fj.get("size"), g.fileSize());
                files.add(new PackManifest.FfnFile(relativePath(fj.get("path")), fileParts, g.fileSize()));
            }
            PackManifest.FileEntry checksums = fileEntry(lj.get("checksums"));
            if (checksums.size() != g.checksumFileSize()) {
                throw lj.get("checksums").get("size").error("value " + checksums.size() + "; " + g.filesPerLayer()
                        + " file(s) of " + neurons + " units need " + g.checksumFileSize() + " bytes of checksums");
            }
            layers.add(new PackManifest.FfnLayer(files, checksums));
        }
        return new PackManifest.Ffn(g, layers);
    }

    private static PackManifest.TensorEntry tensor(Json j, long fileSize, int alignment) throws ModelFormatException {
        String name = j.get("name").text();
        DType dtype = dtype(j.get("dtype"));
        Json shapeJson = j.get("shape");
        long[] shape = new long[shapeJson.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeJson.at(i).longValue(1, Integer.MAX_VALUE);
            count = Math.multiplyExact(count, shape[i]);
        }
        long offset = j.get("offset").longValue(0, fileSize);
        long bytes = j.get("bytes").longValue(0, fileSize);
        long expected;
        try {
            expected = dtype.bytesFor(count);
        } catch (IllegalArgumentException e) {
            throw j.get("shape").error(e.getMessage());
        }
        if (bytes != expected) {
            throw j.get("bytes").error("value " + bytes + "; " + PackFormat.dtypeName(dtype) + " "
                    + Arrays.toString(shape) + " needs " + expected);
        }
        if (offset % alignment != 0) {
            throw j.get("offset").error("value " + offset + " is not a multiple of the alignment " + alignment);
        }
        if (offset + bytes > fileSize) {
            throw j.get("offset").error("[" + offset + ", " + (offset + bytes) + ") lies past the end of "
                    + PackFormat.DRAM_FILE + " (" + fileSize + " bytes)");
        }
        return new PackManifest.TensorEntry(name, dtype, shape, offset, bytes, j.get("crc32c").crc32c());
    }

    private static void checkNoOverlap(Json j, List<PackManifest.TensorEntry> tensors) throws ModelFormatException {
        List<PackManifest.TensorEntry> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(PackManifest.TensorEntry::offset));
        Set<String> names = new HashSet<>();
        for (int i = 0; i < sorted.size(); i++) {
            if (!names.add(sorted.get(i).name())) {
                throw j.error("tensor '" + sorted.get(i).name() + "' appears twice");
            }
            if (i > 0 && sorted.get(i).offset() < sorted.get(i - 1).offset() + sorted.get(i - 1).bytes()) {
                throw j.error("tensor '" + sorted.get(i).name() + "' overlaps '" + sorted.get(i - 1).name() + "'");
            }
        }
    }

    private static PackManifest.FileEntry fileEntry(Json j) throws ModelFormatException {
        return new PackManifest.FileEntry(relativePath(j.get("path")), j.get("size").longValue(0, Long.MAX_VALUE),
                j.get("crc32c").crc32c());
    }

    /** A file inside the pack: relative, no "..", so a manifest cannot point outside its directory. */
    private static String relativePath(Json j) throws ModelFormatException {
        String p = j.text();
        if (p.isEmpty() || p.startsWith("/") || p.contains("\\") || List.of(p.split("/")).contains("..")) {
            throw j.error("\"" + p + "\" must be a relative path inside the pack");
        }
        return p;
    }

    private static DType dtype(Json j) throws ModelFormatException {
        try {
            return PackFormat.dtype(j.text());
        } catch (IllegalArgumentException e) {
            throw j.error(e.getMessage());
        }
    }

    private static PackLayout layout(Json j) throws ModelFormatException {
        try {
            return PackLayout.parse(j.text());
        } catch (IllegalArgumentException e) {
            throw j.error(e.getMessage());
        }
    }

    private static List<FfnPart> parts(Json j) throws ModelFormatException {
        List<FfnPart> parts = new ArrayList<>();
        for (int i = 0; i < j.size(); i++) {
            try {
                parts.add(FfnPart.parse(j.at(i).text()));
            } catch (IllegalArgumentException e) {
                throw j.at(i).error(e.getMessage());
            }
        }
        return parts;
    }

    private static void expect(Json j, long expected) throws ModelFormatException {
        long v = j.longValue(0, Long.MAX_VALUE);
        if (v != expected) {
            throw j.error("value " + v + "; the geometry gives " + expected);
        }
    }

    private static String names(List<FfnPart> parts) {
        return parts.stream().map(FfnPart::jsonName).toList().toString().toLowerCase(Locale.ROOT);
    }
}
