package io.flashlm.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.model.ModelConfig;
import io.flashlm.pack.PackManifest;
import io.flashlm.pack.PackTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A byte-level tokenizer for synthetic models, as Hugging Face tokenizer.json: 4 specials, the 256
 * bytes (so any text encodes, one token per byte), and filler tokens {@code <N>} up to the model's
 * vocabulary size (so any id the model emits decodes). BOS is {@code </s>} for OPT, {@code <s>} for Llama.
 */
public final class SyntheticTokenizer {
    static final String[] SPECIALS = {"<s>", "<pad>", "</s>", "<unk>"};
    /** Specials and bytes: the smallest vocabulary a synthetic model can have. */
    public static final int MIN_VOCAB = SPECIALS.length + 256;

    private static final ObjectMapper JSON = new ObjectMapper();

    private SyntheticTokenizer() {
    }

    /** Writes tokenizer.json and tokenizer_config.json into dir. */
    public static PackManifest.TokenizerFiles write(Path dir, ModelConfig c) throws IOException {
        return write(dir, c.architecture(), c.vocabSize());
    }

    /** As {@link #write(Path, ModelConfig)}, for a family and a vocabulary size. */
    public static PackManifest.TokenizerFiles write(Path dir, ModelConfig.Architecture architecture, int vocabSize)
            throws IOException {
        if (vocabSize < MIN_VOCAB) {
            throw new IllegalArgumentException("a synthetic model's vocabulary needs at least " + MIN_VOCAB
                    + " tokens (4 specials and 256 bytes), not " + vocabSize);
        }
        boolean opt = architecture == ModelConfig.Architecture.OPT;
        String bos = opt ? "</s>" : "<s>";
        int bosId = opt ? 2 : 0;
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.length; i++) {
            added.addObject().put("id", i).put("content", SPECIALS[i]).put("special", true).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        post.putArray("pair");
        ObjectNode st = post.putObject("special_tokens").putObject(bos);
        st.put("id", bos);
        st.putArray("ids").add(bosId);
        st.putArray("tokens").add(bos);
        root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                .put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < SPECIALS.length; i++) {
            vocab.put(SPECIALS[i], i);
        }
        for (int b = 0; b < 256; b++) {
            vocab.put(new String(Character.toChars(byteChar(b))), SPECIALS.length + b);
        }
        for (int id = MIN_VOCAB; id < vocabSize; id++) {
            vocab.put("<" + id + ">", id); // printable ASCII: each character stands for itself
        }
        model.putArray("merges");
        Files.writeString(dir.resolve(PackTokenizer.HF_TOKENIZER), root.toString());
        ObjectNode config = JSON.createObjectNode();
        config.put("bos_token", bos).put("eos_token", "</s>").put("tokenizer_class", "PreTrainedTokenizerFast");
        Files.writeString(dir.resolve(PackTokenizer.HF_TOKENIZER_CONFIG), config.toPrettyString());
        return new PackManifest.TokenizerFiles(PackTokenizer.HF_JSON, List.of(
                PackTokenizer.entry(dir, PackTokenizer.HF_TOKENIZER),
                PackTokenizer.entry(dir, PackTokenizer.HF_TOKENIZER_CONFIG)));
    }

    /** GPT-2's byte-to-character map: printable Latin-1 bytes stand for themselves, the rest for 256, 257, ... */
    static int byteChar(int b) {
        if (printable(b)) {
            return b;
        }
        int n = 0;
        for (int i = 0; i < b; i++) {
            if (!printable(i)) {
                n++;
            }
        }
        return 256 + n;
    }

    private static boolean printable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }
}
