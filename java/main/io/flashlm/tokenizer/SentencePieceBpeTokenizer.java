package io.flashlm.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * SentencePiece-style BPE with scores and byte fallback, as llama2.c's run.c encodes: a dummy space before
 * non-empty text, each UTF-8 character looked up as a piece (else one {@code <0xNN>} token per byte), then
 * repeatedly the adjacent pair whose concatenation is a piece with the highest score is merged (leftmost on
 * ties).
 *
 * <p>llama2.c's tokenizer.bin writes spaces as ' ', GGUF llama vocabularies as '▁' (U+2581); the form is
 * detected from the pieces and text is converted to it before lookup. Byte, control, unknown and unused
 * tokens never take part in merges, so typing "&lt;0x41&gt;" or "&lt;s&gt;" gives ordinary text tokens.
 * Instances are immutable and thread-safe.
 */
public final class SentencePieceBpeTokenizer implements Tokenizer {
    /** Token types as in SentencePiece and GGUF's tokenizer.ggml.token_type. */
    public static final int TYPE_NORMAL = 1;
    public static final int TYPE_UNKNOWN = 2;
    public static final int TYPE_CONTROL = 3;
    public static final int TYPE_USER_DEFINED = 4;
    public static final int TYPE_UNUSED = 5;
    public static final int TYPE_BYTE = 6;

    private static final char METASPACE = '\u2581';

    private final String[] pieces;
    private final byte[] types;
    private final byte[][] decoded;          // bytes each token prints; empty for specials
    private final Map<String, Integer> normalIds; // normal pieces, as the vocabulary writes them
    private final int[] byteTokens;          // byte value -> id of its <0xNN> token, or -1
    private final MergeTable merges;
    private final SpecialTokenSplitter userDefined;
    private final boolean metaspace;
    private final boolean addDummyPrefix;
    private final int bos;
    private final int eos;
    private final int unk;

    private SentencePieceBpeTokenizer(String[] pieces, byte[][] rawPieces, float[] scores, byte[] types, int bos,
            int eos, int unk, boolean addDummyPrefix) {
        int n = pieces.length;
        this.pieces = pieces;
        this.types = types;
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.addDummyPrefix = addDummyPrefix;
        this.byteTokens = new int[256];
        Arrays.fill(byteTokens, -1);
        this.normalIds = HashMap.newHashMap(n);
        boolean sawMetaspace = false;
        List<SpecialTokenSplitter.Literal> literals = new ArrayList<>();
        for (int id = 0; id < n; id++) {
            switch (types[id]) {
                case TYPE_NORMAL -> {
                    normalIds.putIfAbsent(pieces[id], id);
                    sawMetaspace |= pieces[id].indexOf(METASPACE) >= 0;
                }
                case TYPE_BYTE -> {
                    int b = byteValue(pieces[id]);
                    if (b < 0) {
                        throw new IllegalArgumentException("token " + id + " has type byte but its piece '"
                                + pieces[id] + "' is not <0xNN>");
                    }
                    if (byteTokens[b] < 0) {
                        byteTokens[b] = id;
                    }
                }
                case TYPE_USER_DEFINED -> {
                    if (!pieces[id].isEmpty()) {
                        literals.add(new SpecialTokenSplitter.Literal(pieces[id], id, false, false, false));
                    }
                }
                default -> {
                }
            }
        }
        this.metaspace = sawMetaspace;
        this.userDefined = new SpecialTokenSplitter(literals);
        this.decoded = new byte[n][];
        for (int id = 0; id < n; id++) {
            decoded[id] = switch (types[id]) {
                case TYPE_NORMAL, TYPE_USER_DEFINED -> rawPieces != null && !metaspace ? rawPieces[id]
                        : pieces[id].replace(METASPACE, ' ').getBytes(StandardCharsets.UTF_8);
                case TYPE_BYTE -> new byte[] {(byte) byteValue(pieces[id])};
                default -> new byte[0];
            };
        }
        this.merges = buildMerges(scores);
    }

    /**
     * Reads a llama2.c tokenizer.bin: int32 max_token_length, then per token float32 score, int32 length and
     * the bytes (little-endian). Id 0 is {@code <unk>}, 1 BOS, 2 EOS, the {@code <0xNN>} pieces are byte tokens.
     * The file does not store its token count, so the model's vocab size is needed.
     */
    public static SentencePieceBpeTokenizer fromLlama2cFile(Path tokenizerBin, int vocabSize) throws IOException {
        if (vocabSize < 3) {
            throw new IllegalArgumentException("vocab size must be at least 3 (unk, BOS, EOS), got " + vocabSize);
        }
        if (!Files.isRegularFile(tokenizerBin)) {
            throw new NoSuchFileException(tokenizerBin.toString(), null, "llama2.c tokenizer file not found");
        }
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(tokenizerBin)).order(ByteOrder.LITTLE_ENDIAN);
        long size = buf.capacity();
        if (buf.remaining() < 4) {
            throw new TokenizerFormatException(tokenizerBin, "truncated llama2.c tokenizer: " + size
                    + " bytes, too short for the max_token_length header");
        }
        int maxTokenLength = buf.getInt();
        if (maxTokenLength <= 0 || maxTokenLength > 1 << 16) {
            throw new TokenizerFormatException(tokenizerBin, "not a llama2.c tokenizer: max_token_length "
                    + maxTokenLength + " is implausible");
        }
        String[] pieces = new String[vocabSize];
        byte[][] raw = new byte[vocabSize][];
        float[] scores = new float[vocabSize];
        byte[] types = new byte[vocabSize];
        for (int id = 0; id < vocabSize; id++) {
            if (buf.remaining() < 8) {
                throw truncated(tokenizerBin, id, vocabSize, buf.position(), size);
            }
            scores[id] = buf.getFloat();
            int length = buf.getInt();
            if (length < 0) {
                throw new TokenizerFormatException(tokenizerBin, "token " + id + " at offset "
                        + (buf.position() - 4) + " has negative length " + length + "; not a llama2.c tokenizer?");
            }
            if (buf.remaining() < length) {
                throw truncated(tokenizerBin, id, vocabSize, buf.position(), size);
            }
            raw[id] = new byte[length];
            buf.get(raw[id]);
            pieces[id] = new String(raw[id], StandardCharsets.UTF_8);
            types[id] = (byte) (id == 0 ? TYPE_UNKNOWN : id <= 2 ? TYPE_CONTROL
                    : byteValue(pieces[id]) >= 0 ? TYPE_BYTE : TYPE_NORMAL);
        }
        if (buf.hasRemaining()) {
            // the file does not match the model: llama2.c would silently use a prefix of it
            throw new TokenizerFormatException(tokenizerBin, "holds more than " + vocabSize + " tokens ("
                    + buf.remaining() + " bytes left after token " + (vocabSize - 1) + "); wrong vocab size?");
        }
        return new SentencePieceBpeTokenizer(pieces, raw, scores, types, 1, 2, 0, true);
    }

    /**
     * From GGUF-style arrays (tokenizer.ggml.tokens, .scores, .token_type; types may be null, then inferred:
     * {@code <0xNN>} pieces are bytes, bos/eos control, unk unknown). Ids of -1 mean "none".
     */
    public static SentencePieceBpeTokenizer fromVocab(List<String> pieces, float[] scores, int[] tokenTypes, int bos,
            int eos, int unk) {
        return fromVocab(pieces, scores, tokenTypes, bos, eos, unk, true);
    }

    /** As {@link #fromVocab(List, float[], int[], int, int, int)}; {@code addDummyPrefix} false for vocabularies
     * trained without SentencePiece's leading space (GGUF tokenizer.ggml.add_space_prefix = false). */
    public static SentencePieceBpeTokenizer fromVocab(List<String> pieces, float[] scores, int[] tokenTypes, int bos,
            int eos, int unk, boolean addDummyPrefix) {
        int n = pieces.size();
        Objects.requireNonNull(scores, "scores");
        if (scores.length != n || (tokenTypes != null && tokenTypes.length != n)) {
            throw new IllegalArgumentException("vocab arrays differ in length: " + n + " pieces, " + scores.length
                    + " scores, " + (tokenTypes == null ? "no" : tokenTypes.length) + " types");
        }
        for (int special : new int[] {bos, eos, unk}) {
            if (special < -1 || special >= n) {
                throw new IllegalArgumentException("special token id " + special + " outside the vocab of " + n);
            }
        }
        String[] array = pieces.toArray(new String[0]);
        byte[] types = new byte[n];
        for (int id = 0; id < n; id++) {
            Objects.requireNonNull(array[id], "piece " + id);
            if (tokenTypes != null) {
                int t = tokenTypes[id];
                if (t < TYPE_NORMAL || t > TYPE_BYTE) {
                    throw new IllegalArgumentException("token " + id + " has unknown token type " + t);
                }
                types[id] = (byte) t;
            } else {
                types[id] = (byte) (id == unk ? TYPE_UNKNOWN : id == bos || id == eos ? TYPE_CONTROL
                        : byteValue(array[id]) >= 0 ? TYPE_BYTE : TYPE_NORMAL);
            }
        }
        return new SentencePieceBpeTokenizer(array, null, scores.clone(), types, bos, eos, unk, addDummyPrefix);
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        IntList out = new IntList(text.length() / 3 + 2);
        if (addBos && bos >= 0) {
            out.add(bos);
        }
        IntList symbols = new IntList(text.length() + 1);
        for (SpecialTokenSplitter.Segment segment : userDefined.split(text)) {
            switch (segment) {
                case SpecialTokenSplitter.Special s -> out.add(s.id());
                case SpecialTokenSplitter.Text t -> {
                    String s = addDummyPrefix && t.start() == 0 ? " " + t.text() : t.text();
                    symbols.clear();
                    initialSymbols(metaspace ? s.replace(' ', METASPACE) : s, symbols);
                    out.addAll(BpeMerger.merge(symbols.toArray(), symbols.size(), merges));
                }
            }
        }
        return out.toArray();
    }

    /** One symbol per character that is a piece; byte tokens (or unk) for the UTF-8 bytes of the others. */
    private void initialSymbols(String s, IntList out) {
        for (int i = 0; i < s.length(); ) {
            int end = i + Character.charCount(s.codePointAt(i));
            String ch = s.substring(i, end);
            Integer id = normalIds.get(ch);
            if (id != null) {
                out.add(id);
            } else {
                for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
                    int byteToken = byteTokens[b & 0xFF];
                    if (byteToken >= 0) {
                        out.add(byteToken);
                    } else if (unk >= 0) {
                        out.add(unk);
                        break; // one unk per character
                    }
                }
            }
            i = end;
        }
    }

    /**
     * Every way a normal piece splits into two normal pieces becomes a rule. Rank = position of the piece's
     * score in descending order, shared by equal scores so that ties fall to the leftmost pair as in run.c.
     */
    private MergeTable buildMerges(float[] scores) {
        float[] ascending = new float[normalIds.size()];
        int count = 0;
        for (int id : normalIds.values()) {
            if (!Float.isNaN(scores[id])) {
                ascending[count++] = normalize(scores[id]);
            }
        }
        Arrays.sort(ascending, 0, count);
        int distinct = 0;
        for (int i = 0; i < count; i++) {
            if (distinct == 0 || ascending[i] != ascending[distinct - 1]) {
                ascending[distinct++] = ascending[i];
            }
        }
        ascending = Arrays.copyOf(ascending, distinct);
        MergeTable table = new MergeTable(normalIds.size());
        for (Map.Entry<String, Integer> entry : normalIds.entrySet()) {
            String piece = entry.getKey();
            float score = normalize(scores[entry.getValue()]);
            if (piece.length() < 2 || Float.isNaN(score)) {
                continue;
            }
            int rank = distinct - 1 - Arrays.binarySearch(ascending, score);
            for (int k = 1; k < piece.length(); k++) {
                if (Character.isLowSurrogate(piece.charAt(k))) {
                    continue; // never split a surrogate pair
                }
                Integer left = normalIds.get(piece.substring(0, k));
                if (left == null) {
                    continue;
                }
                Integer right = normalIds.get(piece.substring(k));
                if (right != null) {
                    table.put(left, right, rank, entry.getValue());
                }
            }
        }
        return table;
    }

    private static float normalize(float score) {
        return score == 0f ? 0f : score; // -0.0 ties with 0.0, as C's '>' sees it
    }

    @Override
    public byte[] decodeBytes(int token) {
        return decoded[checkId(token)].clone();
    }

    /** After BOS the dummy-prefix space of a normal piece is dropped, as run.c prints. */
    @Override
    public byte[] decodeBytes(int previous, int token) {
        byte[] bytes = decoded[checkId(token)];
        if (previous == bos && bos >= 0 && types[token] == TYPE_NORMAL && bytes.length > 0 && bytes[0] == ' ') {
            return Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return bytes.clone();
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    public int unk() {
        return unk;
    }

    @Override
    public String piece(int id) {
        return pieces[checkId(id)];
    }

    /** The SentencePiece token type ({@link #TYPE_NORMAL} ...). */
    public int tokenType(int id) {
        return types[checkId(id)];
    }

    @Override
    public boolean isSpecial(int id) {
        int t = types[checkId(id)];
        return t == TYPE_CONTROL || t == TYPE_UNKNOWN || t == TYPE_UNUSED;
    }

    /** Whether pieces write spaces as '▁' (GGUF/SentencePiece) rather than ' ' (llama2.c). */
    public boolean usesMetaspace() {
        return metaspace;
    }

    private int checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " outside the vocab of " + pieces.length);
        }
        return id;
    }

    /** The byte of a {@code <0xNN>} piece, or -1. */
    static int byteValue(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    private static TokenizerFormatException truncated(Path file, int id, int vocabSize, int offset, long size) {
        return new TokenizerFormatException(file, "truncated llama2.c tokenizer: token " + id + " of " + vocabSize
                + " is cut off at offset " + offset + " (file size " + size + " bytes); wrong vocab size?");
    }
}
