package io.flashlm.io;

import io.flashlm.nativeabi.NativeError;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A read or open of a flash file failed in the native reader. Names the file, the offset and
 * length of the failed request (-1 when not tied to one) and the error text.
 */
public final class FlashIOException extends IOException {
    private final transient Path file;
    private final long offset;
    private final long length;
    private final int errorCode;

    public FlashIOException(Path file, long offset, long length, int errorCode, String message) {
        super(message);
        this.file = file;
        this.offset = offset;
        this.length = length;
        this.errorCode = errorCode;
    }

    public Path file() {
        return file;
    }

    /** File offset of the failed request, or -1. */
    public long offset() {
        return offset;
    }

    /** Length of the failed request, or -1. */
    public long length() {
        return length;
    }

    /** The native error code: a negated errno or a {@link NativeError}'s code. */
    public int errorCode() {
        return errorCode;
    }

    /** Whether the native library failed with this flashlm error. */
    public boolean is(NativeError error) {
        return error.is(errorCode);
    }
}
