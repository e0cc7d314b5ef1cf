package io.flashlm.cache;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The window cache's invariants under long randomized sequences of active sets. */
class WindowCacheTest {
    private static final int RECORD = 44;
    private static final int ROW = 48;

    private static byte pattern(int neuron, int b) {
        return (byte) (neuron * 131 + b * 7 + (neuron >>> 3) + (b * b >>> 2));
    }

    private static float bias(int neuron) {
        return neuron * 0.5f - 3f;
    }

    /** Every neuron's bias, {@link #bias(int)}. */
    private static MemorySegment biases(int neurons, Arena arena) {
        MemorySegment b = arena.allocate((long) neurons * 4);
        for (int n = 0; n < neurons; n++) {
            b.setAtIndex(ValueLayout.JAVA_FLOAT, n, bias(n));
        }
        return b;
    }

    /** What a reader would do: put the neuron's record at the row's address. */
    private static void load(WindowCache cache, int neuron, int row) {
        MemorySegment dst = MemorySegment.ofAddress(cache.rowAddress(row)).reinterpret(RECORD);
        for (int b = 0; b < RECORD; b++) {
            dst.set(ValueLayout.JAVA_BYTE, b, pattern(neuron, b));
        }
    }

    @Test
    void randomizedSequencesKeepEveryInvariant() {
        for (int k = 1; k <= 6; k++) {
            for (long seed = 1; seed <= 3; seed++) {
                run(k, seed * 1000 + k, 300, 1500, 0);
                // a cache smaller than the window's worst case: the oldest tokens leave early
                run(k, seed * 1000 + k, 300, 1500, 40 + 10 * k);
            }
        }
    }

    /** @param tight the capacity, or 0 for the worst case of k tokens */
    private static void run(int k, long seed, int neurons, int steps, int tight) {
        Random rnd = new Random(seed);
        int maxActive = 40;
        int capacity = tight > 0 ? tight : Math.min(neurons, k * maxActive);
        try (Arena arena = Arena.ofConfined()) {
            WindowCache cache = new WindowCache(neurons, RECORD, ROW, capacity, k, biases(neurons, arena), arena);
            ArrayDeque<Set<Integer>> recent = new ArrayDeque<>();
            int[] active = new int[neurons];
            int[] byNeuron = new int[capacity];
            int[] prevRow = new int[neurons];
            List<Integer> prevActive = new ArrayList<>();
            for (int step = 0; step < steps; step++) {
                // an active set: some of the previous token's, some from a hot range, some anywhere
                int size = rnd.nextInt(maxActive + 1);
                Set<Integer> set = new HashSet<>();
                int tries = 0;
                while (set.size() < size && tries++ < 10 * maxActive) {
                    int pick = rnd.nextInt(3);
                    int n;
                    if (pick == 0 && !prevActive.isEmpty()) {
                        n = prevActive.get(rnd.nextInt(prevActive.size()));
                    } else if (pick == 1) {
                        n = rnd.nextInt(Math.min(neurons, 60));
                    } else {
                        n = rnd.nextInt(neurons);
                    }
                    set.add(n);
                }
                List<Integer> order = new ArrayList<>(set);
                java.util.Collections.shuffle(order, rnd);
                for (int i = 0; i < order.size(); i++) {
                    active[i] = order.get(i);
                }
                Set<Integer> before = new HashSet<>();
                for (int n = 0; n < neurons; n++) {
                    prevRow[n] = cache.rowOf(n);
                    if (prevRow[n] >= 0) {
                        before.add(n);
                    }
                }
                int loaded = cache.plan(active, order.size());
                for (int i = 0; i < loaded; i++) {
                    load(cache, cache.missingNeuron(i), cache.missingRow(i));
                }

                while (recent.size() > k - 1) {
                    recent.removeFirst();
                }
                for (int e = 0; e < cache.earlyExpiredTokens(); e++) {
                    recent.removeFirst();
                }
                if (tight == 0) {
                    assertEquals(0, cache.earlyExpiredTokens());
                }
                recent.addLast(set);
                Set<Integer> union = new HashSet<>();
                recent.forEach(union::addAll);

                // each step loads exactly the active neurons that were not resident, in the order given
                List<Integer> expectLoaded = new ArrayList<>();
                for (int n : order) {
                    if (!before.contains(n)) {
                        expectLoaded.add(n);
                    }
                }
                assertEquals(expectLoaded.size(), loaded, "loads at step " + step);
                for (int i = 0; i < loaded; i++) {
                    assertEquals(expectLoaded.get(i), cache.missingNeuron(i));
                }
                check(cache, union, neurons, step);

                // deletion never shifts: a neuron that stays changes row only when it was a last row moved into a hole
                int moved = 0;
                for (int n : union) {
                    if (before.contains(n) && prevRow[n] != cache.rowOf(n)) {
                        moved++;
                    }
                }
                assertTrue(moved <= cache.evictedCount(), "moved " + moved + " rows for " + cache.evictedCount()
                        + " deletions");
                assertEquals(before.size() - cache.evictedCount() + loaded, cache.count());

                // rows in ascending neuron id
                int m = cache.residentRowsByNeuron(byNeuron);
                assertEquals(union.size(), m);
                for (int i = 1; i < m; i++) {
                    assertTrue(cache.neuronAt(byNeuron[i - 1]) < cache.neuronAt(byNeuron[i]));
                }
                prevActive = order;
            }
            assertEquals(steps, cache.tokens());
        }
    }

    private static void check(WindowCache cache, Set<Integer> union, int neurons, int step) {
        assertEquals(union.size(), cache.count(), "count at step " + step);
        BitSet rows = new BitSet();
        for (int row = 0; row < cache.count(); row++) {
            int n = cache.neuronAt(row);
            assertTrue(union.contains(n), "row " + row + " holds neuron " + n + " outside the window, step " + step);
            assertEquals(row, cache.rowOf(n), "maps are not inverse at step " + step);
            MemorySegment rec = cache.rowSegment(row);
            for (int b = 0; b < RECORD; b++) {
                if (rec.get(ValueLayout.JAVA_BYTE, b) != pattern(n, b)) {
                    throw new AssertionError("row " + row + " byte " + b + " is not neuron " + n + "'s, step " + step);
                }
            }
            assertEquals(bias(n), cache.rowBiases().getAtIndex(ValueLayout.JAVA_FLOAT, row));
            rows.set(row);
        }
        for (int row = cache.count(); row < cache.capacity(); row++) {
            assertEquals(-1, cache.neuronAt(row));
        }
        for (int n = 0; n < neurons; n++) {
            int r = cache.rowOf(n);
            assertEquals(union.contains(n), r >= 0, "neuron " + n + " residency at step " + step);
            if (r >= 0) {
                assertTrue(r < cache.count());
                assertEquals(n, cache.neuronAt(r));
            }
        }
    }

    @Test
    void aWindowThatDoesNotFitLetsItsOldestTokensGoEarly() {
        try (Arena arena = Arena.ofConfined()) {
            WindowCache cache = new WindowCache(100, RECORD, ROW, 5, 3, null, arena);
            cache.plan(new int[] {1, 2}, 2);
            cache.plan(new int[] {3, 4}, 2);
            cache.plan(new int[] {5}, 1);
            assertEquals(0, cache.earlyExpiredTokens());
            assertEquals(5, cache.count());
            // token 0 ({1, 2}) expires as usual; {3, 4} of token 1 must go early to make room for three
            assertEquals(3, cache.plan(new int[] {4, 6, 7, 8}, 4));
            assertEquals(1, cache.earlyExpiredTokens());
            assertEquals(5, cache.count());
            assertEquals(-1, cache.rowOf(3));
            assertTrue(cache.rowOf(4) >= 0, "4 is active again, so it stays");
            // later tokens expire what is left normally, never removing a neuron twice
            for (int t = 0; t < 10; t++) {
                cache.plan(new int[] {10 + t}, 1);
                assertTrue(cache.count() <= 5);
            }
            assertEquals(3, cache.count());
        }
    }

    @Test
    void overflowAndBadIdsAreRefusedWithoutChangingAnything() {
        try (Arena arena = Arena.ofConfined()) {
            WindowCache cache = new WindowCache(100, RECORD, ROW, 5, 2, null, arena);
            int[] a = {1, 2, 3};
            assertEquals(3, cache.plan(a, 3));
            int[] b = {4, 5, 6, 7, 8, 9};
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache.plan(b, 6));
            assertTrue(e.getMessage().contains("capacity is 5"), e.getMessage());
            assertEquals(3, cache.count());
            assertEquals(1, cache.tokens());
            assertThrows(IllegalArgumentException.class, () -> cache.plan(new int[] {7, 7}, 2));
            assertThrows(IllegalArgumentException.class, () -> cache.plan(new int[] {100}, 1));
            assertThrows(IllegalArgumentException.class, () -> cache.plan(new int[] {-1}, 1));
            assertEquals(3, cache.count());
            // 1, 2 stay; 4, 5 join: 5 rows
            assertEquals(2, cache.plan(new int[] {1, 2, 4, 5}, 4));
            assertEquals(5, cache.count());
            assertEquals(0f, cache.rowBiases().getAtIndex(ValueLayout.JAVA_FLOAT, 4));
            // token 0's 3 leaves; 6 joins
            assertEquals(1, cache.plan(new int[] {6}, 1));
            assertEquals(-1, cache.rowOf(3));
            assertEquals(5, cache.count());
            int[] rows = new int[5];
            assertEquals(5, cache.residentRowsByNeuron(rows));
            int[] ids = new int[5];
            for (int i = 0; i < 5; i++) {
                ids[i] = cache.neuronAt(rows[i]);
            }
            assertArrayEquals(new int[] {1, 2, 4, 5, 6}, ids);
            assertThrows(IllegalArgumentException.class,
                    () -> new WindowCache(10, RECORD, RECORD - 1, 5, 2, null, arena));
            assertThrows(IllegalArgumentException.class, () -> new WindowCache(10, RECORD, ROW, 11, 2, null, arena));
            assertThrows(IllegalArgumentException.class, () -> new WindowCache(10, RECORD, ROW, 5, 0, null, arena));
        }
    }

    /**
     * Look-ahead: each token is planned from a guess (part of the true set plus wrong neurons), then extended
     * by the true set. The true set is always resident with its own bytes; with room for the window's worst
     * case the resident set is the union of the last k tokens' guesses and true sets; with less, nothing
     * exceeds the capacity and the rows stay consistent.
     */
    @Test
    void aGuessExtendedByTheTrueSetKeepsEveryInvariant() {
        int neurons = 300;
        int maxActive = 30;
        for (int k = 1; k <= 5; k++) {
            for (int capacity : new int[] {Math.min(neurons, 2 * k * maxActive), 35 + 5 * k}) {
                Random rnd = new Random(77L * k + capacity);
                try (Arena arena = Arena.ofConfined()) {
                    WindowCache cache = new WindowCache(neurons, RECORD, ROW, capacity, k, biases(neurons, arena),
                            arena);
                    ArrayDeque<Set<Integer>> recent = new ArrayDeque<>();
                    boolean roomy = capacity >= 2 * k * maxActive;
                    for (int step = 0; step < 800; step++) {
                        Set<Integer> truth = randomSet(rnd, neurons, 1 + rnd.nextInt(maxActive));
                        Set<Integer> guess = new HashSet<>();
                        for (int n : truth) {
                            if (rnd.nextInt(10) < 8) {
                                guess.add(n);
                            }
                        }
                        guess.addAll(randomSet(rnd, neurons, rnd.nextInt(maxActive / 2)));
                        while (guess.size() > maxActive) {
                            guess.remove(guess.iterator().next());
                        }
                        int[] g = guess.stream().mapToInt(Integer::intValue).sorted().toArray();
                        int loaded = cache.plan(g, g.length);
                        for (int i = 0; i < loaded; i++) {
                            load(cache, cache.missingNeuron(i), cache.missingRow(i));
                        }
                        int[] t = truth.stream().mapToInt(Integer::intValue).sorted().toArray();
                        Set<Integer> residentBefore = new HashSet<>();
                        for (int n = 0; n < neurons; n++) {
                            if (cache.rowOf(n) >= 0) {
                                residentBefore.add(n);
                            }
                        }
                        int fresh = cache.extend(t, t.length);
                        int expectFresh = 0;
                        for (int n : t) {
                            if (!residentBefore.contains(n)) {
                                assertEquals(n, cache.missingNeuron(expectFresh), "step " + step);
                                expectFresh++;
                            }
                        }
                        assertEquals(expectFresh, fresh, "step " + step);
                        for (int i = 0; i < fresh; i++) {
                            load(cache, cache.missingNeuron(i), cache.missingRow(i));
                        }
                        assertEquals(step + 1, cache.tokens(), "extend does not advance the window");
                        assertTrue(cache.count() <= capacity);
                        for (int n : t) {
                            assertTrue(cache.rowOf(n) >= 0, "true neuron " + n + " resident at step " + step);
                        }
                        Set<Integer> union = new HashSet<>(truth);
                        union.addAll(guess);
                        while (recent.size() > k - 1) {
                            recent.removeFirst();
                        }
                        recent.addLast(union);
                        Set<Integer> window = new HashSet<>();
                        recent.forEach(window::addAll);
                        if (roomy) {
                            assertEquals(0, cache.earlyExpiredTokens());
                            check(cache, window, neurons, step);
                        } else {
                            Set<Integer> resident = new HashSet<>();
                            for (int n = 0; n < neurons; n++) {
                                if (cache.rowOf(n) >= 0) {
                                    resident.add(n);
                                }
                            }
                            assertTrue(window.containsAll(resident), "only the window's neurons, step " + step);
                            check(cache, resident, neurons, step);
                        }
                    }
                }
            }
        }
    }

    private static Set<Integer> randomSet(Random rnd, int neurons, int size) {
        Set<Integer> s = new HashSet<>();
        while (s.size() < size) {
            s.add(rnd.nextInt(rnd.nextBoolean() ? 50 : neurons));
        }
        return s;
    }

    @Test
    void extendIsRefusedBeforeAnyTokenAndForBadSets() {
        try (Arena arena = Arena.ofConfined()) {
            WindowCache cache = new WindowCache(100, RECORD, ROW, 4, 2, null, arena);
            assertThrows(IllegalStateException.class, () -> cache.extend(new int[] {1}, 1));
            assertEquals(2, cache.plan(new int[] {1, 2}, 2));
            assertThrows(IllegalArgumentException.class, () -> cache.extend(new int[] {3, 3}, 2));
            assertThrows(IllegalStateException.class, () -> cache.extend(new int[] {3, 4, 5, 6, 7}, 5));
            assertEquals(2, cache.count());
            // the guess's 1 and 2 are in the way of a true set of four: they leave
            assertEquals(4, cache.extend(new int[] {3, 4, 5, 6}, 4));
            assertEquals(-1, cache.rowOf(1));
            assertEquals(4, cache.count());
            assertEquals(1, cache.tokens());
        }
    }

    @Test
    void largeMatricesAreHugePageAligned() {
        try (Arena arena = Arena.ofConfined()) {
            WindowCache cache = new WindowCache(4096, 16384, 16384, 512, 4, null, arena);
            assertEquals(0, cache.matrix().address() % (2L << 20));
            assertEquals(512L * 16384 + 512 * 4, cache.offHeapBytes());
        }
    }
}
