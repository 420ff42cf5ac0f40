package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The scalar reference against the contract, plus checks that need no second implementation. */
class ScalarKernelsTest extends KernelContractTest {

  @Override
  OptimizerKernels kernels() {
    return Kernels.scalar();
  }

  @Test
  void float32AdamWMatchesADoublePrecisionAdamW() {
    int n = 4097;
    Data d = new Data(n, 5);
    float lr = 1e-3f;
    float wd = 0.01f;
    float[] p = d.param.clone();
    float[] m = new float[n];
    float[] v = new float[n];
    double[] pd = new double[n];
    double[] md = new double[n];
    double[] vd = new double[n];
    for (int i = 0; i < n; i++) {
      pd[i] = p[i];
    }
    for (int t = 1; t <= 10; t++) {
      kernels()
          .adam(
              adamW(t, lr, wd), MemorySegment.ofArray(p), MemorySegment.ofArray(d.grad), n,
              new Fp32Moment(MemorySegment.ofArray(m)), new Fp32Moment(MemorySegment.ofArray(v)),
              1);
      for (int i = 0; i < n; i++) {
        double g = d.grad[i];
        md[i] = 0.9 * md[i] + 0.1 * g;
        vd[i] = 0.999 * vd[i] + 0.001 * g * g;
        double mHat = md[i] / (1 - Math.pow(0.9, t));
        double vHat = vd[i] / (1 - Math.pow(0.999, t));
        pd[i] = pd[i] - lr * wd * pd[i] - lr * mHat / (Math.sqrt(vHat) + 1e-8);
      }
    }
    // Float32 rounds each operation at ~6e-8 relative to the values involved: |p| and the
    // accumulated updates (at most lr per step, 10 steps). 1e-6 of their sum bounds that with
    // margin, and is far below one step's update (1e-3), so a wrong formula cannot pass.
    for (int i = 0; i < n; i++) {
      assertEquals(pd[i], p[i], 1e-6 * (Math.abs(pd[i]) + 10 * lr), "element " + i);
    }
  }

  /** chunkCount is ceil(length / 4096) and chunkLength the elements of the chunk at start. */
  @Test
  void chunksAreCeilOfTheLengthOverTheChunkSize() {
    assertEquals(4096, SquareSums.CHUNK);
    long[][] cases = {
        {0, 0}, {1, 1}, {4094, 1}, {4095, 1}, {4096, 1}, {4097, 2}, {8191, 2}, {8192, 2}};
    for (long[] c : cases) {
      assertEquals(c[1], ScalarKernels.chunkCount(c[0]), "length " + c[0]);
    }
    assertEquals(4096, ScalarKernels.chunkLength(8191, 0));
    assertEquals(4095, ScalarKernels.chunkLength(8191, 4096));
  }

  /** The six-argument sgd is the seven-argument one with nothing to clear, not a no-op. */
  @Test
  void sgdWithoutAClearSegmentStepsLikeWithANullOne() {
    int n = 300;
    Data d = new Data(n, 4);
    SgdScalars s = new SgdScalars(0.1f, 0.9f, true, 1e-4f, 1f, 0f, false);
    float[] p1 = d.param.clone();
    float[] b1 = d.oldM.clone();
    kernels().sgd(s, MemorySegment.ofArray(p1), MemorySegment.ofArray(d.grad), n,
        new Fp32Moment(MemorySegment.ofArray(b1)), 1);
    float[] p2 = d.param.clone();
    float[] b2 = d.oldM.clone();
    kernels().sgd(s, MemorySegment.ofArray(p2), MemorySegment.ofArray(d.grad), n,
        new Fp32Moment(MemorySegment.ofArray(b2)), 1, null);
    org.junit.jupiter.api.Assertions.assertArrayEquals(p2, p1);
    org.junit.jupiter.api.Assertions.assertArrayEquals(b2, b1);
    // and it did step: b = 0.9 b + g, p = p - 0.1 (g + 0.9 b), with g = grad + 1e-4 p
    float g = d.grad[n - 1] + 1e-4f * d.param[n - 1];
    float b = 0.9f * d.oldM[n - 1] + g;
    assertEquals(d.param[n - 1] - 0.1f * (g + 0.9f * b), p1[n - 1]);
  }

  @Test
  void aFirstMomentThatIsNotFp32OrBlockwiseIsRejectedByName() {
    MemorySegment x = MemorySegment.ofArray(new float[4]);
    MomentState rank1 =
        new Rank1Moment(CodeBook.LINEAR_4, 2, 2, MemorySegment.ofArray(new byte[2]), x, x);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> kernels().adam(adamW(1, 1e-3f, 0f), x, x, 4, rank1, new Fp32Moment(x), 1));
    assertTrue(e.getMessage().startsWith("m must be"), e.getMessage());
  }

  @Test
  void theScalarReferenceIsAlwaysAvailableAndTheProviderAnswers() {
    assertEquals("scalar", Kernels.scalar().name());
    OptimizerKernels active = Kernels.get();
    assertTrue(
        active == Kernels.scalar() || Kernels.simd().orElse(null) == active,
        "get() returns the scalar or the SIMD kernels");
    Kernels.simd().ifPresent(k -> assertTrue(k.name().startsWith("simd"), k.name()));
    assertTrue(Kernels.defaultThreads() >= 1);
  }
}
