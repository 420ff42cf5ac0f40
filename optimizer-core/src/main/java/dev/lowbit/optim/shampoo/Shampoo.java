package dev.lowbit.optim.shampoo;

import com.google.gson.JsonParser;
import dev.lowbit.optim.CheckpointException;
import dev.lowbit.optim.CheckpointReader;
import dev.lowbit.optim.CheckpointWriter;
import dev.lowbit.optim.CommonOptions;
import dev.lowbit.optim.Optimizer;
import dev.lowbit.optim.Parameter;
import dev.lowbit.optim.ParameterState;
import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Shampoo ("Shampoo: Preconditioned Stochastic Tensor Optimization"; "4-bit Shampoo for
 * Memory-Efficient Network Training") grafted onto a base optimizer (SGD-momentum or AdamW, with
 * float32, 8-bit or 4-bit state).
 *
 * <p>Each parameter is viewed as a matrix {@code (d0, -1)} after dropping size-1 dimensions and
 * cut into blocks of at most {@code maxPreconditionerDim} per side; for each block gradient
 * \( G \) at the parameter's step \( t \):
 *
 * <p>every \( T_1 \) steps: \( L \leftarrow \beta L + (1 - \beta) G G^T \), \( R \leftarrow \beta
 * R + (1 - \beta) G^T G \)<br>
 * every \( T_2 \) steps: \( L^{-1/4}, R^{-1/4} \) from eigendecompositions, with \( \epsilon \cdot
 * \max \lambda \) added to every eigenvalue \( \lambda \)<br>
 * each step: \( \hat G = L^{-1/4} G R^{-1/4} \), \( \hat G \leftarrow \hat G \cdot \|G\|_F /
 * \|\hat G\|_F \) (grafting), then the base optimizer steps on \( \hat G \).
 *
 * <p>Initially \( L = R = \epsilon I \) and the roots are \( I \). Tensors of rank at most 1 get
 * the base optimizer only. With {@link ShampooPrecision#FOUR_BIT}, each statistic is kept as
 * float32 eigenvalues plus 4-bit eigenvectors and each root as a float32 diagonal plus a 4-bit
 * off-diagonal; see {@code docs/shampoo.md}.
 *
 * <p>The base optimizer does the parameter update, so its learning rate, weight decay, clipping
 * (applied to \( \hat G \), whose norm grafting made equal to \( \|G\| \); a global norm spans
 * every tensor of one step call, as without Shampoo), non-finite policy and threads apply. A
 * gradient that is not finite, or too large (see {@link #largestGradient(Parameter)}), is handled
 * by that policy before any statistic is touched. A statistic or root update that would not be
 * finite is dropped (the last good one is kept) and reported as a {@link PreconditionerFailure}.
 *
 * <pre>{@code
 * Optimizer shampoo = Shampoo.shampoo4bit(Optimizers.adamW4bit().learningRate(1e-3f).build())
 *     .statisticsInterval(100)
 *     .inverseRootInterval(500)
 *     .build();
 * }</pre>
 */
public final class Shampoo extends Optimizer {

  private static final System.Logger LOG = System.getLogger(Shampoo.class.getName());

  private final Optimizer base;
  private final ShampooConfig config;
  private final Consumer<PreconditionerFailure> failureListener;
  /** The installed state per parameter (the core owns them; this only reads them). */
  private final Map<String, ShampooState> live = new HashMap<>();
  /** States built by a load in progress, installed with the base's state by {@link #readExtra}. */
  private final Map<String, ShampooState> pending = new HashMap<>();
  /**
   * The preconditioned gradients of the current step call, when the base clips by global norm:
   * they are stepped together in {@link #afterUpdates}, so that the norm spans the whole call.
   */
  private final Map<String, MemorySegment> together = new LinkedHashMap<>();
  private long preconditionerFailures;
  private boolean closing;

  private Shampoo(Builder b) {
    super(
        new CommonOptions(
            b.base.options().learningRate(),
            0f,
            0f,
            0f,
            1f,
            b.base.options().nonFinitePolicy(),
            b.base.options().threads()));
    this.base = b.base;
    this.config =
        new ShampooConfig(
            b.statisticsInterval,
            b.inverseRootInterval,
            b.beta,
            b.epsilon,
            b.maxPreconditionerDim,
            b.precision,
            b.codeBook);
    this.failureListener = b.failureListener;
  }

  /**
   * A builder around a base optimizer, with the defaults of docs/algorithms.md section 5: T1 = 100,
   * T2 = 500, beta = 0.95, epsilon = 1e-6, blocks of at most 1200, float32 preconditioners.
   *
   * @param base a freshly built optimizer with no parameters; Shampoo owns it from now on
   *     (registers parameters in it and closes it)
   * @return the builder
   */
  public static Builder builder(Optimizer base) {
    return new Builder(base);
  }

  /**
   * 32-bit Shampoo over {@code base}: the preset the {@code compare} command calls
   * {@code shampoo32}.
   *
   * @param base a freshly built base optimizer
   * @return a builder with {@link ShampooPrecision#FP32}
   */
  public static Builder shampoo32(Optimizer base) {
    return builder(base).precision(ShampooPrecision.FP32);
  }

  /**
   * 4-bit Shampoo over {@code base} (linear-square code book): the preset the {@code compare}
   * command calls {@code shampoo4bit}.
   *
   * @param base a freshly built base optimizer
   * @return a builder with {@link ShampooPrecision#FOUR_BIT}
   */
  public static Builder shampoo4bit(Optimizer base) {
    return builder(base).precision(ShampooPrecision.FOUR_BIT);
  }

  /**
   * The base optimizer (read it, for example its step counts; do not register, step or load it
   * directly: Shampoo steps it once per step of its own, and a load refuses a checkpoint whose
   * step counts differ from the base's).
   *
   * @return the base optimizer
   */
  public Optimizer base() {
    return base;
  }

  /**
   * How preconditioners are stored.
   *
   * @return the precision
   */
  public ShampooPrecision precision() {
    return config.precision();
  }

  /**
   * Statistic or root updates dropped because they would not have been finite, over the
   * optimizer's life.
   *
   * @return the count
   */
  public long preconditionerFailures() {
    return preconditionerFailures;
  }

  /**
   * State bytes of one parameter, split into preconditioners, inverse roots and base state.
   *
   * @param name a registered parameter
   * @return the split
   */
  public ShampooMemory memory(String name) {
    stateBytes(name); // checks that the name is registered
    return live.get(name).memory();
  }

  /**
   * State bytes of all parameters, split into preconditioners, inverse roots and base state.
   *
   * @return the split; its {@link ShampooMemory#total()} equals {@link #stateBytes()}
   */
  public ShampooMemory memory() {
    ShampooMemory sum = new ShampooMemory(0, 0, 0);
    for (String name : parameterNames()) {
      sum = sum.plus(live.get(name).memory());
    }
    return sum;
  }

  @Override
  protected String type() {
    return "shampoo";
  }

  @Override
  protected ParameterState newState(Parameter p) {
    ShampooState state = newShampooState(p);
    base.register(p.name(), p.shape(), p.values());
    live.put(p.name(), state);
    return state;
  }

  private ShampooState newShampooState(Parameter p) {
    String name = p.name();
    return new ShampooState(
        name, p.shape(), config, () -> base.stateBytes(name), () -> released(name));
  }

  /**
   * Called when a state is closed. The base registration lives exactly as long as the parameter
   * is registered here: a state replaced by a load is closed while the name stays registered.
   */
  private void released(String name) {
    if (!closing && !parameterNames().contains(name)) {
      live.remove(name);
      base.unregister(name);
    }
  }

  @Override
  protected ParameterState readState(
      Parameter p, String description, CheckpointReader in, String keyPrefix)
      throws CheckpointException {
    ShampooState state = newShampooState(p);
    state.read(description, in, keyPrefix);
    pending.put(p.name(), state);
    return state;
  }

  @Override
  public PendingLoad readCheckpoint(CheckpointReader in, String prefix)
      throws CheckpointException {
    pending.clear();
    try {
      return super.readCheckpoint(in, prefix);
    } finally {
      pending.clear(); // readExtra took them, or the read failed and closed them
    }
  }

  /**
   * Follows {@code rename} and {@code rebind}: the base optimizer's registration moves with the
   * parameter. A state's name is fixed when it is built, so a renamed parameter gets a new state
   * under its new name holding the old one's preconditioners. The base refuses first, if at all,
   * so a refused rename changes nothing.
   */
  @Override
  protected ParameterState moveState(Parameter before, Parameter after, ParameterState state) {
    if (before.name().equals(after.name())) {
      base.rebind(after.name(), after.values());
      return state;
    }
    ShampooState old = (ShampooState) state;
    ShampooState moved = newShampooState(after);
    for (int k = 0; k < old.blocks().size(); k++) {
      for (int side = 0; side < 2; side++) {
        ShampooState.BlockState from = old.blocks().get(k);
        ShampooState.BlockState to = moved.blocks().get(k);
        Map<String, StateArray> arrays = new LinkedHashMap<>();
        for (StateArray a : (side == 0 ? from.left() : from.right()).state()) {
          arrays.put(a.suffix(), a);
        }
        (side == 0 ? to.left() : to.right()).restore(arrays);
      }
    }
    // Not closed if this throws: its close would release the base registration of the new name.
    base.rename(before.name(), after.name());
    live.remove(before.name());
    live.put(after.name(), moved);
    // Still registered under the old name here, so closing it leaves the base alone.
    old.close();
    return moved;
  }

  @Override
  protected void checkStep(Parameter p, ParameterState state, long t) {
    long baseStep = base.stepCount(p.name()) + 1;
    float lr = base.options().learningRate().at(baseStep);
    if (!(lr >= 0f) || Float.isInfinite(lr)) {
      throw new IllegalStateException(
          "base optimizer's learning-rate schedule returned " + lr + " for step " + baseStep
              + " of parameter '" + p.name() + "'; it must be finite and >= 0");
    }
  }

  @Override
  protected void update(
      Parameter p, ParameterState state, MemorySegment grad, float gradScale, long t) {
    ShampooState s = (ShampooState) state;
    boolean globalClip = base.options().clipGlobalNorm() > 0;
    if (!s.preconditioned() && gradScale == 1f && !globalClip) {
      base.step(p.name(), grad);
      return;
    }
    // A copy also when it is not preconditioned: stepAndZero clears grad before afterUpdates.
    float[] g = grad.toArray(ValueLayout.JAVA_FLOAT);
    if (gradScale != 1f) {
      for (int i = 0; i < g.length; i++) {
        g[i] *= gradScale;
      }
    }
    float[] hat = s.preconditioned() ? s.precondition(g, t, options().threads(), this::report) : g;
    if (globalClip) {
      together.put(p.name(), MemorySegment.ofArray(hat));
    } else {
      base.step(p.name(), hat);
    }
  }

  /**
   * The base's limit divided by {@code sqrt(n)}, less 1/1024: then the gradient's norm is within
   * the base's limit, and so is every element of the grafted gradient handed to the base (its
   * norm is the gradient's; the margin covers grafting's rounding, a few float32 ulps). The base's
   * own check can then not fail after the statistics were updated. Unless the base clips element
   * by element (which lifts its limit to "finite"), no Gram product of an accepted gradient
   * overflows float32 either.
   */
  @Override
  protected float largestGradient(Parameter p) {
    double n = Math.max(1, p.length());
    return (float) (base.options().largestGradient() / Math.sqrt(n) * (1 - 0x1p-10));
  }

  /** Steps the base once with every preconditioned gradient of the call held back by update. */
  @Override
  protected void afterUpdates() {
    if (together.isEmpty()) {
      return;
    }
    try {
      base.step(together);
    } finally {
      together.clear();
    }
  }

  private void report(PreconditionerFailure failure) {
    preconditionerFailures++;
    failureListener.accept(failure);
  }

  @Override
  protected Map<String, Object> hyperparameters() {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("precision", config.precision().name());
    h.put("code_book", config.codeBook().name());
    h.put("statistics_interval", config.statisticsInterval());
    h.put("inverse_root_interval", config.inverseRootInterval());
    h.put("beta", config.beta());
    h.put("epsilon", config.epsilon());
    h.put("max_preconditioner_dim", config.maxPreconditionerDim());
    return h;
  }

  @Override
  protected void writeExtra(CheckpointWriter out, String prefix) {
    base.writeCheckpoint(out, prefix + "base/");
  }

  @Override
  protected PendingLoad readExtra(CheckpointReader in, String prefix) throws CheckpointException {
    PendingLoad baseLoad = base.readCheckpoint(in, prefix + "base/");
    try {
      checkStepsMatchTheBase(in, prefix);
    } catch (CheckpointException e) {
      baseLoad.close();
      throw e;
    }
    Map<String, ShampooState> loaded = Map.copyOf(pending);
    // Discarding frees the base's new states; the core frees this optimizer's own.
    return new PendingLoad(() -> {
      baseLoad.install();
      live.putAll(loaded);
    }, baseLoad::close);
  }

  /**
   * Refuses a file in which a parameter's step count differs from its base's. Only Shampoo steps
   * the base, once per step of its own, so the two are equal in every file Shampoo wrote; unequal
   * ones (an edited or spliced file) would run T1/T2 and the base's bias correction and
   * learning-rate schedule out of step. The core has already checked both to be counts.
   */
  private void checkStepsMatchTheBase(CheckpointReader in, String prefix)
      throws CheckpointException {
    for (String name : parameterNames()) {
      String key = prefix + "lowbit.param/" + name;
      String baseKey = prefix + "base/lowbit.param/" + name;
      long own = savedStep(in, key);
      long ofBase = savedStep(in, baseKey);
      if (own != ofBase) {
        throw new CheckpointException(
            in.file(), "parameter '" + name + "': step " + own + " (metadata '" + key
                + "') differs from the base optimizer's step " + ofBase + " (metadata '"
                + baseKey + "'); Shampoo steps its base once per step of its own");
      }
    }
  }

  private static long savedStep(CheckpointReader in, String key) throws CheckpointException {
    return JsonParser.parseString(in.metadata(key)).getAsJsonObject().get("step").getAsLong();
  }

  /** Frees every state, then the base optimizer. */
  @Override
  public void close() {
    closing = true;
    try {
      super.close();
    } finally {
      closing = false; // super.close refuses a close from inside a step, closing nothing
    }
    base.close();
    live.clear();
  }

  /**
   * Builds a {@link Shampoo}. Every setter checks its value at once and throws an
   * {@link IllegalArgumentException} naming the option.
   */
  public static final class Builder {

    private final Optimizer base;
    private int statisticsInterval = 100;
    private int inverseRootInterval = 500;
    private double beta = 0.95;
    private double epsilon = 1e-6;
    private int maxPreconditionerDim = 1200;
    private ShampooPrecision precision = ShampooPrecision.FP32;
    private CodeBook codeBook = CodeBook.LINEAR_SQUARE_SIGNED_4;
    private Consumer<PreconditionerFailure> failureListener =
        f -> LOG.log(System.Logger.Level.WARNING, f.message());

    private Builder(Optimizer base) {
      this.base = Objects.requireNonNull(base, "base");
      if (base instanceof Shampoo) {
        throw new IllegalArgumentException("base must not itself be a Shampoo optimizer");
      }
    }

    /**
     * T1: statistics L and R are updated at the steps {@code t} with {@code t % T1 == 0}.
     *
     * @param steps at least 1 (default 100)
     * @return this builder
     */
    public Builder statisticsInterval(int steps) {
      this.statisticsInterval = positive("statisticsInterval", steps);
      return this;
    }

    /**
     * T2: inverse roots are recomputed at the steps {@code t} with {@code t % T2 == 0} (after
     * that step's statistics update).
     *
     * @param steps at least 1 (default 500)
     * @return this builder
     */
    public Builder inverseRootInterval(int steps) {
      this.inverseRootInterval = positive("inverseRootInterval", steps);
      return this;
    }

    /**
     * The statistics' decay {@code beta}.
     *
     * @param beta in [0, 1) (default 0.95)
     * @return this builder
     */
    public Builder beta(double beta) {
      if (!(beta >= 0 && beta < 1)) {
        throw new IllegalArgumentException("beta must be in [0, 1), got " + beta);
      }
      this.beta = beta;
      return this;
    }

    /**
     * The regularization {@code epsilon}: roots use {@code lambda + epsilon * max(lambda)}, and
     * statistics start at {@code epsilon * I}. 1e-4 is more stable late in training.
     *
     * @param epsilon finite and {@code >= 0} (default 1e-6)
     * @return this builder
     */
    public Builder epsilon(double epsilon) {
      if (!(epsilon >= 0) || Double.isInfinite(epsilon)) {
        throw new IllegalArgumentException("epsilon must be finite and >= 0, got " + epsilon);
      }
      this.epsilon = epsilon;
      return this;
    }

    /**
     * The largest preconditioner order: larger dimensions are split evenly into blocks.
     *
     * @param order at least 1 (default 1200)
     * @return this builder
     */
    public Builder maxPreconditionerDim(int order) {
      this.maxPreconditionerDim = positive("maxPreconditionerDim", order);
      return this;
    }

    /**
     * Float32 or 4-bit preconditioners.
     *
     * @param precision the storage (default {@link ShampooPrecision#FP32})
     * @return this builder
     */
    public Builder precision(ShampooPrecision precision) {
      this.precision = Objects.requireNonNull(precision, "precision");
      return this;
    }

    /**
     * The 4-bit code book for eigenvectors and root off-diagonals (4-bit precision only).
     *
     * @param book a signed 4-bit book (default {@link CodeBook#LINEAR_SQUARE_SIGNED_4};
     *     {@link CodeBook#DE_SIGNED_4} for the paper's ablation)
     * @return this builder
     */
    public Builder codeBook(CodeBook book) {
      Objects.requireNonNull(book, "codeBook");
      if (book.bits() != 4 || !book.signed()) {
        throw new IllegalArgumentException(
            "codeBook must be a signed 4-bit book, got " + book);
      }
      this.codeBook = book;
      return this;
    }

    /**
     * Where dropped (non-finite) preconditioner updates are reported, besides
     * {@link Shampoo#preconditionerFailures()}.
     *
     * @param listener receives each failure (default: a WARNING on the {@code System.Logger}
     *     named after this class)
     * @return this builder
     */
    public Builder onPreconditionerFailure(Consumer<PreconditionerFailure> listener) {
      this.failureListener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the optimizer.
     *
     * @return a new Shampoo optimizer with no parameters registered
     * @throws IllegalStateException if the base optimizer already has parameters
     */
    public Shampoo build() {
      if (!base.parameterNames().isEmpty()) {
        throw new IllegalStateException(
            "base optimizer must have no parameters, it has " + base.parameterNames());
      }
      return new Shampoo(this);
    }

    private static int positive(String option, int value) {
      if (value < 1) {
        throw new IllegalArgumentException(option + " must be >= 1, got " + value);
      }
      return value;
    }
  }
}
