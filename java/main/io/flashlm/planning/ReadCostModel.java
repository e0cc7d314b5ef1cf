package io.flashlm.planning;

/**
 * What one read costs on the device, as the {@link ReadPlanner} asks it: the probe's fixed curve
 * ({@link FlashCostModel}) or one that learns from the engine's own completed reads
 * ({@link LearnedCostModel}).
 */
public interface ReadCostModel {
    /** Nanoseconds that one read of {@code bytes} costs with {@code depth} reads in flight (amortized). */
    double readNanos(long bytes, int depth);

    /**
     * A batch of {@code reads} reads, {@code bytes} in all, submitted together and completed after
     * {@code nanos}, with {@code depth} of them in flight. A fixed model ignores it. Must not allocate:
     * it runs once per layer per token.
     */
    default void observe(int reads, long bytes, int depth, long nanos) {
    }

    /** One line for people: where the model comes from and how it compares with what was observed. */
    String describe();
}
