package io.flashlm.cli;

import io.flashlm.engine.EngineMode;
import io.flashlm.planning.ProbeLocation;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The engine's default probe: --probe, else the pack's device's file in the cache (a temp one here), else none. */
class EngineOptionsMixinTest {
    Path dir;
    String before;

    @BeforeEach
    void setUp() throws IOException {
        dir = TestFiles.newDirectory("mixin");
        before = System.getProperty(ProbeLocation.CACHE_HOME_PROPERTY);
        System.setProperty(ProbeLocation.CACHE_HOME_PROPERTY, dir.resolve("cache").toString());
    }

    @AfterEach
    void cleanUp() throws IOException {
        if (before == null) {
            System.clearProperty(ProbeLocation.CACHE_HOME_PROPERTY);
        } else {
            System.setProperty(ProbeLocation.CACHE_HOME_PROPERTY, before);
        }
        TestFiles.deleteRecursively(dir);
    }

    @Test
    void theCachedProbeOfThePacksDeviceIsTheDefault() throws IOException {
        Path pack = Files.createDirectories(dir.resolve("pack"));
        EngineOptionsMixin mixin = new EngineOptionsMixin();
        mixin.backend = "auto";
        mixin.queueDepth = 32;
        assertEquals(Optional.empty(), mixin.options(EngineMode.FLASH, pack).probe(), "no probe of this device yet");
        Path cached = ProbeLocation.probeFile(pack);
        Files.createDirectories(cached.getParent());
        Files.writeString(cached, "{}");
        assertEquals(Optional.of(cached), mixin.options(EngineMode.FLASH, pack).probe());
        mixin.probe = dir.resolve("mine.json");
        assertEquals(Optional.of(dir.resolve("mine.json")), mixin.options(EngineMode.FLASH, pack).probe(),
                "--probe wins");
    }
}
