package dev.lowbit.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species of one width (after Lucene's {@code PanamaVectorConstants}). Each width is a
 * subclass whose species are {@code static final} constants; the SIMD loops ask for them through
 * these getters. When a JVM only ever loads one subclass (production: one width per run), class
 * hierarchy analysis lets the JIT bind every getter to its constant, which the Vector API needs
 * to compile to real vector instructions; so only {@link #of} names the subclasses, through
 * factories that load a class only when it is used. Tests that load all three widths run the
 * same loops through slower, non-intrinsified paths.
 */
abstract class SimdShape {

  /** System property that forces a narrower width (tests): 128, 256 or 512. */
  static final String BITS_PROPERTY = "dev.lowbit.kernels.simd.bits";

  /**
   * The shape of a width.
   *
   * @param bits 128, 256 or 512
   * @return its shape
   * @throws IllegalArgumentException for any other width
   */
  static SimdShape of(int bits) {
    return switch (bits) {
      case 128 -> Bits128.create();
      case 256 -> Bits256.create();
      case 512 -> Bits512.create();
      default ->
          throw new IllegalArgumentException("vectorBits must be 128, 256 or 512, got " + bits);
    };
  }

  /**
   * The width to use by default: {@value #BITS_PROPERTY} if set, else the platform's preferred
   * float width capped at 512.
   *
   * @return 128, 256 or 512
   * @throws IllegalArgumentException if the property holds another value
   * @throws UnsupportedOperationException if the preferred width is below 128 bits
   */
  static int defaultBits() {
    String forced = System.getProperty(BITS_PROPERTY);
    if (forced != null) {
      return switch (forced.trim()) {
        case "128" -> 128;
        case "256" -> 256;
        case "512" -> 512;
        default ->
            throw new IllegalArgumentException(
                "-D" + BITS_PROPERTY + " must be 128, 256 or 512, got '" + forced + "'");
      };
    }
    int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
    if (preferred < 128) {
      throw new UnsupportedOperationException(
          "preferred vector width " + preferred + " < 128 bits");
    }
    return Math.min(preferred, 512);
  }

  /** Floats per vector. */
  abstract VectorSpecies<Float> floats();

  /** Ints per vector (same lane count as {@link #floats()}). */
  abstract VectorSpecies<Integer> ints();

  /** Doubles per vector (half the lanes of {@link #floats()}). */
  abstract VectorSpecies<Double> doubles();

  /** The width in bits. */
  final int bits() {
    return floats().vectorBitSize();
  }

  /** 128-bit vectors: 4 floats. */
  static final class Bits128 extends SimdShape {
    /** Only this factory names the class, so other widths' classes are never loaded. */
    static SimdShape create() {
      return new Bits128();
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_128;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_128;

    @Override
    VectorSpecies<Float> floats() {
      return F;
    }

    @Override
    VectorSpecies<Integer> ints() {
      return I;
    }

    @Override
    VectorSpecies<Double> doubles() {
      return D;
    }
  }

  /** 256-bit vectors: 8 floats. */
  static final class Bits256 extends SimdShape {
    /** Only this factory names the class, so other widths' classes are never loaded. */
    static SimdShape create() {
      return new Bits256();
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;

    @Override
    VectorSpecies<Float> floats() {
      return F;
    }

    @Override
    VectorSpecies<Integer> ints() {
      return I;
    }

    @Override
    VectorSpecies<Double> doubles() {
      return D;
    }
  }

  /** 512-bit vectors: 16 floats. */
  static final class Bits512 extends SimdShape {
    /** Only this factory names the class, so other widths' classes are never loaded. */
    static SimdShape create() {
      return new Bits512();
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_512;

    @Override
    VectorSpecies<Float> floats() {
      return F;
    }

    @Override
    VectorSpecies<Integer> ints() {
      return I;
    }

    @Override
    VectorSpecies<Double> doubles() {
      return D;
    }
  }
}
