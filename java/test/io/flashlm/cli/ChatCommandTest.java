package io.flashlm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.testing.SharedModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** flashlm chat over stories260K.gguf with an explicit template: from a messages file, and with stdin piped. */
class ChatCommandTest {
    private static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}\n"
            + "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

    @TempDir
    Path dir;

    record Run(int exit, String stdout, String stderr) {
    }

    /** Runs `flashlm ARGS` with {@code stdin} as its input, capturing both outputs. */
    static Run run(String stdin, String... args) {
        PrintStream savedOut = System.out, savedErr = System.err;
        InputStream savedIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        CommandLine cli = new CommandLine(new FlashlmCommand());
        cli.setErr(new PrintWriter(errStream, true));
        cli.setExecutionExceptionHandler((e, c, p) -> {
            errStream.println("flashlm " + c.getCommandName() + ": " + e.getMessage());
            return 1;
        });
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(errStream);
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            int exit = cli.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
            System.setIn(savedIn);
        }
    }

    private Path template() throws Exception {
        return Files.writeString(dir.resolve("plain.jinja"), TEMPLATE);
    }

    @Test
    void answersAMessagesFile() throws Exception {
        Path model = SharedModels.require("stories260K.gguf");
        Path messages = Files.writeString(dir.resolve("m.json"),
                "[{\"role\": \"user\", \"content\": \"Once upon a time\"}]");
        Run text = run("", "chat", "--model", model.toString(), "--template", template().toString(), "--messages",
                messages.toString(), "-n", "8", "--threads", "1");
        assertEquals(0, text.exit(), text.stderr());
        assertTrue(text.stdout().strip().length() > 0, text.stdout());
        assertTrue(text.stderr().contains("tokens fed"), text.stderr());

        Run json = run("", "chat", "--model", model.toString(), "--template", template().toString(), "--messages",
                messages.toString(), "-n", "8", "--threads", "1", "--json");
        assertEquals(0, json.exit(), json.stderr());
        JsonNode o = new ObjectMapper().readTree(json.stdout());
        assertEquals(text.stdout().strip(), o.get("reply").asText().strip());
        assertEquals(8, o.get("generated_tokens").asInt());
        assertEquals("max_tokens", o.get("stop").asText());
    }

    @Test
    void interactiveWithStatsAndReset() throws Exception {
        Path model = SharedModels.require("stories260K.gguf");
        String stdin = "/stats\nOnce upon a time\n/stats\nLily was happy.\n/reset\nOnce upon a time\n/exit\nnot read\n";
        Run r = run(stdin, "chat", "--model", model.toString(), "--template", template().toString(), "-n", "6",
                "--threads", "1");
        assertEquals(0, r.exit(), r.stderr());
        String[] lines = r.stdout().split("\n");
        assertEquals("(no turn yet)", lines[0]);
        String firstReply = lines[1];
        assertTrue(lines[2].startsWith("prompt: ") && lines[2].contains("generated: 6 tokens"), lines[2]);
        assertEquals("(conversation cleared)", lines[4]);
        assertEquals(firstReply, lines[5], "after /reset the same first turn gives the same reply");
        assertEquals(6, lines.length, r.stdout());
    }

    @Test
    void aTurnTheTemplateRefusesIsReportedAndTheChatGoesOn() throws Exception {
        Path model = SharedModels.require("stories260K.gguf");
        Path strict = Files.writeString(dir.resolve("strict.jinja"), "{% for m in messages %}{% if m.content == 'no'"
                + " %}{{ raise_exception('no is not a question') }}{% endif %}{% endfor %}" + TEMPLATE);
        Run r = run("no\nOnce upon a time\n", "chat", "--model", model.toString(), "--template", strict.toString(),
                "-n", "3", "--threads", "1");
        assertEquals(0, r.exit(), r.stderr());
        assertTrue(r.stderr().contains("no is not a question") && r.stderr().contains("strict.jinja"), r.stderr());
        assertEquals(1, r.stdout().strip().split("\n").length, r.stdout());
    }

    @Test
    void aModelWithoutTemplateIsNamed() throws Exception {
        Path model = SharedModels.require("stories260K.gguf");
        Run r = run("hello\n", "chat", "--model", model.toString(), "--threads", "1");
        assertEquals(1, r.exit());
        assertTrue(r.stderr().contains("no chat template") && r.stderr().contains("--template"), r.stderr());
    }

    @Test
    void aBadMessagesFileIsNamed() throws Exception {
        Path model = SharedModels.require("stories260K.gguf");
        Path messages = Files.writeString(dir.resolve("bad.json"), "[{\"role\": \"robot\", \"content\": \"x\"}]");
        Run r = run("", "chat", "--model", model.toString(), "--template", template().toString(), "--messages",
                messages.toString());
        assertEquals(1, r.exit());
        assertTrue(r.stderr().contains("bad.json: [0].role") && r.stderr().contains("'robot'"), r.stderr());
    }
}
