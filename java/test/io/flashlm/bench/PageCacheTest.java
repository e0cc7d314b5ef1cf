package io.flashlm.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dropping the page cache reports what happened instead of throwing (it needs root). */
class PageCacheTest {
    @Test
    void cachedBytesIsReadFromMeminfo() {
        assertTrue(PageCache.cachedBytes() > 0, "Cached: in /proc/meminfo");
    }

    @Test
    void dropReportsWhatHappened() {
        PageCache.DropResult r = PageCache.drop();
        assertNotNull(r.reason());
        if (!r.dropped()) {
            assertFalse(r.reason().isEmpty(), "a failed drop says why");
        }
        assertTrue(r.cachedBeforeBytes() > 0 && r.cachedAfterBytes() > 0, r.toString());
        assertFalse(r.toString().isEmpty());
    }
}
