package io.flashlm.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge rules: (left id, right id) to (rank, merged id), in an open-addressing table of longs so the
 * merge loop does not box. Lower rank merges first.
 */
final class MergeTable {
    static final long ABSENT = -1L;
    private static final long EMPTY = -1L; // no key is -1: ids are non-negative

    private long[] keys;
    private long[] values;
    private int size;

    MergeTable(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, EMPTY);
    }

    /** Adds or replaces the rule for this pair. */
    void put(int left, int right, int rank, int merged) {
        if (left < 0 || right < 0 || rank < 0 || merged < 0) {
            throw new IllegalArgumentException("negative id or rank in merge rule");
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        insert(key(left, right), ((long) rank << 32) | merged);
    }

    /** The packed (rank, merged id) for the pair, or {@link #ABSENT}. */
    long get(int left, int right) {
        long key = key(left, right);
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == EMPTY) {
                return ABSENT;
            }
        }
    }

    int size() {
        return size;
    }

    static int rank(long packed) {
        return (int) (packed >>> 32);
    }

    static int merged(long packed) {
        return (int) packed;
    }

    private void insert(long key, long value) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            if (keys[i] == EMPTY) {
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
            if (keys[i] == key) {
                values[i] = value;
                return;
            }
        }
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                insert(oldKeys[i], oldValues[i]);
            }
        }
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }
}
