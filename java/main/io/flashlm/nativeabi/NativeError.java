package io.flashlm.nativeabi;

/**
 * flashlm's own error codes (FLM_E_* of flashlm.h). Any other negative code a native call returns is
 * a negated errno; {@link NativeIo#describe(int)} gives the text of either.
 */
public enum NativeError {
    /** An argument is out of range or null. */
    BAD_ARG(FlashNative.E_BAD_ARG),
    /** An unknown or already closed reader handle. */
    BAD_HANDLE(FlashNative.E_BAD_HANDLE),
    /** A read extends past the end of the file. */
    PAST_EOF(FlashNative.E_PAST_EOF),
    /** io_uring was asked for but the kernel refuses it. */
    NO_IO_URING(FlashNative.E_NO_IO_URING),
    /** The filesystem does not support O_DIRECT. */
    NO_DIRECT(FlashNative.E_NO_DIRECT),
    /** An internal buffer could not be allocated. */
    NO_MEMORY(FlashNative.E_NO_MEMORY),
    /** The reader table is full. */
    TOO_MANY(FlashNative.E_TOO_MANY);

    private final int code;

    NativeError(int code) {
        this.code = code;
    }

    /** The code as native calls return it (and {@code FlashIOException.errorCode()} reports it). */
    public int code() {
        return code;
    }

    public boolean is(int code) {
        return this.code == code;
    }
}
