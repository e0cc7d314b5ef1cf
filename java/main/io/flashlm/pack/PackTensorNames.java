package io.flashlm.pack;

/**
 * Names of the tensors in dram.bin's table, the same for every source format. Matrices are [out, in]
 * (Hugging Face orientation); Q/K rows are in the order the config's RoPE style expects.
 */
public final class PackTensorNames {
    public static final String TOKEN_EMBEDDING = "token_embedding";
    /** OPT's learned positions, [context + offset, dim]. */
    public static final String POSITION_EMBEDDING = "position_embedding";
    public static final String PROJECT_IN = "project_in";
    public static final String PROJECT_OUT = "project_out";
    public static final String FINAL_NORM_WEIGHT = "final_norm.weight";
    public static final String FINAL_NORM_BIAS = "final_norm.bias";
    /** The output head; absent when the manifest says tied_output. */
    public static final String OUTPUT = "output";

    public static final String ATTENTION_NORM_WEIGHT = "attention_norm.weight";
    public static final String ATTENTION_NORM_BIAS = "attention_norm.bias";
    public static final String WQ = "wq";
    public static final String BQ = "bq";
    public static final String WK = "wk";
    public static final String BK = "bk";
    public static final String WV = "wv";
    public static final String BV = "bv";
    public static final String WO = "wo";
    public static final String BO = "bo";
    /** RMSNorm weights of the queries and keys before RoPE: [headDim] per head, or [qDim] / [kvDim] whole. */
    public static final String Q_NORM_WEIGHT = "q_norm.weight";
    public static final String K_NORM_WEIGHT = "k_norm.weight";
    /** RMSNorm weight of the attention output before the residual add (Gemma 2/3). */
    public static final String POST_ATTENTION_NORM_WEIGHT = "post_attention_norm.weight";
    /** Absent in a parallel block that shares the attention's norm (Falcon 7B). */
    public static final String FFN_NORM_WEIGHT = "ffn_norm.weight";
    public static final String FFN_NORM_BIAS = "ffn_norm.bias";
    /** The bias of the up projection (OPT's fc1), [n_ffn]: the window cache keeps the resident neurons' ones. */
    public static final String FFN_UP_BIAS = "ffn_up.bias";
    /** The bias of the down projection (OPT's fc2), [dim]. */
    public static final String FFN_DOWN_BIAS = "ffn_down.bias";
    /** RMSNorm weight of the FFN output before the residual add (Gemma 2/3). */
    public static final String POST_FFN_NORM_WEIGHT = "post_ffn_norm.weight";

    private PackTensorNames() {
    }

    /** Norm weights and biases: vectors, stored in f32 whatever the pack's dtype. */
    public static boolean isVector(String name) {
        return name.endsWith(".weight") || name.endsWith(".bias") || name.matches(".*\\.b[qkvo]");
    }

    /** A layer tensor's name: layers.{layer}.{suffix}. */
    public static String layer(int layer, String suffix) {
        return "layers." + layer + "." + suffix;
    }
}
