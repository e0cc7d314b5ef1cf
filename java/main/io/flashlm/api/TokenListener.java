package io.flashlm.api;

/** Receives generated tokens as they come: the id and the text it completes (may be empty mid-character). */
@FunctionalInterface
public interface TokenListener {
    void onToken(int tokenId, String text);

    TokenListener NONE = (id, text) -> { };
}
