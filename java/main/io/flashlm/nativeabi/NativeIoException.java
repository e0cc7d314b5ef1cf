package io.flashlm.nativeabi;

import java.io.IOException;

/**
 * A native read, open or probe failed. The message is the native library's text for the code; the
 * caller adds what it was doing (the file, the request).
 */
public final class NativeIoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final long failedIndex;

    NativeIoException(int code, long failedIndex, String nativeText) {
        super(nativeText);
        this.code = code;
        this.failedIndex = failedIndex;
    }

    /** The native error code: a negated errno or one of {@link NativeError}'s. */
    public int code() {
        return code;
    }

    public boolean is(NativeError error) {
        return error.is(code);
    }

    /** The index in the batch of the request that failed, or -1 when the failure is not tied to one. */
    public long failedIndex() {
        return failedIndex;
    }
}
