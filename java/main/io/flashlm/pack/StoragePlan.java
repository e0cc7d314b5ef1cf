package io.flashlm.pack;

import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * What `convert` stores each tensor as. The target is {@code --dtype}, or when none is given f16 for an
 * unquantized source and q8_0 for a quantized one (its FFN rows in a block type). With a block-type
 * target and without {@code --requantize}:
 * <ul>
 * <li>the FFN's gate and up rows keep the source's type byte for byte when every layer stores them in one
 * block type (a row of a row-major [n_ffn, dim] tensor is contiguous, so it is a record part as it is);
 * <li>DRAM matrices in a block type keep theirs (the dense kernels read every type flashlm loads);
 * <li>the down columns, strided in the source's [dim, n_ffn] rows, are decoded and quantized to the target.
 * </ul>
 * A target of f32 or f16 decodes everything: asking for it means asking for those values.
 *
 * @param rowType    the FFN rows' type
 * @param downType   the down columns' type
 * @param target     the type of everything re-encoded (down columns, and rows and matrices not kept)
 * @param keepBlocks whether DRAM matrices in a block type keep it
 * @param notes      lines for the log that say what was decided and why
 */
record StoragePlan(DType rowType, DType downType, DType target, boolean keepBlocks, List<String> notes) {

    static StoragePlan choose(ConvertSource src, DType requested, boolean requantize) {
        List<String> notes = new ArrayList<>();
        DType sourceRows = src.ffn(0).up().dtype();
        boolean quantizedSource = sourceRows.isQuantized();
        DType target = requested != null ? requested : quantizedSource ? DType.Q8_0 : DType.F16;
        boolean keepBlocks = !requantize && target.isQuantized();
        String mixed = commonRowType(src);
        DType rowType = target;
        if (keepBlocks && mixed == null && quantizedSource) {
            rowType = sourceRows;
            notes.add(String.format(Locale.ROOT, "FFN gate/up rows kept as stored (%s); down columns re-quantized to"
                    + " %s%s", name(rowType), name(target), requested != null ? ""
                    : " (the default for a quantized source: q8_0 adds about 0.5% RMS error to the down weights, small"
                    + " next to a 4- to 6-bit source's own; --dtype q4_k, q5_k or q6_k make smaller records)"));
        } else if (keepBlocks && quantizedSource) {
            notes.add("FFN gate/up rows re-quantized to " + name(target) + ": " + mixed);
        } else if (requantize && quantizedSource) {
            notes.add("every matrix re-quantized to " + name(target) + " (--requantize)");
        }
        if (keepBlocks) {
            TreeSet<String> kept = new TreeSet<>();
            for (ConvertSource.Named t : src.allDramTensors()) {
                if (!PackTensorNames.isVector(t.name()) && t.tensor().dtype().isQuantized()) {
                    kept.add(name(t.tensor().dtype()));
                }
            }
            if (!kept.isEmpty()) {
                notes.add("DRAM matrices kept in their source types " + kept + "; other matrices as "
                        + name(target));
            }
        }
        return new StoragePlan(rowType, target, target, keepBlocks, List.copyOf(notes));
    }

    /**
     * Null when every layer's gate and up rows share one type (else the reason, for the log): a pack has
     * one row type, so rows of several types are re-quantized.
     */
    private static String commonRowType(ConvertSource src) {
        DType first = src.ffn(0).up().dtype();
        for (int l = 0; l < src.config().layers(); l++) {
            ConvertSource.Ffn f = src.ffn(l);
            for (Tensor t : f.gate() != null ? List.of(f.gate(), f.up()) : List.of(f.up())) {
                if (t.dtype() != first) {
                    return "the source's rows are " + name(first) + " in layer 0's up but " + name(t.dtype()) + " in "
                            + t.name() + ", and a pack has one row type";
                }
            }
        }
        if (!PackFormat.isFfnType(first)) {
            return "a pack cannot store rows of " + name(first);
        }
        return null;
    }

    /** The type of a DRAM tensor: f32 for vectors, its own block type when kept, else the target. */
    DType dramType(ConvertSource.Named t) {
        if (PackTensorNames.isVector(t.name())) {
            return DType.F32;
        }
        DType own = t.tensor().dtype();
        return keepBlocks && own.isQuantized() ? own : target;
    }

    private static String name(DType t) {
        return PackFormat.dtypeName(t);
    }
}
