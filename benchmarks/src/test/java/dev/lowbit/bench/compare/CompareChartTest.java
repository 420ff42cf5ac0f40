package dev.lowbit.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code lowbit compare}'s chart shows, read from its two panels' data and axes, and that
 * the PNG holds both drawn panels; on made-up summaries (no training).
 */
class CompareChartTest {

  @TempDir Path dir;

  private static final Candidate CANDIDATE =
      new Candidate("x", "test", 1e-3, lr -> null, o -> 0, "none", true);

  /** Two seeds over two epochs: 50 %, then last -+ 0.5 points; state 8 bytes per parameter. */
  private static OptimizerSummary trained(String name, double last) {
    List<RunResult> runs =
        List.of(
            new RunResult(name, 1, 100, 800, List.of(0.5, 0.25), List.of(0.5, last - 0.005), 10,
                2.0, 1.0, null),
            new RunResult(name, 2, 100, 800, List.of(0.5, 0.25), List.of(0.5, last + 0.005), 10,
                2.0, 1.0, null));
    return OptimizerSummary.of(
        new Candidate(name, "test", 1e-3, lr -> null, o -> 0, "none", true), runs);
  }

  private static OptimizerSummary diverged() {
    return OptimizerSummary.of(
        CANDIDATE,
        List.of(new RunResult("x", 1, 100, 200, List.of(), List.of(), 0, 0, 0, "diverged")));
  }

  private static CompareReport report(List<Integer> seeds, OptimizerSummary... summaries) {
    return new CompareReport(
        new CompareSettings("d", 1, 1, "mlp", 1_234_567, 2, 64, 10, seeds, List.of("x=0.001")),
        List.of(summaries));
  }

  @Test
  void accuracyPanelHasOneLinePerOptimizerThatCompletedAndAPaddedRange() {
    JFreeChart chart =
        CompareChart.accuracyChart(report(List.of(1, 2), trained("a", 0.82), diverged()));
    assertEquals(
        "Test accuracy, mlp on Fashion-MNIST (mean of 2 seeds)", chart.getTitle().getText());
    assertEquals(16f, chart.getTitle().getFont().getSize2D());
    XYPlot plot = chart.getXYPlot();
    XYDataset data = plot.getDataset();
    assertEquals(1, data.getSeriesCount()); // the diverged optimizer has no line
    assertEquals("a", data.getSeriesKey(0));
    assertEquals(2, data.getItemCount(0));
    assertEquals(1.0, data.getXValue(0, 0));
    assertEquals(50.0, data.getYValue(0, 0), 1e-9);
    assertEquals(2.0, data.getXValue(0, 1));
    assertEquals(82.0, data.getYValue(0, 1), 1e-9);
    NumberAxis epochs = (NumberAxis) plot.getDomainAxis();
    assertEquals(0.5, epochs.getLowerBound());
    assertEquals(2.5, epochs.getUpperBound());
    assertEquals(1.0, epochs.getStandardTickUnits().getCeilingTickUnit(0.1).getSize()); // whole
    NumberAxis accuracy = (NumberAxis) plot.getRangeAxis();
    assertEquals(49.0, accuracy.getLowerBound()); // floor(50) - 1
    assertEquals(83.0, accuracy.getUpperBound()); // ceil(82) + 1
    assertEquals("82.0", accuracy.getNumberFormatOverride().format(82));
    XYLineAndShapeRenderer renderer = (XYLineAndShapeRenderer) plot.getRenderer();
    assertEquals(2f, ((BasicStroke) renderer.getSeriesStroke(0)).getLineWidth());
    assertEquals(Color.WHITE, plot.getBackgroundPaint());
    assertEquals(Color.LIGHT_GRAY, plot.getDomainGridlinePaint());
    assertEquals(Color.LIGHT_GRAY, plot.getRangeGridlinePaint());
  }

  @Test
  void accuracyRangeStaysWithin0And100() {
    JFreeChart chart =
        CompareChart.accuracyChart(report(List.of(1), trained("a", 0.995), trained("b", 0.3)));
    assertEquals(
        "Test accuracy, mlp on Fashion-MNIST (mean of 1 seed)", chart.getTitle().getText());
    NumberAxis accuracy = (NumberAxis) chart.getXYPlot().getRangeAxis();
    assertEquals(29.0, accuracy.getLowerBound()); // b's 30 % after epoch 2, minus 1
    assertEquals(100.0, accuracy.getUpperBound()); // ceil(99.5) + 1, capped
    // Every optimizer diverged: the whole scale.
    accuracy = (NumberAxis) CompareChart.accuracyChart(report(List.of(1), diverged()))
        .getXYPlot().getRangeAxis();
    assertEquals(0.0, accuracy.getLowerBound());
    assertEquals(100.0, accuracy.getUpperBound());
  }

  @Test
  void memoryPanelHasABarPerOptimizerAndMarksTheDiverged() {
    JFreeChart chart = CompareChart.memoryChart(report(List.of(1), trained("a", 0.8), diverged()));
    assertEquals("Optimizer state (1,234,567 parameters)", chart.getTitle().getText());
    Locale before = Locale.getDefault();
    try {
      Locale.setDefault(Locale.GERMANY); // groups digits with '.'
      assertEquals("Optimizer state (1,234,567 parameters)",
          CompareChart.memoryChart(report(List.of(1), trained("a", 0.8), diverged()))
              .getTitle().getText());
    } finally {
      Locale.setDefault(before);
    }
    assertEquals(16f, chart.getTitle().getFont().getSize2D());
    CategoryPlot plot = chart.getCategoryPlot();
    CategoryDataset data = plot.getDataset();
    assertEquals(List.of("a", "x (diverged)"), data.getColumnKeys());
    assertEquals(List.of("state bytes per parameter"), data.getRowKeys());
    assertEquals(8.0, data.getValue(0, 0).doubleValue());
    assertEquals(2.0, data.getValue(0, 1).doubleValue());
    BarRenderer renderer = (BarRenderer) plot.getRenderer();
    assertEquals(new Color(0x2a6fb0), renderer.getSeriesPaint(0));
    assertTrue(renderer.getDefaultItemLabelsVisible());
    assertEquals("8.00", renderer.getDefaultItemLabelGenerator().generateLabel(data, 0, 0));
    assertEquals(0.12, renderer.getMaximumBarWidth());
    assertEquals(0.12, plot.getRangeAxis().getUpperMargin());
    assertEquals(Color.WHITE, plot.getBackgroundPaint());
    assertEquals(Color.LIGHT_GRAY, plot.getRangeGridlinePaint());
  }

  @Test
  void thePngHoldsBothPanelsSideBySide() throws IOException {
    Path file = dir.resolve("charts/c.png");
    CompareChart.write(report(List.of(1), trained("a", 0.8)), file);
    BufferedImage image = ImageIO.read(file.toFile());
    assertEquals(1280, image.getWidth());
    assertEquals(480, image.getHeight());
    // Each panel is drawn: its white chart background, where an undrawn image is black.
    assertEquals(0xffffff, image.getRGB(3, 3) & 0xffffff);
    assertEquals(0xffffff, image.getRGB(640 + 3, 3) & 0xffffff);
  }

  @Test
  void writingOverADirectoryIsRefusedBeforeDrawing() {
    IOException e =
        assertThrows(
            IOException.class,
            () -> CompareChart.write(report(List.of(1), trained("a", 0.8)), dir));
    assertEquals("is a directory", e.getMessage());
  }
}
