package dev.lowbit.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lowbit memory}: State bytes of every optimizer for real model shapes. */
@Command(name = "memory", mixinStandardHelpOptions = true, description = "State bytes of every optimizer for real model shapes.")
public final class MemoryCommand implements Callable<Integer> {

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Override
  public Integer call() {
    System.err.println("lowbit memory: not yet available");
    return 2;
  }
}
