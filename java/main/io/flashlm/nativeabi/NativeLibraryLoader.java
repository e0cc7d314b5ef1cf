package io.flashlm.nativeabi;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds and opens libflashlm.so: the path in the system property {@value #PROPERTY} if set, else the
 * copy that the build puts on the classpath (target/classes when run from the build, the jar's
 * resources otherwise, extracted to a temporary file because dlopen needs a real file). Never throws:
 * every failure becomes the reason of a {@link NativeStatus}.
 */
final class NativeLibraryLoader {
    static final String PROPERTY = "flashlm.native.lib";
    static final String RESOURCE = "/native/linux-x86_64/libflashlm.so";
    static final String HOW_TO_BUILD = "build it with ./build package (needs cmake, gcc and liburing-dev:"
            + " apt-get install cmake gcc liburing-dev)";
    private static final String BUILT_AT = "target/classes" + RESOURCE;

    private NativeLibraryLoader() {
    }

    /** The library opened, or the reason it could not be; then {@link Loaded#bind} gives null handles. */
    static Loaded load() {
        try {
            return open();
        } catch (RuntimeException | LinkageError e) {
            return Loaded.failed(null, "the native library libflashlm.so could not be loaded: " + e
                    + "; " + HOW_TO_BUILD);
        }
    }

    private static Loaded open() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.toLowerCase().contains("linux") || !arch.matches("amd64|x86_64")) {
            return Loaded.failed(null, "flashlm's native library libflashlm.so is built for linux-x86_64 only;"
                    + " this JVM runs on " + os + "/" + arch);
        }
        Path path;
        String explicit = System.getProperty(PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            try {
                path = Path.of(explicit);
            } catch (InvalidPathException e) {
                return Loaded.failed(null, "-D" + PROPERTY + "=" + explicit + " is not a valid path: " + e.getMessage());
            }
            if (!Files.isRegularFile(path)) {
                return Loaded.failed(path, "the native library libflashlm.so is missing: " + path + " (named by -D"
                        + PROPERTY + ") does not exist; " + HOW_TO_BUILD + ", then point -D" + PROPERTY + " at "
                        + BUILT_AT + " or leave it unset");
            }
        } else {
            URL url = NativeLibraryLoader.class.getResource(RESOURCE);
            if (url == null) {
                return Loaded.failed(null, "the native library libflashlm.so is missing: it is not on the classpath"
                        + " (the resource " + RESOURCE + "); " + HOW_TO_BUILD + ", or point -D" + PROPERTY
                        + " at a built libflashlm.so");
            }
            try {
                path = "file".equals(url.getProtocol()) ? Path.of(url.toURI()) : extract(url);
            } catch (IOException | URISyntaxException e) {
                return Loaded.failed(null, "cannot extract the native library " + url + " to a temporary file: " + e);
            }
        }
        String notElf = notAnElfFile(path);
        if (notElf != null) {
            return Loaded.failed(path, "cannot load the native library " + path + ": " + notElf + "; re" + HOW_TO_BUILD);
        }
        try {
            return new Loaded(path, Linker.nativeLinker(), SymbolLookup.libraryLookup(path, Arena.global()), null);
        } catch (IllegalCallerException e) {
            return Loaded.failed(path, "native access is disabled, so the native library " + path + " cannot be"
                    + " loaded: run the JVM with --enable-native-access=ALL-UNNAMED (the ./flashlm launcher does)");
        } catch (IllegalArgumentException e) {
            return Loaded.failed(path, "cannot load the native library " + path + ": " + e.getMessage() + "; re"
                    + HOW_TO_BUILD);
        }
    }

    /**
     * Why the file cannot be a shared library, or null when it starts like one. Checked before dlopen,
     * whose failure the JDK reports only as "Cannot open library".
     */
    private static String notAnElfFile(Path path) {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(path)) {
            if (in.readNBytes(head, 0, 4) == 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') {
                return null;
            }
            return "it is not a shared library (no ELF header)";
        } catch (IOException e) {
            return "it cannot be read: " + e;
        }
    }

    private static Path extract(URL url) throws IOException {
        Path tmp = Files.createTempFile("libflashlm-", ".so");
        tmp.toFile().deleteOnExit();
        try (InputStream in = url.openStream()) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        return tmp;
    }

    /** An opened library (or the failure), binding handles one by one and noting the symbols it lacks. */
    static final class Loaded {
        private final Path file;
        private final Linker linker;
        private final SymbolLookup lookup;
        private final String failure;
        private final List<String> missing = new ArrayList<>();
        private String bindFailure;

        private Loaded(Path file, Linker linker, SymbolLookup lookup, String failure) {
            this.file = file;
            this.linker = linker;
            this.lookup = lookup;
            this.failure = failure;
        }

        static Loaded failed(Path tried, String reason) {
            return new Loaded(tried, null, null, reason);
        }

        /** A downcall handle for the named function, or null when the library or the symbol is missing. */
        MethodHandle bind(String name, FunctionDescriptor descriptor) {
            if (lookup == null) {
                return null;
            }
            Optional<MemorySegment> symbol = lookup.find(name);
            if (symbol.isEmpty()) {
                missing.add(name);
                return null;
            }
            try {
                return linker.downcallHandle(symbol.get(), descriptor);
            } catch (IllegalCallerException e) {
                bindFailure = "native access is disabled, so the native library " + file + " cannot be called: run"
                        + " the JVM with --enable-native-access=ALL-UNNAMED (the ./flashlm launcher does)";
            } catch (RuntimeException e) {
                bindFailure = "cannot bind " + name + " of the native library " + file + ": " + e;
            }
            return null;
        }

        /** The status once every handle is bound: the load's failure, missing symbols, or the ABI version's check. */
        NativeStatus verify(MethodHandle abiVersion, int expected) {
            if (failure != null) {
                return NativeStatus.unavailable(file, failure);
            }
            if (!missing.isEmpty()) {
                return NativeStatus.unavailable(file, "the native library " + file + " is older than this flashlm:"
                        + " it lacks " + String.join(", ", missing) + "; re" + HOW_TO_BUILD);
            }
            if (bindFailure != null) {
                return NativeStatus.unavailable(file, bindFailure);
            }
            int version;
            try {
                version = (int) abiVersion.invokeExact();
            } catch (Throwable t) {
                return NativeStatus.unavailable(file, "the native library " + file + " failed its version check: " + t);
            }
            if (version != expected) {
                return NativeStatus.unavailable(file, "the native library " + file + " has ABI version " + version
                        + " but this flashlm needs " + expected + "; re" + HOW_TO_BUILD);
            }
            return NativeStatus.loaded(file);
        }
    }
}
