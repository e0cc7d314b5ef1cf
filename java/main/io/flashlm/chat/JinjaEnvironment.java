package io.flashlm.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.javax.el.CompositeELResolver;

/**
 * A Jinjava engine set up as Hugging Face renders chat templates (transformers' ImmutableSandboxedEnvironment
 * with {@code trim_blocks} and {@code lstrip_blocks}): Jinja's operator precedence and whitespace control
 * ({@code {{-}} and {@code {#-}} trim too), {@code raise_exception}, {@code strftime_now}, Python-style
 * {@code tojson}, the {@code items} filter, Python's {@code is iterable} and {@code is sequence}, Python string
 * methods, a {@code for} tag with Jinja's loop filter, and Hugging Face's {@code {% generation %}} block.
 */
final class JinjaEnvironment {
    private JinjaEnvironment() {
    }

    static Jinjava create() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        LegacyOverrides jinjaSemantics = LegacyOverrides.newBuilder()
                .withUseNaturalOperatorPrecedence(true)        // '\n' + x | trim trims x only, as in Jinja
                .withParseWhitespaceControlStrictly(true)
                .withUseTrimmingForNotesAndExpressions(true)   // {{- x }} and {#- #} strip whitespace before them
                .withEvaluateMapKeys(false)                    // {'role': 1}: the key is the string, not a variable
                .withUsePyishObjectMapper(true)                // {{ [1, 'a'] }} prints as Python does, not as Java
                .build();
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(jinjaSemantics)
                .withElResolver(resolver)
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                RaisedException.class, "raise", Object.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                StrftimeNow.class, "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", LoopFilterForTag.FUNCTION,
                LoopFilterForTag.class, "filter", Object.class, String.class, String.class));
        jinjava.getGlobalContext().registerFilter(new ToJsonFilter());
        jinjava.getGlobalContext().registerFilter(new ItemsFilter());
        jinjava.getGlobalContext().registerExpTest(PythonTypeTests.iterable());
        jinjava.getGlobalContext().registerExpTest(PythonTypeTests.sequence());
        jinjava.getGlobalContext().registerTag(new LoopFilterForTag());
        jinjava.getGlobalContext().registerTag(new GenerationTag());
        return jinjava;
    }
}
