package io.flashlm.io;

import io.flashlm.nativeabi.IoBackend;

import java.util.Locale;

/** How the native reader issues its reads. */
public enum Backend {
    /** io_uring when the kernel allows it, else {@link #PREAD}. */
    AUTO(IoBackend.AUTO, "auto"),
    /** One io_uring submission per batch, completions reaped in bulk. */
    IO_URING(IoBackend.IO_URING, "io_uring"),
    /** A small pool of threads doing pread(2), for kernels or sandboxes without io_uring. */
    PREAD(IoBackend.PREAD, "pread");

    private final IoBackend nativeBackend;
    private final String label;

    Backend(IoBackend nativeBackend, String label) {
        this.nativeBackend = nativeBackend;
        this.label = label;
    }

    /** The native library's name for this backend. */
    public IoBackend nativeBackend() {
        return nativeBackend;
    }

    /** The name used on the command line and in reports. */
    public String label() {
        return label;
    }

    static Backend fromNative(IoBackend nativeBackend) {
        for (Backend b : values()) {
            if (b.nativeBackend == nativeBackend) {
                return b;
            }
        }
        throw new IllegalStateException("unknown native backend " + nativeBackend);
    }

    /** Parses "auto", "io_uring" (or "io-uring", "uring") and "pread". */
    public static Backend parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        return switch (t) {
            case "auto" -> AUTO;
            case "io_uring", "iouring", "uring" -> IO_URING;
            case "pread" -> PREAD;
            default -> throw new IllegalArgumentException("unknown I/O backend '" + text
                    + "': expected auto, io_uring or pread");
        };
    }

    @Override
    public String toString() {
        return label;
    }
}
