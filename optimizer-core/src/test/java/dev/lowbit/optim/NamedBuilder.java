package dev.lowbit.optim;

import java.util.function.Supplier;

/**
 * An optimizer configuration for parameterized tests: a fresh builder each time, shown by name in
 * the test report.
 *
 * @param name the name shown in the report
 * @param builder makes a fresh builder of the configuration
 */
record NamedBuilder(String name, Supplier<OptimizerBuilder<?>> builder) {
  @Override
  public String toString() {
    return name;
  }
}
