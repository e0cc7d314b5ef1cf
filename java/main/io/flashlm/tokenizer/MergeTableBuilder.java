package io.flashlm.tokenizer;

import java.util.Map;

/**
 * Turns merge rules, given as piece pairs in rank order, into a {@link MergeTable} by looking each piece up in
 * the vocabulary. Shared by the tokenizer.json and GGUF readers, which report a missing piece under their own
 * field names.
 */
final class MergeTableBuilder {
    private final Map<String, Integer> vocab;
    private final MergeTable table;
    private int rank;

    MergeTableBuilder(Map<String, Integer> vocab, int expected) {
        this.vocab = vocab;
        this.table = new MergeTable(expected);
    }

    /**
     * Adds {@code left + right} as the rule of the next rank. Returns the first of left, right and their
     * concatenation that the vocabulary lacks (the rule is then not added), or null.
     */
    String add(String left, String right) {
        String merged = left + right;
        String missing = !vocab.containsKey(left) ? left : !vocab.containsKey(right) ? right
                : !vocab.containsKey(merged) ? merged : null;
        if (missing == null) {
            table.put(vocab.get(left), vocab.get(right), rank, vocab.get(merged));
        }
        rank++;
        return missing;
    }

    MergeTable build() {
        return table;
    }

    /** A rule written "a b" as its two pieces; null unless it has exactly one space. */
    static String[] splitPair(String rule) {
        int space = rule.indexOf(' ');
        if (space < 0 || rule.indexOf(' ', space + 1) >= 0) {
            return null;
        }
        return new String[] {rule.substring(0, space), rule.substring(space + 1)};
    }
}
