package io.flashlm.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into the words byte-level BPE runs on, applying Hugging Face's Split and ByteLevel
 * pre-tokenizer steps in order; merges never cross a word boundary.
 */
record PreTokenizer(List<Step> steps) {

    /** GPT-2's word pattern; Unicode classes because HF's regex engine treats \s and friends as Unicode. */
    static final Pattern GPT2_PATTERN = compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    sealed interface Step permits Split, ByteLevel {
    }

    /** What happens to the regex matches: kept as words of their own, dropped, or glued to a neighbour. */
    enum Behavior {
        ISOLATED, REMOVED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT
    }

    record Split(Pattern pattern, Behavior behavior) implements Step {
    }

    /** The ByteLevel step: an optional leading space per word, then (optionally) the GPT-2 pattern. */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements Step {
    }

    PreTokenizer {
        steps = List.copyOf(steps);
    }

    /** Compiles a tokenizer.json regex with the Unicode meaning of \s, \w, \d that HF's engine uses. */
    static Pattern compile(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    List<String> split(String text) {
        List<String> words = new ArrayList<>();
        words.add(text);
        for (Step step : steps) {
            List<String> next = new ArrayList<>(words.size() * 2);
            for (String word : words) {
                switch (step) {
                    case Split s -> split(word, s.pattern(), s.behavior(), next);
                    case ByteLevel b -> {
                        String w = b.addPrefixSpace() && !word.startsWith(" ") ? " " + word : word;
                        if (b.useRegex()) {
                            split(w, GPT2_PATTERN, Behavior.ISOLATED, next);
                        } else {
                            next.add(w);
                        }
                    }
                }
            }
            words = next;
        }
        return words;
    }

    private static void split(String text, Pattern pattern, Behavior behavior, List<String> out) {
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            int start = m.start();
            int end = m.end();
            if (start == end) {
                continue; // empty matches split nothing
            }
            switch (behavior) {
                case ISOLATED -> {
                    addIfNotEmpty(text, last, start, out);
                    out.add(text.substring(start, end));
                    last = end;
                }
                case REMOVED -> {
                    addIfNotEmpty(text, last, start, out);
                    last = end;
                }
                case MERGED_WITH_PREVIOUS -> {
                    out.add(text.substring(last, end));
                    last = end;
                }
                case MERGED_WITH_NEXT -> {
                    addIfNotEmpty(text, last, start, out);
                    last = start;
                }
            }
        }
        addIfNotEmpty(text, last, text.length(), out);
    }

    private static void addIfNotEmpty(String text, int from, int to, List<String> out) {
        if (to > from) {
            out.add(text.substring(from, to));
        }
    }
}
