/**
 * Shampoo, 32-bit and 4-bit: Kronecker-factored preconditioners grafted onto a base optimizer.
 */
package dev.lowbit.optim.shampoo;
