package io.flashlm.nativeabi;

import io.flashlm.testing.SharedModels;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Without a usable libflashlm (a child JVM pointed at a missing, a broken or an outdated library),
 * the CLI prints one clear line naming the file and how to build it and exits non-zero, and the API
 * throws {@link NativeLibraryUnavailableException} with that reason, every time, never an
 * initializer error.
 */
class NativeLibraryUnavailableTest {
    private static final String MISSING = "/nonexistent/libflashlm.so";
    private static final String BUILD_HINT = "./build package";
    static Path dir;

    @BeforeAll
    static void makeDir() throws IOException {
        dir = TestFiles.newDirectory("nolib");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(dir);
    }

    record Run(int exit, String output) {
        List<String> lines() {
            return output.lines().filter(l -> !l.isBlank()).toList();
        }

        /** The line UnavailableLibraryMain printed with this prefix, without it. */
        String line(String prefix) {
            List<String> found = output.lines().filter(l -> l.startsWith(prefix)).toList();
            assertEquals(1, found.size(), "one line starting '" + prefix + "' in:\n" + output);
            return found.get(0).substring(prefix.length());
        }
    }

    private static Run java(String library, String mainClass, String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-D" + NativeLibrary.PATH_PROPERTY + "=" + library, "-cp", System.getProperty("java.class.path"),
                mainClass));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(done, "the child JVM did not finish: " + out);
        return new Run(p.exitValue(), out);
    }

    private static void assertNoTrace(String output) {
        assertFalse(output.contains("\tat "), "no stack trace:\n" + output);
        assertFalse(output.contains("ExceptionInInitializerError"), output);
        assertFalse(output.contains("NoClassDefFoundError"), output);
    }

    @Test
    void cliPrintsOneClearLineAndFails() throws Exception {
        Path model = SharedModels.dir().resolve("stories260K.gguf"); // need not exist: the library is checked first
        for (String[] args : List.of(
                new String[]{"generate", "--model", model.toString(), "--prompt", "x", "-n", "1"},
                new String[]{"synth", "--shape", "tiny", "--out", dir.resolve("pack").toString()})) {
            Run r = java(MISSING, "io.flashlm.cli.FlashlmCommand", args);
            assertEquals(1, r.exit(), r.output());
            assertEquals(1, r.lines().size(), "one line:\n" + r.output());
            String line = r.lines().get(0);
            assertTrue(line.startsWith("flashlm " + args[0] + ": "), line);
            assertTrue(line.contains(MISSING) && line.contains("does not exist"), "names the file tried: " + line);
            assertTrue(line.contains(BUILD_HINT), "says how to build it: " + line);
            assertNoTrace(r.output());
        }
        assertFalse(Files.exists(dir.resolve("pack")), "nothing was written");
    }

    @Test
    void cliHelpNeedsNoLibrary() throws Exception {
        Run r = java(MISSING, "io.flashlm.cli.FlashlmCommand", "--help");
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("generate"), r.output());
    }

    @Test
    void apiThrowsTheReasonEveryTime() throws Exception {
        Run r = java(MISSING, UnavailableLibraryMain.class.getName(), "model.gguf");
        assertEquals(0, r.exit(), r.output());
        List<String> lines = r.lines();
        assertEquals(6, lines.size(), r.output());
        assertEquals("status available=false file=" + MISSING, lines.get(0));
        assertTrue(lines.get(1).contains(MISSING) && lines.get(1).contains(BUILD_HINT), lines.get(1));
        String reason = lines.get(1).substring("reason ".length());
        for (int i = 0; i < 2; i++) {
            assertEquals("open: " + NativeLibraryUnavailableException.class.getName() + ": " + reason,
                    lines.get(2 + 2 * i), "call " + i);
            assertEquals("matvec: " + NativeLibraryUnavailableException.class.getName() + ": " + reason,
                    lines.get(3 + 2 * i), "call " + i);
        }
        assertNoTrace(r.output());
    }

    @Test
    void aFileThatIsNoLibraryIsNamedWithTheLoadersReason() throws Exception {
        Path junk = Files.writeString(dir.resolve("libflashlm.so"), "not an ELF file");
        Run r = java(junk.toString(), UnavailableLibraryMain.class.getName(), "model.gguf");
        assertEquals(0, r.exit(), r.output());
        String reason = r.line("reason ");
        assertTrue(reason.contains("cannot load the native library " + junk + ": it is not a shared library"), reason);
        assertTrue(reason.contains("rebuild it with " + BUILD_HINT), reason);
        assertTrue(r.lines().contains("open: " + NativeLibraryUnavailableException.class.getName() + ": " + reason),
                r.output());
        assertEquals(6, r.lines().size(), "nothing else printed:\n" + r.output());
        assertNoTrace(r.output());
    }

    /** A library from before a function was added: the status lists what it lacks. Needs a C compiler. */
    @Test
    void anOlderLibraryIsNamedWithWhatItLacks() throws Exception {
        Path c = Files.writeString(dir.resolve("old.c"), "int flm_abi_version(void) { return 1; }\n");
        Path so = dir.resolve("libold.so");
        Process cc;
        try {
            cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-o", so.toString(), c.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no C compiler: " + e.getMessage());
            return;
        }
        assumeTrue(cc.waitFor(60, TimeUnit.SECONDS) && cc.exitValue() == 0, "cc could not build the old library");
        Run r = java(so.toString(), UnavailableLibraryMain.class.getName(), "model.gguf");
        assertEquals(0, r.exit(), r.output());
        String reason = r.line("reason ");
        assertTrue(reason.contains(so + " is older than this flashlm") && reason.contains("flm_matvec")
                && reason.contains(BUILD_HINT), reason);
        assertFalse(reason.contains("flm_abi_version,"), "the symbol it has is not listed: " + reason);
        assertNoTrace(r.output());
    }
}
