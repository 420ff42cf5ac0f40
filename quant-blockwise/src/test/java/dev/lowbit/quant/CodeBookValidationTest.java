package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Code books built from user arguments refuse what breaks their documented rules, by name. */
class CodeBookValidationTest {

  @Test
  void dynamicChecksTheBitWidthFirst() {
    for (int bits : new int[] {0, 1, 2, 3, 5, 7, 9, 16, 31, 32, 33, -1, Integer.MIN_VALUE}) {
      for (int levels : new int[] {1, 0, 3}) {
        assertRefused("bits must be 4 or 8, got " + bits,
            () -> CodeBook.dynamic("x", true, levels, bits));
      }
    }
    assertRefused("exponentLevels must be in 1..3, got 4", () -> CodeBook.dynamic("x", true, 4, 4));
    assertRefused("exponentLevels must be in 1..7, got 0", () -> CodeBook.dynamic("x", false, 0, 8));
    for (int levels = 1; levels <= 7; levels++) {
      CodeBook.dynamic("x", true, levels, 8);
      CodeBook.dynamic("x", false, levels, 8);
    }
  }

  static void assertRefused(String fragment, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' not in: " + e.getMessage());
  }
}
