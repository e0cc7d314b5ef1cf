package io.flashlm.chat;

/** Thrown inside Jinjava by a stand-in for a construct it lacks; {@link ChatTemplate} reports its message. */
final class UnsupportedConstructException extends RuntimeException {
    UnsupportedConstructException(String message) {
        super(message);
    }
}
