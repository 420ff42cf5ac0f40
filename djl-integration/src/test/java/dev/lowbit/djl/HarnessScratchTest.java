package dev.lowbit.djl;

import ai.djl.training.optimizer.Optimizer;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HarnessScratchTest {
  @Test
  void run() {
    long t0 = System.nanoTime();
    try (TinyMlp a = new TinyMlp(Optimizer.adam().build(), 1)) {
      for (int s = 0; s < 200; s++) {
        float l = a.train(s);
        if (s % 40 == 0) System.out.println("step " + s + " loss " + l);
      }
      System.out.println("full " + a.fullLoss() + " params " + a.weights().keySet());
    }
    System.out.println("ms " + (System.nanoTime() - t0) / 1e6);
  }
}
