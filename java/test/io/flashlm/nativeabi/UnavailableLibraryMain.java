package io.flashlm.nativeabi;

import io.flashlm.api.FlashModel;
import io.flashlm.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link NativeLibraryUnavailableTest}, with a library that cannot be loaded:
 * prints, one line each, what the status says and what the API and a kernel throw (twice: the same
 * exception every time, never an initializer error). Exits 0 when it got that far.
 */
public final class UnavailableLibraryMain {
    private UnavailableLibraryMain() {
    }

    public static void main(String[] args) {
        NativeStatus s = NativeLibrary.status();
        System.out.println("status available=" + s.available() + " file=" + s.libraryFile().orElse(null));
        System.out.println("reason " + s.reason());
        for (int i = 0; i < 2; i++) {
            try {
                FlashModel.open(Path.of(args[0])).close();
                System.out.println("open: no exception");
            } catch (Throwable t) {
                System.out.println("open: " + t.getClass().getName() + ": " + t.getMessage());
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment m = arena.allocate(4 * 32);
                Kernels.matvec(DType.F32, m, 1, 32, m, m);
                System.out.println("matvec: no exception");
            } catch (Throwable t) {
                System.out.println("matvec: " + t.getClass().getName() + ": " + t.getMessage());
            }
        }
    }
}
