package io.flashlm.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package map of docs/design.md, enforced: no cycles between packages, the native boundary in one
 * package, and the layers below the engine knowing nothing of it. The build fails on a violation.
 */
class ArchitectureTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("io.flashlm");

    @Test
    void packagesHaveNoCycles() {
        slices().matching("io.flashlm.(*)..").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void onlyTheNativeBoundaryLinksToC() {
        noClasses().that().resideOutsideOfPackage("io.flashlm.nativeabi..")
                .should().dependOnClassesThat().haveNameMatching(
                        "java\\.lang\\.foreign\\.(Linker|SymbolLookup|FunctionDescriptor)|io\\.flashlm\\.nativeabi\\.FlashNative")
                .because("downcalls are bound and made in io.flashlm.nativeabi only, behind its checked facades")
                .check(MAIN);
    }

    @Test
    void modelsKnowNothingOfPacksEnginesOrPredictors() {
        noClasses().that().resideInAnyPackage("io.flashlm.model..", "io.flashlm.format..", "io.flashlm.tensor..",
                        "io.flashlm.tokenizer..", "io.flashlm.kernels..", "io.flashlm.nativeabi..")
                .should().dependOnClassesThat().resideInAnyPackage("io.flashlm.pack..", "io.flashlm.engine..",
                        "io.flashlm.predictor..", "io.flashlm.bench..", "io.flashlm.cli..", "io.flashlm.api..")
                .check(MAIN);
    }

    @Test
    void predictorsAndTheEngineNeverNameAConcreteModel() {
        noClasses().that().resideInAnyPackage("io.flashlm.predictor..", "io.flashlm.engine..", "io.flashlm.cache..",
                        "io.flashlm.planning..", "io.flashlm.bench..", "io.flashlm.cli..")
                .should().dependOnClassesThat().haveNameMatching(
                        "io\\.flashlm\\.model\\.(LlamaModel|OptModel|TransformerModel)")
                .because("a layer's FFN is a block chosen at assembly (ModelAssembly); nothing outside the model"
                        + " and the loaders needs to know which architecture it runs")
                .check(MAIN);
    }
}
