package io.flashlm.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real test models in ../shared/models (relative to the project root, or the system property
 * flashlm.models.dir). They live outside the repository, so tests that need them are skipped where absent.
 */
public final class SharedModels {
    public static final String PROPERTY = "flashlm.models.dir";

    private SharedModels() {
    }

    /** The models directory (it may not exist). */
    public static Path dir() {
        String configured = System.getProperty(PROPERTY);
        return (configured != null && !configured.isBlank() ? Path.of(configured) : Path.of("..", "shared", "models"))
                .toAbsolutePath().normalize();
    }

    /** The file {@code relative} to {@link #dir()}; skips the calling test if it is not there. */
    public static Path require(String relative) {
        Path file = dir().resolve(relative);
        assumeTrue(Files.isRegularFile(file), () -> "shared test model " + file + " not found, test skipped (set -D"
                + PROPERTY + "=<dir> to point at the shared models)");
        return file;
    }
}
