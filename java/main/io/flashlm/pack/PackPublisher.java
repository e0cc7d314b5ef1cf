package io.flashlm.pack;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes a pack where no one can mistake it for a finished one: into a hidden sibling directory
 * ({@code .NAME.flashlm-tmp-PID}) that is renamed to the destination only when complete. An
 * interrupted run leaves at most that directory, which the next run for the same destination removes
 * (once its process is gone). An existing destination is replaced only when asked, and only if it is
 * a flash pack or empty, so a typo cannot delete unrelated files.
 */
public final class PackPublisher implements AutoCloseable {
    private static final String TEMP_MARK = ".flashlm-tmp-";
    private static final String OLD_MARK = ".flashlm-old-";

    private final Path out;
    private final Path temp;
    private final Thread cleanupOnExit;
    private boolean committed;

    private PackPublisher(Path out, Path temp) {
        this.out = out;
        this.temp = temp;
        this.cleanupOnExit = new Thread(() -> deleteQuietly(temp), "flashlm-pack-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanupOnExit);
    }

    /**
     * Checks the destination and prepares the temporary directory.
     *
     * @throws FileAlreadyExistsException if out exists and force is false, or it is not a pack
     * @throws IOException if another live flashlm is writing the same destination
     */
    public static PackPublisher begin(Path out, boolean force, PrintStream log) throws IOException {
        Path target = out.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        checkTarget(target, force);
        removeLeftovers(parent, target.getFileName().toString(), log);
        Path temp = parent.resolve("." + target.getFileName() + TEMP_MARK + ProcessHandle.current().pid());
        Files.createDirectory(temp);
        return new PackPublisher(target, temp);
    }

    /** Refuses an existing destination unless forced, and even then anything but a pack or an empty directory. */
    static void checkTarget(Path target, boolean force) throws IOException {
        if (!Files.exists(target)) {
            return;
        }
        if (!force) {
            throw new FileAlreadyExistsException(target.toString(), null, "already exists; pass --force to replace it");
        }
        if (!PackFormat.isPack(target) && !isEmptyDirectory(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "exists and is not a flash pack (no "
                    + PackFormat.MANIFEST + "); refusing to replace it even with --force");
        }
    }

    private static boolean isEmptyDirectory(Path p) throws IOException {
        if (!Files.isDirectory(p)) {
            return false;
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        }
    }

    /** Deletes what interrupted runs for this destination left, unless their process still runs. */
    private static void removeLeftovers(Path parent, String name, PrintStream log) throws IOException {
        String prefix = "." + name + ".flashlm-";
        List<Path> candidates;
        try (Stream<Path> s = Files.list(parent)) {
            candidates = s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
        }
        for (Path p : candidates) {
            String rest = p.getFileName().toString().substring(prefix.length()); // "tmp-PID" or "old-PID"
            String pidText = rest.startsWith("tmp-") || rest.startsWith("old-") ? rest.substring(4) : "";
            long pid;
            try {
                pid = Long.parseLong(pidText);
            } catch (NumberFormatException e) {
                continue; // not ours
            }
            if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                throw new IOException("another flashlm (pid " + pid + ") is writing " + parent.resolve(name) + " (its "
                        + "temporary directory is " + p + "); wait for it to finish or stop it");
            }
            deleteRecursively(p);
            log.println("flashlm: removed " + p + ", left by an interrupted run");
        }
    }

    /** Where to write the pack's files. */
    public Path dir() {
        return temp;
    }

    public Path destination() {
        return out;
    }

    /** Moves the finished pack into place, replacing an existing one (checked in begin). */
    public void commit(boolean force) throws IOException {
        checkTarget(out, force); // it may have appeared while we wrote
        Path old = null;
        if (Files.exists(out)) {
            old = out.resolveSibling("." + out.getFileName() + OLD_MARK + ProcessHandle.current().pid());
            move(out, old);
        }
        move(temp, out);
        committed = true;
        Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
        if (old != null) {
            deleteRecursively(old);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** Without a commit, deletes the temporary directory. */
    @Override
    public void close() {
        if (!committed) {
            deleteQuietly(temp);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanupOnExit);
            } catch (IllegalStateException e) {
                // already shutting down: the hook does the same
            }
        }
    }

    /**
     * Deletes the directory, trying again while it is still there: on exit (Ctrl-C) the writing threads
     * run on while the hook deletes, and a file they create between the walk and the directory's removal
     * fails the first try. Once the directory is gone nothing recreates it (writers create files and
     * subdirectories only inside it), so a few tries suffice.
     */
    private static void deleteQuietly(Path dir) {
        IOException last = null;
        for (int attempt = 0; attempt < 20 && Files.exists(dir); attempt++) {
            try {
                deleteRecursively(dir);
            } catch (IOException e) {
                last = e;
            }
        }
        if (Files.exists(dir)) {
            System.err.println("flashlm: could not remove " + dir + (last == null ? "" : ": " + last.getMessage()));
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
