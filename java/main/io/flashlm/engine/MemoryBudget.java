package io.flashlm.engine;

import io.flashlm.util.ByteSizes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The engine's own account of what it keeps resident, item by item, against the {@code --memory}
 * limit: the DRAM part, the KV cache, the predictor, the neuron caches and the I/O buffers. Items are
 * the sizes of the buffers actually allocated (or mapped and read), so the total is what the engine
 * holds off the Java heap; the JVM's heap and code come on top (see the README on checking from outside).
 */
public final class MemoryBudget {
    /** One line of the account. */
    public record Item(String name, long bytes) {
    }

    private final long limit;
    private final List<Item> items = new ArrayList<>();

    /** @param limit bytes; 0 for no limit (everything is still accounted) */
    public MemoryBudget(long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("memory limit must not be negative, was " + limit);
        }
        this.limit = limit;
    }

    public MemoryBudget add(String name, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException(name + ": negative size " + bytes);
        }
        items.add(new Item(name, bytes));
        return this;
    }

    public boolean limited() {
        return limit > 0;
    }

    public long limit() {
        return limit;
    }

    public long used() {
        return items.stream().mapToLong(Item::bytes).sum();
    }

    /** Bytes left under the limit (Long.MAX_VALUE without one). */
    public long left() {
        return limited() ? limit - used() : Long.MAX_VALUE;
    }

    public List<Item> items() {
        return List.copyOf(items);
    }

    /**
     * Throws when the items so far exceed the limit, saying how much {@code what} needs.
     *
     * @throws MemoryBudgetException over the limit
     */
    public void require(String what) {
        if (limited() && used() > limit) {
            throw new MemoryBudgetException(String.format(Locale.ROOT,
                    "--memory %s is too small: %s alone needs %s (%d bytes), %s more than the limit%n%s",
                    ByteSizes.format(limit), what, ByteSizes.format(used()), used(), ByteSizes.format(used() - limit),
                    table()));
        }
    }

    /** The account as an aligned table. */
    public String table() {
        StringBuilder b = new StringBuilder();
        for (Item i : items) {
            b.append(String.format(Locale.ROOT, "  %-60s %12s%n", i.name(), ByteSizes.format(i.bytes())));
        }
        b.append(String.format(Locale.ROOT, "  %-60s %12s", "total", ByteSizes.format(used())));
        if (limited()) {
            b.append(String.format(Locale.ROOT, " of %s (%.1f%%)", ByteSizes.format(limit), 100.0 * used() / limit));
        }
        return b.toString();
    }

    /** The budget cannot hold what the engine needs. */
    public static final class MemoryBudgetException extends IllegalArgumentException {
        public MemoryBudgetException(String message) {
            super(message);
        }
    }
}
