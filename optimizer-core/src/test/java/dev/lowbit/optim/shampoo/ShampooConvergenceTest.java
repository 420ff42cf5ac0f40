package dev.lowbit.optim.shampoo;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.optim.Optimizer;
import dev.lowbit.optim.Optimizers;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Convergence on ill-conditioned problems, full batch, the same learning rate and steps for all
 * three optimizers: 32-bit Shampoo (over float32 AdamW) must end below AdamW, and 4-bit Shampoo
 * (over the same AdamW) within 2% of 32-bit Shampoo's final loss. Numbers and the wider grid are
 * in docs/shampoo.md.
 */
class ShampooConvergenceTest {

  static Optimizer adamW(float lr) {
    return Optimizers.adamW32().learningRate(lr).weightDecay(0f).build();
  }

  static Optimizer shampoo(ShampooPrecision precision, float lr) {
    return Shampoo.builder(adamW(lr))
        .precision(precision)
        .statisticsInterval(10)
        .inverseRootInterval(50)
        .build();
  }

  private static void compare(
      String name, Supplier<Problems.Problem> problem, float lr, int steps) {
    double adam = Problems.train(problem.get(), adamW(lr), steps);
    double full = Problems.train(problem.get(), shampoo(ShampooPrecision.FP32, lr), steps);
    double four = Problems.train(problem.get(), shampoo(ShampooPrecision.FOUR_BIT, lr), steps);
    System.out.printf(
        "%s, lr %s, %d steps: AdamW %.5f, 32-bit Shampoo %.5f, 4-bit Shampoo %.5f (%+.2f%%)%n",
        name, lr, steps, adam, full, four, 100 * (four / full - 1));
    assertTrue(full < adam, name + ": 32-bit Shampoo " + full + " vs AdamW " + adam);
    assertTrue(four <= 1.02 * full, name + ": 4-bit Shampoo " + four + " vs 32-bit " + full);
  }

  /** W of 64 x 128, Hessian condition number 1e4 (rotated), label noise 0.1. */
  @Test
  void leastSquaresWithConditionNumber1e4() {
    compare(
        "least squares", () -> new Problems.LeastSquares(512, 128, 64, 1e4, 0.1, 7), 0.3f, 400);
  }

  /** 16 -> 64 (tanh) -> 4 on 2048 samples of a teacher network, inputs of condition 100. */
  @Test
  void smallMlp() {
    compare("MLP", () -> new Problems.Mlp(2048, 16, 64, 4, 1e2, 0.1, 11), 0.03f, 200);
  }
}
