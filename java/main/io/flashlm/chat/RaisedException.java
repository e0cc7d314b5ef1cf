package io.flashlm.chat;

/**
 * What a template's {@code raise_exception(message)} throws inside Jinjava; {@link ChatTemplate} finds it among the
 * render errors and reports the template's own message.
 */
final class RaisedException extends RuntimeException {
    RaisedException(String message) {
        super(message);
    }

    /** The {@code raise_exception} function templates call (Hugging Face defines it the same way). */
    public static String raise(Object message) {
        throw new RaisedException(String.valueOf(message));
    }
}
