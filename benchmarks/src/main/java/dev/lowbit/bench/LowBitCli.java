package dev.lowbit.bench;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code lowbit} command: compare, memory, speed and quant-error. */
@Command(
    name = "lowbit",
    mixinStandardHelpOptions = true,
    version = "lowbit 0.1.0",
    description =
        "Memory-efficient 8- and 4-bit optimizers: compare them, measure their memory and speed.",
    subcommands = {
      CompareCommand.class,
      MemoryCommand.class,
      SpeedCommand.class,
      QuantErrorCommand.class,
      CommandLine.HelpCommand.class
    })
public final class LowBitCli implements Runnable {

  /** Exit status when the user's input (an option, a data file) is at fault. */
  static final int BAD_INPUT = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Creates the top-level command; picocli runs its subcommands. */
  public LowBitCli() {}

  /**
   * Runs the command line and exits with its status.
   *
   * @param args the arguments, a subcommand first
   */
  public static void main(String[] args) {
    // DJL logs through SLF4J; with no logging backend on the class path SLF4J would print a
    // three-line warning on every run. Choose its silent provider unless the user chose one.
    if (System.getProperty("slf4j.provider") == null) {
      System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
      System.setProperty("slf4j.internal.verbosity", "WARN");
    }
    System.exit(commandLine().execute(args));
  }

  /**
   * The configured picocli command line, for tests that run a subcommand in process. Option
   * values that name enums are case-insensitive; bad input (an option picocli or the subcommand
   * refuses, an {@link IllegalArgumentException} or {@link java.io.IOException} from the
   * subcommand: a file) is reported in the same form, one line naming the command and then a
   * pointer to its help, with exit status 2, instead of a stack trace or the whole usage text.
   *
   * @return a new command line
   */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new LowBitCli());
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine commandLine = e.getCommandLine();
          PrintWriter err = commandLine.getErr();
          err.println(errorLine(commandLine, e.getMessage()));
          CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
          err.println("Try '" + commandLine.getCommandSpec().qualifiedName() + " --help'.");
          err.flush();
          return BAD_INPUT;
        });
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof IllegalArgumentException || e instanceof java.io.IOException) {
            commandLine.getErr().println(errorLine(commandLine, e.getMessage()));
            commandLine.getErr().flush();
            return BAD_INPUT;
          }
          throw e;
        });
    return cli;
  }

  /** {@code lowbit <command>: error: <message>}, the one form of every bad-input report. */
  private static String errorLine(CommandLine commandLine, String message) {
    return commandLine.getCommandSpec().qualifiedName() + ": error: " + message;
  }

  /** Without a subcommand: prints the usage text to the command's writer. */
  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut()); // usage(PrintWriter) flushes it
  }
}
