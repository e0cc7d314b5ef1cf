package io.flashlm.api;

/**
 * What one generate call did: tokens of the prompt (with BOS) and generated, the time spent on each
 * phase, and why it stopped.
 */
public record GenerationStats(int promptTokens, int generatedTokens, long promptNanos, long generateNanos,
                              StopReason stopReason) {

    public enum StopReason { EOS, MAX_TOKENS, CONTEXT_FULL }

    public double promptTokensPerSecond() {
        return promptNanos == 0 ? 0 : promptTokens / (promptNanos / 1e9);
    }

    public double generatedTokensPerSecond() {
        return generateNanos == 0 ? 0 : generatedTokens / (generateNanos / 1e9);
    }
}
