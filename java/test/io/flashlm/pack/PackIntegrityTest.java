package io.flashlm.pack;

import io.flashlm.api.ModelLoader;
import io.flashlm.cli.FlashlmCommand;
import io.flashlm.format.ModelFormatException;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.tensor.DType;
import io.flashlm.testing.TestFiles;
import io.flashlm.util.Progress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Damaged, truncated and newer packs are refused with a message that says which; overwrites need --force. */
class PackIntegrityTest {
    static Path root;
    static Path pristine;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("pack-integrity");
        pristine = synth(root.resolve("pristine"), PackLayout.BUNDLED, false);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    static Path synth(Path out, PackLayout layout, boolean force) throws IOException {
        return SyntheticPackWriter.write(SyntheticShape.preset("tiny"), new SyntheticPackWriter.Options(out, DType.F16,
                layout, 4096, 1, 0.97, 2, force), PackRoundTripTest.QUIET, false).dir();
    }

    /** A fresh copy of the pristine pack to damage. */
    static Path copy(String name) throws IOException {
        Path dst = root.resolve(name);
        try (Stream<Path> walk = Files.walk(pristine)) {
            for (Path p : walk.sorted(Comparator.naturalOrder()).toList()) {
                Files.copy(p, dst.resolve(pristine.relativize(p).toString()));
            }
        }
        return dst;
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x10);
        }
    }

    @Test
    void thePristinePackOpensAndVerifies() throws IOException {
        try (FlashPack p = FlashPack.open(pristine)) {
            PackVerifier.Report r = PackVerifier.verify(p, new Progress("", 0, System.err, false));
            assertTrue(r.ok());
            assertEquals(4L * 512, r.units());
        }
        assertEquals(0, verifyExitCode(pristine));
    }

    @Test
    void aFlippedByteInTheDramPartIsRefusedNamingTheTensor() throws IOException {
        Path pack = copy("flipped-dram");
        PackManifest.TensorEntry wk = ManifestCodec.read(pack).dram().tensor("layers.2.wk").orElseThrow();
        flipByte(pack.resolve("dram.bin"), wk.offset() + 77);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> FlashPack.open(pack).close());
        assertTrue(e.getMessage().contains("dram.bin") && e.getMessage().contains("damaged")
                && e.getMessage().contains("layers.2.wk"), e.getMessage());
        // and the ordinary loader refuses it too, with the same message
        ModelFormatException viaLoader = assertThrows(ModelFormatException.class, () -> ModelLoader.load(pack, null, 1));
        assertEquals(e.getMessage(), viaLoader.getMessage());
    }

    @Test
    void aTruncatedFfnFileIsRefusedNamingTheFileAndItsSize() throws IOException {
        Path pack = copy("truncated-ffn");
        Path ffn = pack.resolve("ffn/layer-002.bin");
        long size = Files.size(ffn);
        try (FileChannel ch = FileChannel.open(ffn, StandardOpenOption.WRITE)) {
            ch.truncate(size - 4096);
        }
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> FlashPack.open(pack).close());
        assertTrue(e.getMessage().contains("layer-002.bin") && e.getMessage().contains("truncated")
                && e.getMessage().contains(String.valueOf(size)), e.getMessage());
    }

    @Test
    void aMissingFfnFileIsRefused() throws IOException {
        Path pack = copy("missing-ffn");
        Files.delete(pack.resolve("ffn/layer-001.bin"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FlashPack.open(pack).close());
        assertTrue(e.getMessage().contains("layer-001.bin"), e.getMessage());
    }

    @Test
    void aNewerManifestVersionIsRefused() throws IOException {
        Path pack = copy("version-3");
        Path manifest = pack.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"version\" : 1", "\"version\" : 3"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> FlashPack.open(pack).close());
        assertTrue(e.getMessage().contains("manifest.json") && e.getMessage().contains("version 3 is newer"),
                e.getMessage());
    }

    @Test
    void aManifestOfAnotherFormatIsRefused() throws IOException {
        Path pack = copy("other-format");
        Path manifest = pack.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace("flashlm-pack", "something-else"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> FlashPack.open(pack).close());
        assertTrue(e.getMessage().contains("not a flash pack"), e.getMessage());
    }

    @Test
    void aManifestWhoseGeometryDisagreesIsRefused() throws IOException {
        Path pack = copy("bad-stride");
        Path manifest = pack.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"stride\" : 4096", "\"stride\" : 512"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> FlashPack.open(pack).close());
        assertTrue(e.getMessage().contains("ffn.stride"), e.getMessage());
    }

    @Test
    void aDamagedTokenizerIsRefused() throws IOException {
        Path pack = copy("damaged-tokenizer");
        flipByte(pack.resolve("tokenizer.json"), 100);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> FlashPack.open(pack).close());
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("damaged"), e.getMessage());
    }

    /** The FFN is not read on open (it is on flash); verify finds the record and says which. */
    @Test
    void verifyNamesADamagedFfnRecord() throws IOException {
        Path pack = copy("flipped-ffn");
        FfnGeometry g = ManifestCodec.read(pack).ffn().geometry();
        flipByte(pack.resolve("ffn/layer-003.bin"), g.offsetOf(300, FfnPart.DOWN) + 5);
        try (FlashPack p = FlashPack.open(pack)) {
            PackVerifier.Report r = PackVerifier.verify(p, new Progress("", 0, System.err, false));
            assertEquals(1, r.damagedCount());
            assertEquals(3, r.damaged().getFirst().layer());
            assertEquals(300, r.damaged().getFirst().neuron());
        }
        StringWriter out = new StringWriter();
        assertEquals(1, verifyExitCode(pack, out));
        assertTrue(out.toString().contains("layer 3, neuron 300"), out.toString());
    }

    @Test
    void convertRefusesAnExistingDirectoryUnlessForced() throws IOException {
        Path src = HfTestModel.opt(2, false).write(root.resolve("opt-src"), "F32");
        Path out = root.resolve("opt-pack");
        PackConverter.Options o = new PackConverter.Options(src, null, out, DType.F32, PackLayout.BUNDLED, 512, false);
        PackConverter.convert(o, PackRoundTripTest.QUIET, false);
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                () -> PackConverter.convert(o, PackRoundTripTest.QUIET, false));
        assertTrue(e.getMessage().contains("--force"), e.getMessage());
        // --force replaces a pack
        PackConverter.convert(new PackConverter.Options(src, null, out, DType.F16, PackLayout.UNBUNDLED, 512, true),
                PackRoundTripTest.QUIET, false);
        assertEquals(DType.F16, ManifestCodec.read(out).dtype());
        // but never a directory that is not a pack
        Path precious = Files.createDirectories(root.resolve("precious"));
        Files.writeString(precious.resolve("thesis.txt"), "years of work");
        FileAlreadyExistsException refused = assertThrows(FileAlreadyExistsException.class, () -> PackConverter.convert(
                new PackConverter.Options(src, null, precious, DType.F32, PackLayout.BUNDLED, 512, true),
                PackRoundTripTest.QUIET, false));
        assertTrue(refused.getMessage().contains("not a flash pack"), refused.getMessage());
        assertTrue(Files.exists(precious.resolve("thesis.txt")));
        try (Stream<Path> s = Files.list(root)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().contains(".flashlm-")), "no temporary directory left");
        }
    }

    @Test
    void anInterruptedWriteLeavesNoPackAndItsLeftoverIsRemovedNextTime() throws IOException {
        Path out = root.resolve("interrupted");
        try (PackPublisher p = PackPublisher.begin(out, false, PackRoundTripTest.QUIET)) {
            Files.writeString(p.dir().resolve("dram.bin"), "half a model");
            // no commit: an exception or a kill arrives here
        }
        assertFalse(Files.exists(out));
        // a run killed outright leaves its directory; the next run removes it once its process is gone
        Path leftover = Files.createDirectories(root.resolve(".interrupted.flashlm-tmp-2147483647"));
        Files.writeString(leftover.resolve("dram.bin"), "half a model");
        StringWriter log = new StringWriter();
        PrintStream ps = new PrintStream(new ByteArrayOutputStream()) {
            @Override
            public void println(String x) {
                log.write(x + "\n");
            }
        };
        SyntheticPackWriter.write(SyntheticShape.preset("tiny"), new SyntheticPackWriter.Options(out, DType.F16,
                PackLayout.BUNDLED, 4096, 1, 0.97, 2, false), ps, false);
        assertFalse(Files.exists(leftover));
        assertTrue(log.toString().contains("left by an interrupted run"), log.toString());
        assertTrue(PackFormat.isPack(out));
    }

    private static int verifyExitCode(Path pack) {
        return verifyExitCode(pack, new StringWriter());
    }

    private static int verifyExitCode(Path pack, StringWriter out) {
        CommandLine cli = new CommandLine(new FlashlmCommand());
        cli.setOut(new PrintWriter(out));
        PrintStream saved = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true));
        try {
            return cli.execute("verify", "--quiet", pack.toString());
        } finally {
            System.setOut(saved);
            out.write(captured.toString());
        }
    }
}
