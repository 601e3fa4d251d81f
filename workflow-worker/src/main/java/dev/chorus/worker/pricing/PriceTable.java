package dev.chorus.worker.pricing;

import dev.chorus.model.agent.Usage;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Comparator;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** Turns a response's token counts into dollars, from the configured price table. */
@Component
public class PriceTable {
  private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);

  private final PricingProperties properties;

  public PriceTable(PricingProperties properties) {
    this.properties = properties;
  }

  /** The price of {@code model}: the entry for its provider whose model prefix is longest. */
  public Optional<PricingProperties.Price> find(String provider, String model) {
    return properties.pricing().stream()
        .filter(p -> p.provider().equals(provider) && model.startsWith(p.model()))
        .max(Comparator.comparingInt(p -> p.model().length()));
  }

  /** {@code usage} with its cost, or unchanged (cost {@code null}) when the model has no price. */
  public Usage price(String provider, String model, Usage usage) {
    return find(provider, model)
        .map(p ->
            usage.withCost(
                p.inputPerMtok()
                    .multiply(BigDecimal.valueOf(usage.inputTokens()))
                    .add(p.outputPerMtok().multiply(BigDecimal.valueOf(usage.outputTokens())))
                    .divide(MILLION, MathContext.DECIMAL64)))
        .orElse(usage);
  }
}
