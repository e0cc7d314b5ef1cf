package io.flashlm.model;

import io.flashlm.tensor.Tensor;

import java.util.List;

/**
 * A mixture-of-experts FFN's tensors: the router [experts, dim] and each expert's gated MLP (gate and up
 * [n, dim], down [dim, n]).
 */
public record MoeWeights(Tensor router, List<MlpWeights> experts) {

    public MoeWeights {
        if (router == null || experts == null || experts.isEmpty()) {
            throw new IllegalArgumentException("a mixture of experts needs a router and at least one expert");
        }
        experts = List.copyOf(experts);
    }
}
