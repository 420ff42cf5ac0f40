package dev.lowbit.bench.speed;

import java.util.Locale;

/** The optimizer-state formats the speed measurements compare (the presets of optimizer-core). */
public enum StateKind {
  /** float32 m and v (or momentum buffer). */
  FP32("fp32"),
  /**
   * As the BLOCKWISE_8BIT preset: m dynamic signed 8 B256, v zero-free dynamic unsigned 8 B256;
   * SGD buffer 8-bit B256.
   */
  BIT8("8bit"),
  /** m DE signed 4-bit B128, v rank-1 Linear 4-bit; SGD buffer DE 4-bit B128. */
  BIT4("4bit"),
  /** m DE signed 4-bit B128, v factorized float32 row/column statistics; SGD as {@link #BIT4}. */
  BIT4_FACTORIZED("4bit-factorized");

  private final String label;

  StateKind(String label) {
    this.label = label;
  }

  /**
   * The name used in reports and JSON, such as {@code 8bit}.
   *
   * @return the label
   */
  public String label() {
    return label;
  }

  /**
   * Parses a label ({@code 8bit}) or a JMH parameter value ({@code 8BIT}, {@code 4BIT_FACTORIZED}).
   *
   * @param text the name
   * @return the state kind
   * @throws IllegalArgumentException naming the accepted values
   */
  public static StateKind parse(String text) {
    String normalized = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    for (StateKind kind : values()) {
      if (kind.label.equals(normalized)) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        "unknown state '" + text + "'; expected fp32, 8bit, 4bit or 4bit-factorized");
  }
}
