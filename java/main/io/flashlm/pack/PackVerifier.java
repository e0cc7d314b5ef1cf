package io.flashlm.pack;

import io.flashlm.util.Progress;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** `flashlm verify`: every FFN unit read back and checked against the layer's checksum file. */
public final class PackVerifier {
    /** How many damaged units a report lists (all are counted). */
    static final int MAX_LISTED = 20;

    /** A unit whose bytes do not match its checksum. */
    public record Damage(int layer, Path file, long neuron, long offset, int expected, int actual) {
        @Override
        public String toString() {
            return "layer " + layer + ", neuron " + neuron + ": " + file.getFileName() + " bytes [" + offset + ", ...)"
                    + " have checksum " + Crc32c.hex(actual) + ", expected " + Crc32c.hex(expected);
        }
    }

    /** @param damaged the first {@link #MAX_LISTED} damaged units; damagedCount counts them all */
    public record Report(long units, long bytes, long damagedCount, List<Damage> damaged, double seconds) {
        public boolean ok() {
            return damagedCount == 0;
        }
    }

    private PackVerifier() {
    }

    public static Report verify(FlashPack pack, Progress progress) throws IOException {
        long start = System.nanoTime();
        FfnGeometry g = pack.ffnGeometry();
        long stride = g.stride();
        int chunk = (int) Math.max(1, (8L << 20) / stride);
        long units = 0;
        long damagedCount = 0;
        List<Damage> damaged = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(chunk * stride, 4096);
            for (int l = 0; l < pack.config().layers(); l++) {
                int[] crcs = pack.unitChecksums(l);
                for (int f = 0; f < g.filesPerLayer(); f++) {
                    Path file = pack.ffnFile(l, f);
                    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                        for (long first = 0; first < g.neurons(); first += chunk) {
                            int count = (int) Math.min(chunk, g.neurons() - first);
                            ByteBuffer bb = buf.asSlice(0, count * stride).asByteBuffer();
                            while (bb.hasRemaining()) {
                                if (ch.read(bb, first * stride + bb.position()) < 0) {
                                    throw new IOException(file + ": ends early, at " + (first * stride + bb.position()));
                                }
                            }
                            for (int k = 0; k < count; k++) {
                                long neuron = first + k;
                                int actual = Crc32c.of(buf.asSlice(k * stride, stride));
                                int expected = crcs[f * g.neurons() + (int) neuron];
                                if (actual != expected) {
                                    damagedCount++;
                                    if (damaged.size() < MAX_LISTED) {
                                        damaged.add(new Damage(l, file, neuron, neuron * stride, expected, actual));
                                    }
                                }
                            }
                            units += count;
                            progress.advance(count * stride);
                        }
                    }
                }
            }
        }
        progress.finish();
        return new Report(units, units * stride, damagedCount, List.copyOf(damaged), (System.nanoTime() - start) / 1e9);
    }
}
