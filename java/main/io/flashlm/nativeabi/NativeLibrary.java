package io.flashlm.nativeabi;

/**
 * Whether libflashlm is there. The library is loaded once, on first use of this class or of any
 * facade ({@link Kernels}, {@link NativeIo}, {@link NativeReader}); a failure never surfaces as an
 * error from a static initializer, but as an unavailable {@link #status()} and as a
 * {@link NativeLibraryUnavailableException} from every native call, each time it is made.
 */
public final class NativeLibrary {
    /** The system property that names the library file, overriding the copy on the classpath. */
    public static final String PATH_PROPERTY = NativeLibraryLoader.PROPERTY;

    private NativeLibrary() {
    }

    /** Loads the library if not yet tried; never throws. */
    public static NativeStatus status() {
        return FlashNative.STATUS;
    }

    public static boolean isAvailable() {
        return FlashNative.STATUS.available();
    }

    /**
     * Returns when the library is loaded; otherwise throws, every time, with the reason: the file tried,
     * what is missing or wrong, and how to build it.
     */
    public static void require() {
        NativeStatus s = FlashNative.STATUS;
        if (!s.available()) {
            throw new NativeLibraryUnavailableException(s.reason());
        }
    }
}
