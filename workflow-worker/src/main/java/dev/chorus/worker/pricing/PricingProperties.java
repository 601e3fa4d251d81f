package dev.chorus.worker.pricing;

import java.math.BigDecimal;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The price table: US dollars per million tokens. {@code model} matches by prefix, the longest
 * match wins, so {@code gpt-4o-mini} prices {@code gpt-4o-mini-2024-07-18} too.
 */
@ConfigurationProperties("chorus")
public record PricingProperties(List<Price> pricing) {

  public record Price(
      String provider, String model, BigDecimal inputPerMtok, BigDecimal outputPerMtok) {}

  public PricingProperties {
    pricing = pricing == null ? List.of() : List.copyOf(pricing);
  }
}
