package dev.lowbit.optim;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A test optimizer whose states count how many of them are open (built and not closed), so a
 * test can see what a load frees. Each state is one float, the step count; a step only bumps it.
 */
public final class CountingOptimizer extends Optimizer {

  private int openStates;

  /** An optimizer with no parameters. */
  public CountingOptimizer() {
    super(new CommonOptions(
        LearningRateSchedule.constant(1f), 0f, 0f, 0f, 1f, NonFinitePolicy.THROW, 1));
  }

  /**
   * States built and not closed yet.
   *
   * @return the count
   */
  public int openStates() {
    return openStates;
  }

  /**
   * Saves {@code opt} with one more tensor than it reads back, so a load of the file fails at its
   * last check, after every state was built.
   *
   * @param opt the optimizer to save
   * @param file where
   * @throws IOException if writing fails
   */
  public static void saveWithAnExtraTensor(Optimizer opt, Path file) throws IOException {
    CheckpointWriter out = new CheckpointWriter();
    opt.writeCheckpoint(out, "");
    out.addFloat32("stray", new long[] {1}, MemorySegment.ofArray(new float[1]));
    out.write(file);
  }

  private final class State implements ParameterState {
    final float[] step = new float[1];
    boolean closed;

    State() {
      openStates++;
    }

    @Override
    public long bytes() {
      return 4;
    }

    @Override
    public String describe() {
      return "{}";
    }

    @Override
    public void write(CheckpointWriter out, String keyPrefix) {
      out.addFloat32(keyPrefix + "step", new long[] {1}, MemorySegment.ofArray(step));
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        openStates--;
      }
    }
  }

  @Override
  protected String type() {
    return "counting";
  }

  @Override
  protected ParameterState newState(Parameter p) {
    return new State();
  }

  @Override
  protected ParameterState readState(
      Parameter p, String description, CheckpointReader in, String keyPrefix)
      throws CheckpointException {
    State s = new State();
    try {
      in.readFloat32(keyPrefix + "step", new long[] {1}, MemorySegment.ofArray(s.step));
    } catch (CheckpointException | RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  @Override
  protected void update(
      Parameter p, ParameterState state, MemorySegment grad, float gradScale, long t) {
    ((State) state).step[0]++;
  }
}
