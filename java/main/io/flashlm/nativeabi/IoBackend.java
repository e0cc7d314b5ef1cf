package io.flashlm.nativeabi;

/** How the native reader and probe issue their reads (FLM_BACKEND_* of flashlm.h). */
public enum IoBackend {
    /** io_uring when the kernel allows it, else pread. */
    AUTO(FlashNative.BACKEND_AUTO),
    IO_URING(FlashNative.BACKEND_IO_URING),
    PREAD(FlashNative.BACKEND_PREAD);

    final int code;

    IoBackend(int code) {
        this.code = code;
    }

    static IoBackend ofCode(int code) {
        for (IoBackend b : values()) {
            if (b.code == code) {
                return b;
            }
        }
        throw new IllegalStateException("unknown native backend code " + code);
    }
}
