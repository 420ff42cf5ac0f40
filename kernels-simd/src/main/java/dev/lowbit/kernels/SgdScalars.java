package dev.lowbit.kernels;

/**
 * The per-step scalars of one SGD-with-momentum step. Kernels apply, per element and in
 * float32, exactly:
 *
 * <pre>
 * g = g * gradScale
 * if (clip &gt; 0)      g = (g &gt; clip) ? clip : (g &lt; -clip) ? -clip : g
 * if (l2Decay != 0)  g = g + l2Decay * p
 * b = firstStep ? g : momentum * b + g
 * p = p - lr * (nesterov ? g + momentum * b : b)
 * </pre>
 *
 * @param lr learning rate
 * @param momentum momentum factor
 * @param nesterov whether to use the Nesterov form
 * @param l2Decay coupled weight decay; 0 for none
 * @param gradScale gradient rescale factor; 1 for none
 * @param clip element-wise gradient clip bound; 0 or less for none
 * @param firstStep true on the tensor's first step, where the buffer is set to g
 */
public record SgdScalars(
    float lr,
    float momentum,
    boolean nesterov,
    float l2Decay,
    float gradScale,
    float clip,
    boolean firstStep) {}
