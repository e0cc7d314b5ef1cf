package io.flashlm.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's storage reads as the kernel counts them (/proc/self/io), for paths whose reads the engine does not issue itself (mmap). */
final class ProcIo {
    private static final Path FILE = Path.of("/proc/self/io");

    private ProcIo() {
    }

    /** Bytes this process has caused to be fetched from storage (page-cache hits excluded), or -1 where unknown. */
    static long readBytes() {
        try {
            for (String line : Files.readAllLines(FILE)) {
                if (line.startsWith("read_bytes:")) {
                    return Long.parseLong(line.substring(11).trim());
                }
            }
        } catch (IOException | NumberFormatException | SecurityException e) {
            return -1;
        }
        return -1;
    }
}
