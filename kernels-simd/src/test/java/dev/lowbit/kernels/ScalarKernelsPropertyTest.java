package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Random shapes, formats, hyperparameters and thread counts against {@link ReferenceSteps}. */
class ScalarKernelsPropertyTest {

  private final OptimizerKernels kernels = Kernels.scalar();

  @Provide
  Arbitrary<TestState.Spec> mSpecs() {
    return Arbitraries.of(KernelContractTest.M_SPECS);
  }

  @Provide
  Arbitrary<TestState.Spec> vSpecs() {
    return Arbitraries.of(KernelContractTest.V_SPECS);
  }

  @Provide
  Arbitrary<AdamScalars> adamScalars() {
    Arbitrary<Float> beta = Arbitraries.floats().between(0.5f, 0.9999f).ofScale(4);
    Arbitrary<Float> small = Arbitraries.floats().between(0f, 0.1f).ofScale(5);
    return net.jqwik.api.Combinators.combine(beta, beta, small, small, small, small)
        .as((b1, b2, lr, wd, l2, clip) ->
            new AdamScalars(b1, b2, lr, 1.5f, 1e-8f, lr * wd, l2, 0.75f, clip));
  }

  @Property(tries = 60)
  void adamMatchesTheReference(
      @ForAll @IntRange(min = 1, max = 3) int batch,
      @ForAll @IntRange(min = 1, max = 40) int rows,
      @ForAll @IntRange(min = 1, max = 300) int cols,
      @ForAll("mSpecs") TestState.Spec mSpec,
      @ForAll("vSpecs") TestState.Spec vSpec,
      @ForAll("adamScalars") AdamScalars s,
      @ForAll @IntRange(min = 1, max = 3) int threads) {
    int length = batch * rows * cols;
    KernelContractTest.Data d = new KernelContractTest.Data(length, length);
    boolean factorized = vSpec.kind() == TestState.Kind.FACTORIZED;
    TestState m = TestState.of(mSpec, batch, rows, cols, d.oldM);
    TestState v =
        factorized
            ? TestState.of(vSpec, batch, rows, cols, d.oldV)
            : TestState.of(vSpec, 1, (long) batch * rows, cols, d.oldV);
    TestState mExpected = m.copy();
    TestState vExpected = v.copy();
    float[] pExpected = d.param.clone();
    ReferenceSteps.adam(s, pExpected, d.grad, mExpected, vExpected);

    float[] p = d.param.clone();
    TestState.Bound bm = m.bind(null);
    TestState.Bound bv = v.bind(null);
    kernels.adam(
        s, MemorySegment.ofArray(p), MemorySegment.ofArray(d.grad), length, bm.state, bv.state,
        threads);
    bv.readBack();
    assertArrayEquals(pExpected, p);
    assertNull(m.describeDifference(mExpected));
    assertNull(v.describeDifference(vExpected));
  }

  @Property(tries = 20)
  void anEmptyTensorWritesNothing(@ForAll("mSpecs") TestState.Spec mSpec) {
    KernelContractTest.Data d = new KernelContractTest.Data(8, 1);
    TestState m = TestState.of(mSpec, 1, 2, 4, d.oldM);
    TestState before = m.copy();
    float[] p = d.param.clone();
    kernels.adam(
        KernelContractTest.adamW(1, 1e-3f, 0.01f), MemorySegment.ofArray(p),
        MemorySegment.ofArray(d.grad), 0, m.bind(null).state,
        new Fp32Moment(MemorySegment.ofArray(new float[8])), 2);
    kernels.sgd(
        new SgdScalars(0.1f, 0.9f, true, 0f, 1f, 0f, false), MemorySegment.ofArray(p),
        MemorySegment.ofArray(d.grad), 0, m.bind(null).state, 2);
    assertArrayEquals(d.param, p);
    assertNull(m.describeDifference(before));
  }
}
