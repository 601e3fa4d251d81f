package dev.chorus.worker.pricing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chorus.model.agent.Usage;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

class PriceTableTest {
  private final PriceTable table =
      new PriceTable(
          new PricingProperties(
              List.of(
                  new PricingProperties.Price(
                      "openai", "gpt-4o", new BigDecimal("2.50"), new BigDecimal("10.00")),
                  new PricingProperties.Price(
                      "openai", "gpt-4o-mini", new BigDecimal("0.15"), new BigDecimal("0.60")),
                  new PricingProperties.Price(
                      "groq", "gpt-4o", new BigDecimal("9"), new BigDecimal("9")))));

  @Test
  void theLongestPrefixOfTheSameProviderPricesTheModel() {
    Usage usage = new Usage(1_000_000, 500_000);

    assertThat(table.price("openai", "gpt-4o-mini-2024-07-18", usage).costUsd())
        .isEqualByComparingTo("0.45");
    assertThat(table.price("openai", "gpt-4o-2024-08-06", usage).costUsd())
        .isEqualByComparingTo("7.50");
    assertThat(table.price("openai", "gpt-4o", new Usage(1234, 567)).costUsd())
        .isEqualByComparingTo("0.008755");
  }

  @Test
  void anUnpricedModelKeepsItsTokensAndHasNoCost() {
    Usage usage = new Usage(10, 20);

    assertThat(table.price("openai", "o1", usage)).isEqualTo(usage);
    assertThat(table.price("anthropic", "gpt-4o", usage).costUsd()).isNull();
  }
}
