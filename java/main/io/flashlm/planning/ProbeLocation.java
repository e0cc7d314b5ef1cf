package io.flashlm.planning;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Where `flashlm probe` keeps its results by default, and where the engine looks for them (issue 13):
 * one file per device in the user's cache directory, {@code $XDG_CACHE_HOME/flashlm/probe-<device>.json}
 * ({@code ~/.cache} when XDG_CACHE_HOME is unset or not absolute), never the working directory, so that a
 * probe taken on one device (or on a bad day in some directory) is not silently used for another.
 *
 * <p>The device is the filesystem's st_dev as major-minor ({@code probe-259-1.json} for device 259:1),
 * from the {@code unix:dev} attribute; where that is not available, the file store's name (sanitised)
 * and a hash of its name and type.
 *
 * <p>The system property {@value #CACHE_HOME_PROPERTY} overrides XDG_CACHE_HOME (tests, and anyone who
 * wants the probes elsewhere without changing the environment).
 */
public final class ProbeLocation {
    public static final String CACHE_HOME_PROPERTY = "flashlm.cache.home";

    private ProbeLocation() {
    }

    /** The cache directory of flashlm: {@code <cache home>/flashlm}. */
    public static Path cacheDir(Map<String, String> env, String userHome) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path home = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute() ? Path.of(xdg)
                : Path.of(userHome, ".cache");
        return home.resolve("flashlm");
    }

    /** This process's cache directory: the property, else XDG_CACHE_HOME, else ~/.cache; then flashlm. */
    public static Path cacheDir() {
        String override = System.getProperty(CACHE_HOME_PROPERTY);
        if (override != null && !override.isEmpty()) {
            return Path.of(override).toAbsolutePath().resolve("flashlm");
        }
        return cacheDir(System.getenv(), System.getProperty("user.home"));
    }

    /** The probe file for the device holding {@code onDevice} (which must exist) in {@code cacheDir}. */
    public static Path probeFile(Path cacheDir, Path onDevice) throws IOException {
        return cacheDir.resolve("probe-" + deviceId(onDevice) + ".json");
    }

    /** The probe file for the device holding {@code onDevice} in this process's cache directory. */
    public static Path probeFile(Path onDevice) throws IOException {
        return probeFile(cacheDir(), onDevice);
    }

    /** "major-minor" of the filesystem holding {@code file}, or "fs-NAME-HASH" where st_dev is unknown. */
    public static String deviceId(Path file) throws IOException {
        try {
            Object dev = Files.getAttribute(file, "unix:dev");
            if (dev instanceof Long d) {
                return major(d) + "-" + minor(d);
            }
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // not a unix filesystem view: fall through to the store's name
        }
        FileStore store = Files.getFileStore(file);
        CRC32C crc = new CRC32C();
        crc.update((store.name() + "\0" + store.type()).getBytes(StandardCharsets.UTF_8));
        String name = store.name().replaceAll("[^A-Za-z0-9._-]", "_");
        return "fs-" + (name.length() > 40 ? name.substring(name.length() - 40) : name) + "-"
                + String.format("%08x", crc.getValue());
    }

    /** glibc's gnu_dev_major: bits 8-19 and 32-43 of st_dev. */
    static long major(long dev) {
        return ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
    }

    /** glibc's gnu_dev_minor: bits 0-7 and 20-31 of st_dev. */
    static long minor(long dev) {
        return (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
    }
}
