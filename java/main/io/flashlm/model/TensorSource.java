package io.flashlm.model;

import io.flashlm.format.ModelFormatException;
import io.flashlm.format.TensorStore;
import io.flashlm.tensor.Tensor;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint's tensors with a few renamed or replaced (a loader's view of a layout it rearranges, such as
 * Falcon's fused query_key_value); errors still name the checkpoint.
 */
final class TensorSource implements TensorStore {
    private final TensorStore base;
    private final Map<String, Tensor> tensors;

    TensorSource(TensorStore base) {
        this.base = base;
        this.tensors = new LinkedHashMap<>(base.tensors());
    }

    /** The tensor {@code from} is known as {@code to} (and no longer as from). */
    void rename(String from, String to) throws ModelFormatException {
        tensors.put(to, tensor(from));
        tensors.remove(from);
    }

    /** {@code name} now refers to {@code t}. */
    void replace(String name, Tensor t) {
        tensors.put(name, t);
    }

    @Override
    public Path path() {
        return base.path();
    }

    @Override
    public Map<String, Tensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }
}
