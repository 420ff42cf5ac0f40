package dev.lowbit.kernels;

/**
 * The per-step scalars of one Adam/AdamW step, precomputed by the optimizer. Kernels apply, per
 * element and in float32, exactly:
 *
 * <pre>
 * g = g * gradScale
 * if (clip &gt; 0)       g = (g &gt; clip) ? clip : (g &lt; -clip) ? -clip : g
 * if (l2Decay != 0)   g = g + l2Decay * p
 * m = beta1 * m + (1 - beta1) * g
 * v = beta2 * v + (1 - beta2) * (g * g)
 * denom = (float) Math.sqrt(v) * vScale + eps
 * p = (p - decoupledDecay * p) - (stepSize * m) / denom
 * </pre>
 *
 * where {@code (1 - beta1)} and {@code (1 - beta2)} are computed once in float. Textbook Adam at
 * step t: {@code stepSize = lr / (1 - beta1^t)}, {@code vScale = 1 / sqrt(1 - beta2^t)}. DJL's
 * built-in Adam (epsilon outside the bias correction):
 * {@code stepSize = lr * sqrt(1 - beta2^t) / (1 - beta1^t)}, {@code vScale = 1}. AdamW:
 * {@code decoupledDecay = lr * wd}; Adam with L2: {@code l2Decay = wd}. The parameter update uses
 * the fresh float32 m and v, never their quantized copies.
 *
 * @param beta1 first-moment decay
 * @param beta2 second-moment decay
 * @param stepSize learning rate with the first-moment bias correction folded in
 * @param vScale multiplier of {@code sqrt(v)} (the second-moment bias correction)
 * @param eps added to the denominator
 * @param decoupledDecay AdamW's {@code lr * wd}; 0 for none
 * @param l2Decay coupled (L2) weight decay added to the gradient; 0 for none
 * @param gradScale gradient rescale factor (DJL's {@code rescaleGrad}); 1 for none
 * @param clip element-wise gradient clip bound (DJL's {@code clipGrad}); 0 or less for none
 */
public record AdamScalars(
    float beta1,
    float beta2,
    float stepSize,
    float vScale,
    float eps,
    float decoupledDecay,
    float l2Decay,
    float gradScale,
    float clip) {}
