package io.flashlm.api;

/**
 * How to generate: at most {@code maxTokens} new tokens (also bounded by the context), greedy when
 * {@code temperature} is 0, else temperature + top-p sampling seeded by {@code seed}; stops at EOS
 * unless {@code ignoreEos}.
 */
public record GenerateOptions(int maxTokens, float temperature, float topP, long seed, boolean ignoreEos) {
    public GenerateOptions {
        if (maxTokens < 0) {
            throw new IllegalArgumentException("maxTokens must be >= 0, was " + maxTokens);
        }
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, was " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], was " + topP);
        }
    }

    /** Greedy decoding of up to maxTokens tokens. */
    public static GenerateOptions greedy(int maxTokens) {
        return new GenerateOptions(maxTokens, 0f, 1f, 0, false);
    }

    public GenerateOptions withTemperature(float t) {
        return new GenerateOptions(maxTokens, t, topP, seed, ignoreEos);
    }

    public GenerateOptions withTopP(float p) {
        return new GenerateOptions(maxTokens, temperature, p, seed, ignoreEos);
    }

    public GenerateOptions withSeed(long s) {
        return new GenerateOptions(maxTokens, temperature, topP, s, ignoreEos);
    }

    public GenerateOptions withIgnoreEos(boolean ignore) {
        return new GenerateOptions(maxTokens, temperature, topP, seed, ignore);
    }
}
