package io.flashlm.nativeabi;

/**
 * libflashlm could not be found, loaded or trusted; the message says which file was tried, what is
 * missing and how to build it. Thrown by {@link NativeLibrary#require()} and by every native call
 * while the library is unavailable.
 */
public final class NativeLibraryUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NativeLibraryUnavailableException(String message) {
        super(message);
    }
}
