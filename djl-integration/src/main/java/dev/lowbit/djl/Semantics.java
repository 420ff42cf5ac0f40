package dev.lowbit.djl;

/**
 * Which form of the update rule a {@link LowBitOptimizer} follows where DJL's built-in optimizers
 * (on the PyTorch engine) differ from the textbook formulas. See {@code docs/djl.md} for the
 * full table.
 */
public enum Semantics {

  /**
   * The formulas of the papers and of {@code torch.optim}: Adam's epsilon inside the bias
   * correction, \( p \leftarrow p - lr \cdot \hat{m} / (\sqrt{\hat{v}} + \epsilon) \) with
   * \( \hat{m} = m / (1 - \beta_1^t) \), \( \hat{v} = v / (1 - \beta_2^t) \); {@code clipGrad}
   * clips every gradient element to \( [-clipGrad, clipGrad] \), as DJL's javadoc describes it.
   * The default.
   */
  TEXTBOOK,

  /**
   * What DJL's built-in {@code Adam}, {@code AdamW} and {@code Sgd} compute on the PyTorch
   * engine: Adam's epsilon outside the bias correction,
   * \( p \leftarrow p - lr \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \cdot \frac{m}{\sqrt{v} +
   * \epsilon} \); {@code clipGrad} only caps the gradient from above,
   * \( g \leftarrow \min(rescaleGrad \cdot g, clipGrad) \). With float32 state this reproduces
   * DJL's optimizer to float rounding.
   */
  DJL
}
