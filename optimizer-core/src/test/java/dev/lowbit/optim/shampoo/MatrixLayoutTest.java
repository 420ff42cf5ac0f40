package dev.lowbit.optim.shampoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class MatrixLayoutTest {

  @Test
  void higherRankTensorsBecomeD0ByRestAfterDroppingOnes() {
    MatrixLayout l = MatrixLayout.of("conv", new long[] {1, 16, 1, 3, 3, 8}, 1200);
    assertEquals(16, l.rows());
    assertEquals(72, l.cols());
    assertEquals(1, l.blocks().size());
  }

  @Test
  void rankOneAndEmptyTensorsGetNoPreconditioner() {
    assertNull(MatrixLayout.of("bias", new long[] {128}, 1200));
    assertNull(MatrixLayout.of("bias", new long[] {1, 128, 1}, 1200));
    assertNull(MatrixLayout.of("scalar", new long[] {}, 1200));
    assertNull(MatrixLayout.of("empty", new long[] {0, 5}, 1200));
  }

  @Test
  void largeDimensionsSplitIntoEvenBlocks() {
    MatrixLayout l = MatrixLayout.of("w", new long[] {4096, 1024}, 1200);
    assertEquals(4, l.blocks().size());
    for (MatrixLayout.Block b : l.blocks()) {
      assertEquals(1024, b.rows());
      assertEquals(1024, b.cols());
    }
    assertArrayEquals(new int[] {0, 4}, MatrixLayout.split(7, 4)[0]);
    assertArrayEquals(new int[] {4, 3}, MatrixLayout.split(7, 4)[1]);
    MatrixLayout odd = MatrixLayout.of("w", new long[] {2500, 10}, 1200);
    assertEquals(3, odd.blocks().size());
    assertEquals(834, odd.blocks().get(0).rows());
    assertEquals(833, odd.blocks().get(2).rows());
    assertEquals(1667, odd.blocks().get(2).rowStart());
  }

  @Test
  void theLargestMaxDimLeavesOneBlockPerSide() {
    // (n + maxDim - 1) / maxDim overflowed to 0 parts here: no blocks, every gradient zeroed.
    MatrixLayout l = MatrixLayout.of("w", new long[] {3, 5}, Integer.MAX_VALUE);
    assertEquals(List.of(new MatrixLayout.Block(0, 3, 0, 5)), l.blocks());
    assertArrayEquals(new int[] {0, 7}, MatrixLayout.split(7, Integer.MAX_VALUE - 3)[0]);
  }

  /** At most 2^31 - 9 elements (7 x 306783377 is exactly that), else refused by name. */
  @Test
  void tooManyElementsAreRefusedNamingTheParameter() {
    MatrixLayout l = MatrixLayout.of("w", new long[] {7, 306783377}, 1 << 30);
    assertEquals(List.of(new MatrixLayout.Block(0, 7, 0, 306783377)), l.blocks());
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () -> MatrixLayout.of("huge", new long[] {7, 306783378}, 1 << 30));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'huge'"), e.getMessage());
  }
}
