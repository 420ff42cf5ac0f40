package dev.lowbit.optim;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.OptimizerKernels;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An optimizer over named float32 parameters held in heap arrays or native memory.
 *
 * <p>Register each parameter once with its shape and values; then call {@link #step(String,
 * MemorySegment)} with its gradient (or {@link #step(Map)} for several at once). Each tensor
 * counts its own steps {@code t} from 1; learning-rate schedules and bias corrections use it.
 *
 * <p><b>Bad input writes nothing.</b> A step first checks the gradient's length and alignment
 * and that it is finite; only then does the kernel run. A rejected step leaves parameters,
 * states and step counts bit-identical. A failed {@link #load(Path)} leaves the optimizer as it
 * was.
 *
 * <p><b>Gradient preprocessing</b>, in order: the rescale factor {@code s}; per-tensor norm
 * clipping ({@code g *= c / ||s g||} when {@code ||s g|| > c}); global-norm clipping over all
 * tensors of one {@link #step(Map)} call (of the per-tensor-clipped gradients); then, inside the
 * kernel, the element-wise clip. The norms fold into one scale factor per tensor; they are
 * computed in double with the kernels' deterministic {@code sumOfSquares}.
 *
 * <p><b>For subclasses</b>: implement {@link #type()}, {@link #newState(Parameter)},
 * {@link #readState}, {@link #update} and optionally {@link #checkStep}, {@link #afterUpdates},
 * {@link #hyperparameters()}, {@link #writeExtra} / {@link #readExtra} for state that is not per
 * parameter, and {@link #moveState} if records of their own follow a parameter's name or
 * values. An optimizer that wraps another (such as Shampoo around its base) includes the inner
 * one's state in its checkpoint with {@link #writeCheckpoint} / {@link #readCheckpoint} and a key
 * prefix.
 *
 * <p>Not thread-safe: call it from one thread at a time (the kernels use worker threads inside
 * one step). A callback made during a step (such as the learning-rate schedule) must not change
 * the optimizer: {@code register}, {@code unregister}, {@code rename}, {@code rebind},
 * {@code load}, {@code step} and {@code close} called then throw an
 * {@link IllegalStateException}.
 */
public abstract class Optimizer implements AutoCloseable {

  private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

  /** Registered parameter with its state and step count. */
  private static final class Entry {
    Parameter parameter;
    ParameterState state;
    long step;

    Entry(Parameter parameter, ParameterState state) {
      this.parameter = parameter;
      this.state = state;
    }
  }

  private final CommonOptions options;
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private long skippedSteps;
  private boolean closed;
  /** True while a step runs: a callback it makes (a schedule) must not change the optimizer. */
  private boolean stepping;

  /**
   * Creates an optimizer with no parameters.
   *
   * @param options the shared options (learning rate, clipping, policy, threads)
   */
  protected Optimizer(CommonOptions options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  /**
   * The shared options.
   *
   * @return the options this optimizer was built with
   */
  public final CommonOptions options() {
    return options;
  }

  // ---------------------------------------------------------------- parameters

  /**
   * Registers a parameter and allocates its fresh (zero) state.
   *
   * @param name a name not registered yet (checkpoint keys are built from it)
   * @param shape the dimensions; the values hold their product in floats
   * @param values the float32 values in native byte order, updated in place by steps; must be
   *     writable and 4-byte aligned, of exactly {@code 4 * product(shape)} bytes, and readable
   *     from other threads unless the optimizer uses one thread
   * @throws IllegalArgumentException if the name is empty or taken, or the shape and values
   *     disagree
   */
  public final void register(String name, long[] shape, MemorySegment values) {
    checkOpen();
    checkIdle("register");
    checkNewName(name, "name");
    Objects.requireNonNull(shape, "shape");
    long length = Parameter.elementCount(name, shape);
    checkValues(name, values, length);
    Parameter p = new Parameter(name, shape, values, length);
    entries.put(name, new Entry(p, newState(p)));
  }

  /**
   * Registers a parameter held in a heap array (see {@link #register(String, long[],
   * MemorySegment)}); the array is updated in place.
   *
   * @param name a name not registered yet
   * @param shape the dimensions
   * @param values exactly {@code product(shape)} floats
   */
  public final void register(String name, long[] shape, float[] values) {
    Objects.requireNonNull(values, "values");
    register(name, shape, MemorySegment.ofArray(values));
  }

  /**
   * Drops a parameter and frees its state. A later {@code register} under the same name starts
   * from fresh state.
   *
   * @param name a registered parameter
   * @throws IllegalArgumentException if it is not registered
   */
  public final void unregister(String name) {
    checkOpen();
    checkIdle("unregister");
    Entry e = require(name);
    entries.remove(name);
    e.state.close();
  }

  /**
   * Re-keys a registered parameter: from now on it is {@code to}, with the same values, state and
   * step count, and keeps its place in the registration order. Steps, checkpoints and every
   * query then behave exactly as if it had been registered as {@code to} from the start (a
   * checkpoint saved afterwards is byte-identical to one from such a run).
   *
   * @param from a registered parameter
   * @param to a non-empty name not registered yet
   * @throws IllegalArgumentException naming the parameter if {@code from} is unknown, {@code to}
   *     is empty or taken, or this optimizer's configuration would give {@code to} other state
   *     formats (a name override); nothing changes
   */
  public final void rename(String from, String to) {
    Entry e = require(from);
    checkIdle("rename");
    try {
      checkNewName(to, "to");
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(
          "cannot rename parameter '" + from + "': " + ex.getMessage(), ex);
    }
    Parameter after = new Parameter(to, e.parameter.shape(), e.parameter.values(),
        e.parameter.length());
    ParameterState kept = moveState(e.parameter, after, e.state);
    // Rebuilt rather than re-put, so the parameter keeps its place in registration order.
    List<Map.Entry<String, Entry>> order = new ArrayList<>(entries.entrySet());
    entries.clear();
    for (Map.Entry<String, Entry> o : order) {
      entries.put(o.getKey().equals(from) ? to : o.getKey(), o.getValue());
    }
    e.parameter = after;
    e.state = kept;
  }

  /**
   * Points a registered parameter at new memory holding the same number of floats (for example
   * when a framework replaced the tensor): its state and step count stay, and later steps update
   * {@code values} in place instead of the old memory, which is no longer touched.
   *
   * @param name a registered parameter
   * @param values its new values, with the same requirements as in {@link #register(String,
   *     long[], MemorySegment)}: writable, 4-byte aligned, exactly {@code 4 * length} bytes
   * @throws IllegalArgumentException naming the parameter if it is unknown or the values do not
   *     fit; nothing changes
   */
  public final void rebind(String name, MemorySegment values) {
    Entry e = require(name);
    checkIdle("rebind");
    checkValues(name, values, e.parameter.length());
    Parameter after = new Parameter(name, e.parameter.shape(), values, e.parameter.length());
    e.state = moveState(e.parameter, after, e.state);
    e.parameter = after;
  }

  /**
   * Points a registered parameter at a heap array (see {@link #rebind(String, MemorySegment)});
   * the array is updated in place from now on.
   *
   * @param name a registered parameter
   * @param values as many floats as the parameter
   */
  public final void rebind(String name, float[] values) {
    Objects.requireNonNull(values, "values");
    rebind(name, MemorySegment.ofArray(values));
  }

  /**
   * The registered parameter names, in registration order.
   *
   * @return an unmodifiable snapshot
   */
  public final Set<String> parameterNames() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(entries.keySet()));
  }

  /**
   * The registered parameter.
   *
   * @param name a registered name
   * @return its shape and values
   */
  public final Parameter parameter(String name) {
    return require(name).parameter;
  }

  /** The state of a registered parameter (for tests in this package). */
  final ParameterState state(String name) {
    return require(name).state;
  }

  /**
   * The number of steps taken by this tensor (its {@code t}); 0 before its first step.
   *
   * @param name a registered parameter
   * @return the step count
   */
  public final long stepCount(String name) {
    return require(name).step;
  }

  /**
   * Tensor steps skipped under {@link NonFinitePolicy#SKIP}, over the optimizer's life.
   *
   * @return the count
   */
  public final long skippedSteps() {
    return skippedSteps;
  }

  /**
   * The exact bytes of optimizer state held, over all parameters.
   *
   * @return the byte count
   */
  public final long stateBytes() {
    long sum = 0;
    for (Entry e : entries.values()) {
      sum += e.state.bytes();
    }
    return sum;
  }

  /**
   * The exact bytes of optimizer state held for one parameter.
   *
   * @param name a registered parameter
   * @return the byte count
   */
  public final long stateBytes(String name) {
    return require(name).state.bytes();
  }

  // ---------------------------------------------------------------- steps

  /**
   * Steps one parameter.
   *
   * @param name a registered parameter
   * @param grad its gradient: as many floats as the parameter, native byte order
   * @throws IllegalArgumentException if the name is unknown or the gradient's size differs
   * @throws NonFiniteGradientException under {@link NonFinitePolicy#THROW} if the gradient holds a
   *     NaN or infinity (nothing is written)
   */
  public final void step(String name, MemorySegment grad) {
    step(Map.of(name, grad));
  }

  /**
   * Steps one parameter with a gradient held in a heap array.
   *
   * @param name a registered parameter
   * @param grad as many floats as the parameter
   */
  public final void step(String name, float[] grad) {
    Objects.requireNonNull(grad, "grad");
    step(name, MemorySegment.ofArray(grad));
  }

  /**
   * Steps every given parameter; global-norm clipping spans all of them. Everything is checked
   * before anything is written: an unknown name, a wrong size or (under THROW) a non-finite
   * gradient leaves every tensor as it was. Tensors step in registration order.
   *
   * @param grads gradient per parameter name
   * @throws IllegalArgumentException if a name is unknown or a size differs
   * @throws NonFiniteGradientException under {@link NonFinitePolicy#THROW}
   */
  public final void step(Map<String, MemorySegment> grads) {
    stepAll(grads, Map.of());
  }

  /**
   * Steps one parameter like {@link #step(String, MemorySegment)} and sets {@code accumulator}
   * to zero: the buffer a framework sums the next gradient into, which must start from zero (DJL
   * clears a weight's gradient after its update). Adam and SGD clear it in the kernels' pass
   * that steps, chunk by chunk right after reading the gradient, which saves a separate pass over
   * it; other optimizers clear it after the step. A step skipped under
   * {@link NonFinitePolicy#SKIP} clears it too (the non-finite sum is dropped). A call that throws
   * writes nothing, {@code accumulator} included.
   *
   * @param name a registered parameter
   * @param grad its gradient: as many floats as the parameter, native byte order
   * @param accumulator as many floats as the parameter, writable; may be {@code grad} itself
   * @throws IllegalArgumentException if the name is unknown, a size differs, or
   *     {@code accumulator} is read-only or overlaps the parameter
   * @throws NonFiniteGradientException under {@link NonFinitePolicy#THROW}
   */
  public final void stepAndZero(String name, MemorySegment grad, MemorySegment accumulator) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(grad, "grad");
    Objects.requireNonNull(accumulator, "accumulator");
    stepAll(Map.of(name, grad), Map.of(name, accumulator));
  }

  /** {@link #step(Map)}, also zeroing {@code clears} (by parameter name) as the steps run. */
  private void stepAll(Map<String, MemorySegment> grads, Map<String, MemorySegment> clears) {
    checkOpen();
    checkIdle("step");
    stepping = true;
    try {
      stepChecked(grads, clears);
    } finally {
      stepping = false;
    }
  }

  /** The body of {@link #stepAll}, run with {@code stepping} set. */
  private void stepChecked(
      Map<String, MemorySegment> grads, Map<String, MemorySegment> clears) {
    Objects.requireNonNull(grads, "grads");
    for (Map.Entry<String, MemorySegment> g : grads.entrySet()) {
      Entry e = require(g.getKey());
      checkFloats("gradient of '" + g.getKey() + "'", g.getValue(), e.parameter.length());
      // Registered memory may have been freed, or be confined to another thread, since.
      checkUsable("parameter '" + g.getKey() + "' values", e.parameter.values());
    }
    for (Map.Entry<String, MemorySegment> c : clears.entrySet()) {
      String what = "gradient accumulator of '" + c.getKey() + "'";
      Parameter p = require(c.getKey()).parameter;
      checkFloats(what, c.getValue(), p.length());
      if (c.getValue().isReadOnly()) {
        throw new IllegalArgumentException(what + " is read-only; it must be writable to clear");
      }
      if (c.getValue().asOverlappingSlice(p.values()).isPresent()) {
        throw new IllegalArgumentException(what + " overlaps the parameter's own values");
      }
    }
    List<Entry> order = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (grads.containsKey(e.parameter.name())) {
        order.add(e);
      }
    }
    OptimizerKernels kernels = Kernels.get();
    boolean[] skip = new boolean[order.size()];
    for (int i = 0; i < order.size(); i++) {
      Parameter p = order.get(i).parameter;
      MemorySegment grad = grads.get(p.name());
      float limit = largestGradient(p);
      long bad = kernels.firstBeyond(grad, p.length(), limit, options.threads());
      if (bad >= 0) {
        if (options.nonFinitePolicy() == NonFinitePolicy.THROW) {
          throw new NonFiniteGradientException(
              p.name(), bad, grad.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, bad), limit);
        }
        skip[i] = true;
      }
    }
    for (int i = 0; i < order.size(); i++) {
      if (!skip[i]) {
        Entry e = order.get(i);
        checkStep(e.parameter, e.state, e.step + 1);
      }
    }
    float[] scales = gradientScales(kernels, order, grads, skip);
    try {
      for (int i = 0; i < order.size(); i++) {
        Entry e = order.get(i);
        MemorySegment clear = clears.get(e.parameter.name());
        if (skip[i]) {
          skippedSteps++;
          if (clear != null) {
            clear.fill((byte) 0);
          }
          continue;
        }
        long t = e.step + 1;
        MemorySegment grad = grads.get(e.parameter.name());
        if (clear == null) {
          update(e.parameter, e.state, grad, scales[i], t);
        } else {
          updateAndZero(e.parameter, e.state, grad, scales[i], t, clear);
        }
        e.step = t;
      }
    } finally {
      afterUpdates();
    }
  }

  /** Rescale times the clipping factors, per tensor (see the class javadoc). */
  private float[] gradientScales(
      OptimizerKernels kernels, List<Entry> order, Map<String, MemorySegment> grads,
      boolean[] skip) {
    float[] scales = new float[order.size()];
    double rescale = options.gradScale();
    boolean tensorClip = options.clipTensorNorm() > 0;
    boolean globalClip = options.clipGlobalNorm() > 0;
    double[] factor = new double[order.size()];
    Arrays.fill(factor, rescale);
    if (tensorClip || globalClip) {
      double total = 0;
      for (int i = 0; i < order.size(); i++) {
        if (skip[i]) {
          continue;
        }
        Parameter p = order.get(i).parameter;
        double norm = rescale
            * Math.sqrt(kernels.sumOfSquares(grads.get(p.name()), p.length(), options.threads()));
        if (tensorClip && norm > options.clipTensorNorm()) {
          factor[i] *= options.clipTensorNorm() / norm;
          norm = options.clipTensorNorm();
        }
        total += norm * norm;
      }
      total = Math.sqrt(total);
      if (globalClip && total > options.clipGlobalNorm()) {
        double g = options.clipGlobalNorm() / total;
        for (int i = 0; i < factor.length; i++) {
          factor[i] *= g;
        }
      }
    }
    for (int i = 0; i < scales.length; i++) {
      scales[i] = (float) factor[i];
    }
    return scales;
  }

  /**
   * The largest magnitude of an element of {@code p}'s gradient a step of this optimizer accepts
   * (by default {@link CommonOptions#largestGradient()}); larger ones, NaN and infinities go to
   * the {@link NonFinitePolicy} before anything is written. An optimizer that hands a transformed
   * gradient to another one returns a limit under which the inner optimizer accepts the result.
   *
   * @param p the parameter
   * @return the limit
   */
  protected float largestGradient(Parameter p) {
    return options.largestGradient();
  }

  /**
   * The learning rate of step {@code t}, checked to be finite and not negative.
   *
   * @param name the parameter, for the error message
   * @param t the step count
   * @return the rate
   * @throws IllegalStateException if the schedule returns an unusable value
   */
  protected final float learningRate(String name, long t) {
    float lr = options.learningRate().at(t);
    if (!(lr >= 0f) || Float.isInfinite(lr)) {
      throw new IllegalStateException(
          "learning-rate schedule returned " + lr + " for step " + t + " of parameter '" + name
              + "'; it must be finite and >= 0");
    }
    return lr;
  }

  // ---------------------------------------------------------------- hooks

  /**
   * A short name of the algorithm written into checkpoints, such as {@code "adamw"}.
   *
   * @return the type name
   */
  protected abstract String type();

  /**
   * Allocates fresh (zero) state for a newly registered parameter.
   *
   * @param p the parameter
   * @return its state, owned by this optimizer from now on
   */
  protected abstract ParameterState newState(Parameter p);

  /**
   * Builds a parameter's state from a checkpoint, checking it against this optimizer's
   * configuration, without touching the current state.
   *
   * @param p the registered parameter (its shape already matches the checkpoint's)
   * @param description what {@link ParameterState#describe()} wrote
   * @param in the checkpoint
   * @param keyPrefix the prefix of the state's tensor keys
   * @return the new state
   * @throws CheckpointException naming the key and the check that failed
   */
  protected abstract ParameterState readState(
      Parameter p, String description, CheckpointReader in, String keyPrefix)
      throws CheckpointException;

  /**
   * Lets a subclass follow {@link #rename} or {@link #rebind}. Called after their own checks and
   * before anything changes, with the parameter as registered ({@code before}) and as it is
   * about to be ({@code after}: another name, or other values; the shape is the same). A
   * subclass that keys records of its own by parameter name, or holds the values, updates them
   * here. To refuse the change it throws (an {@link IllegalArgumentException} naming the
   * parameter) having changed nothing. The default keeps the state as it is.
   *
   * @param before the parameter as registered
   * @param after the parameter as it will be
   * @param state its current state
   * @return the state the parameter keeps: {@code state}, or a replacement (the optimizer then
   *     forgets {@code state} without closing it: the subclass has released it)
   */
  protected ParameterState moveState(Parameter before, Parameter after, ParameterState state) {
    return state;
  }

  /**
   * Checks, before any tensor of a step is written, that step {@code t} can run (for example
   * that the learning rate is usable). The default checks the learning rate.
   *
   * @param p the parameter
   * @param state its state
   * @param t the step about to run
   */
  protected void checkStep(Parameter p, ParameterState state, long t) {
    learningRate(p.name(), t);
  }

  /**
   * Runs one step for one tensor. The gradient has been checked (size, finiteness); this must
   * call the kernels and not loop over elements itself.
   *
   * @param p the parameter
   * @param state its state
   * @param grad its gradient
   * @param gradScale rescale and clipping folded into one factor
   * @param t the tensor's step count for this step, from 1
   */
  protected abstract void update(
      Parameter p, ParameterState state, MemorySegment grad, float gradScale, long t);

  /**
   * Runs one step for one tensor like {@link #update} and sets {@code clear} to zero (see
   * {@link #stepAndZero}). The default calls {@link #update}, then fills {@code clear}; an
   * optimizer whose kernels can clear in the pass that steps overrides it.
   *
   * @param p the parameter
   * @param state its state
   * @param grad its gradient
   * @param gradScale rescale and clipping folded into one factor
   * @param t the tensor's step count for this step, from 1
   * @param clear as many floats as the parameter, writable (it may be {@code grad})
   */
  protected void updateAndZero(
      Parameter p, ParameterState state, MemorySegment grad, float gradScale, long t,
      MemorySegment clear) {
    update(p, state, grad, gradScale, t);
    clear.fill((byte) 0);
  }

  /**
   * Called once at the end of each step call ({@link #step(Map)}, {@link #stepAndZero}, ...),
   * after {@link #update} or {@link #updateAndZero} ran for each tensor stepped (also when one of
   * them threw). An optimizer that hands a call's tensors to an inner optimizer together (Shampoo,
   * so that its base's global-norm clipping spans the call) steps the inner one here. The default
   * does nothing.
   */
  protected void afterUpdates() {}

  /**
   * Hyperparameters written into checkpoints (informational; a load does not require them to
   * match, so a run can resume with another learning rate).
   *
   * @return name to value
   */
  protected Map<String, Object> hyperparameters() {
    Map<String, Object> h = new LinkedHashMap<>();
    LearningRateSchedule lr = options.learningRate();
    h.put("learning_rate", lr instanceof LearningRateSchedule.Constant c
        ? (Object) c.learningRate() : "schedule " + describe(lr));
    h.put("clip_global_norm", options.clipGlobalNorm());
    h.put("clip_tensor_norm", options.clipTensorNorm());
    h.put("clip_value", options.clipValue());
    h.put("rescale_gradient", options.gradScale());
    h.put("non_finite_policy", options.nonFinitePolicy().name());
    return h;
  }

  /**
   * A schedule's own description when its class gives one (the DJL adapter's names the tracker),
   * else its class name: a lambda's {@code toString} is only an address.
   */
  private static String describe(LearningRateSchedule schedule) {
    try {
      boolean describesItself =
          schedule.getClass().getMethod("toString").getDeclaringClass() != Object.class;
      return describesItself ? schedule.toString() : schedule.getClass().getName();
    } catch (NoSuchMethodException e) {
      throw new AssertionError("every class has toString", e);
    }
  }

  /**
   * Adds optimizer-wide (not per-parameter) state to a checkpoint. The default adds nothing.
   *
   * @param out the checkpoint
   * @param prefix the prefix for every key added
   */
  protected void writeExtra(CheckpointWriter out, String prefix) {}

  /**
   * Reads what {@link #writeExtra} wrote, checking everything, and returns it not yet installed
   * (installed only after every other check of the load passed, freed if one fails). The default
   * reads nothing.
   *
   * @param in the checkpoint
   * @param prefix the key prefix
   * @return what was read
   * @throws CheckpointException naming the key and the check that failed
   */
  protected PendingLoad readExtra(CheckpointReader in, String prefix) throws CheckpointException {
    return new PendingLoad(() -> {}, () -> {});
  }

  /**
   * State read from a checkpoint and not in use yet: {@link #install()} swaps it in; otherwise
   * {@link #close()} frees it, leaving the optimizer as it was.
   */
  public static final class PendingLoad implements AutoCloseable {

    private final Runnable install;
    private final Runnable discard;
    private boolean done;

    /**
     * Wraps the two ways a load can end.
     *
     * @param install swaps the read state in (and frees the state it replaces); must not fail
     * @param discard frees the read state
     */
    public PendingLoad(Runnable install, Runnable discard) {
      this.install = Objects.requireNonNull(install, "install");
      this.discard = Objects.requireNonNull(discard, "discard");
    }

    /**
     * Swaps the read state in.
     *
     * @throws IllegalStateException if it was already installed or freed
     */
    public void install() {
      if (done) {
        throw new IllegalStateException("this load was already installed or discarded");
      }
      done = true;
      install.run();
    }

    /** Frees the read state unless it was installed. Idempotent. */
    @Override
    public void close() {
      if (!done) {
        done = true;
        discard.run();
      }
    }
  }

  // ---------------------------------------------------------------- checkpoints

  /**
   * Saves the whole state (per-tensor states, step counts, skipped steps, hyperparameters) as a
   * safetensors file, crash-safely: temporary file, forced to disk, atomic rename. The format is
   * in {@code docs/optimizers.md}.
   *
   * @param path the file to write (replaced if it exists)
   * @throws IOException if writing fails, or the header would be above the 100 MB a load
   *     accepts (then no file is touched)
   */
  public final void save(Path path) throws IOException {
    checkOpen();
    Objects.requireNonNull(path, "path");
    CheckpointWriter out = new CheckpointWriter();
    writeCheckpoint(out, "");
    out.write(path);
  }

  /**
   * Loads a file written by {@link #save(Path)} into this optimizer, whose registered parameters
   * must have the same names and shapes and whose configuration must give the same state formats.
   * Everything is checked before anything changes; the parameter values are not touched.
   *
   * @param path the checkpoint
   * @throws CheckpointException if the file is missing, cannot be read, is damaged or does not
   *     match (the message names the file and says what); the optimizer is unchanged
   */
  public final void load(Path path) throws CheckpointException {
    checkOpen();
    checkIdle("load");
    Objects.requireNonNull(path, "path");
    // Closing the pending load frees what it built unless it was installed.
    try (CheckpointReader in = CheckpointReader.open(path);
        PendingLoad loaded = readCheckpoint(in, "")) {
      in.requireAllRead();
      loaded.install();
    }
  }

  /**
   * The names of the parameters a checkpoint written by {@link #save(Path)} holds state for, in
   * the order they were saved: for a caller that must register exactly those before
   * {@link #load(Path)}. The file gets the checks of a load's first stage (header, every CRC),
   * so it is read once in full; no state is built.
   *
   * @param path the checkpoint
   * @return the parameter names
   * @throws CheckpointException if the file is missing, cannot be read or is damaged
   */
  public static List<String> checkpointParameterNames(Path path) throws CheckpointException {
    Objects.requireNonNull(path, "path");
    try (CheckpointReader in = CheckpointReader.open(path)) {
      return List.copyOf(parseNames(in, "lowbit.parameters"));
    }
  }

  /**
   * Adds this optimizer's whole state to a checkpoint under a key prefix (for optimizers that
   * wrap another one; {@link #save(Path)} uses the prefix {@code ""}).
   *
   * @param out the checkpoint being written
   * @param prefix prepended to every tensor and metadata key
   */
  public void writeCheckpoint(CheckpointWriter out, String prefix) {
    checkOpen();
    out.putMetadata(prefix + "lowbit.optimizer", type());
    out.putMetadata(prefix + "lowbit.hyperparameters", GSON.toJson(hyperparameters()));
    out.putMetadata(prefix + "lowbit.skipped_steps", Long.toString(skippedSteps));
    JsonArray names = new JsonArray();
    for (String n : entries.keySet()) {
      names.add(n);
    }
    out.putMetadata(prefix + "lowbit.parameters", names.toString());
    for (Entry e : entries.values()) {
      JsonObject meta = new JsonObject();
      JsonArray shape = new JsonArray();
      for (long d : e.parameter.shape()) {
        shape.add(d);
      }
      meta.add("shape", shape);
      meta.addProperty("step", e.step);
      meta.add("state", com.google.gson.JsonParser.parseString(e.state.describe()));
      out.putMetadata(prefix + "lowbit.param/" + e.parameter.name(), meta.toString());
      e.state.write(out, prefix + e.parameter.name() + "/");
    }
    writeExtra(out, prefix);
  }

  /**
   * Checks this optimizer's part of a checkpoint (under a key prefix) and builds new state from
   * it, without changing anything. The caller installs the result, or closes it to free the new
   * state (when a later check of the load fails). If this throws, everything built so far is
   * freed.
   *
   * @param in the checkpoint
   * @param prefix the key prefix used when it was written
   * @return the new state, not installed yet
   * @throws CheckpointException naming the key and the check that failed
   */
  public PendingLoad readCheckpoint(CheckpointReader in, String prefix)
      throws CheckpointException {
    checkOpen();
    Path file = in.file();
    String type = in.metadata(prefix + "lowbit.optimizer");
    if (!type.equals(type())) {
      throw new CheckpointException(
          file, "metadata '" + prefix + "lowbit.optimizer': written by a '" + type
              + "' optimizer, this one is '" + type() + "'");
    }
    long skipped = parseCount(file, prefix + "lowbit.skipped_steps",
        in.metadata(prefix + "lowbit.skipped_steps"));
    List<String> names = parseNames(in, prefix + "lowbit.parameters");
    for (String n : names) {
      if (!entries.containsKey(n)) {
        throw new CheckpointException(
            file, "parameter '" + n + "' is in the checkpoint but not registered here");
      }
    }
    for (String n : entries.keySet()) {
      if (!names.contains(n)) {
        throw new CheckpointException(
            file, "parameter '" + n + "' is registered here but not in the checkpoint");
      }
    }
    Map<String, ParameterState> states = new LinkedHashMap<>();
    Map<String, Long> steps = new LinkedHashMap<>();
    try {
      for (String n : names) {
        Entry e = entries.get(n);
        String key = prefix + "lowbit.param/" + n;
        JsonObject meta = in.metadataObject(key);
        long[] shape = parseShape(file, key, meta.get("shape"));
        if (!Arrays.equals(shape, e.parameter.shape())) {
          throw new CheckpointException(
              file, "metadata '" + key + "': shape " + Arrays.toString(shape)
                  + " differs from the registered " + Arrays.toString(e.parameter.shape()));
        }
        JsonElement step = meta.get("step");
        steps.put(n, parseCount(file, key + " step", step == null ? null : step.toString()));
        JsonElement state = meta.get("state");
        if (state == null || !state.isJsonObject()) {
          throw new CheckpointException(file, "metadata '" + key + "': 'state' is missing");
        }
        states.put(n, readState(e.parameter, state.toString(), in, prefix + n + "/"));
      }
      PendingLoad extra = readExtra(in, prefix);
      Runnable install = () -> {
        for (Map.Entry<String, ParameterState> s : states.entrySet()) {
          Entry e = entries.get(s.getKey());
          ParameterState old = e.state;
          e.state = s.getValue();
          e.step = steps.get(s.getKey());
          old.close();
        }
        skippedSteps = skipped;
        extra.install();
      };
      return new PendingLoad(install, () -> {
        extra.close();
        states.values().forEach(ParameterState::close);
      });
    } catch (CheckpointException | RuntimeException ex) {
      states.values().forEach(ParameterState::close);
      throw ex;
    }
  }

  private static long parseCount(Path file, String what, String text) throws CheckpointException {
    try {
      long v = Long.parseLong(Objects.requireNonNull(text));
      // Below Long.MAX_VALUE: the next step (or skip) counts one more, which must not wrap.
      if (v >= 0 && v < Long.MAX_VALUE) {
        return v;
      }
    } catch (NumberFormatException | NullPointerException e) {
      // reported below
    }
    throw new CheckpointException(
        file, what + " is '" + text + "', not a count (0 to " + (Long.MAX_VALUE - 1) + ")");
  }

  private static List<String> parseNames(CheckpointReader in, String key)
      throws CheckpointException {
    String text = in.metadata(key);
    List<String> names = new ArrayList<>();
    try {
      JsonElement e = com.google.gson.JsonParser.parseString(text);
      for (JsonElement n : e.getAsJsonArray()) {
        if (!n.isJsonPrimitive() || !n.getAsJsonPrimitive().isString() || names.contains(
            n.getAsString())) {
          throw new IllegalStateException();
        }
        names.add(n.getAsString());
      }
    } catch (RuntimeException ex) {
      throw new CheckpointException(in.file(), "metadata '" + key + "' is not a list of names");
    }
    return names;
  }

  private static long[] parseShape(Path file, String key, JsonElement e)
      throws CheckpointException {
    try {
      JsonArray a = e.getAsJsonArray();
      long[] shape = new long[a.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = a.get(i).getAsJsonPrimitive().getAsBigDecimal().longValueExact();
      }
      return shape;
    } catch (RuntimeException ex) {
      throw new CheckpointException(
          file, "metadata '" + key + "': shape is not a list of integers");
    }
  }

  // ---------------------------------------------------------------- lifecycle and checks

  /** Frees every parameter's state. The optimizer cannot be used afterwards. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    checkIdle("close");
    closed = true;
    for (Entry e : entries.values()) {
      e.state.close();
    }
    entries.clear();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("optimizer is closed");
    }
  }

  /**
   * Refuses a change made from inside a step (by a learning-rate schedule or another callback):
   * the step holds the parameters and states it is about to write. The schedule runs before any
   * tensor of the call is written, so a step it stops this way writes nothing.
   */
  private void checkIdle(String call) {
    if (stepping) {
      throw new IllegalStateException(
          "cannot " + call + " while a step of this optimizer runs (called from its learning-rate"
              + " schedule or another callback)");
    }
  }

  private Entry require(String name) {
    checkOpen();
    Entry e = entries.get(Objects.requireNonNull(name, "name"));
    if (e == null) {
      throw new IllegalArgumentException("no parameter named '" + name + "' is registered");
    }
    return e;
  }

  /** A name for a new registration: not null, not empty, not registered yet. */
  private void checkNewName(String name, String what) {
    Objects.requireNonNull(name, what);
    if (name.isEmpty()) {
      throw new IllegalArgumentException(what + ": a parameter name must not be empty");
    }
    // Checkpoint keys are UTF-8: a lone surrogate would be saved as '?' and never load back.
    if (!StandardCharsets.UTF_8.newEncoder().canEncode(name)) {
      throw new IllegalArgumentException(
          what + ": parameter name '" + name + "' is not valid Unicode (a lone surrogate)");
    }
    if (entries.containsKey(name)) {
      throw new IllegalArgumentException("parameter '" + name + "' is already registered");
    }
  }

  /** Values a parameter of {@code length} floats can be stepped in: size, alignment, writable. */
  private void checkValues(String name, MemorySegment values, long length) {
    Objects.requireNonNull(values, "values");
    checkFloats("parameter '" + name + "' values", values, length);
    if (values.isReadOnly()) {
      throw new IllegalArgumentException("parameter '" + name + "' values are read-only");
    }
  }

  /** Never started: only asked whether a segment is confined to its owner thread. */
  private static final Thread PROBE = Thread.ofPlatform().unstarted(() -> {});

  private void checkFloats(String what, MemorySegment segment, long length) {
    Objects.requireNonNull(segment, what);
    if (segment.byteSize() != length * 4) {
      throw new IllegalArgumentException(
          what + " has " + segment.byteSize() + " bytes, expected " + length * 4 + " ("
              + length + " floats)");
    }
    if (segment.maxByteAlignment() < 4) {
      throw new IllegalArgumentException(what + " is not aligned to 4 bytes");
    }
    checkUsable(what, segment);
  }

  /**
   * Fails unless this thread, and the kernels' worker threads when there are several, can use
   * the segment now: its arena is open, and it is not confined to another thread.
   */
  private void checkUsable(String what, MemorySegment segment) {
    if (!segment.scope().isAlive()) {
      throw new IllegalArgumentException(what + " was freed: its arena is closed");
    }
    if (!segment.isAccessibleBy(Thread.currentThread())) {
      throw new IllegalArgumentException(
          what + " is confined to another thread (Arena.ofConfined()); step from that thread");
    }
    if (options.threads() > 1 && !segment.isAccessibleBy(PROBE)) {
      throw new IllegalArgumentException(
          what + " is confined to one thread (Arena.ofConfined()); the kernels' worker threads"
              + " must read it: use a shared, global or automatic arena, or threads(1)");
    }
  }
}
