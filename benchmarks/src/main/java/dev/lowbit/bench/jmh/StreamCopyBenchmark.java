package dev.lowbit.bench.jmh;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's bandwidth baseline for {@link KernelBenchmark}: a float copy of the same size
 * (read 4 bytes, write 4 bytes per element), in microseconds per copy. A float32 AdamW step moves
 * 28 bytes per parameter, so about 3.5 copies' worth of traffic.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StreamCopyBenchmark {

  /** Floats copied. */
  @Param({"4096", "1048576", "16777216"})
  public int size;

  /** {@code HEAP} or {@code NATIVE}. */
  @Param({"HEAP", "NATIVE"})
  public String memory;

  private Arena arena;
  private MemorySegment source;
  private MemorySegment target;

  /** Creates the benchmark state; JMH sets the parameters, then calls {@link #setUp}. */
  public StreamCopyBenchmark() {}

  /** Allocates and fills the source. */
  @Setup(Level.Trial)
  public void setUp() {
    if (KernelBenchmark.Memory.isNative(memory)) {
      arena = Arena.ofShared();
      source = arena.allocate(size * 4L, 64);
      target = arena.allocate(size * 4L, 64);
    } else {
      source = MemorySegment.ofArray(new float[size]);
      target = MemorySegment.ofArray(new float[size]);
    }
    source.fill((byte) 1);
  }

  /**
   * One copy.
   *
   * @return the target, so the copy is not dead code
   */
  @Benchmark
  public MemorySegment copy() {
    MemorySegment.copy(source, 0, target, 0, size * 4L);
    return target;
  }

  /** Frees native memory. */
  @TearDown(Level.Trial)
  public void tearDown() {
    if (arena != null) {
      arena.close();
    }
  }
}
