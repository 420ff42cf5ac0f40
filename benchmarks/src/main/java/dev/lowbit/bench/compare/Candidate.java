package dev.lowbit.bench.compare;

import ai.djl.training.optimizer.Optimizer;
import java.util.function.DoubleFunction;
import java.util.function.ToLongFunction;

/**
 * One optimizer {@code lowbit compare} can train with.
 *
 * @param name the stable name used on the command line and in the output
 * @param description what it is, one line
 * @param defaultLearningRate the learning rate used when {@code --lr} is not given
 * @param factory makes a fresh optimizer for one run from a learning rate
 * @param stateBytes reads the optimizer-state bytes of an optimizer after training
 * @param stateBytesSource how {@code stateBytes} gets its number, for the output
 * @param inDefaultRun whether {@code lowbit compare} runs it when {@code --optimizers} is not
 *     given (false for optimizers too slow for the default run's time budget)
 */
public record Candidate(
    String name,
    String description,
    double defaultLearningRate,
    DoubleFunction<Optimizer> factory,
    ToLongFunction<Optimizer> stateBytes,
    String stateBytesSource,
    boolean inDefaultRun) {}
