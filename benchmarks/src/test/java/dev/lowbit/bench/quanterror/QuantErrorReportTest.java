package dev.lowbit.bench.quanterror;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.quant.QuantizedTensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which moment each scheme measures, and how the table prints a row. */
class QuantErrorReportTest {

  private static QuantErrorReport.Row byHand(Scheme scheme, AdamMoments t, float[] x) {
    QuantizedTensor q = QuantizedTensor.allocate(scheme.book(), scheme.normalization(), t.shape());
    q.quantize(x);
    ErrorStats stats = new ErrorStats();
    stats.add(x, q.dequantize());
    return new QuantErrorReport.Row(scheme, stats.relL2(), stats.maxRel(), stats.zeroed());
  }

  @Test
  void firstMomentSchemesMeasureMAndSecondMomentSchemesMeasureV() {
    AdamMoments t = AdamMoments.generate(new long[] {64, 64}, 3, 2);
    Scheme m = Scheme.firstMoment().getFirst();
    Scheme v = Scheme.secondMoment().getFirst();
    assertEquals(byHand(m, t, t.m()), QuantErrorReport.measure(m, List.of(t)));
    assertEquals(byHand(v, t, t.v()), QuantErrorReport.measure(v, List.of(t)));
  }

  @Test
  void theTablePrintsZeroedAsAPercentage() {
    Scheme v = Scheme.secondMoment().getFirst();
    String table =
        new QuantErrorReport(List.of(new QuantErrorReport.Row(v, 0.5, 0.25, 0.125))).toTable();
    assertEquals(
        String.format(
            "moment scheme           bits      relL2       maxRel      zeroed%n"
                + "v      %-16s %4d    0.50000       0.2500   12.50000%%%n",
            v.name(), v.bits()),
        table);
  }
}
