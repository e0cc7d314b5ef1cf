package io.flashlm.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A memory cgroup that holds a child process (and the page cache it faults in) to a byte budget,
 * so that an mmap-based engine can be compared with flashlm under the same memory. Works with
 * cgroup v2 (a cgroup2 mount offering the {@code memory} controller) and cgroup v1 (the
 * {@code memory} hierarchy); mounts are found in /proc/self/mountinfo and the current cgroup in
 * /proc/self/cgroup. Needs root, or a cgroup delegated to this user.
 *
 * <p>The cgroup is created as a child of this process's own cgroup (under cgroup v2, when that
 * one holds processes and so cannot enable controllers for its children, as a sibling of it).
 * {@link #start} puts the child in the cgroup before it executes anything; {@link #close}
 * removes the cgroup once its processes have exited.
 */
public final class MemoryCgroup implements AutoCloseable {
    /** What {@link #tryCreate} gives: a cgroup, or why none could be made. */
    public record Attempt(MemoryCgroup cgroup, String reason) {
        public boolean created() {
            return cgroup != null;
        }
    }

    /** A line of /proc/self/mountinfo: root within the hierarchy, mount point, type and super options. */
    record Mount(String root, Path point, String type, Set<String> superOptions) {
    }

    /** Puts the shell in the cgroup ({@code $1} is its cgroup.procs), then becomes the command. */
    private static final String JOIN_SCRIPT = "echo $$ > \"$1\" || { echo \"flashlm: cannot join the memory cgroup"
            + " ($1)\" >&2; exit 125; }; shift; exec \"$@\"";

    private final String version;
    private final Path path;
    private final boolean swapLimited;
    private boolean closed;

    private MemoryCgroup(String version, Path path, boolean swapLimited) {
        this.version = version;
        this.path = path;
        this.swapLimited = swapLimited;
    }

    /**
     * A cgroup named {@code name} limited to {@code limitBytes}; when none can be made (not Linux,
     * not root, read-only cgroup file system, no memory controller, ...) the attempt says why.
     * Never throws for those cases.
     */
    public static Attempt tryCreate(String name, long limitBytes) {
        if (name == null || name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("cgroup name must be a single path component, not '" + name + "'");
        }
        if (limitBytes <= 0) {
            throw new IllegalArgumentException("cgroup memory limit must be positive, not " + limitBytes);
        }
        if (!System.getProperty("os.name", "").toLowerCase().startsWith("linux")) {
            return new Attempt(null, "memory cgroups need Linux (this is " + System.getProperty("os.name") + ")");
        }
        List<String> mountinfo;
        List<String> membership;
        try {
            mountinfo = Files.readAllLines(Path.of("/proc/self/mountinfo"));
            membership = Files.readAllLines(Path.of("/proc/self/cgroup"));
        } catch (IOException e) {
            return new Attempt(null, "cannot read /proc/self/mountinfo or /proc/self/cgroup: " + why(e));
        }
        List<Mount> mounts = parseMounts(mountinfo);
        Map<String, String> paths = parseMembership(membership);
        List<String> reasons = new ArrayList<>();
        try {
            return new Attempt(createV2(name, limitBytes, mounts, paths.get("")), "");
        } catch (Unavailable e) {
            reasons.add("cgroup v2: " + e.getMessage());
        }
        try {
            return new Attempt(createV1(name, limitBytes, mounts, paths.get("memory")), "");
        } catch (Unavailable e) {
            reasons.add("cgroup v1: " + e.getMessage());
        }
        return new Attempt(null, String.join("; ", reasons));
    }

    /** "v1" or "v2". */
    public String version() {
        return version;
    }

    /** The cgroup's directory. */
    public Path path() {
        return path;
    }

    /** Whether swap is held as well (memory.swap.max = 0, or memory.memsw.limit_in_bytes = the limit). */
    public boolean swapLimited() {
        return swapLimited;
    }

    /** The limit as the kernel holds it (read back from memory.max / memory.limit_in_bytes). */
    public long limitBytes() {
        String v = read(v2() ? "memory.max" : "memory.limit_in_bytes");
        return "max".equals(v) ? Long.MAX_VALUE : Long.parseLong(v);
    }

    /** The most memory (page cache included) the cgroup has used; -1 where the kernel does not say (v2 before 5.19). */
    public long peakBytes() {
        String file = v2() ? "memory.peak" : "memory.max_usage_in_bytes";
        return Files.exists(path.resolve(file)) ? Long.parseLong(read(file)) : -1;
    }

    /** How many processes the OOM killer has killed in the cgroup; -1 where the kernel does not say. */
    public long oomKills() {
        String file = v2() ? "memory.events" : "memory.oom_control";
        if (!Files.exists(path.resolve(file))) {
            return -1;
        }
        for (String line : read(file).split("\n")) {
            String[] kv = line.trim().split("\\s+");
            if (kv.length == 2 && kv[0].equals("oom_kill")) {
                return Long.parseLong(kv[1]);
            }
        }
        return -1;
    }

    /**
     * Starts {@code pb}'s command inside the cgroup: the child joins it before executing the
     * command, so everything it does is charged to the cgroup. {@code pb}'s command is restored
     * afterwards; its directory, environment and redirects apply unchanged. If the child cannot
     * join, it exits with status 125 and says so on its standard error.
     */
    public Process start(ProcessBuilder pb) throws IOException {
        List<String> original = pb.command();
        pb.command(wrap(original));
        Process p;
        try {
            p = pb.start();
        } finally {
            pb.command(original);
        }
        awaitJoined(p);
        return p;
    }

    /**
     * Waits (up to 10 s) until the child is listed in the cgroup or has exited, so that when start
     * returns the child is inside: the wrapper joins right after the fork, but not instantly.
     */
    private void awaitJoined(Process p) throws IOException {
        String pid = Long.toString(p.pid());
        Path procs = path.resolve("cgroup.procs");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (p.isAlive() && System.nanoTime() < deadline) {
            if (Files.readAllLines(procs).contains(pid)) {
                return;
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while the child joined " + path, e);
            }
        }
    }

    /** {@code command} as a command line that first joins this cgroup (for callers that start it themselves). */
    public List<String> wrap(List<String> command) {
        if (closed) {
            throw new IllegalStateException("cgroup " + path + " is closed");
        }
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c", JOIN_SCRIPT, "sh",
                path.resolve("cgroup.procs").toString()));
        wrapped.addAll(command);
        return wrapped;
    }

    /**
     * Removes the cgroup. Call it after the child (and anything it started) has exited; an exit
     * takes the kernel a moment to account, so removal is retried for up to two seconds.
     *
     * @throws UncheckedIOException when the cgroup still holds processes or cannot be removed
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        IOException last = null;
        for (int attempt = 0; attempt < 100; attempt++) {
            try {
                Files.deleteIfExists(path);
                closed = true;
                return;
            } catch (IOException e) {
                last = e;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        String procs;
        try {
            procs = Files.readString(path.resolve("cgroup.procs")).trim().replace('\n', ' ');
        } catch (IOException e) {
            procs = "?";
        }
        throw new UncheckedIOException("cannot remove cgroup " + path + ": " + why(last)
                + (procs.isEmpty() ? "" : " (processes still in it: " + procs + ")"), last);
    }

    @Override
    public String toString() {
        return "cgroup " + version + " " + path;
    }

    /**
     * The shell commands that do by hand what this class does, for the README: run
     * {@code command} (shell text) in a memory cgroup of {@code limitBytes}, under cgroup v2
     * (systemd-run, or mkdir/echo) and cgroup v1.
     */
    public static String manualCommands(long limitBytes, String command) {
        String v2 = "/sys/fs/cgroup/flashlm-bench";
        String v1 = "/sys/fs/cgroup/memory/flashlm-bench";
        return """
                # cgroup v2 with systemd: a transient scope (add --user to run unprivileged where memory is delegated)
                sudo systemd-run --scope -p MemoryMax=%1$d -p MemorySwapMax=0 %2$s

                # cgroup v2 by hand, as root ("memory" must be listed in /sys/fs/cgroup/cgroup.subtree_control;
                # find the cgroup2 mount with: findmnt -t cgroup2)
                mkdir %3$s
                echo %1$d > %3$s/memory.max
                echo 0 > %3$s/memory.swap.max
                sh -c 'echo $$ > %3$s/cgroup.procs && exec %2$s'
                cat %3$s/memory.peak
                rmdir %3$s

                # cgroup v1 by hand, as root (find the memory hierarchy with: findmnt -t cgroup | grep memory)
                mkdir %4$s
                echo %1$d > %4$s/memory.limit_in_bytes
                echo %1$d > %4$s/memory.memsw.limit_in_bytes   # only where swap accounting is on
                sh -c 'echo $$ > %4$s/cgroup.procs && exec %2$s'
                cat %4$s/memory.max_usage_in_bytes
                rmdir %4$s
                """.formatted(limitBytes, command, v2, v1);
    }

    private boolean v2() {
        return version.equals("v2");
    }

    private String read(String file) {
        Path p = path.resolve(file);
        try {
            return Files.readString(p).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p + ": " + why(e), e);
        }
    }

    private static MemoryCgroup createV2(String name, long limit, List<Mount> mounts, String self)
            throws Unavailable {
        if (self == null) {
            throw new Unavailable("this process is in no cgroup2 hierarchy (no 0:: line in /proc/self/cgroup)");
        }
        List<String> reasons = new ArrayList<>();
        for (Mount m : mounts) {
            if (!m.type().equals("cgroup2")) {
                continue;
            }
            Path own = resolve(m, self);
            Set<String> controllers = words(own.resolve("cgroup.controllers"));
            if (!controllers.contains("memory")) {
                reasons.add("no memory controller in " + own.resolve("cgroup.controllers") + " (has: "
                        + (controllers.isEmpty() ? "none" : String.join(" ", controllers)) + ")");
                continue;
            }
            Path parent = own;
            Path subtree = own.resolve("cgroup.subtree_control");
            if (!words(subtree).contains("memory")) {
                try {
                    write(subtree, "+memory");
                } catch (IOException e) {
                    // Our own cgroup holds processes (the "no internal processes" rule): a sibling
                    // of it gets the memory controller from the parent, which has it enabled.
                    if (own.equals(m.point())) {
                        reasons.add("cannot enable memory in " + subtree + ": " + why(e) + " (a cgroup that"
                                + " holds processes cannot enable controllers for its children)");
                        continue;
                    }
                    parent = own.getParent();
                }
            }
            Path dir = parent.resolve(name);
            makeDirectory(dir);
            try {
                if (!Files.exists(dir.resolve("memory.max"))) {
                    throw new Unavailable(dir + " has no memory.max (memory not enabled in "
                            + parent.resolve("cgroup.subtree_control") + ")");
                }
                writeOrFail(dir.resolve("memory.max"), Long.toString(limit));
                boolean swap = Files.exists(dir.resolve("memory.swap.max"));
                if (swap) {
                    writeOrFail(dir.resolve("memory.swap.max"), "0");
                }
                return new MemoryCgroup("v2", dir, swap);
            } catch (Unavailable e) {
                removeQuietly(dir);
                throw e;
            }
        }
        throw new Unavailable(reasons.isEmpty() ? "no cgroup2 mount in /proc/self/mountinfo" : String.join("; ",
                reasons));
    }

    private static MemoryCgroup createV1(String name, long limit, List<Mount> mounts, String self)
            throws Unavailable {
        if (self == null) {
            throw new Unavailable("this process is in no memory hierarchy (no memory line in /proc/self/cgroup)");
        }
        Mount mount = null;
        for (Mount m : mounts) {
            if (m.type().equals("cgroup") && m.superOptions().contains("memory")) {
                mount = m;
                break;
            }
        }
        if (mount == null) {
            throw new Unavailable("no cgroup mount with the memory controller in /proc/self/mountinfo");
        }
        Path dir = resolve(mount, self).resolve(name);
        makeDirectory(dir);
        try {
            // A new cgroup starts unlimited; memory.limit_in_bytes must not exceed memsw, so it goes first.
            writeOrFail(dir.resolve("memory.limit_in_bytes"), Long.toString(limit));
            boolean swap = Files.exists(dir.resolve("memory.memsw.limit_in_bytes"));
            if (swap) {
                writeOrFail(dir.resolve("memory.memsw.limit_in_bytes"), Long.toString(limit));
            }
            return new MemoryCgroup("v1", dir, swap);
        } catch (Unavailable e) {
            removeQuietly(dir);
            throw e;
        }
    }

    /** Creates {@code dir}; one left empty by an earlier run is removed first. */
    private static void makeDirectory(Path dir) throws Unavailable {
        if (Files.isDirectory(dir)) {
            try {
                Files.delete(dir);
            } catch (IOException e) {
                throw new Unavailable(dir + " already exists and cannot be removed (" + why(e)
                        + "): is another run using it?");
            }
        }
        try {
            Files.createDirectory(dir);
        } catch (IOException e) {
            throw new Unavailable("cannot create " + dir + ": " + why(e));
        }
    }

    private static void writeOrFail(Path file, String value) throws Unavailable {
        try {
            write(file, value);
        } catch (IOException e) {
            throw new Unavailable("cannot write " + value + " to " + file + ": " + why(e));
        }
    }

    private static void write(Path file, String value) throws IOException {
        Files.write(file, value.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
    }

    private static void removeQuietly(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // best effort: the cgroup is empty and harmless
        }
    }

    private static Set<String> words(Path file) {
        try {
            String text = Files.readString(file).trim();
            return text.isEmpty() ? Set.of() : new LinkedHashSet<>(List.of(text.split("\\s+")));
        } catch (IOException e) {
            return Set.of();
        }
    }

    static String why(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied (not root, and the cgroup is not delegated to this user)";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** The directory of cgroup {@code cgroupPath} (as /proc/self/cgroup names it) under mount {@code m}. */
    static Path resolve(Mount m, String cgroupPath) {
        String root = m.root().equals("/") ? "" : m.root();
        if (cgroupPath.equals(root)) {
            return m.point();
        }
        if (cgroupPath.startsWith(root + "/")) {
            String rest = cgroupPath.substring(root.length() + 1);
            return rest.isEmpty() ? m.point() : m.point().resolve(rest);
        }
        // Outside the mounted part of the hierarchy (a container's view): the mount's top is ours.
        return m.point();
    }

    static List<Mount> parseMounts(List<String> mountinfo) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : mountinfo) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] left = line.substring(0, dash).split(" ");
            String[] right = line.substring(dash + 3).split(" ");
            if (left.length < 5 || right.length < 3) {
                continue;
            }
            mounts.add(new Mount(unescape(left[3]), Path.of(unescape(left[4])), right[0],
                    new LinkedHashSet<>(List.of(right[2].split(",")))));
        }
        return mounts;
    }

    /** Controller to cgroup path: "" for the cgroup v2 line ("0::/..."), else each v1 controller. */
    static Map<String, String> parseMembership(List<String> procSelfCgroup) {
        Map<String, String> paths = new LinkedHashMap<>();
        for (String line : procSelfCgroup) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            if (f[0].equals("0") && f[1].isEmpty()) {
                paths.put("", f[2]);
            } else {
                for (String controller : f[1].split(",")) {
                    paths.put(controller, f[2]);
                }
            }
        }
        return paths;
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes (\040 ...). */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Why no cgroup could be made; a reason, not a failure. */
    private static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String reason) {
            super(reason, null, false, false);
        }
    }
}
