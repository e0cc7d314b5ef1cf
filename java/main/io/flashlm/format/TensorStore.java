package io.flashlm.format;

import io.flashlm.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;

/** Named tensors of one checkpoint, as views of the mapped file(s). */
public interface TensorStore {
    /** The file or directory the tensors come from (named in errors). */
    Path path();

    /** Every readable tensor by name, in file order; unmodifiable. */
    Map<String, Tensor> tensors();

    default boolean contains(String name) {
        return tensors().containsKey(name);
    }

    /** The tensor {@code name}; a missing one is a format error that names the file and the tensor. */
    default Tensor tensor(String name) throws ModelFormatException {
        Tensor t = tensors().get(name);
        if (t == null) {
            throw missing(path(), name, tensors());
        }
        return t;
    }

    /** The error for a tensor that is not in {@code tensors}, with a few names that are. */
    static ModelFormatException missing(Path path, String name, Map<String, Tensor> tensors) {
        String some = tensors.keySet().stream().limit(6).collect(Collectors.joining(", "));
        return new ModelFormatException(path, "tensor '" + name + "'", "not present; the checkpoint has "
                + tensors.size() + " tensors" + (tensors.isEmpty() ? "" : " (" + some + (tensors.size() > 6 ? ", ..." : "") + ")"));
    }
}
