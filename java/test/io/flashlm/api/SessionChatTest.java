package io.flashlm.api;

import io.flashlm.chat.ChatTemplateException;
import io.flashlm.testing.SharedModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Session.chat over a real tiny model (stories260K.gguf, SentencePiece, no template of its own: an explicit simple
 * one): a later turn feeds only what the cache lacks, and gives what a fresh session gives for the whole
 * conversation.
 */
class SessionChatTest {
    /**
     * A plain format: BOS, "role:content" lines, then "assistant:", which is how an assistant line starts, so that
     * a reply passed back renders as it was generated.
     */
    static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}\n{% endfor %}"
            + "{% if add_generation_prompt %}assistant:{% endif %}";

    private static FlashModel open() throws Exception {
        Path file = SharedModels.require("stories260K.gguf");
        FlashModel model = FlashModel.open(file, ModelOptions.defaults().withThreads(1));
        model.useChatTemplate(TEMPLATE, "SessionChatTest.TEMPLATE");
        return model;
    }

    @Test
    void aSecondTurnFeedsOnlyTheNewTokensAndMatchesAFreshSession() throws Exception {
        GenerateOptions greedy = GenerateOptions.greedy(12);
        try (FlashModel model = open(); Session session = model.newSession()) {
            List<ChatMessage> conversation = new ArrayList<>(List.of(ChatMessage.user("Once upon a time")));
            Generation first = session.chat(conversation, greedy);
            assertEquals(first.promptIds().length, first.stats().promptTokens(), "the first turn feeds everything");
            assertEquals(first.promptIds().length + first.generatedIds().length - 1, session.position(),
                    "the reply's last token is not fed until the next turn");

            conversation.add(ChatMessage.assistant(first.text()));
            conversation.add(ChatMessage.user("Lily was happy."));
            long fedBefore = session.tokensFed();
            Generation second = session.chat(conversation, greedy);
            int total = second.promptIds().length;
            int reused = commonPrefix(second.promptIds(), first.promptIds(), first.generatedIds());
            // Here the reply re-tokenizes as generated, so everything the first turn fed is reused.
            assertEquals(first.promptIds().length + first.generatedIds().length - 1, reused,
                    "the first turn's prompt and reply are reused: " + Arrays.toString(first.promptIds()) + " + "
                            + Arrays.toString(first.generatedIds()) + " -> " + Arrays.toString(second.promptIds()));
            assertEquals(total - reused, second.stats().promptTokens(), "only the tokens after the common prefix");
            assertEquals(fedBefore + second.stats().promptTokens() + Math.max(0, second.generatedIds().length - 1),
                    session.tokensFed());

            try (Session fresh = model.newSession()) {
                Generation scratch = fresh.chat(conversation, greedy);
                assertEquals(total, scratch.stats().promptTokens());
                assertArrayEquals(scratch.promptIds(), second.promptIds());
                assertArrayEquals(scratch.generatedIds(), second.generatedIds(), "cache reuse changes nothing");
                assertEquals(scratch.text(), second.text());
            }
        }
    }

    @Test
    void resetStartsOverAndGenerateInvalidatesTheCachedConversation() throws Exception {
        GenerateOptions greedy = GenerateOptions.greedy(4);
        List<ChatMessage> conversation = List.of(ChatMessage.system("A story."), ChatMessage.user("Tom had a dog"));
        try (FlashModel model = open(); Session session = model.newSession()) {
            Generation a = session.chat(conversation, greedy);
            Generation again = session.chat(conversation, greedy);
            assertEquals(1, again.stats().promptTokens(), "the same conversation again feeds only its last token");
            assertArrayEquals(a.generatedIds(), again.generatedIds());
            session.reset();
            assertEquals(a.promptIds().length, session.chat(conversation, greedy).stats().promptTokens());
            session.generate("The cat", greedy);
            Generation afterGenerate = session.chat(conversation, greedy);
            assertEquals(a.promptIds().length, afterGenerate.stats().promptTokens());
            assertArrayEquals(a.generatedIds(), afterGenerate.generatedIds());
        }
    }

    @Test
    void stopsAtEosWithoutPrintingIt() throws Exception {
        try (FlashModel model = open(); Session session = model.newSession()) {
            Generation g = session.chat(List.of(ChatMessage.user("Once upon a time")), GenerateOptions.greedy(400));
            int eos = model.tokenizer().eos();
            assertTrue(Arrays.stream(g.generatedIds()).noneMatch(id -> id == eos));
            if (g.stats().stopReason() == GenerationStats.StopReason.EOS) {
                assertTrue(g.generatedIds().length < 400);
            }
        }
    }

    @Test
    void aModelWithoutTemplateIsNamed() throws Exception {
        Path file = SharedModels.require("stories260K.gguf");
        try (FlashModel model = FlashModel.open(file, ModelOptions.defaults().withThreads(1));
             Session session = model.newSession()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> session.chat(List.of(ChatMessage.user("hi")), GenerateOptions.greedy(1)));
            assertTrue(e.getMessage().contains("stories260K.gguf") && e.getMessage().contains("no chat template"),
                    e.getMessage());
        }
    }

    @Test
    void aTemplateThatRaisesSurfacesItsMessage() throws Exception {
        try (FlashModel model = open(); Session session = model.newSession()) {
            model.useChatTemplate("{% if messages[0].role == 'system' %}{{ raise_exception('System role not"
                    + " supported') }}{% endif %}x", "gemma-like");
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> session.chat(List.of(ChatMessage.system("s"), ChatMessage.user("u")), GenerateOptions.greedy(1)));
            assertTrue(e.getMessage().contains("System role not supported") && e.getMessage().contains("gemma-like"),
                    e.getMessage());
        }
    }

    @Test
    void aConversationLongerThanTheContextIsRefused() throws Exception {
        try (FlashModel model = open(); Session session = model.newSession()) {
            String longText = "Once upon a time ".repeat(model.config().contextLength() / 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> session.chat(List.of(ChatMessage.user(longText)), GenerateOptions.greedy(1)));
            assertTrue(e.getMessage().contains("context holds " + model.config().contextLength()), e.getMessage());
            assertEquals(0, session.tokensFed(), "refused before feeding anything");
        }
    }

    @Test
    void rolesAreChecked() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ChatMessage("tool", "x"));
        assertTrue(e.getMessage().contains("'tool'"), e.getMessage());
    }

    /**
     * The length of the common prefix of {@code ids} and what the first turn fed: its prompt and its reply but
     * the last token (at most all of {@code ids} but one, which is fed again for its logits).
     */
    private static int commonPrefix(int[] ids, int[] prompt, int[] reply) {
        int[] fed = Arrays.copyOf(prompt, prompt.length + reply.length - 1);
        System.arraycopy(reply, 0, fed, prompt.length, reply.length - 1);
        int k = 0;
        while (k < ids.length && k < fed.length && ids[k] == fed[k]) {
            k++;
        }
        return Math.min(k, ids.length - 1);
    }
}
