package io.flashlm.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts text at literal occurrences of special/added tokens, which must be matched before any normalization
 * or pre-tokenization (else "</s>" would be split into "</", "s", ">"). Leftmost match wins, the longest
 * one at that position, as Hugging Face's added-token matcher does.
 */
public final class SpecialTokenSplitter {

    /** A literal token: {@code lstrip}/{@code rstrip} also swallow whitespace on that side, {@code singleWord}
     * only matches when not inside a word. */
    public record Literal(String content, int id, boolean lstrip, boolean rstrip, boolean singleWord) {
        public Literal {
            if (content.isEmpty()) {
                throw new IllegalArgumentException("empty special token content for id " + id);
            }
        }
    }

    /** A piece of the input: plain text to tokenize, or one special token. */
    public sealed interface Segment permits Text, Special {
    }

    public record Text(String text, int start) implements Segment {
    }

    public record Special(int id) implements Segment {
    }

    static final SpecialTokenSplitter NONE = new SpecialTokenSplitter(List.of());

    private final Map<Character, List<Literal>> byFirstChar = new HashMap<>();

    public SpecialTokenSplitter(List<Literal> literals) {
        for (Literal literal : literals) {
            byFirstChar.computeIfAbsent(literal.content().charAt(0), c -> new ArrayList<>()).add(literal);
        }
        for (List<Literal> list : byFirstChar.values()) {
            list.sort(Comparator.comparingInt((Literal l) -> l.content().length()).reversed());
        }
    }

    public boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    public List<Segment> split(String text) {
        List<Segment> out = new ArrayList<>();
        if (byFirstChar.isEmpty()) {
            if (!text.isEmpty()) {
                out.add(new Text(text, 0));
            }
            return out;
        }
        int textStart = 0;
        int i = 0;
        while (i < text.length()) {
            Literal match = matchAt(text, i);
            if (match == null) {
                i++;
                continue;
            }
            int start = i;
            int end = i + match.content().length();
            if (match.lstrip()) {
                while (start > textStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (match.rstrip()) {
                while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            if (start > textStart) {
                out.add(new Text(text.substring(textStart, start), textStart));
            }
            out.add(new Special(match.id()));
            textStart = end;
            i = end;
        }
        if (textStart < text.length()) {
            out.add(new Text(text.substring(textStart), textStart));
        }
        return out;
    }

    private Literal matchAt(String text, int i) {
        List<Literal> candidates = byFirstChar.get(text.charAt(i));
        if (candidates == null) {
            return null;
        }
        for (Literal literal : candidates) {
            String c = literal.content();
            if (text.startsWith(c, i)
                    && (!literal.singleWord() || (!isWordChar(text, i - 1) && !isWordChar(text, i + c.length())))) {
                return literal;
            }
        }
        return null;
    }

    private static boolean isWordChar(String text, int index) {
        if (index < 0 || index >= text.length()) {
            return false;
        }
        char c = text.charAt(index);
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
