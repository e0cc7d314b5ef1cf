package io.flashlm.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Persistent threads that run the parts of one task together with the caller: the caller runs part
 * 0, worker i runs part i. Workers spin briefly for the next task (a token's kernels come
 * microseconds apart) and then park, so an idle engine costs no CPU. Running a task allocates
 * nothing when the caller passes the same {@link Part} object each time. One caller at a time.
 */
final class WorkerGang implements AutoCloseable {
    private static final int SPINS_BEFORE_PARK = 20_000;

    /** One part of a task: part {@code part} of {@code parts}. */
    @FunctionalInterface
    public interface Part {
        void run(int part, int parts);
    }

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile long generation;
    private volatile boolean closed;
    // The current task; written before generation is bumped, read by workers after.
    private Part task;
    private volatile RuntimeException failure;

    public WorkerGang(int threads, String name) {
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("threads must be in 1..256, was " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name(name + "-" + part).start(() -> work(part));
        }
    }

    public int threads() {
        return threads;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Runs every part of the task and returns when all are done; rethrows the first failure. */
    public void run(Part part) {
        if (closed) {
            throw new IllegalStateException("worker threads are closed");
        }
        if (threads == 1) {
            part.run(0, 1);
            return;
        }
        task = part;
        failure = null;
        remaining.set(workers.length);
        generation++;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
        try {
            part.run(0, threads);
        } finally {
            int spins = 0;
            while (remaining.get() != 0) {
                if (++spins < SPINS_BEFORE_PARK) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            task = null;
        }
        RuntimeException f = failure;
        if (f != null) {
            throw f;
        }
    }

    private void work(int part) {
        long seen = 0;
        while (true) {
            int spins = 0;
            long g;
            while ((g = generation) == seen) {
                if (closed) {
                    return;
                }
                if (++spins < SPINS_BEFORE_PARK) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = g;
            try {
                task.run(part, threads);
            } catch (RuntimeException e) {
                failure = e;
            } finally {
                remaining.decrementAndGet();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
