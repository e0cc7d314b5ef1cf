package io.flashlm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The OS page cache: emptying it before a cold-start measurement, and how much it holds. */
public final class PageCache {
    private static final Path DROP_CACHES = Path.of("/proc/sys/vm/drop_caches");
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private PageCache() {
    }

    /**
     * What {@link #drop} did. {@code reason} says why nothing was dropped, or, when something was,
     * anything worth knowing (e.g. that sync failed); it is empty otherwise. The cached byte
     * counts are -1 where /proc/meminfo could not be read.
     */
    public record DropResult(boolean dropped, String reason, long cachedBeforeBytes, long cachedAfterBytes) {
        @Override
        public String toString() {
            String counts = " (cached " + (cachedBeforeBytes >> 20) + " MiB -> " + (cachedAfterBytes >> 20) + " MiB)";
            return dropped ? "page cache dropped" + counts + (reason.isEmpty() ? "" : ": " + reason)
                    : "page cache not dropped: " + reason;
        }
    }

    /**
     * Writes dirty pages back ({@code sync}), then drops the clean page cache (writes 1 to
     * /proc/sys/vm/drop_caches). Never throws for the usual failures (not Linux, not root,
     * read-only /proc/sys in a container): the result says what happened.
     */
    public static DropResult drop() {
        long before = cachedBytes();
        if (!System.getProperty("os.name", "").toLowerCase().startsWith("linux")) {
            return new DropResult(false, "dropping the page cache needs Linux (this is "
                    + System.getProperty("os.name") + ")", before, before);
        }
        String syncProblem = sync();
        try {
            Files.write(DROP_CACHES, "1".getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            return new DropResult(false, "cannot write 1 to " + DROP_CACHES + ": " + why(e), before, cachedBytes());
        }
        return new DropResult(true, syncProblem, before, cachedBytes());
    }

    /** The "Cached:" line of /proc/meminfo in bytes (file pages in the page cache), or -1 where unreadable. */
    public static long cachedBytes() {
        try {
            for (String line : Files.readAllLines(MEMINFO)) {
                if (line.startsWith("Cached:")) {
                    String[] parts = line.trim().split("\\s+");
                    return Long.parseLong(parts[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Runs {@code sync}; "" when it worked, else what went wrong (dirty pages then stay cached). */
    private static String sync() {
        try {
            Process p = new ProcessBuilder("sync").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            int rc = p.waitFor();
            return rc == 0 ? "" : "sync exited with status " + rc + "; dirty pages stay cached";
        } catch (IOException e) {
            return "cannot run sync (" + e.getMessage() + "); dirty pages stay cached";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted during sync; dirty pages stay cached";
        }
    }

    private static String why(Exception e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied (needs root, i.e. CAP_SYS_ADMIN)";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file (no procfs here?)";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason().equals("Read-only file system")
                    ? "read-only file system (/proc/sys is mounted read-only, as in most containers)" : f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
