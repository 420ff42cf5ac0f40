package dev.lowbit.bench;

import dev.lowbit.bench.memory.BuiltInModels;
import dev.lowbit.bench.memory.CoreStateMeasurer;
import dev.lowbit.bench.memory.MemoryReport;
import dev.lowbit.bench.memory.ModelShapes;
import dev.lowbit.bench.memory.OptimizerLayout;
import dev.lowbit.bench.memory.ShapeFile;
import dev.lowbit.bench.memory.StateFormula;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lowbit memory}: the optimizer-state bytes of every optimizer for real model shapes,
 * computed from the state formats' formulas and, for models that fit, measured by allocating the
 * real state in the core optimizers.
 */
@Command(
    name = "memory",
    mixinStandardHelpOptions = true,
    description = {
      "State bytes of every optimizer for real model shapes.",
      "Built-in models: ResNet-50, ViT-B/16, GPT-2 124M and 355M, LLaMA-7B. Each is computed from"
          + " the state formats' formulas and, up to --measure-limit parameters, also measured by"
          + " allocating the real state.",
      "Shape file format (--shapes): one tensor per line, 'NAME SHAPE [COUNT]', SHAPE as sizes"
          + " joined by 'x' (e.g. 'fc1.weight 1024x784'), COUNT repeats the line with '*' in the"
          + " name replaced by the copy's index; '#' starts a comment."
    })
public final class MemoryCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--shapes",
      paramLabel = "FILE",
      description = "Report these shape files instead of the built-in models (repeatable).")
  List<Path> shapeFiles;

  @Option(
      names = "--measure-limit",
      paramLabel = "PARAMS",
      defaultValue = "400000000",
      description =
          "Measure real state only for models with at most this many parameters; 0 computes"
              + " only (default: ${DEFAULT-VALUE}).")
  long measureLimit;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  /** Creates the command; picocli sets its options from the command line. */
  public MemoryCommand() {}

  @Override
  public Integer call() throws IOException {
    if (measureLimit < 0) {
      throw new IllegalArgumentException("--measure-limit must not be negative");
    }
    List<ModelShapes> models = new ArrayList<>();
    if (shapeFiles == null || shapeFiles.isEmpty()) {
      models.addAll(BuiltInModels.all());
    } else {
      for (Path file : shapeFiles) {
        models.add(ShapeFile.read(file));
      }
    }
    MemoryReport report =
        MemoryReport.of(models, StateFormula.all(), new CoreStateMeasurer(), measureLimit);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(report.toJson());
    } else {
      out.print(report.toTable());
      out.println(
          "computed: exact per-tensor formulas (docs/benchmarks.md, Memory); measured: the core"
              + " optimizer's stateBytes() after registering every tensor on native memory.");
      out.println(
          "Shampoo (over float32 AdamW) is measured only while its preconditioners, which live on"
              + " the Java heap, fit in half the free heap (raise it with -Xmx).");
      out.println(
          "Tensors under "
              + OptimizerLayout.MIN_QUANTIZED_ELEMENTS
              + " elements keep float32 state. MiB = 2^20 bytes.");
    }
    out.flush();
    return 0;
  }
}
