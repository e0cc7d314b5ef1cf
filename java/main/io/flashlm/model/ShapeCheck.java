package io.flashlm.model;

import io.flashlm.format.ModelFormatException;
import io.flashlm.format.TensorStore;
import io.flashlm.tensor.Tensor;

import java.util.Arrays;

/** Looks tensors up in a checkpoint and checks that their shapes agree with the model's config. */
final class ShapeCheck {
    private final TensorStore store;

    ShapeCheck(TensorStore store) {
        this.store = store;
    }

    /** The tensor {@code name}, which must have exactly {@code shape}. */
    Tensor get(String name, long... shape) throws ModelFormatException {
        return check(store.tensor(name), shape);
    }

    /** The tensor {@code name} if present (then it must have {@code shape}), else null. */
    Tensor optional(String name, long... shape) throws ModelFormatException {
        return store.contains(name) ? get(name, shape) : null;
    }

    Tensor check(Tensor t, long... shape) throws ModelFormatException {
        // A vector may be stored as [n] or [1, n]; both mean the same.
        long[] actual = t.shape();
        if (shape.length == 1 && actual.length == 2 && actual[0] == 1) {
            actual = new long[]{actual[1]};
        }
        if (!Arrays.equals(actual, shape)) {
            throw new ModelFormatException(store.path(), "tensor '" + t.name() + "'", "shape "
                    + Arrays.toString(t.shape()) + " disagrees with the config, which implies " + Arrays.toString(shape));
        }
        if (!t.data().isNative()) {
            throw new ModelFormatException(store.path(), "tensor '" + t.name() + "'", "is not in native memory");
        }
        return t;
    }
}
