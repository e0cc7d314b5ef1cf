package io.flashlm.util;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A description of the machine a benchmark ran on, for reports and JSON. */
public record MachineInfo(String cpu, int cores, long memoryBytes, String kernel, String jdk, String device,
                          String filesystem) {

    public static MachineInfo describe(Path onDevice) {
        String device = "unknown";
        String fs = "unknown";
        if (onDevice != null) {
            try {
                Path existing = Files.exists(onDevice) ? onDevice : onDevice.toAbsolutePath().getParent();
                FileStore store = Files.getFileStore(existing);
                device = store.name();
                fs = store.type();
            } catch (IOException e) {
                device = "unknown (" + e.getMessage() + ")";
            }
        }
        return new MachineInfo(cpuModel(), Runtime.getRuntime().availableProcessors(), memTotal(),
                System.getProperty("os.name") + " " + System.getProperty("os.version"),
                System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"),
                device + rotational(device), fs);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpu);
        m.put("cores", cores);
        m.put("memory_bytes", memoryBytes);
        m.put("kernel", kernel);
        m.put("jdk", jdk);
        m.put("device", device);
        m.put("filesystem", filesystem);
        return m;
    }

    private static String cpuModel() {
        for (String line : readLines("/proc/cpuinfo")) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return System.getProperty("os.arch");
    }

    private static long memTotal() {
        for (String line : readLines("/proc/meminfo")) {
            if (line.startsWith("MemTotal:")) {
                String[] parts = line.trim().split("\\s+");
                return Long.parseLong(parts[1]) * 1024;
            }
        }
        return -1;
    }

    /** " (ssd)" / " (rotational)" from sysfs when the device is a plain block device. */
    private static String rotational(String device) {
        if (!device.startsWith("/dev/")) {
            return "";
        }
        String name = device.substring(5).replaceAll("p?\\d+$", "");
        List<String> v = readLines("/sys/block/" + name + "/queue/rotational");
        return v.isEmpty() ? "" : "1".equals(v.get(0).trim()) ? " (reported rotational)" : " (ssd)";
    }

    private static List<String> readLines(String path) {
        try {
            return Files.readAllLines(Path.of(path));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
