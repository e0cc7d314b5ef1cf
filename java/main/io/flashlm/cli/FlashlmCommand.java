package io.flashlm.cli;

import io.flashlm.nativeabi.NativeLibraryUnavailableException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The flashlm command line: a thin layer over the library. */
@Command(name = "flashlm", mixinStandardHelpOptions = true, version = "flashlm 0.1.0",
        description = "Run large language models from flash under a DRAM budget.",
        subcommands = {GenerateCommand.class, ChatCommand.class, ProbeCommand.class, ConvertCommand.class, SynthCommand.class,
                VerifyCommand.class, CalibrateCommand.class, EvaluateCommand.class, BenchCommand.class,
                DemoCommand.class, CommandLine.HelpCommand.class})
public final class FlashlmCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new FlashlmCommand());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // Expected failures (bad input, I/O errors, missing library) get one clear line, not a trace.
            NativeLibraryUnavailableException noLibrary = libraryCause(e);
            if (noLibrary != null || e instanceof java.io.IOException || e instanceof IllegalArgumentException
                    || e instanceof IllegalStateException) {
                commandLine.getErr().println("flashlm " + commandLine.getCommandName() + ": "
                        + (noLibrary != null ? noLibrary : e).getMessage());
                if (System.getenv("FLASHLM_DEBUG") != null) {
                    e.printStackTrace(commandLine.getErr());
                }
                return 1;
            }
            throw e;
        });
        System.exit(cli.execute(args));
    }

    /** The missing library behind a failure, however deeply wrapped, or null. */
    static NativeLibraryUnavailableException libraryCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NativeLibraryUnavailableException n) {
                return n;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }
}
