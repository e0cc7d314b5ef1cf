package io.flashlm.api;

/** The result of a generate call: the prompt's ids, the generated ids, the generated text and statistics. */
public record Generation(int[] promptIds, int[] generatedIds, String text, GenerationStats stats) {
}
