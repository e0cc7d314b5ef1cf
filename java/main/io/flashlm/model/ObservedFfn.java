package io.flashlm.model;

import java.lang.foreign.MemorySegment;

/**
 * A dense FFN with an {@link FfnObserver} between its activation and its down projection: what
 * calibration records and what evaluation masks. Built by {@link FfnObserver#observing}.
 */
public final class ObservedFfn implements FeedForward {
    private final int layer;
    private final DenseMlp inner;
    private final FfnObserver observer;

    public ObservedFfn(int layer, DenseMlp inner, FfnObserver observer) {
        this.layer = layer;
        this.inner = inner;
        this.observer = observer;
    }

    @Override
    public void apply(InferenceState s, MemorySegment x, MemorySegment y) {
        MemorySegment h = inner.activate(s, x);
        observer.observe(layer, x, h);
        inner.project(h, y);
    }

    public DenseMlp inner() {
        return inner;
    }
}
