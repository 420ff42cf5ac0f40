package dev.lowbit.bench.quanterror;

import dev.lowbit.quant.CodeBook;
import dev.lowbit.quant.Normalization;
import java.util.List;

/**
 * One quantization format applied to one moment: which moment, a display name
 * ({@code normalization/book}), the code book and the normalization.
 *
 * @param moment {@code "m"} (first moment) or {@code "v"} (second moment)
 * @param name for example {@code "B128/DE"} or {@code "Rank-1/Linear"}
 * @param book the code book
 * @param normalization the normalization
 */
public record Scheme(String moment, String name, CodeBook book, Normalization normalization) {

  /**
   * The first-moment formats compared: the 8-bit paper's (dynamic signed, B2048 and B256) and the
   * 4-bit paper's (DE signed, B128; Rank-1 as its ablation), and LowBit's 4-bit default (DE with
   * -1, B128).
   *
   * @return the schemes, 8-bit first
   */
  public static List<Scheme> firstMoment() {
    return List.of(
        new Scheme("m", "B2048/Dynamic", CodeBook.DYNAMIC_SIGNED_8, Normalization.blockWise(2048)),
        new Scheme("m", "B256/Dynamic", CodeBook.DYNAMIC_SIGNED_8, Normalization.blockWise(256)),
        new Scheme("m", "B2048/DE", CodeBook.DE_SIGNED_4, Normalization.blockWise(2048)),
        new Scheme("m", "B128/DE", CodeBook.DE_SIGNED_4, Normalization.blockWise(128)),
        new Scheme("m", "B128/DE1", CodeBook.DE1_SIGNED_4, Normalization.blockWise(128)),
        new Scheme("m", "Rank-1/DE", CodeBook.DE_SIGNED_4, Normalization.rank1()));
  }

  /**
   * The second-moment formats compared: 8-bit dynamic unsigned (B2048, B256) and the 4-bit
   * paper's ablation (Rank-1/Linear, B128/Linear, B128/DE-0, and B128/DE whose zero entry makes
   * it unstable).
   *
   * @return the schemes, 8-bit first
   */
  public static List<Scheme> secondMoment() {
    return List.of(
        new Scheme(
            "v", "B2048/Dynamic", CodeBook.DYNAMIC_UNSIGNED_8, Normalization.blockWise(2048)),
        new Scheme("v", "B256/Dynamic", CodeBook.DYNAMIC_UNSIGNED_8, Normalization.blockWise(256)),
        new Scheme(
            "v", "B256/Dynamic-0", CodeBook.DYNAMIC0_UNSIGNED_8, Normalization.blockWise(256)),
        new Scheme("v", "Rank-1/Linear", CodeBook.LINEAR_4, Normalization.rank1()),
        new Scheme("v", "B128/Linear", CodeBook.LINEAR_4, Normalization.blockWise(128)),
        new Scheme("v", "Rank-1/DE-0", CodeBook.DE0_UNSIGNED_4, Normalization.rank1()),
        new Scheme("v", "B128/DE-0", CodeBook.DE0_UNSIGNED_4, Normalization.blockWise(128)),
        new Scheme("v", "B128/DE", CodeBook.DE_UNSIGNED_4, Normalization.blockWise(128)));
  }

  /**
   * Bits per stored code.
   *
   * @return 4 or 8
   */
  public int bits() {
    return book.bits();
  }
}
