package io.flashlm.format;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Hugging Face checkpoint directory: {@code config.json} plus either one {@code model.safetensors} or
 * the shards listed by {@code model.safetensors.index.json} (whose {@code weight_map} maps each tensor name
 * to a shard file in the same directory). The index is preferred when both exist, as in transformers.
 *
 * <p>Tensors are views of the mapped shards; the config is read as a Jackson tree and not interpreted here.
 */
public final class HfCheckpoint implements TensorStore {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String CONFIG_FILE = "config.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path dir;
    private final Path index;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> shardOf;
    private final Map<String, Tensor> tensors;
    private final JsonNode config;

    private HfCheckpoint(Path dir, Path index, List<SafetensorsFile> shards, Map<String, SafetensorsFile> shardOf,
            Map<String, Tensor> tensors, JsonNode config) {
        this.dir = dir;
        this.index = index;
        this.shards = shards;
        this.shardOf = shardOf;
        this.tensors = tensors;
        this.config = config;
    }

    /**
     * Opens the checkpoint in {@code dir}, mapping every shard into {@code arena}.
     *
     * @throws ModelFormatException if there is no model file, the index is malformed, a shard is missing or
     *     lacks a tensor the index assigns to it, or a file is invalid
     */
    public static HfCheckpoint open(Path dir, Arena arena) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir, "directory", "not a directory");
        }
        JsonNode config = null;
        Path configPath = dir.resolve(CONFIG_FILE);
        if (Files.exists(configPath)) {
            config = readJson(configPath, "config");
            if (!config.isObject()) {
                throw new ModelFormatException(configPath, "config", "expected a JSON object");
            }
        }
        Path indexPath = dir.resolve(INDEX_FILE);
        if (Files.exists(indexPath)) {
            return openSharded(dir, indexPath, arena, config);
        }
        Path single = dir.resolve(SINGLE_FILE);
        if (!Files.exists(single)) {
            throw new ModelFormatException(dir, "model files", "neither " + SINGLE_FILE + " nor " + INDEX_FILE
                    + " exists in the directory");
        }
        SafetensorsFile file = SafetensorsFile.open(single, arena);
        Map<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
        for (SafetensorsFile.Entry e : file.entries()) {
            shardOf.put(e.name(), file);
        }
        return new HfCheckpoint(dir, null, List.of(file), Collections.unmodifiableMap(shardOf), file.tensors(), config);
    }

    private static HfCheckpoint openSharded(Path dir, Path indexPath, Arena arena, JsonNode config) throws IOException {
        JsonNode root = readJson(indexPath, "index");
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new ModelFormatException(indexPath, "weight_map", "missing or not an object of tensor name -> shard file");
        }
        // Shards in order of first mention; each opened once.
        Map<String, SafetensorsFile> byFile = new LinkedHashMap<>();
        Map<String, String> fileOf = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String field = "weight_map['" + e.getKey() + "']";
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(indexPath, field, "expected a shard file name string");
            }
            String shardName = e.getValue().textValue();
            Path shardPath = shardPath(dir, indexPath, field, shardName);
            if (!byFile.containsKey(shardName)) {
                if (!Files.exists(shardPath)) {
                    throw new ModelFormatException(indexPath, field, "shard " + shardName + " listed in the index "
                            + indexPath.getFileName() + " does not exist (" + shardPath + ")");
                }
                byFile.put(shardName, SafetensorsFile.open(shardPath, arena));
            }
            fileOf.put(e.getKey(), shardName);
        }
        Map<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : fileOf.entrySet()) {
            SafetensorsFile shard = byFile.get(e.getValue());
            if (shard.entry(e.getKey()).isEmpty()) {
                throw new ModelFormatException(indexPath, "weight_map['" + e.getKey() + "']", "the index puts tensor '"
                        + e.getKey() + "' in shard " + e.getValue() + ", which does not contain it");
            }
            shardOf.put(e.getKey(), shard);
        }
        // File order: shard by shard, header order within a shard, only tensors the index assigns to it.
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (SafetensorsFile shard : byFile.values()) {
            for (Map.Entry<String, Tensor> t : shard.tensors().entrySet()) {
                if (shardOf.get(t.getKey()) == shard) {
                    tensors.put(t.getKey(), t.getValue());
                }
            }
        }
        return new HfCheckpoint(dir, indexPath, List.copyOf(byFile.values()), Collections.unmodifiableMap(shardOf),
                Collections.unmodifiableMap(tensors), config);
    }

    // Shards live beside the index; refuse names that would reach elsewhere.
    private static Path shardPath(Path dir, Path indexPath, String field, String name) throws ModelFormatException {
        Path p;
        try {
            p = Path.of(name);
        } catch (RuntimeException e) {
            throw new ModelFormatException(indexPath, field, "invalid shard file name \"" + name + "\"");
        }
        if (name.isEmpty() || p.isAbsolute() || p.getNameCount() != 1 || name.equals("..") || name.equals(".")) {
            throw new ModelFormatException(indexPath, field, "shard file name \"" + name
                    + "\" must be a plain file name in the checkpoint directory");
        }
        return dir.resolve(p);
    }

    private static JsonNode readJson(Path file, String field) throws ModelFormatException {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || n.isMissingNode()) {
                throw new ModelFormatException(file, field, "empty file, expected a JSON object");
            }
            return n;
        } catch (ModelFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new ModelFormatException(file, field, "invalid JSON: " + e.getMessage(), e);
        }
    }

    /** The checkpoint directory. */
    @Override
    public Path path() {
        return dir;
    }

    /** The index file, when the checkpoint is sharded. */
    public Optional<Path> index() {
        return Optional.ofNullable(index);
    }

    /** The safetensors files, in order of first mention. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    public boolean hasConfig() {
        return config != null;
    }

    /** {@code config.json} as a JSON tree; a format error when the directory has none. */
    public JsonNode config() throws ModelFormatException {
        if (config == null) {
            throw new ModelFormatException(dir.resolve(CONFIG_FILE), "config", "missing config.json");
        }
        return config;
    }

    /** The readable (F32/F16/BF16) tensors of all shards, in file order. */
    @Override
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    @Override
    public Tensor tensor(String name) throws ModelFormatException {
        Tensor t = tensors.get(name);
        if (t != null) {
            return t;
        }
        SafetensorsFile shard = shardOf.get(name);
        if (shard != null) {
            return shard.tensor(name); // throws the unsupported-dtype error of that shard
        }
        throw TensorStore.missing(dir, name, tensors);
    }

    @Override
    public String toString() {
        return "HfCheckpoint[" + dir + ", " + shards.size() + " shard(s), " + tensors.size() + " tensors]";
    }
}
