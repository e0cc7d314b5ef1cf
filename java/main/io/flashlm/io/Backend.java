package io.flashlm.io;

import io.flashlm.nativeabi.FlashNative;

import java.util.Locale;

/** How the native reader issues its reads. */
public enum Backend {
    /** io_uring when the kernel allows it, else {@link #PREAD}. */
    AUTO(FlashNative.BACKEND_AUTO, "auto"),
    /** One io_uring submission per batch, completions reaped in bulk. */
    IO_URING(FlashNative.BACKEND_IO_URING, "io_uring"),
    /** A small pool of threads doing pread(2), for kernels or sandboxes without io_uring. */
    PREAD(FlashNative.BACKEND_PREAD, "pread");

    private final int nativeCode;
    private final String label;

    Backend(int nativeCode, String label) {
        this.nativeCode = nativeCode;
        this.label = label;
    }

    /** The FLM_BACKEND_* value of flashlm.h. */
    public int nativeCode() {
        return nativeCode;
    }

    /** The name used on the command line and in reports. */
    public String label() {
        return label;
    }

    static Backend fromNative(int code) {
        for (Backend b : values()) {
            if (b.nativeCode == code) {
                return b;
            }
        }
        throw new IllegalStateException("unknown native backend code " + code);
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
