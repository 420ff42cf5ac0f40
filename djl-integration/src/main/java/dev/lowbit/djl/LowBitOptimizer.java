package dev.lowbit.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import dev.lowbit.optim.NonFiniteGradientException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A DJL {@link Optimizer} whose state LowBit keeps in float32, 8 or 4 bits: change the import and
 * the builder, keep the training code.
 *
 * <pre>{@code
 * Optimizer optimizer = LowBit.adamW8bit().optLearningRateTracker(lr).build();
 * }</pre>
 *
 * <p>Build one with {@link LowBit}. The static {@code adam()}, {@code adamW()}, {@code sgd()} ...
 * this class inherits are DJL's own factories and build DJL's optimizers.
 *
 * <p>Adam and AdamW update the weights using:<br>
 * <br>
 * \( g = rescaleGrad \cdot grad \), clipped by \( clipGrad \) (see {@link Semantics})<br>
 * \( g = g + wd \cdot w \) (Adam: coupled weight decay)<br>
 * \( m = beta1 \cdot m + (1 - beta1) \cdot g \)<br>
 * \( v = beta2 \cdot v + (1 - beta2) \cdot g^2 \)<br>
 * \( w = w - learning\_rate \cdot wd \cdot w \) (AdamW: decoupled weight decay)<br>
 * \( w = w - learning\_rate \cdot \frac{m / (1 - beta1^t)}{\sqrt{v / (1 - beta2^t)} + epsilon}
 * \)<br>
 * <br>
 * and SGD with momentum using \( b = momentum \cdot b + (g + wd \cdot w) \),
 * \( w = w - learning\_rate \cdot b \). {@link Semantics#DJL} puts Adam's epsilon outside the
 * bias correction and clips one-sidedly, as DJL's built-in optimizers do. \( m \), \( v \) and
 * \( b \) are stored in the chosen {@link dev.lowbit.optim.Precision}; all arithmetic is float32.
 *
 * <p>Each (parameter, device) pair DJL updates gets its own state, counted from \( t = 1 \). The
 * update reads and writes contiguous CPU float32 tensors in place (their own memory, no copy)
 * and copies other tensors in and back. After the update, the parameter's gradient is set to zero,
 * as DJL's built-in optimizers do on the PyTorch engine (backward passes add to it).
 *
 * <p>DJL identifies parameters by runtime ids that change every run; {@link #save(Model, Path)}
 * and {@link #load(Model, Path)} key the checkpoint by the model's parameter names instead, in
 * LowBit's safetensors format.
 *
 * <p>Thread-safe: updates run one at a time.
 */
public class LowBitOptimizer extends Optimizer implements AutoCloseable {

  /** A parameter's copy on one device. */
  private record Slot(String parameterId, Device device) {}

  private final Supplier<dev.lowbit.optim.Optimizer> factory;
  private final TrackerSchedule schedule;
  private final Semantics semantics;
  private final boolean clipsItself;
  private final boolean hasOverrides;
  private final Map<String, String> names = new HashMap<>();
  private final Map<String, Device> firstDevice = new HashMap<>();
  private Map<Slot, ParameterBinding> bindings = new LinkedHashMap<>();
  private dev.lowbit.optim.Optimizer core;
  private boolean closed;

  /**
   * Creates an optimizer from a builder; use the factories of {@link LowBit}.
   *
   * @param builder the builder
   * @throws IllegalArgumentException naming the first option that is out of range
   */
  // DJL's Optimizer keeps the weight decay private and offers only the overridable
  // getWeightDecay(), so the constructor must call it; a subclass overriding it sees that call
  // before its own fields are set.
  @SuppressWarnings("this-escape")
  protected LowBitOptimizer(LowBitBuilder<?> builder) {
    super(builder);
    if (clipGrad == 0f || Float.isNaN(clipGrad) || clipGrad == Float.POSITIVE_INFINITY) {
      throw new IllegalArgumentException(
          "optClipGrad must be finite and > 0, or negative to turn clipping off, got " + clipGrad);
    }
    if (!(rescaleGrad > 0f) || Float.isInfinite(rescaleGrad)) {
      throw new IllegalArgumentException(
          "setRescaleGrad must be finite and > 0, got " + rescaleGrad);
    }
    semantics = builder.semantics;
    boolean clips = clipGrad > 0f;
    // DJL's one-sided clip has no kernel form: the adapter rescales and clips the gradient itself.
    clipsItself = clips && semantics == Semantics.DJL;
    hasOverrides = !builder.overrides.isEmpty();
    schedule = new TrackerSchedule(builder.learningRateTracker);
    dev.lowbit.optim.OptimizerBuilder<?> coreBuilder = builder.newCoreBuilder();
    coreBuilder.learningRate(schedule);
    LowBitBuilder.passOn("optWeightDecays", "weightDecay",
        () -> coreBuilder.weightDecay(getWeightDecay()));
    coreBuilder.rescaleGradient(clipsItself ? 1f : rescaleGrad);
    coreBuilder.clipValue(clips && !clipsItself ? clipGrad : 0f);
    coreBuilder.precision(builder.precision);
    LowBitBuilder.passOn("optMinQuantizedSize", "minQuantizedSize",
        () -> coreBuilder.minQuantizedSize(builder.minQuantizedSize));
    for (LowBitBuilder.NameOverride o : builder.overrides) {
      coreBuilder.override(onEveryDevice(o.regex()), o.precision());
    }
    coreBuilder.nonFinitePolicy(builder.nonFinitePolicy);
    if (builder.threads != null) {
      LowBitBuilder.passOn("optThreads", "threads", () -> coreBuilder.threads(builder.threads));
    }
    UnaryOperator<dev.lowbit.optim.Optimizer> wrapper = builder.wrapper();
    this.factory = () -> wrapper.apply(coreBuilder.build());
    this.core = factory.get();
  }

  /**
   * Which core keys an {@code optOverride} regex pins: a parameter's name, and its copies on
   * other devices, keyed {@code name@device}, by the name before the suffix.
   */
  private static Predicate<String> onEveryDevice(String regex) {
    Pattern pattern;
    try {
      pattern = Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "optOverride regex '" + regex + "' is invalid: " + e.getDescription(), e);
    }
    return key -> {
      int device = key.lastIndexOf('@');
      return pattern.matcher(key).matches()
          || (device > 0 && pattern.matcher(key.substring(0, device)).matches());
    };
  }

  // ------------------------------------------------------------------ the update

  /**
   * Updates one parameter on one device with its gradient (see the class description for the
   * rule), then sets the parameter's gradient to zero.
   *
   * @param parameterId DJL's runtime id of the parameter
   * @param weight the parameter's values on one device, updated in place
   * @param grad the gradient (DJL passes the sum over devices)
   * @throws NonFiniteGradientException under {@link dev.lowbit.optim.NonFinitePolicy#THROW}, naming
   *     the parameter and the first bad element; the weight, its state and its gradient are left as
   *     they were
   * @throws IllegalArgumentException if the gradient's shape differs from the weight's, the
   *     weight is not a floating-point tensor that can be written in place, or it replaces an
   *     earlier tensor of the parameter that had another shape (nothing is written)
   * @throws IllegalStateException if the optimizer is closed, the learning-rate tracker gives a
   *     negative or non-finite rate, or {@code optOverride} is set and the parameter's name is not
   *     known yet (see {@link #bind(Model)}; nothing is written)
   */
  @Override
  public synchronized void update(String parameterId, NDArray weight, NDArray grad) {
    checkOpen();
    if (!grad.getShape().equals(weight.getShape())) {
      throw new IllegalArgumentException(
          "gradient of parameter " + label(parameterId, weight) + " has shape " + grad.getShape()
              + ", the weight " + weight.getShape());
    }
    // Copies the engine makes while we look at the tensors land in scratch and die with it.
    try (NDManager scratch = weight.getManager().newSubManager()) {
      weight.tempAttach(scratch);
      grad.tempAttach(scratch);
      ParameterBinding binding = binding(parameterId, weight);
      MemorySegment gradient = gradientValues(grad);
      if (!binding.direct()) {
        TensorMemory.copyOut(weight, binding.values());
      }
      schedule.forParameter(parameterId);
      // Where the weight's gradient is plain CPU memory, the kernels clear it in the pass that
      // steps (DJL passes a copy of it as grad, so it is a second buffer): no separate pass.
      MemorySegment accumulator = TensorMemory.gradientMemory(weight);
      long skippedBefore = core.skippedSteps();
      try {
        if (accumulator != null) {
          core.stepAndZero(binding.key(), gradient, accumulator);
        } else {
          core.step(binding.key(), gradient);
        }
      } catch (NonFiniteGradientException e) {
        // A runtime id means nothing to the user: name the parameter as well as we can.
        throw keyedById(binding, parameterId)
            ? new NonFiniteGradientException(
                description(parameterId, weight), e.index(),
                gradient.getAtIndex(ValueLayout.JAVA_FLOAT, e.index()), e.limit())
            : e;
      } catch (IllegalStateException e) {
        // For example a learning rate the tracker got wrong; the core names the runtime id.
        throw keyedById(binding, parameterId)
            ? new IllegalStateException(e.getMessage().replace(
                "'" + binding.key() + "'", label(parameterId, weight)), e)
            : e;
      }
      // A skipped step must not write back: the staging copy was rounded to float32.
      boolean stepped = core.skippedSteps() == skippedBefore;
      if (!binding.direct() && stepped) {
        TensorMemory.copyIn(binding.values(), weight);
      }
      if (accumulator == null) {
        TensorMemory.zeroGradient(weight);
      }
    }
  }

  /** The gradient the core steps with: DJL's own in place, or a prepared copy. */
  private MemorySegment gradientValues(NDArray grad) {
    NDArray g = grad;
    if (clipsItself) {
      if (rescaleGrad != 1f) {
        g = g.mul(rescaleGrad);
      }
      g = g.minimum(clipGrad);
    }
    MemorySegment own = TensorMemory.ownMemory(g);
    if (own != null) {
      return own;
    }
    MemorySegment copy = MemorySegment.ofArray(new float[Math.toIntExact(g.size())]);
    TensorMemory.copyOut(g, copy);
    return copy;
  }

  /** The binding of this (parameter, device), registering or re-binding it when needed. */
  private ParameterBinding binding(String parameterId, NDArray weight) {
    Slot slot = new Slot(parameterId, weight.getDevice());
    ParameterBinding current = bindings.get(slot);
    if (current != null && current.stillHolds(weight)) {
      return current;
    }
    if (current == null) {
      ParameterBinding fresh =
          ParameterBinding.of(keyFor(slot, weight), weight, label(parameterId, weight));
      core.register(fresh.key(), fresh.shape(), fresh.values());
      bindings.put(slot, fresh);
      return fresh;
    }
    // The tensor (or its storage) was replaced: keep the state, follow the new memory.
    ParameterBinding moved =
        ParameterBinding.of(current.key(), weight, label(parameterId, weight));
    if (!Arrays.equals(moved.shape(), current.shape())) {
      throw new IllegalArgumentException(
          "parameter " + label(parameterId, weight) + " was replaced by a tensor of shape "
              + weight.getShape() + ", its optimizer state is for "
              + Arrays.toString(current.shape()));
    }
    core.rebind(moved.key(), moved.values());
    bindings.put(slot, moved);
    return moved;
  }

  /** The core key of a slot: the parameter's name if known, else DJL's runtime id. */
  private String keyFor(Slot slot, NDArray weight) {
    String name = names.get(slot.parameterId());
    if (name == null && hasOverrides) {
      throw new IllegalStateException(
          "optOverride matches parameter names, but the name of parameter "
              + label(slot.parameterId(), weight) + " is unknown: call bind(model) before "
              + "training");
    }
    String base = name != null ? name : slot.parameterId();
    Device first = firstDevice.computeIfAbsent(slot.parameterId(), id -> slot.device());
    return first.equals(slot.device()) ? base : base + "@" + slot.device();
  }

  /** Whether the binding was registered under DJL's runtime id rather than a name. */
  private static boolean keyedById(ParameterBinding binding, String parameterId) {
    return binding.key().equals(parameterId) || binding.key().startsWith(parameterId + "@");
  }

  /** The parameter as an error message names it: its model name, else what the tensor tells. */
  private String label(String parameterId, NDArray weight) {
    String name = names.get(parameterId);
    if (name != null) {
      return "'" + name + "'";
    }
    String shortName = weight.getName() == null ? "" : "'" + weight.getName() + "' ";
    return shortName + weight.getShape() + " (DJL id " + parameterId + ")";
  }

  /**
   * A parameter keyed by its runtime id described without quotes, for an exception that quotes
   * it itself: {@code weight (4, 3) (DJL id uid-...)}. Such a parameter has no model name ({@code
   * bind} and {@code load} re-key every parameter they name), so only the tensor can tell.
   */
  private static String description(String parameterId, NDArray weight) {
    String shortName = weight.getName() == null ? "" : weight.getName() + " ";
    return shortName + weight.getShape() + " (DJL id " + parameterId + ")";
  }

  // ------------------------------------------------------------------ names and checkpoints

  /**
   * Learns the model's parameter names, so that parameters are known by name: in error messages,
   * in {@link LowBitBuilder#optOverride overrides} (which need it, so call it before training
   * when you use them) and in checkpoints (which work without it). Parameters already registered
   * under DJL's runtime ids are re-keyed to their names, keeping their state and step counts.
   *
   * @param model the model being trained
   * @throws IllegalArgumentException if the model has no block, a parameter name holds other
   *     characters than letters, digits, {@code _}, {@code .} and {@code -}, a name is taken by
   *     another registered parameter, or the optimizer holds state for a parameter that is not
   *     the model's (it trained another model too; nothing changes)
   * @throws IllegalStateException if the optimizer is closed
   */
  public synchronized void bind(Model model) {
    checkOpen();
    Map<String, String> byId = ParameterNames.byId(model);
    checkOnlyThisModel(model, byId);
    keyByName(byId);
    names.putAll(byId);
  }

  /**
   * Saves the optimizer state (moments, step counts, skipped steps, hyperparameters) keyed by the
   * model's parameter names, as LowBit's safetensors checkpoint, crash-safely. Save the model's
   * weights with DJL as usual. Parameters the optimizer knew only by DJL's runtime id are known
   * by their names from now on, as after {@link #bind(Model)}. Every initialized parameter that
   * requires a gradient is in the checkpoint, as {@link #load(Model, Path)} expects: one not
   * updated yet is registered first, with fresh state (step count 0). So is every parameter
   * frozen after it was updated: its state is kept, as in memory, for when it is unfrozen.
   *
   * @param model the model this optimizer trains
   * @param path the file to write (replaced if it exists)
   * @throws IOException if writing fails
   * @throws IllegalArgumentException as {@link #bind(Model)}, or naming a parameter not updated
   *     yet that cannot be updated (see {@link #update})
   * @throws IllegalStateException if the optimizer is closed
   */
  public synchronized void save(Model model, Path path) throws IOException {
    bind(model);
    registerUnseen(model);
    core.save(path);
  }

  /**
   * Refuses a model that lacks a parameter this optimizer holds state for, such as one of
   * another model trained with the same optimizer: {@code save} would write that parameter into
   * the checkpoint (which {@code load} then refuses) and {@code load} would drop its state.
   */
  private void checkOnlyThisModel(Model model, Map<String, String> byId) {
    for (Map.Entry<Slot, ParameterBinding> e : bindings.entrySet()) {
      String id = e.getKey().parameterId();
      if (!byId.containsKey(id)) {
        throw new IllegalArgumentException(
            "the optimizer holds state for parameter '" + e.getValue().key() + "' (DJL id " + id
                + "), which is not a parameter of model '" + model.getName()
                + "': a LowBitOptimizer trains one model, build one per model");
      }
    }
  }

  /**
   * Registers the model's trainable parameters that no update has reached yet (on the device of
   * their array), so that a checkpoint covers the whole model.
   */
  private void registerUnseen(Model model) {
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      Parameter parameter = p.getValue();
      if (!parameter.requiresGradient() || !parameter.isInitialized()) {
        continue;
      }
      NDArray array = parameter.getArray();
      if (bindings.containsKey(new Slot(parameter.getId(), array.getDevice()))) {
        continue;
      }
      try (NDManager scratch = array.getManager().newSubManager()) {
        array.tempAttach(scratch);
        binding(parameter.getId(), array);
      }
    }
  }

  /**
   * Re-keys the core's registrations made under DJL's runtime ids to the model's names (with
   * their state and step counts), all or none: a refused rename undoes the ones before it.
   */
  private void keyByName(Map<String, String> byId) {
    Map<Slot, ParameterBinding> next = new LinkedHashMap<>(bindings);
    List<ParameterBinding[]> done = new ArrayList<>();
    try {
      for (Map.Entry<Slot, ParameterBinding> e : bindings.entrySet()) {
        String id = e.getKey().parameterId();
        String name = byId.get(id);
        ParameterBinding b = e.getValue();
        if (name != null && keyedById(b, id)) {
          // Keeps the "@device" suffix of a parameter's copies on its other devices.
          ParameterBinding named = b.withKey(name + b.key().substring(id.length()));
          core.rename(b.key(), named.key());
          done.add(new ParameterBinding[] {b, named});
          next.put(e.getKey(), named);
        }
      }
    } catch (RuntimeException ex) {
      for (int i = done.size() - 1; i >= 0; i--) {
        core.rename(done.get(i)[1].key(), done.get(i)[0].key());
      }
      throw ex;
    }
    bindings = next;
  }

  /**
   * Loads a checkpoint written by {@link #save(Model, Path)} for this model, whose weights must
   * already be loaded and initialized (call it after {@code trainer.initialize}). Every parameter
   * that requires a gradient must be in the checkpoint with the same shape and state format; a
   * frozen parameter the checkpoint holds (one frozen after it was updated) gets its state back,
   * for when it is unfrozen. On any error the optimizer is left as it was.
   *
   * @param model the model to train
   * @param path the checkpoint
   * @throws IOException if the file cannot be read, is damaged or does not match (the message
   *     says what)
   * @throws IllegalArgumentException naming a parameter that cannot be updated (see
   *     {@link #update}), or if the model has no block, a parameter name that cannot be a key, or
   *     the optimizer holds state for a parameter that is not the model's (see
   *     {@link #bind(Model)})
   * @throws IllegalStateException if a parameter is not initialized, or the optimizer is closed
   */
  public synchronized void load(Model model, Path path) throws IOException {
    checkOpen();
    Map<String, String> byId = ParameterNames.byId(model);
    // A parameter frozen after it was updated keeps its state, and save writes it. Only a model
    // with frozen parameters needs the file's names (reading them reads the whole file once more).
    boolean anyFrozen = model.getBlock().getParameters().stream()
        .anyMatch(p -> !p.getValue().requiresGradient());
    Set<String> saved = anyFrozen
        ? Set.copyOf(dev.lowbit.optim.Optimizer.checkpointParameterNames(path))
        : Set.of();
    Map<Slot, ParameterBinding> next = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      Parameter parameter = p.getValue();
      if (!parameter.requiresGradient() && !saved.contains(p.getKey())) {
        continue;
      }
      if (!parameter.isInitialized()) {
        throw new IllegalStateException(
            "parameter '" + p.getKey() + "' is not initialized: call trainer.initialize first");
      }
      NDArray array = parameter.getArray();
      try (NDManager scratch = array.getManager().newSubManager()) {
        array.tempAttach(scratch);
        next.put(new Slot(parameter.getId(), array.getDevice()),
            ParameterBinding.of(p.getKey(), array, "'" + p.getKey() + "'"));
      }
    }
    checkOnlyThisModel(model, byId);
    replaceCore(next, path);
    names.putAll(byId);
    firstDevice.clear();
    for (Slot slot : next.keySet()) {
      firstDevice.put(slot.parameterId(), slot.device());
    }
  }

  /** Registers the bindings in a fresh core, loads the state file into it, and swaps it in. */
  private void replaceCore(Map<Slot, ParameterBinding> next, Path stateFile) throws IOException {
    dev.lowbit.optim.Optimizer fresh = factory.get();
    try {
      for (ParameterBinding b : next.values()) {
        fresh.register(b.key(), b.shape(), b.values());
      }
      fresh.load(stateFile);
    } catch (IOException | RuntimeException e) {
      fresh.close();
      throw e;
    }
    core.close();
    core = fresh;
    bindings = next;
  }

  // ------------------------------------------------------------------ accounting

  /**
   * The exact bytes of optimizer state held, over all parameters and devices.
   *
   * @return the byte count
   */
  public synchronized long stateBytes() {
    return core.stateBytes();
  }

  /**
   * Parameter steps skipped under {@link dev.lowbit.optim.NonFinitePolicy#SKIP}.
   *
   * @return the count
   */
  public synchronized long skippedSteps() {
    return core.skippedSteps();
  }

  /**
   * Whether each registered (parameter, device) is stepped in its tensor's own memory, by core
   * key; for tests.
   *
   * @return core key to true for in place, false for the copy path
   */
  synchronized Map<String, Boolean> inPlaceByKey() {
    Map<String, Boolean> out = new LinkedHashMap<>();
    for (ParameterBinding b : bindings.values()) {
      out.put(b.key(), b.direct());
    }
    return out;
  }

  /**
   * The worker threads one tensor's step may use ({@code optThreads}, else the core's default).
   *
   * @return 1 or more
   */
  public int threads() {
    return core.options().threads();
  }

  /**
   * The form of the update rule this optimizer follows.
   *
   * @return the semantics
   */
  public Semantics semantics() {
    return semantics;
  }

  /**
   * Sets every gradient of the model to zero: after catching a
   * {@link NonFiniteGradientException}, call it before the next batch, or the gradients of that
   * batch add to the next one (DJL updates, and clears, one parameter at a time: the parameters
   * after the failing one still hold their gradients).
   *
   * @param model the model
   */
  public static void zeroGradients(Model model) {
    List<NDArray> arrays = new ArrayList<>();
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      if (p.getValue().isInitialized() && p.getValue().requiresGradient()) {
        arrays.add(p.getValue().getArray());
      }
    }
    for (NDArray a : arrays) {
      try (NDManager scratch = a.getManager().newSubManager()) {
        a.tempAttach(scratch);
        TensorMemory.zeroGradient(a);
      }
    }
  }

  /**
   * Frees the optimizer state. Afterwards {@code update}, {@code bind}, {@code save} and
   * {@code load} throw an {@link IllegalStateException}; closing again does nothing.
   */
  @Override
  public synchronized void close() {
    closed = true;
    core.close();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("optimizer is closed");
    }
  }
}
