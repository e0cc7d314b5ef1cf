package io.flashlm.nativeabi;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Finds libflashlm.so: the path in the system property {@code flashlm.native.lib} if set, else the
 * copy that the build puts on the classpath (target/classes when run from the build, the jar's
 * resources otherwise, extracted to a temporary file because dlopen needs a real file).
 */
final class NativeLibraryLoader {
    static final String PROPERTY = "flashlm.native.lib";
    static final String RESOURCE = "/native/linux-x86_64/libflashlm.so";
    private static final String HOW_TO_BUILD = "build it with ./build package (needs cmake, gcc and liburing-dev:"
            + " apt-get install cmake gcc liburing-dev)";

    private static volatile Path location;

    private NativeLibraryLoader() {
    }

    static Path location() {
        return location;
    }

    static SymbolLookup lookup() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")
                || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
            throw new NativeLibraryUnavailableException("flashlm's native library is built for linux-x86_64 only;"
                    + " this JVM runs on " + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
        }
        Path path = resolve();
        location = path;
        try {
            return SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new NativeLibraryUnavailableException("cannot load libflashlm from " + path + ": " + e.getMessage()
                    + "; rebuild it: " + HOW_TO_BUILD, e);
        } catch (IllegalCallerException e) {
            throw new NativeLibraryUnavailableException("native access is disabled: run the JVM with"
                    + " --enable-native-access=ALL-UNNAMED (the ./flashlm launcher does)", e);
        }
    }

    private static Path resolve() {
        String explicit = System.getProperty(PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isRegularFile(p)) {
                throw new NativeLibraryUnavailableException("-D" + PROPERTY + "=" + explicit + " names no file");
            }
            return p;
        }
        URL url = NativeLibraryLoader.class.getResource(RESOURCE);
        if (url == null) {
            throw new NativeLibraryUnavailableException("libflashlm.so is not on the classpath (expected the resource "
                    + RESOURCE + "); " + HOW_TO_BUILD + ", or point -D" + PROPERTY + " at the library");
        }
        try {
            if ("file".equals(url.getProtocol())) {
                return Path.of(url.toURI());
            }
            Path tmp = Files.createTempFile("libflashlm-", ".so");
            tmp.toFile().deleteOnExit();
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            return tmp;
        } catch (IOException | URISyntaxException e) {
            throw new NativeLibraryUnavailableException("cannot extract " + url + " to a temporary file: " + e, e);
        }
    }
}
