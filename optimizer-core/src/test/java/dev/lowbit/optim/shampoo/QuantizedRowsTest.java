package dev.lowbit.optim.shampoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

class QuantizedRowsTest {

  /** Order 100 pads rows to 128: two blocks per row, neither shared with the next row. */
  @Test
  void blocksNeverSpanTwoRows() {
    int n = 100;
    DMatrixRMaj m = new DMatrixRMaj(n, n);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        // Row i's magnitude is 10^-(i % 5): a shared block would crush the small rows to 0.
        m.set(i, j, Math.pow(10, -(i % 5)) * Math.sin(1 + i * 31 + j * 7));
      }
    }
    QuantizedRows q = QuantizedRows.quantize(CodeBook.LINEAR_SQUARE_SIGNED_4, m);
    assertEquals(n * 128 / 2 + 4L * n * 2, q.bytes());
    DMatrixRMaj back = q.dequantize();
    for (int i = 0; i < n; i++) {
      double err = 0;
      double norm = 0;
      for (int j = 0; j < n; j++) {
        err += Math.pow(back.get(i, j) - m.get(i, j), 2);
        norm += Math.pow(m.get(i, j), 2);
      }
      // Linear-square 4-bit on a sine row: relative error well under 20% in every row.
      assertTrue(Math.sqrt(err / norm) < 0.2, "row " + i + ": " + Math.sqrt(err / norm));
    }
  }

  @Test
  void columnsRoundTripAsRows() {
    DMatrixRMaj m = Problems.orthogonal(70, new java.util.Random(4));
    DMatrixRMaj cols =
        QuantizedRows.quantizeColumns(CodeBook.DE_SIGNED_4, m).dequantizeColumns();
    DMatrixRMaj t = new DMatrixRMaj(70, 70);
    org.ejml.dense.row.CommonOps_DDRM.transpose(m, t);
    DMatrixRMaj rows = QuantizedRows.quantize(CodeBook.DE_SIGNED_4, t).dequantize();
    for (int i = 0; i < 70; i++) {
      for (int j = 0; j < 70; j++) {
        assertEquals(rows.get(j, i), cols.get(i, j), 0.0);
      }
    }
  }

  /** The float32 form is the double form, value for value (order 100: padded rows of 128). */
  @Test
  void dequantizeFloatsEqualsDequantize() {
    int n = 100;
    DMatrixRMaj m = new DMatrixRMaj(n, n);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        m.set(i, j, Math.sin(1 + i * 13 + j * 5));
      }
    }
    QuantizedRows q = QuantizedRows.quantize(CodeBook.LINEAR_SQUARE_SIGNED_4, m);
    DMatrixRMaj d = q.dequantize();
    float[] f = q.dequantizeFloats();
    assertEquals(n * n, f.length);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        assertEquals(d.get(i, j), f[i * n + j], 0.0, i + "," + j);
      }
    }
  }

  @Test
  void checkpointArraysOfTheWrongSizeAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                QuantizedRows.of(
                    CodeBook.LINEAR_SQUARE_SIGNED_4, 64, new byte[10], new float[64]));
    assertTrue(e.getMessage().contains("order 64"), e.getMessage());
  }
}
