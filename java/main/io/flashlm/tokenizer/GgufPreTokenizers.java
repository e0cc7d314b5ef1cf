package io.flashlm.tokenizer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pre-tokenizers a GGUF file names in {@code tokenizer.ggml.pre}, as the reference engine (llama.cpp)
 * defines them: regexes applied in turn, each splitting every piece the previous one left, keeping both the
 * matches and the text between them (Hugging Face's Split with behavior Isolated). Some names also make the
 * tokenizer take a word that is itself in the vocabulary without merging, and add BOS unless
 * {@code tokenizer.ggml.add_bos_token} says otherwise.
 *
 * <p>The regexes are the models' own tokenizer.json ones, written for java.util.regex with Unicode classes
 * ({@link PreTokenizer#compile}). The reference engine's regex lacks GPT-2's final {@code |\s+}; with the text
 * between matches kept that makes no difference, since whitespace that alternative would match is then a
 * piece of its own anyway.
 */
final class GgufPreTokenizers {
    /** What a {@code tokenizer.ggml.pre} name stands for. */
    record Preset(PreTokenizer preTokenizer, boolean ignoreMerges, boolean addBos) {
    }

    static final String DEFAULT = "default";

    /** Llama 3: contractions in either case, digits in runs of at most three, newlines kept with punctuation. */
    static final String LLAMA3_REGEX = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen 2: Llama 3's, but every digit alone. */
    static final String QWEN2_REGEX = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /**
     * Mistral Nemo's "tekken": words split at case changes (camelCase), single digits. This is the
     * tokenizer.json regex; the reference engine's std::regex lacks \p{Lu} and friends and approximates the
     * case classes with ASCII ones, which differs only for non-ASCII letters.
     */
    static final String TEKKEN_REGEX = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*"
            + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** The reference engine's fallback: punctuation runs first, then GPT-2's words, then digit runs cut in threes. */
    static final String DEFAULT_PUNCTUATION_REGEX = "[\\p{P}\\$\\+<=>\\^~\\|]+";

    private static final Map<String, Preset> BY_NAME = new LinkedHashMap<>();

    static {
        Preset gpt2 = preset(false, false, PreTokenizer.GPT2_PATTERN.pattern());
        Preset llama3 = preset(true, true, LLAMA3_REGEX);
        Preset qwen2 = preset(false, false, QWEN2_REGEX);
        Preset smollm = preset(false, false, "\\p{N}", PreTokenizer.GPT2_PATTERN.pattern());
        Preset tekken = preset(true, true, TEKKEN_REGEX);
        // Names the reference engine maps to the same regexes without other differences that matter here.
        BY_NAME.put(DEFAULT, preset(false, false, DEFAULT_PUNCTUATION_REGEX, PreTokenizer.GPT2_PATTERN.pattern(),
                "\\p{N}+", "[0-9][0-9][0-9]"));
        for (String name : List.of("gpt-2", "phi-2", "roberta-bpe", "mpt", "olmo", "jais")) {
            BY_NAME.put(name, gpt2);
        }
        for (String name : List.of("llama-bpe", "llama3", "llama-v3", "falcon3")) {
            BY_NAME.put(name, llama3);
        }
        for (String name : List.of("qwen2", "deepseek-r1-qwen", "megrez", "stablelm2")) {
            BY_NAME.put(name, qwen2);
        }
        for (String name : List.of("smollm", "starcoder", "refact", "command-r", "codeshell", "exaone",
                "minerva-7b")) {
            BY_NAME.put(name, smollm);
        }
        // Mistral Nemo's files say "tekken"; "mistral-nemo" is the model's name for the same pre-tokenizer
        for (String name : List.of("tekken", "mistral-nemo")) {
            BY_NAME.put(name, tekken);
        }
    }

    private GgufPreTokenizers() {
    }

    /** The preset called {@code name}, or null if it is not one of {@link #names()}. */
    static Preset byName(String name) {
        return BY_NAME.get(name);
    }

    /** Every supported name, in a stable order for messages. */
    static Set<String> names() {
        return BY_NAME.keySet();
    }

    private static Preset preset(boolean ignoreMerges, boolean addBos, String... regexes) {
        List<PreTokenizer.Step> steps = Arrays.stream(regexes)
                .map(r -> (PreTokenizer.Step) new PreTokenizer.Split(PreTokenizer.compile(r),
                        PreTokenizer.Behavior.ISOLATED))
                .toList();
        return new Preset(new PreTokenizer(steps), ignoreMerges, addBos);
    }
}
