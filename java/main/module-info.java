/**
 * flashlm: run a language model whose weights live on flash, under a DRAM budget ("LLM in a flash").
 *
 * <p>Exported: the API an application uses ({@code api}: FlashModel, Session; {@code engine}: the flash
 * engine and its options, budget and statistics) and the types it hands out or takes ({@code model},
 * {@code tokenizer}, {@code sampler}, {@code tensor}, {@code predictor} kinds, {@code io} reader options,
 * {@code nativeabi} for the library's load status). The rest (packs, kernels, caches, planning, the CLI
 * and bench harness) is internal; the CLI runs inside the module. See docs/design.md for the map.
 */
module io.flashlm {
    requires info.picocli;
    requires com.fasterxml.jackson.databind;
    requires jinjava; // chat templates; an automatic module (the jar has no Automatic-Module-Name), named after it
    requires org.apache.commons.lang3; // Jinjava's ForTag hands the loop expression over as a commons-lang3 Pair
    requires java.desktop; // java.beans: Jinjava's expression resolvers (ELResolver) are built on it
    requires jdk.unsupported; // com.sun.nio.file.ExtendedOpenOption.DIRECT for O_DIRECT pack writes

    exports io.flashlm.api;
    exports io.flashlm.engine;
    exports io.flashlm.io;
    exports io.flashlm.model;
    exports io.flashlm.nativeabi;
    exports io.flashlm.predictor;
    exports io.flashlm.sampler;
    exports io.flashlm.tensor;
    exports io.flashlm.tokenizer;

    // picocli builds the commands by reflection; Jackson reads and writes records of these packages.
    opens io.flashlm.cli to info.picocli;
    opens io.flashlm.bench to com.fasterxml.jackson.databind;
    opens io.flashlm.engine to com.fasterxml.jackson.databind;
    opens io.flashlm.format to com.fasterxml.jackson.databind;
    opens io.flashlm.model to com.fasterxml.jackson.databind;
    opens io.flashlm.pack to com.fasterxml.jackson.databind;
    opens io.flashlm.planning to com.fasterxml.jackson.databind;
    opens io.flashlm.predictor to com.fasterxml.jackson.databind;
    opens io.flashlm.synth to com.fasterxml.jackson.databind;
    opens io.flashlm.tokenizer to com.fasterxml.jackson.databind;
    opens io.flashlm.util to com.fasterxml.jackson.databind;
}
