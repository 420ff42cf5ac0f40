/** JMH benchmarks and the {@code lowbit} command-line tool. */
module dev.lowbit.bench {
  requires dev.lowbit.djl;
  requires dev.lowbit.optim;
  requires info.picocli;
  requires com.google.gson;
  requires org.jfree.jfreechart;
  requires jmh.core;
  requires java.desktop;

  opens dev.lowbit.bench to info.picocli;
}
