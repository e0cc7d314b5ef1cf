package io.flashlm.format;

/**
 * The legacy (version 0) llama2.c checkpoint header: seven little-endian int32s. A negative vocab_size on
 * disk means the file carries a separate classifier; here {@code vocabSize} is its absolute value and
 * {@code sharedClassifier} records the sign.
 */
public record Llama2cHeader(int dim, int hiddenDim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int seqLen,
        boolean sharedClassifier) {
    /** Bytes of the header on disk. */
    public static final int BYTES = 7 * 4;

    public int headSize() {
        return dim / nHeads;
    }

    /** Width of the K and V projections: dim * n_kv_heads / n_heads. */
    public int kvDim() {
        return (int) ((long) dim * nKvHeads / nHeads);
    }
}
