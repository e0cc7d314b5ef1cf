package io.flashlm.chat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.api.ChatMessage;
import io.flashlm.api.FlashModel;
import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Generation;
import io.flashlm.api.ModelOptions;
import io.flashlm.api.Session;
import io.flashlm.cli.FlashlmCommand;
import io.flashlm.testing.SharedModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flash packs: one converted from a Hugging Face directory keeps its tokenizer_config.json and so its chat
 * template (and chats like the directory it came from); one converted from GGUF keeps none and says so.
 */
class PackChatFormatTest {
    private static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}"
            + "{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

    @TempDir
    Path dir;

    private static void convert(Path from, Path out) {
        int exit = new CommandLine(new FlashlmCommand()).execute("convert", "--from", from.toString(), "--out",
                out.toString(), "--dtype", "f32", "--quiet");
        assertEquals(0, exit, "flashlm convert " + from);
    }

    @Test
    void aPackFromHuggingFaceKeepsTheTemplateAndChatsAsItsSource() throws Exception {
        Path shared = SharedModels.require("tinyllama-gqa/model.safetensors").getParent();
        Path hf = Files.createDirectory(dir.resolve("hf"));
        for (String f : new String[]{"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"}) {
            Files.copy(shared.resolve(f), hf.resolve(f));
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(shared.resolve("tokenizer_config.json").toFile());
        config.put("chat_template", TEMPLATE);
        json.writeValue(hf.resolve("tokenizer_config.json").toFile(), config);
        Path pack = dir.resolve("pack");
        convert(hf, pack);

        ChatFormat f = ChatFormat.read(pack);
        assertEquals(TEMPLATE, f.template());
        assertEquals(pack.resolve("tokenizer_config.json") + ": chat_template", f.templateOrigin());
        assertEquals("</s>", f.eosToken());

        List<ChatMessage> conversation = List.of(ChatMessage.user("Once upon a time"));
        try (FlashModel fromHf = FlashModel.open(hf, ModelOptions.defaults().withThreads(1));
             FlashModel fromPack = FlashModel.open(pack, ModelOptions.defaults().withThreads(1));
             Session a = fromHf.newSession(); Session b = fromPack.newSession()) {
            Generation ga = a.chat(conversation, GenerateOptions.greedy(8));
            Generation gb = b.chat(conversation, GenerateOptions.greedy(8));
            assertArrayEquals(ga.promptIds(), gb.promptIds());
            assertEquals(fromHf.tokenizer().bos(), ga.promptIds()[0]);
            assertTrue(ga.promptIds()[1] != ga.promptIds()[0], "one BOS: the template wrote it");
            assertArrayEquals(ga.generatedIds(), gb.generatedIds());
        }
    }

    @Test
    void aPackFromGgufKeepsNone() throws Exception {
        Path gguf = SharedModels.require("stories260K.gguf");
        Path pack = dir.resolve("stories");
        convert(gguf, pack);
        ChatFormat f = ChatFormat.read(pack);
        assertNull(f.template());
        assertTrue(f.templateOrigin().contains("packs converted from GGUF or llama2.c lack it"), f.templateOrigin());
    }
}
