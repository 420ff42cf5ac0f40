package dev.lowbit.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code lowbit} command: compare, memory, speed and quant-error. */
@Command(
    name = "lowbit",
    mixinStandardHelpOptions = true,
    version = "lowbit 0.1.0",
    description = "Memory-efficient 8- and 4-bit optimizers: compare them, measure their memory and speed.",
    subcommands = {
      CompareCommand.class,
      MemoryCommand.class,
      SpeedCommand.class,
      QuantErrorCommand.class,
      CommandLine.HelpCommand.class
    })
public final class LowBitCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * Runs the command line and exits with its status.
   *
   * @param args the arguments, a subcommand first
   */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * The configured picocli command line, for tests that run a subcommand in process.
   *
   * @return a new command line
   */
  public static CommandLine commandLine() {
    return new CommandLine(new LowBitCli());
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
