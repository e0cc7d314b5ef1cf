package io.flashlm.tokenizer;

import java.util.Arrays;

/**
 * Applies BPE merges to a symbol sequence: repeatedly merges the adjacent pair with the lowest rank, the
 * leftmost one among equal ranks, until no pair has a rule. A heap of (rank, position) candidates with lazy
 * invalidation over a linked list makes this O(n log n) instead of rescanning the sequence after each merge.
 */
final class BpeMerger {
    private BpeMerger() {
    }

    static int[] merge(int[] symbols, int length, MergeTable table) {
        if (length < 2) {
            return Arrays.copyOf(symbols, length);
        }
        int[] ids = Arrays.copyOf(symbols, length);
        int[] prev = new int[length];
        int[] next = new int[length];
        LongHeap heap = new LongHeap(length);
        for (int i = 0; i < length; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < length ? i + 1 : -1;
            if (i + 1 < length) {
                push(heap, table, ids, i, i + 1);
            }
        }
        int alive = length;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            int right = next[pos];
            if (ids[pos] < 0 || right < 0) {
                continue; // merged away since it was queued
            }
            long rule = table.get(ids[pos], ids[right]);
            if (rule == MergeTable.ABSENT || MergeTable.rank(rule) != rank) {
                continue; // the pair at pos changed; its current rule (if any) has its own entry
            }
            ids[pos] = MergeTable.merged(rule);
            ids[right] = -1;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
            }
            alive--;
            if (prev[pos] >= 0) {
                push(heap, table, ids, prev[pos], pos);
            }
            if (next[pos] >= 0) {
                push(heap, table, ids, pos, next[pos]);
            }
        }
        int[] out = new int[alive];
        int n = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            out[n++] = ids[i];
        }
        return out;
    }

    private static void push(LongHeap heap, MergeTable table, int[] ids, int left, int right) {
        long rule = table.get(ids[left], ids[right]);
        if (rule != MergeTable.ABSENT) {
            heap.push(((long) MergeTable.rank(rule) << 32) | left);
        }
    }

    /** A binary min-heap of longs; (rank << 32 | position) orders by rank, then leftmost. */
    private static final class LongHeap {
        private long[] heap;
        private int size;

        LongHeap(int capacity) {
            heap = new long[Math.max(8, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long value) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (heap[parent] <= value) {
                    break;
                }
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = value;
        }

        long pop() {
            long top = heap[0];
            long last = heap[--size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && heap[child + 1] < heap[child]) {
                    child++;
                }
                if (last <= heap[child]) {
                    break;
                }
                heap[i] = heap[child];
                i = child;
            }
            heap[i] = last;
            return top;
        }
    }
}
