package io.flashlm.tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/** A tokenizer file that is malformed or uses a feature we do not support; the message names file and field. */
public final class TokenizerFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public TokenizerFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public TokenizerFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
