/**
 * Framework-free optimizers (Adam, AdamW, SGD with momentum) whose states are kept in float32,
 * 8 or 4 bits, on parameters held in heap arrays or native memory.
 */
package dev.lowbit.optim;
