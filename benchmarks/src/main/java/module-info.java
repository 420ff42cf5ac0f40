/**
 * JMH benchmarks and the {@code lowbit} command-line tool. The tool runs from its jar on the
 * class path; these declarations keep it working on the module path too (picocli and Gson read
 * fields by reflection).
 */
module dev.lowbit.bench {
  requires dev.lowbit.djl;
  requires dev.lowbit.optim;
  requires info.picocli;
  requires com.google.gson;
  requires org.jfree.jfreechart;
  requires jmh.core;
  requires java.desktop;

  opens dev.lowbit.bench to info.picocli, com.google.gson;
  opens dev.lowbit.bench.compare to com.google.gson;
  opens dev.lowbit.bench.memory to com.google.gson;
  opens dev.lowbit.bench.quanterror to com.google.gson;
  opens dev.lowbit.bench.shampoo to com.google.gson;
  opens dev.lowbit.bench.speed to com.google.gson;
}
