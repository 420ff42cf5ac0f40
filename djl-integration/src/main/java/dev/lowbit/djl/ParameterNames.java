package dev.lowbit.djl;

import ai.djl.Model;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The stable names of a model's parameters. DJL hands optimizers a runtime id per parameter,
 * which changes every run; checkpoints and per-name overrides use the names from
 * {@code model.getBlock().getParameters()}, such as {@code 01Linear_weight}.
 */
final class ParameterNames {

  /**
   * Characters a name may hold. Names become checkpoint keys and appear in the checkpoint's JSON
   * header; DJL's own names use only letters, digits and underscores.
   */
  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_.\\-]+");

  private ParameterNames() {}

  /**
   * Runtime id to name, for every parameter of the model's block, in the block's order.
   *
   * @param model a model with a block
   * @return id to name
   * @throws IllegalArgumentException if the model has no block or a name holds characters other
   *     than letters, digits, {@code _}, {@code .} and {@code -}
   */
  static Map<String, String> byId(Model model) {
    Objects.requireNonNull(model, "model");
    if (model.getBlock() == null) {
      throw new IllegalArgumentException("model '" + model.getName() + "' has no block");
    }
    Map<String, String> names = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      String name = p.getKey();
      if (!SAFE.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "parameter name '" + name + "' of model '" + model.getName()
                + "' holds characters other than letters, digits, '_', '.' and '-'");
      }
      names.put(p.getValue().getId(), name);
    }
    return names;
  }
}
