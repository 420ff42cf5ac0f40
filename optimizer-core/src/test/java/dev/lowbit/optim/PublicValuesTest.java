package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The small public values only callers use (Parameter's accessors and equality, StateFormat's
 * quantized flag and names) and the builders' format overrides chained like every other option.
 */
class PublicValuesTest {

  @Test
  void parameterGivesItsDimensionsAndIsEqualOnlyWithEveryComponentEqual() {
    MemorySegment values = MemorySegment.ofArray(new float[6]);
    Parameter p = new Parameter("w", new long[] {2, 3}, values, 6);
    assertEquals(2, p.dim(0));
    assertEquals(3, p.dim(1));
    assertEquals(2, p.rank());
    assertEquals(p, new Parameter("w", new long[] {2, 3}, values, 6));
    assertEquals(p.hashCode(), new Parameter("w", new long[] {2, 3}, values, 6).hashCode());
    assertNotEquals(p, new Parameter("v", new long[] {2, 3}, values, 6));
    assertNotEquals(p, new Parameter("w", new long[] {3, 2}, values, 6));
    assertNotEquals(
        p, new Parameter("w", new long[] {2, 3}, MemorySegment.ofArray(new float[6]), 6));
    assertNotEquals(p, new Parameter("w", new long[] {2, 3}, values, 5));
    assertNotEquals(p, "w[2, 3]");
    assertEquals("w[2, 3]", p.toString());
  }

  @Test
  void onlyFormatsWithACodeBookAreQuantizedAndEachNamesItself() {
    assertFalse(StateFormat.float32().quantized());
    assertFalse(StateFormat.factorized().quantized());
    assertTrue(StateFormat.blockwise(CodeBook.DYNAMIC_SIGNED_8, 256).quantized());
    assertTrue(StateFormat.rank1(CodeBook.LINEAR_4).quantized());
    assertEquals("float32", StateFormat.float32().toString());
    assertEquals("factorized", StateFormat.factorized().toString());
    assertEquals("dynamic-signed-8/B256",
        StateFormat.blockwise(CodeBook.DYNAMIC_SIGNED_8, 256).toString());
    assertEquals("linear-4/rank-1", StateFormat.rank1(CodeBook.LINEAR_4).toString());
  }

  /** A format override returns its builder, and applies to the names its regex matches only. */
  @Test
  void formatOverridesChainAndApplyToMatchingNames() {
    StateFormat b8 = StateFormat.blockwise(CodeBook.DYNAMIC_SIGNED_8, 64);
    try (Adam adam = Optimizers.adamW32().override("emb\\..*", b8, StateFormat.factorized())
        .minQuantizedSize(0).build()) {
      adam.register("emb.w", new long[] {4, 8}, new float[32]);
      adam.register("w", new long[] {4, 8}, new float[32]);
      assertEquals(List.of(b8, StateFormat.factorized()), adam.stateFormats("emb.w"));
      assertEquals(List.of(StateFormat.float32(), StateFormat.float32()), adam.stateFormats("w"));
    }
    try (Sgd sgd = Optimizers.sgd().stateFormat(StateFormat.float32())
        .override("emb\\..*", b8).minQuantizedSize(0).build()) {
      sgd.register("emb.w", new long[] {4, 8}, new float[32]);
      sgd.register("w", new long[] {4, 8}, new float[32]);
      assertEquals(List.of(b8), sgd.stateFormats("emb.w"));
      assertEquals(List.of(StateFormat.float32()), sgd.stateFormats("w"));
    }
  }

  /** SGD's buffer is signed: an override to a format that cannot hold signs is refused. */
  @Test
  void anSgdOverrideToAnUnsignedFormatIsRefusedByName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Optimizers.sgd().override("w", StateFormat.rank1(CodeBook.LINEAR_4)));
    assertEquals("override format must be float32 or block-wise with a signed code book, got "
        + "linear-4/rank-1", e.getMessage());
  }

  /** A parameter's state shows, for debugging, its moments' names and formats. */
  @Test
  void aMomentStateShowsItsMomentNamesAndFormats() {
    try (Optimizer opt = Optimizers.adamW32().build()) {
      opt.register("w", new long[] {2}, new float[2]);
      assertEquals("[m, v] {\"m\":{\"normalization\":\"FLOAT32\"},"
          + "\"v\":{\"normalization\":\"FLOAT32\"}}", opt.state("w").toString());
    }
  }
}
