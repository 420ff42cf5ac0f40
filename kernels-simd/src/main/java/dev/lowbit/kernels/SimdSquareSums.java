package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link SquareSums#chunk} with vectors: the 16 double accumulators of the documented order are
 * held as 2, 4 or 8 double vectors (512, 256, 128 bits), so element {@code k} still lands in
 * lane {@code k % 16}, and the lanes are combined by {@link SquareSums#combine}.
 */
final class SimdSquareSums {

  private SimdSquareSums() {}

  /**
   * Sum of squares of one chunk, identical to {@link SquareSums#chunk(MemorySegment, long, int)}.
   * The chunk is copied into {@code scratch} first, so the vector loop reads a plain array
   * whatever kind of segment holds the values.
   *
   * @param shape vector width
   * @param values the floats
   * @param start first element of the chunk
   * @param n elements, at most {@link SquareSums#CHUNK}
   * @param scratch at least {@code n} floats
   * @return the chunk's sum
   */
  static double chunk(SimdShape shape, MemorySegment values, long start, int n, float[] scratch) {
    MemorySegment.copy(values, Codes.FLOAT, start * Float.BYTES, scratch, 0, n);
    return chunk(shape, scratch, n);
  }

  /**
   * Sum of squares of {@code values[0, n)}, identical to {@link SquareSums#chunk(float[], int)}.
   *
   * @param shape vector width
   * @param values the floats
   * @param n elements, at most {@link SquareSums#CHUNK}
   * @return the chunk's sum
   */
  static double chunk(SimdShape shape, float[] values, int n) {
    double[] lanes = new double[SquareSums.LANES];
    int bound = n - n % SquareSums.LANES;
    VectorSpecies<Float> floats = shape.floats();
    VectorSpecies<Double> doubles = shape.doubles();
    switch (floats.length()) {
      case 16 -> {
        DoubleVector a0 = DoubleVector.zero(doubles);
        DoubleVector a1 = DoubleVector.zero(doubles);
        for (int k = 0; k < bound; k += 16) {
          FloatVector f = FloatVector.fromArray(floats, values, k);
          DoubleVector d0 = (DoubleVector) f.convertShape(VectorOperators.F2D, doubles, 0);
          DoubleVector d1 = (DoubleVector) f.convertShape(VectorOperators.F2D, doubles, 1);
          a0 = a0.add(d0.mul(d0));
          a1 = a1.add(d1.mul(d1));
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, 8);
      }
      case 8 -> {
        DoubleVector a0 = DoubleVector.zero(doubles);
        DoubleVector a1 = DoubleVector.zero(doubles);
        DoubleVector a2 = DoubleVector.zero(doubles);
        DoubleVector a3 = DoubleVector.zero(doubles);
        for (int k = 0; k < bound; k += 16) {
          FloatVector f0 = FloatVector.fromArray(floats, values, k);
          FloatVector f1 = FloatVector.fromArray(floats, values, k + 8);
          DoubleVector d0 = (DoubleVector) f0.convertShape(VectorOperators.F2D, doubles, 0);
          DoubleVector d1 = (DoubleVector) f0.convertShape(VectorOperators.F2D, doubles, 1);
          DoubleVector d2 = (DoubleVector) f1.convertShape(VectorOperators.F2D, doubles, 0);
          DoubleVector d3 = (DoubleVector) f1.convertShape(VectorOperators.F2D, doubles, 1);
          a0 = a0.add(d0.mul(d0));
          a1 = a1.add(d1.mul(d1));
          a2 = a2.add(d2.mul(d2));
          a3 = a3.add(d3.mul(d3));
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, 4);
        a2.intoArray(lanes, 8);
        a3.intoArray(lanes, 12);
      }
      default -> {
        // 128 bits: two doubles per vector, so eight accumulators of two lanes.
        DoubleVector[] acc = new DoubleVector[8];
        for (int a = 0; a < acc.length; a++) {
          acc[a] = DoubleVector.zero(doubles);
        }
        for (int k = 0; k < bound; k += 16) {
          for (int part = 0; part < 4; part++) {
            FloatVector f =
                FloatVector.fromArray(floats, values, k + 4 * part);
            DoubleVector lo = (DoubleVector) f.convertShape(VectorOperators.F2D, doubles, 0);
            DoubleVector hi = (DoubleVector) f.convertShape(VectorOperators.F2D, doubles, 1);
            acc[2 * part] = acc[2 * part].add(lo.mul(lo));
            acc[2 * part + 1] = acc[2 * part + 1].add(hi.mul(hi));
          }
        }
        for (int a = 0; a < acc.length; a++) {
          acc[a].intoArray(lanes, 2 * a);
        }
      }
    }
    for (int k = bound; k < n; k++) {
      double x = values[k];
      lanes[k % SquareSums.LANES] += x * x;
    }
    return SquareSums.combine(lanes);
  }
}
