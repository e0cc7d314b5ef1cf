package io.flashlm.cli;

import io.flashlm.pack.FlashPack;
import io.flashlm.pack.PackVerifier;
import io.flashlm.util.ByteSizes;
import io.flashlm.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** flashlm verify: every checksum of a flash pack. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check a flash pack: the manifest, every file's size, the DRAM part's and tokenizer's checksums"
                + " (as opening does), then every FFN record against its checksum.",
                "Exit status 0 when all is intact, 1 otherwise."})
public final class VerifyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The pack directory.")
    Path dir;

    @Option(names = "--quiet", description = "No progress bar.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        try (FlashPack pack = FlashPack.open(dir)) {
            System.out.printf(Locale.ROOT, "%s: manifest version %d, %s, %s; DRAM part %s and tokenizer intact%n", dir,
                    pack.manifest().version(), pack.manifest().layout().jsonName(),
                    pack.manifest().dtype().name().toLowerCase(Locale.ROOT),
                    ByteSizes.format(pack.manifest().dram().file().size()));
            PackVerifier.Report r = PackVerifier.verify(pack, new Progress("verify", pack.ffnBytes(), System.err,
                    !quiet));
            System.out.printf(Locale.ROOT, "FFN: %d records, %s checked in %.1f s (%.0f MB/s): %s%n", r.units(),
                    ByteSizes.format(r.bytes()), r.seconds(), r.bytes() / 1e6 / Math.max(1e-9, r.seconds()),
                    r.ok() ? "all intact" : r.damagedCount() + " damaged");
            r.damaged().forEach(d -> System.out.println("  damaged: " + d));
            if (r.damagedCount() > r.damaged().size()) {
                System.out.println("  ... and " + (r.damagedCount() - r.damaged().size()) + " more");
            }
            return r.ok() ? 0 : 1;
        }
    }
}
