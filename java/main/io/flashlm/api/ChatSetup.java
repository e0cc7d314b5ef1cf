package io.flashlm.api;

import io.flashlm.chat.ChatEncoder;
import io.flashlm.chat.ChatTemplate;

/**
 * What {@link Session#chat} needs, prepared once per model and template: the compiled template, the strings it
 * gets as bos_token/eos_token, the special-token-aware encoder and the stop token ids.
 */
record ChatSetup(ChatTemplate template, String bosToken, String eosToken, ChatEncoder encoder, int[] stopIds) {

    boolean isStop(int id) {
        for (int s : stopIds) {
            if (s == id) {
                return true;
            }
        }
        return false;
    }
}
