package dev.lowbit.bench;

import dev.lowbit.bench.compare.Candidate;
import dev.lowbit.bench.compare.CompareChart;
import dev.lowbit.bench.compare.CompareReport;
import dev.lowbit.bench.compare.CompareSettings;
import dev.lowbit.bench.compare.ModelKind;
import dev.lowbit.bench.compare.OptimizerCatalog;
import dev.lowbit.bench.compare.OptimizerSummary;
import dev.lowbit.bench.compare.ProgressBar;
import dev.lowbit.bench.compare.RunResult;
import dev.lowbit.bench.compare.TrainingRun;
import dev.lowbit.bench.data.FashionMnist;
import dev.lowbit.bench.data.LabeledImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lowbit compare}: trains a model on Fashion-MNIST through DJL with each optimizer and
 * prints optimizer-state memory, accuracy, loss and step time side by side.
 *
 * <p>The defaults are chosen so the run finishes in a few minutes on two cores: the MLP, one
 * epoch over the first {@value #DEFAULT_TRAIN_LIMIT} training images, one seed. The results page
 * uses {@code --train-limit 0 --epochs 5 --seeds 3}.
 */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description =
        "Train a model on Fashion-MNIST with each optimizer; print memory, accuracy, loss and"
            + " step time side by side.")
public final class CompareCommand implements Callable<Integer> {

  /** Training images used by default (the first N of the training set). */
  static final int DEFAULT_TRAIN_LIMIT = 10_000;

  /**
   * The most seeds a run takes. Each is a whole training run of every optimizer, so more could
   * never finish; near 2^31 the list of seeds alone overflowed the heap before any training.
   */
  static final int MAX_SEEDS = 10_000;

  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      description = "Network: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
      defaultValue = "MLP")
  ModelKind model;

  @Option(
      names = "--optimizers",
      split = ",",
      paramLabel = "NAME",
      description =
          "Optimizers to compare, comma-separated. Default: djl-adam, adamw32, adamw8bit,"
              + " adamw4bit, adamw4bit-factorized, sgdm8bit, shampoo32, shampoo4bit. The"
              + " ablations adamw4bit-m and adamw4bit-v (only that moment in 4 bits) run only"
              + " when named.")
  List<String> optimizers;

  @Option(
      names = "--epochs",
      defaultValue = "1",
      description = "Passes over the training images (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(
      names = "--seeds",
      defaultValue = "1",
      description =
          "Number of seeds per optimizer, at most " + MAX_SEEDS + " (default: ${DEFAULT-VALUE}).")
  int seeds;

  @Option(
      names = "--first-seed",
      defaultValue = "1",
      description =
          "The first seed; the run uses seeds S..S+N-1, so that runs of different seeds can go"
              + " in parallel and their results be pooled (default: ${DEFAULT-VALUE}).")
  int firstSeed;

  @Option(
      names = "--batch-size",
      defaultValue = "128",
      description = "Images per step (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(
      names = "--lr",
      description =
          "Learning rate for every optimizer (default: each optimizer's own, shown in the"
              + " output).")
  Double learningRate;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description =
          "Directory with the four Fashion-MNIST IDX files (plain or .gz). Default: the Debian"
              + " package's copy in /usr/share/datasets/fashion-mnist when installed, else the"
              + " embedded sample.")
  Path data;

  @Option(
      names = "--sample",
      description = "Use the embedded sample even when the full dataset is installed.")
  boolean sample;

  @Option(
      names = "--train-limit",
      defaultValue = "" + DEFAULT_TRAIN_LIMIT,
      description =
          "Use only the first N training images; 0 for all (default: ${DEFAULT-VALUE}).")
  int trainLimit;

  @Option(
      names = "--test-limit",
      defaultValue = "0",
      description = "Use only the first N test images; 0 for all (default: ${DEFAULT-VALUE}).")
  int testLimit;

  @Option(
      names = "--engine-threads",
      defaultValue = "1",
      description =
          "PyTorch intra-op threads, at most the processors the JVM sees (default:"
              + " ${DEFAULT-VALUE}; on a busy machine more threads spin-wait for each other and"
              + " run slower). Only takes effect before the engine first loads in this JVM.")
  int engineThreads;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Option(
      names = "--chart",
      paramLabel = "FILE.png",
      defaultValue = "target/lowbit-compare.png",
      description = "Where to write the chart (default: ${DEFAULT-VALUE}).")
  Path chart;

  @Option(names = "--no-chart", description = "Do not write a chart (not with --chart).")
  boolean noChart;

  /** Creates the command; picocli sets its options from the command line. */
  public CompareCommand() {}

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    checkArguments();
    // Read by DJL's PyTorch engine when it loads; a value the user set with -D wins.
    if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
      System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(engineThreads));
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
    OptimizerCatalog catalog = OptimizerCatalog.standard();
    List<Candidate> candidates =
        catalog.select(optimizers == null ? catalog.defaultNames() : optimizers);

    if (sample && data != null) {
      throw new IllegalArgumentException("--sample and --data exclude each other");
    }
    FashionMnist dataset = sample ? FashionMnist.embeddedSample() : FashionMnist.select(data);
    LabeledImages train = dataset.train().first(trainLimit == 0 ? Integer.MAX_VALUE : trainLimit);
    LabeledImages test = dataset.test().first(testLimit == 0 ? Integer.MAX_VALUE : testLimit);
    TrainingRun run = new TrainingRun(model, epochs, batchSize, train, test);
    checkSteps(run);
    if (!noChart) {
      // Before training, but after every other check: it creates the chart's missing
      // directories, which bad input must not leave behind.
      try {
        CompareChart.checkWritable(chart);
      } catch (IOException e) {
        throw new IllegalArgumentException("--chart " + chart + ": " + e.getMessage());
      }
    }

    PrintWriter announce = json ? err : out;
    announce.printf(
        Locale.ROOT,
        "Data: %s; using %,d training and %,d test images.%n",
        dataset.origin(), train.count(), test.count());
    announce.printf(
        "Model: %s; %d epoch(s) of %d steps, batch size %d, %d seed(s); optimizers: %s.%n",
        model.name().toLowerCase(Locale.ROOT),
        epochs,
        run.stepsPerEpoch(),
        batchSize,
        seeds,
        String.join(", ", candidates.stream().map(Candidate::name).toList()));
    announce.flush();

    boolean terminal = ProgressBar.stderrIsTerminal();
    List<OptimizerSummary> summaries = new ArrayList<>();
    List<String> rates = new ArrayList<>();
    List<Integer> seedList = new ArrayList<>();
    for (int s = 0; s < seeds; s++) {
      seedList.add(firstSeed + s);
    }
    for (Candidate candidate : candidates) {
      double lr = learningRate != null ? learningRate : candidate.defaultLearningRate();
      rates.add(candidate.name() + "=" + lr);
      List<RunResult> runs = new ArrayList<>();
      for (int seed : seedList) {
        runs.add(run.run(candidate, lr, seed, err, terminal));
      }
      summaries.add(OptimizerSummary.of(candidate, runs));
    }
    CompareSettings settings =
        new CompareSettings(
            dataset.origin(),
            train.count(),
            test.count(),
            model.name().toLowerCase(Locale.ROOT),
            summaries.getFirst().parameters(),
            epochs,
            batchSize,
            run.stepsPerEpoch(),
            seedList,
            rates);
    CompareReport report = new CompareReport(settings, summaries);

    if (json) {
      out.println(report.toJson());
    } else {
      out.println();
      out.print(report.toTable());
      out.println();
      out.printf(
          "Test accuracy: mean +- sample standard deviation over %d seed(s), after the last"
              + " epoch. Times: median per step; 'update' is Trainer.step() alone.%n",
          seeds);
      out.println("State bytes: " + stateSources(summaries));
      for (OptimizerSummary s : summaries) {
        for (String failure : s.failures()) {
          out.println(s.optimizer() + " " + failure);
        }
      }
      out.println("Learning rates: " + String.join(", ", rates));
    }
    long steps = (long) epochs * run.stepsPerEpoch();
    for (Candidate candidate : candidates) {
      String note = candidate.shortRunNote(steps, run.stepsPerEpoch());
      if (note != null) {
        announce.println("Note: " + note);
      }
    }
    if (!noChart) {
      out.flush(); // the report is printed even if the chart cannot be written
      try {
        CompareChart.write(report, chart);
      } catch (IOException e) {
        throw new IOException("--chart " + chart + ": " + e.getMessage(), e);
      }
      announce.println("Chart: " + chart.toAbsolutePath());
    }
    out.flush();
    err.flush(); // with --json, the notes and the chart's path went to err
    return 0;
  }

  private void checkArguments() {
    if (epochs < 1) {
      throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
    }
    if (seeds < 1) {
      throw new IllegalArgumentException("--seeds must be at least 1, got " + seeds);
    }
    if (seeds > MAX_SEEDS) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "--seeds must be between 1 and %,d (each seed is a whole training run of every"
                  + " optimizer), got %,d",
              MAX_SEEDS,
              seeds));
    }
    // The last seed, firstSeed + seeds - 1, must be an int (seeds >= 1, so this cannot overflow).
    if (firstSeed < 1 || firstSeed > Integer.MAX_VALUE - seeds + 1) {
      throw new IllegalArgumentException(
          "--first-seed must be at least 1 and leave room for --seeds, got " + firstSeed);
    }
    // More threads than processors only wait for each other, and libgomp aborts the JVM when
    // it cannot allocate a huge count's thread data.
    int processors = Runtime.getRuntime().availableProcessors();
    if (engineThreads < 1 || engineThreads > processors) {
      throw new IllegalArgumentException(
          "--engine-threads must be between 1 and the " + processors
              + " processors the JVM sees, got " + engineThreads);
    }
    if (trainLimit < 0 || testLimit < 0) {
      throw new IllegalArgumentException("--train-limit and --test-limit must not be negative");
    }
    if (learningRate != null && !(learningRate > 0 && Double.isFinite(learningRate))) {
      throw new IllegalArgumentException("--lr must be a positive number, got " + learningRate);
    }
    // --chart has a default, so only the parse result tells whether the user gave it.
    if (noChart && spec.commandLine().getParseResult().hasMatchedOption("--chart")) {
      throw new IllegalArgumentException("--chart and --no-chart exclude each other");
    }
  }

  /**
   * Refuses an {@code --epochs} whose step count the per-step timings (two longs per step) cannot
   * hold: more than an array holds, or more than a quarter of the maximum heap.
   */
  private void checkSteps(TrainingRun run) {
    long steps = (long) epochs * run.stepsPerEpoch();
    long bytes = TrainingRun.BYTES_PER_STEP * steps;
    long heap = Runtime.getRuntime().maxMemory();
    if (steps > TrainingRun.MAX_STEPS || bytes > heap / 4) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "--epochs %d gives %,d training steps (%d per epoch), too many to time: at most"
                  + " %,d fit in a quarter of the maximum heap (%,d MiB)",
              epochs,
              steps,
              run.stepsPerEpoch(),
              Math.min(TrainingRun.MAX_STEPS, heap / 4 / TrainingRun.BYTES_PER_STEP),
              heap >> 20));
    }
  }

  /** "source: a, b; other source: c", listing each way of measuring once. */
  private static String stateSources(List<OptimizerSummary> summaries) {
    java.util.Map<String, List<String>> bySource = new java.util.LinkedHashMap<>();
    for (OptimizerSummary s : summaries) {
      bySource.computeIfAbsent(s.stateBytesSource(), k -> new ArrayList<>()).add(s.optimizer());
    }
    List<String> parts = new ArrayList<>();
    bySource.forEach((source, names) -> parts.add(String.join(", ", names) + ": " + source));
    return String.join("; ", parts) + ".";
  }

}
