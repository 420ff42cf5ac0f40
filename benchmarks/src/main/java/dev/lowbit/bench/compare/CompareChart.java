package dev.lowbit.bench.compare;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws the comparison as one PNG with two panels: test accuracy per epoch for every optimizer,
 * and a bar chart of optimizer-state memory.
 */
public final class CompareChart {

  private static final int PANEL_WIDTH = 640;
  private static final int HEIGHT = 480;

  private CompareChart() {}

  /**
   * Writes the chart.
   *
   * @param report the comparison
   * @param file the PNG to write; missing parent directories are created
   * @throws IOException if the file cannot be written, saying why (without the file name)
   */
  public static void write(CompareReport report, Path file) throws IOException {
    // No window is ever opened; headless mode lets the chart render without a display.
    System.setProperty("java.awt.headless", "true");
    JFreeChart accuracy = accuracyChart(report);
    JFreeChart memory = memoryChart(report);
    BufferedImage image =
        new BufferedImage(2 * PANEL_WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      accuracy.draw(g, new java.awt.Rectangle(0, 0, PANEL_WIDTH, HEIGHT));
      memory.draw(g, new java.awt.Rectangle(PANEL_WIDTH, 0, PANEL_WIDTH, HEIGHT));
    } finally {
      g.dispose();
    }
    checkWritable(file);
    // Through an OutputStream: ImageIO.write(File) reports an unwritable file only as "Can't
    // create an ImageOutputStream!".
    try (OutputStream out = Files.newOutputStream(file)) {
      if (!ImageIO.write(image, "png", out)) {
        throw new IOException("no PNG writer available");
      }
    } catch (IOException e) {
      throw new IOException("cannot be written: " + reason(e), e);
    }
  }

  /**
   * Checks, before any work, that the chart can be written: creates missing parent directories
   * and refuses a directory, a read-only file or a parent that is not writable.
   *
   * @param file the PNG to be written
   * @throws IOException saying why not (without the file name, which the caller adds)
   */
  public static void checkWritable(Path file) throws IOException {
    Path absolute = file.toAbsolutePath();
    Path parent = absolute.getParent();
    if (parent != null) {
      try {
        Files.createDirectories(parent);
      } catch (IOException e) {
        throw new IOException("its directory cannot be created: " + reason(e), e);
      }
    }
    if (Files.isDirectory(absolute)) {
      throw new IOException("is a directory");
    }
    if (Files.exists(absolute) ? !Files.isWritable(absolute)
        : parent != null && !Files.isWritable(parent)) {
      throw new IOException("is not writable");
    }
  }

  /** An I/O exception's message with its kind, since NIO's messages are often just a path. */
  private static String reason(IOException e) {
    String kind =
        switch (e) {
          case java.nio.file.AccessDeniedException a -> "permission denied";
          case java.nio.file.FileAlreadyExistsException a -> "a file is in the way";
          case java.nio.file.NoSuchFileException a -> "no such file or directory";
          case java.nio.file.FileSystemException f when f.getReason() != null -> f.getReason();
          default -> e.getMessage();
        };
    return kind == null ? e.getClass().getSimpleName() : kind;
  }

  /** The accuracy panel; package-private so that tests can read its data. */
  static JFreeChart accuracyChart(CompareReport report) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (OptimizerSummary s : report.optimizers()) {
      if (s.testAccuracyPerEpoch().isEmpty()) {
        continue; // every seed diverged: nothing to draw
      }
      XYSeries series = new XYSeries(s.optimizer());
      for (int e = 0; e < s.testAccuracyPerEpoch().size(); e++) {
        series.add(e + 1, s.testAccuracyPerEpoch().get(e));
      }
      data.addSeries(series);
    }
    CompareSettings settings = report.settings();
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            "Test accuracy, " + settings.model() + " on Fashion-MNIST (mean of "
                + settings.seeds().size() + " seed" + (settings.seeds().size() == 1 ? "" : "s")
                + ")",
            "epoch",
            "test accuracy (%)",
            data,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    XYPlot plot = chart.getXYPlot();
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    for (int i = 0; i < data.getSeriesCount(); i++) {
      renderer.setSeriesStroke(i, new BasicStroke(2f));
    }
    plot.setRenderer(renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    NumberAxis epochs = (NumberAxis) plot.getDomainAxis();
    epochs.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    epochs.setRange(0.5, settings.epochs() + 0.5);
    NumberAxis accuracyAxis = (NumberAxis) plot.getRangeAxis();
    // A fixed, padded range: auto-ranging a single epoch's points collapses the axis to a point.
    double low = 0;
    double high = 100;
    if (data.getSeriesCount() > 0) {
      low = 100;
      high = 0;
    }
    for (OptimizerSummary s : report.optimizers()) {
      for (double a : s.testAccuracyPerEpoch()) {
        low = Math.min(low, a);
        high = Math.max(high, a);
      }
    }
    accuracyAxis.setRange(Math.max(0, Math.floor(low) - 1), Math.min(100, Math.ceil(high) + 1));
    accuracyAxis.setNumberFormatOverride(new java.text.DecimalFormat("0.0"));
    chart.getTitle().setFont(chart.getTitle().getFont().deriveFont(16f));
    return chart;
  }

  /** The memory panel; package-private so that tests can read its data. */
  static JFreeChart memoryChart(CompareReport report) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (OptimizerSummary s : report.optimizers()) {
      String label = s.completedSeeds() == 0 ? s.optimizer() + " (diverged)" : s.optimizer();
      data.addValue(s.bytesPerParameter(), "state bytes per parameter", label);
    }
    JFreeChart chart =
        ChartFactory.createBarChart(
            "Optimizer state (" + String.format(Locale.ROOT, "%,d", report.settings().parameters())
                + " parameters)",
            null,
            "bytes per parameter",
            data,
            PlotOrientation.HORIZONTAL,
            false,
            false,
            false);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    BarRenderer renderer = (BarRenderer) plot.getRenderer();
    renderer.setSeriesPaint(0, new Color(0x2a6fb0));
    renderer.setDefaultItemLabelGenerator(
        new org.jfree.chart.labels.StandardCategoryItemLabelGenerator(
            "{2}", new java.text.DecimalFormat("0.00")));
    renderer.setDefaultItemLabelsVisible(true);
    renderer.setMaximumBarWidth(0.12);
    plot.getRangeAxis().setUpperMargin(0.12);
    chart.getTitle().setFont(chart.getTitle().getFont().deriveFont(16f));
    return chart;
  }
}
