package io.flashlm.nativeabi;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether libflashlm is loaded and usable, and if not, why: which file was tried (if one was found),
 * what is missing or wrong with it, and how to build it. Computed once, on first use of the library.
 *
 * @param available whether every native call can be made
 * @param library   the file that was loaded or tried; null when none was found
 * @param reason    why the library is unavailable, as one line for a person; null when it is available
 */
public record NativeStatus(boolean available, Path library, String reason) {
    public NativeStatus {
        if (available == (reason != null)) {
            throw new IllegalArgumentException("a status has a reason exactly when the library is unavailable");
        }
    }

    static NativeStatus loaded(Path library) {
        return new NativeStatus(true, library, null);
    }

    static NativeStatus unavailable(Path tried, String reason) {
        return new NativeStatus(false, tried, reason);
    }

    /** The file that was loaded or tried, if one was found. */
    public Optional<Path> libraryFile() {
        return Optional.ofNullable(library);
    }

    @Override
    public String toString() {
        return available ? "libflashlm loaded from " + library : reason;
    }
}
