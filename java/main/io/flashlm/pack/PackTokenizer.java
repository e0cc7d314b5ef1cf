package io.flashlm.pack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.format.GgufFile;
import io.flashlm.format.GgufMetadata;
import io.flashlm.format.ModelFormatException;
import io.flashlm.model.GgufTokenizers;
import io.flashlm.tokenizer.ByteLevelBpeTokenizer;
import io.flashlm.tokenizer.SentencePieceBpeTokenizer;
import io.flashlm.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The tokenizer inside a pack: the source's own file copied when it has one (a Hugging Face
 * tokenizer.json with its tokenizer_config.json; a llama2.c tokenizer.bin), or for GGUF, whose
 * vocabulary lives in the model file's metadata, a small JSON file of the same arrays (SentencePiece) or keys
 * (byte-level BPE, {@link BpeVocabFile}).
 */
public final class PackTokenizer {
    /** tokenizer.json (+ tokenizer_config.json): byte-level BPE. */
    public static final String HF_JSON = "hf-tokenizer-json";
    /** tokenizer.bin: a llama2.c SentencePiece vocabulary. */
    public static final String LLAMA2C = "llama2c";
    /** tokenizer-vocab.json: GGUF's tokenizer.ggml.* arrays (SentencePiece BPE). */
    public static final String SP_VOCAB = "sentencepiece-vocab";
    /** tokenizer-vocab.json: GGUF's tokenizer.ggml.* keys of a gpt2 vocabulary (byte-level BPE). */
    public static final String BPE_VOCAB = "byte-level-bpe-vocab";

    public static final String HF_TOKENIZER = "tokenizer.json";
    public static final String HF_TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String LLAMA2C_FILE = "tokenizer.bin";
    static final String VOCAB_FILE = "tokenizer-vocab.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private PackTokenizer() {
    }

    /** Puts the tokenizer of the model at {@code from} into {@code packDir}. */
    static PackManifest.TokenizerFiles copyFromSource(Path from, Path tokenizerOption, int vocabSize, Path packDir)
            throws IOException {
        if (Files.isDirectory(from)) {
            List<PackManifest.FileEntry> files = new ArrayList<>();
            files.add(copy(from.resolve(HF_TOKENIZER), packDir, HF_TOKENIZER));
            if (Files.isRegularFile(from.resolve(HF_TOKENIZER_CONFIG))) {
                files.add(copy(from.resolve(HF_TOKENIZER_CONFIG), packDir, HF_TOKENIZER_CONFIG));
            }
            return new PackManifest.TokenizerFiles(HF_JSON, files);
        }
        if (isGguf(from)) {
            String kind;
            try (Arena arena = Arena.ofConfined()) {
                GgufMetadata m = GgufFile.open(from, arena).metadata();
                if (m.getString("tokenizer.ggml.model").equals("gpt2")) {
                    BpeVocabFile.write(GgufTokenizers.bpeVocab(from, m), packDir.resolve(VOCAB_FILE));
                    kind = BPE_VOCAB;
                } else {
                    writeVocab(from, m, packDir.resolve(VOCAB_FILE));
                    kind = SP_VOCAB;
                }
            }
            return new PackManifest.TokenizerFiles(kind, List.of(entry(packDir, VOCAB_FILE)));
        }
        Path bin = tokenizerOption != null ? tokenizerOption : llama2cTokenizerBeside(from, vocabSize);
        return new PackManifest.TokenizerFiles(LLAMA2C, List.of(copy(bin, packDir, LLAMA2C_FILE)));
    }

    /** The tokenizer of a pack whose files have been checked. */
    public static Tokenizer load(Path packDir, PackManifest.TokenizerFiles t, int vocabSize) throws IOException {
        Path main = packDir.resolve(t.files().getFirst().path());
        return switch (t.kind()) {
            case HF_JSON -> ByteLevelBpeTokenizer.fromTokenizerJson(main);
            case LLAMA2C -> SentencePieceBpeTokenizer.fromLlama2cFile(main, vocabSize);
            case SP_VOCAB -> readVocab(main);
            case BPE_VOCAB -> BpeVocabFile.read(main);
            default -> throw new ModelFormatException(packDir.resolve(PackFormat.MANIFEST), "tokenizer.kind",
                    "\"" + t.kind() + "\" is not one of " + HF_JSON + ", " + LLAMA2C + ", " + SP_VOCAB + ", "
                            + BPE_VOCAB);
        };
    }

    /** tokenizer.bin, else tok{vocab}.bin, beside a llama2.c checkpoint (as the loader looks). */
    private static Path llama2cTokenizerBeside(Path checkpoint, int vocab) throws IOException {
        Path dir = checkpoint.toAbsolutePath().getParent();
        for (String name : new String[]{LLAMA2C_FILE, "tok" + vocab + ".bin"}) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        throw new NoSuchFileException(checkpoint.toString(), null, "found neither tokenizer.bin nor tok" + vocab
                + ".bin beside the llama2.c checkpoint; pass --tokenizer FILE");
    }

    private static boolean isGguf(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 'G' && m[1] == 'G' && m[2] == 'U' && m[3] == 'F';
        }
    }

    private static void writeVocab(Path gguf, GgufMetadata m, Path out) throws IOException {
        String model = m.getString("tokenizer.ggml.model");
        if (!model.equals("llama")) {
            throw new ModelFormatException(gguf, "metadata.tokenizer.ggml.model", "'" + model
                    + "' is not supported; expected 'llama' (SentencePiece BPE) or 'gpt2' (byte-level BPE)");
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("model", model);
        ArrayNode tokens = root.putArray("tokens");
        for (String s : m.getStringArray("tokenizer.ggml.tokens")) {
            tokens.add(s);
        }
        if (m.contains("tokenizer.ggml.scores")) {
            ArrayNode scores = root.putArray("scores");
            for (float f : m.getFloatArray("tokenizer.ggml.scores")) {
                scores.add(f);
            }
        }
        if (m.contains("tokenizer.ggml.token_type")) {
            ArrayNode types = root.putArray("token_types");
            for (int t : m.getIntArray("tokenizer.ggml.token_type")) {
                types.add(t);
            }
        }
        root.put("bos", m.getInt("tokenizer.ggml.bos_token_id", 1));
        root.put("eos", m.getInt("tokenizer.ggml.eos_token_id", 2));
        root.put("unk", m.getInt("tokenizer.ggml.unknown_token_id", 0));
        root.put("add_space_prefix", m.getBoolean("tokenizer.ggml.add_space_prefix", true));
        Files.writeString(out, root.toString());
    }

    private static Tokenizer readVocab(Path file) throws IOException {
        JsonNode root = JSON.readTree(file.toFile());
        JsonNode tokens = root.path("tokens");
        if (!tokens.isArray() || tokens.isEmpty()) {
            throw new ModelFormatException(file, "tokens", "missing; expected the vocabulary's pieces");
        }
        List<String> pieces = new ArrayList<>();
        tokens.forEach(t -> pieces.add(t.asText()));
        float[] scores = new float[pieces.size()];
        if (root.has("scores")) {
            for (int i = 0; i < scores.length; i++) {
                scores[i] = (float) root.path("scores").path(i).asDouble();
            }
        }
        int[] types = null;
        if (root.has("token_types")) {
            types = new int[pieces.size()];
            for (int i = 0; i < types.length; i++) {
                types[i] = root.path("token_types").path(i).asInt();
            }
        }
        try {
            return SentencePieceBpeTokenizer.fromVocab(pieces, scores, types, root.path("bos").asInt(1),
                    root.path("eos").asInt(2), root.path("unk").asInt(0), root.path("add_space_prefix").asBoolean(true));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, "vocabulary", e.getMessage(), e);
        }
    }

    private static PackManifest.FileEntry copy(Path src, Path packDir, String name) throws IOException {
        if (!Files.isRegularFile(src)) {
            throw new NoSuchFileException(src.toString(), null, "the tokenizer file to copy into the pack is missing");
        }
        Files.copy(src, packDir.resolve(name));
        return entry(packDir, name);
    }

    public static PackManifest.FileEntry entry(Path packDir, String name) throws IOException {
        Path p = packDir.resolve(name);
        return new PackManifest.FileEntry(name, Files.size(p), Crc32c.ofFile(p));
    }
}
