package dev.lowbit.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lowbit speed}: Quick step-time ratios of the optimizer kernels (the full measurement is the JMH suite). */
@Command(name = "speed", mixinStandardHelpOptions = true, description = "Quick step-time ratios of the optimizer kernels (the full measurement is the JMH suite).")
public final class SpeedCommand implements Callable<Integer> {

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Override
  public Integer call() {
    System.err.println("lowbit speed: not yet available");
    return 2;
  }
}
