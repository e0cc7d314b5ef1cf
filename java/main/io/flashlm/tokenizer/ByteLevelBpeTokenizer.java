package io.flashlm.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * Byte-level BPE as in GPT-2, OPT, Llama 3 and Qwen, from a Hugging Face tokenizer.json or a GGUF vocabulary
 * ({@code tokenizer.ggml.model = gpt2}): added (special) tokens are cut out literally first, the rest is normalized, split into words by the pre-tokenizer, each word's UTF-8 bytes
 * become one symbol per byte, and the pair with the lowest merge rank is merged until none applies.
 * Instances are thread-safe.
 */
public final class ByteLevelBpeTokenizer implements Tokenizer {
    private static final int CACHE_LIMIT = 1 << 16;

    /** A token from tokenizer.json's added_tokens; special ones decode to no text. */
    record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip, boolean singleWord) {
    }

    /**
     * Everything a tokenizer.json or a GGUF vocabulary describes, already checked and resolved to ids.
     * {@code silent} are vocabulary ids that decode to no text although they are not added tokens (GGUF's
     * unused, byte and undefined token types, which the reference engine prints as nothing).
     */
    record Spec(Map<String, Integer> vocab, MergeTable merges, List<AddedToken> addedTokens, Set<Integer> silent,
            UnaryOperator<String> normalizer, PreTokenizer preTokenizer, boolean ignoreMerges, int unk,
            int[] bosPrefix, int eos) {
    }

    private final String[] pieces;
    private final byte[][] decoded;
    private final boolean[] special;
    private final Map<String, Integer> vocab;
    private final int[] byteSymbols;     // byte -> id of its one-character piece, or -1
    private final MergeTable merges;
    private final SpecialTokenSplitter added;
    private final UnaryOperator<String> normalizer;
    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;
    private final int unk;
    private final int[] bosPrefix;
    private final int eos;
    private final Map<String, int[]> wordCache = new ConcurrentHashMap<>(); // words repeat a lot in text

    ByteLevelBpeTokenizer(Spec spec) {
        this.vocab = Map.copyOf(spec.vocab());
        this.merges = spec.merges();
        this.normalizer = spec.normalizer();
        this.preTokenizer = spec.preTokenizer();
        this.ignoreMerges = spec.ignoreMerges();
        this.unk = spec.unk();
        this.bosPrefix = spec.bosPrefix().clone();
        this.eos = spec.eos();
        int size = 0;
        for (int id : vocab.values()) {
            size = Math.max(size, id + 1);
        }
        for (AddedToken t : spec.addedTokens()) {
            size = Math.max(size, t.id() + 1);
        }
        pieces = new String[size];
        decoded = new byte[size][];
        special = new boolean[size];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            pieces[e.getValue()] = e.getKey();
            decoded[e.getValue()] = unmap(e.getKey());
        }
        for (int id : spec.silent()) {
            special[id] = true;
            decoded[id] = new byte[0];
        }
        List<SpecialTokenSplitter.Literal> literals = new ArrayList<>();
        for (AddedToken t : spec.addedTokens()) {
            pieces[t.id()] = t.content();
            special[t.id()] = t.special();
            decoded[t.id()] = t.special() ? new byte[0] : t.content().getBytes(StandardCharsets.UTF_8);
            literals.add(new SpecialTokenSplitter.Literal(t.content(), t.id(), t.lstrip(), t.rstrip(),
                    t.singleWord()));
        }
        for (int id = 0; id < size; id++) {
            if (pieces[id] == null) {
                pieces[id] = "";
                decoded[id] = new byte[0];
            }
        }
        added = new SpecialTokenSplitter(literals);
        byteSymbols = new int[256];
        for (int b = 0; b < 256; b++) {
            byteSymbols[b] = vocab.getOrDefault(String.valueOf(Gpt2ByteMap.toChar(b)), -1);
        }
    }

    /**
     * Loads a Hugging Face tokenizer.json with a byte-level BPE model. A tokenizer_config.json beside it, if
     * present, supplies the EOS token (and BOS, when the post-processor adds none but add_bos_token is set).
     */
    public static ByteLevelBpeTokenizer fromTokenizerJson(Path tokenizerJson) throws IOException {
        return new ByteLevelBpeTokenizer(TokenizerJsonReader.read(tokenizerJson));
    }

    /**
     * Builds the tokenizer a GGUF file's byte-level BPE vocabulary describes.
     *
     * @throws VocabFieldException naming the GGUF key that is wrong
     */
    public static ByteLevelBpeTokenizer fromGgufVocab(GgufBpeVocab vocab) {
        return new ByteLevelBpeTokenizer(vocab.spec());
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        IntList out = new IntList(text.length() / 3 + 2);
        if (addBos) {
            out.addAll(bosPrefix);
        }
        for (SpecialTokenSplitter.Segment segment : added.split(text)) {
            switch (segment) {
                case SpecialTokenSplitter.Special s -> out.add(s.id());
                case SpecialTokenSplitter.Text t -> {
                    for (String word : preTokenizer.split(normalizer.apply(t.text()))) {
                        out.addAll(encodeWord(word));
                    }
                }
            }
        }
        return out.toArray();
    }

    private int[] encodeWord(String word) {
        int[] cached = wordCache.get(word);
        if (cached != null) {
            return cached;
        }
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        int[] ids = null;
        if (ignoreMerges) {
            Integer whole = vocab.get(Gpt2ByteMap.encode(bytes)); // a word in the vocab is taken as is
            if (whole != null) {
                ids = new int[] {whole};
            }
        }
        if (ids == null) {
            int[] symbols = new int[bytes.length];
            int n = 0;
            for (byte b : bytes) {
                int id = byteSymbols[b & 0xFF];
                if (id >= 0) {
                    symbols[n++] = id;
                } else if (unk >= 0) {
                    symbols[n++] = unk;
                } // else dropped, as HF does without an unk token
            }
            ids = BpeMerger.merge(symbols, n, merges);
        }
        if (wordCache.size() < CACHE_LIMIT) {
            wordCache.put(word, ids);
        }
        return ids;
    }

    /** Piece characters back to bytes; a character outside the byte map stands for its own UTF-8. */
    private static byte[] unmap(String piece) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(piece.length());
        for (int i = 0; i < piece.length(); i++) {
            int b = Gpt2ByteMap.toByte(piece.charAt(i));
            if (b >= 0) {
                out.write(b);
            } else {
                int cp = piece.codePointAt(i);
                out.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(cp) - 1;
            }
        }
        return out.toByteArray();
    }

    @Override
    public byte[] decodeBytes(int token) {
        return decoded[checkId(token)].clone();
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bos() {
        return bosPrefix.length > 0 ? bosPrefix[0] : -1;
    }

    /** All ids {@code encode(text, true)} starts with (usually just {@link #bos()}). */
    public int[] bosPrefix() {
        return bosPrefix.clone();
    }

    @Override
    public int eos() {
        return eos;
    }

    @Override
    public String piece(int id) {
        return pieces[checkId(id)];
    }

    @Override
    public boolean isSpecial(int id) {
        return special[checkId(id)];
    }

    private int checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " outside the vocab of " + pieces.length);
        }
        return id;
    }
}
