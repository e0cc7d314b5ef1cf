package io.flashlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The heap-based merger against the obvious quadratic loop (rescan all pairs, merge the best, repeat). */
class BpeMergerTest {

    @Test
    void matchesTheQuadraticReferenceOnRandomInputs() {
        Random random = new Random(42);
        for (int trial = 0; trial < 200; trial++) {
            int alphabet = 2 + random.nextInt(4);
            MergeTable table = new MergeTable(4);
            int[][] rules = new int[40][];
            int next = alphabet;
            for (int r = 0; r < rules.length; r++) {
                int left = random.nextInt(next);
                int right = random.nextInt(next);
                int rank = random.nextInt(6); // few ranks: plenty of ties
                rules[r] = new int[] {left, right, rank, next};
                table.put(left, right, rank, next);
                next++;
            }
            for (int n = 0; n < 30; n++) {
                int[] symbols = random.ints(random.nextInt(40), 0, alphabet).toArray();
                assertArrayEquals(reference(symbols, table), BpeMerger.merge(symbols, symbols.length, table),
                        Arrays.toString(symbols));
            }
        }
    }

    /** Merges the lowest-rank pair, leftmost on ties, rescanning everything after each merge. */
    static int[] reference(int[] symbols, MergeTable table) {
        List<Integer> seq = new ArrayList<>(Arrays.stream(symbols).boxed().toList());
        while (true) {
            int bestPos = -1;
            long best = 0;
            for (int i = 0; i + 1 < seq.size(); i++) {
                long rule = table.get(seq.get(i), seq.get(i + 1));
                if (rule != MergeTable.ABSENT && (bestPos < 0 || MergeTable.rank(rule) < MergeTable.rank(best))) {
                    bestPos = i;
                    best = rule;
                }
            }
            if (bestPos < 0) {
                return seq.stream().mapToInt(Integer::intValue).toArray();
            }
            seq.set(bestPos, MergeTable.merged(best));
            seq.remove(bestPos + 1);
        }
    }
}
