package io.flashlm.model;

import io.flashlm.tensor.Tensor;

/**
 * A layer's FFN matrices as the weights hold them: up [n, d] (OPT's fc1) with its optional bias [n],
 * gate [n, d] for gated FFNs (else null), down [d, n]. All null when an engine keeps the FFN
 * elsewhere (on flash); {@link #isPresent()} says which.
 */
public record MlpWeights(Tensor up, Tensor upBias, Tensor gate, Tensor down) {

    /** Whether the matrices are here (an engine that runs the FFN from flash leaves them out). */
    public boolean isPresent() {
        return up != null && down != null;
    }
}
