package io.flashlm.format;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model file does not follow its format. The message names the file, the field that is wrong and
 * what was expected, e.g. {@code /m/x.gguf: header.version: unsupported GGUF version 1, expected 2 or 3}.
 */
public final class ModelFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;

    public ModelFormatException(Path file, String field, String problem) {
        super(file + ": " + field + ": " + problem);
        this.file = file;
        this.field = field;
    }

    public ModelFormatException(Path file, String field, String problem, Throwable cause) {
        super(file + ": " + field + ": " + problem, cause);
        this.file = file;
        this.field = field;
    }

    /** The offending file (or directory, for a multi-file checkpoint). */
    public Path file() {
        return file;
    }

    /** The header field, tensor or key that is wrong. */
    public String field() {
        return field;
    }
}
