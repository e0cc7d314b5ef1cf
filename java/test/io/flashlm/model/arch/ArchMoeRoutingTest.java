package io.flashlm.model.arch;

import io.flashlm.model.arch.ArchReference.Family;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Mixture-of-experts routing on constructed weights where the top-2 is known: hidden dimension 0 holds 8 for every
 * token and nothing writes to it (o_proj and every expert's down row 0 are zero), the routers read only that
 * dimension with slopes {0.2, -0.2, 0.3, -0.3}, so every layer at every position routes to expert 2 then expert 0,
 * with probabilities about 2:1 (renormalised for Mixtral and Qwen3-MoE, not for OLMoE). Experts 1 and 3 are scaled
 * by 100, so an engine that picks either would miss by far. Both formats match the reference.
 */
class ArchMoeRoutingTest {
    static final float[] SLOPES = {0.2f, -0.2f, 0.3f, -0.3f};

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mixtral", "qwen3moe", "olmoe"})
    void knownTopTwo(String family) throws IOException {
        ArchModel m = switch (family) {
            case "mixtral" -> ArchModels.mixtral(173);
            case "qwen3moe" -> ArchModels.qwen3moe(179);
            default -> ArchModels.olmoe(181);
        };
        construct(m);
        m.spec.routes = new ArrayList<>();
        ArchReference.logits(m.spec, m.tensors, ArchForwardTest.TOKENS);
        assertEquals(m.spec.layers * ArchForwardTest.TOKENS.length, m.spec.routes.size());
        for (int[] route : m.spec.routes) {
            assertArrayEquals(new int[]{2, 0}, route, "the constructed routing");
        }
        m.spec.routes = null;
        Path dir = TestFiles.newDirectory("arch-route");
        try {
            ArchForwardTest.assertBothFormatsMatchReference(m, family + " constructed routing", dir);
        } finally {
            TestFiles.deleteRecursively(dir);
        }
    }

    private static void construct(ArchModel m) {
        ArchReference.Spec s = m.spec;
        int dim = s.dim, q = s.heads * s.headDim;
        float[] emb = m.tensors.get("model.embed_tokens.weight");
        for (int r = 0; r < s.vocab; r++) {
            emb[r * dim] = 8;
        }
        boolean mixtral = s.family == Family.MIXTRAL;
        for (int l = 0; l < s.layers; l++) {
            String p = "model.layers." + l + ".", b = p + (mixtral ? "block_sparse_moe." : "mlp.");
            Arrays.fill(m.tensors.get(p + "self_attn.o_proj.weight"), 0, q, 0f);
            m.tensors.get(p + "post_attention_layernorm.weight")[0] = 1;
            float[] router = m.tensors.get(b + "gate.weight");
            Arrays.fill(router, 0f);
            for (int e = 0; e < s.experts; e++) {
                router[e * dim] = SLOPES[e];
                float[] down = m.tensors.get(b + "experts." + e + "." + (mixtral ? "w2" : "down_proj") + ".weight");
                Arrays.fill(down, 0, s.ffn, 0f);
                for (int i = 0; e % 2 == 1 && i < down.length; i++) {
                    down[i] *= 100;
                }
            }
        }
    }
}
