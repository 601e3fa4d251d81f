package dev.chorus.api.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * {@code chorus.queries.active{status=PENDING|RUNNING}}: queries in flight across the whole system,
 * read from PostgreSQL every few seconds (not at scrape time, so a slow database never stalls a
 * scrape).
 */
@Component
class QueryGauges {
  private static final Logger log = LoggerFactory.getLogger(QueryGauges.class);
  private final JdbcClient jdbc;
  private final Map<String, AtomicLong> active = new ConcurrentHashMap<>();

  QueryGauges(JdbcClient jdbc, MeterRegistry meters) {
    this.jdbc = jdbc;
    for (String status : new String[] {"PENDING", "RUNNING"}) {
      AtomicLong value = new AtomicLong();
      active.put(status, value);
      Gauge.builder("chorus.queries.active", value, AtomicLong::get)
          .description("Queries PENDING or RUNNING in the whole system")
          .tag("status", status)
          .register(meters);
    }
  }

  @Scheduled(fixedDelayString = "${chorus.metrics.refresh:15s}", initialDelay = 0)
  void refresh() {
    try {
      Map<String, Long> counts = new java.util.HashMap<>();
      jdbc.sql(
              "SELECT status, count(*) FROM queries WHERE status IN ('PENDING', 'RUNNING')"
                  + " GROUP BY status")
          .query(rs -> {
            counts.put(rs.getString(1), rs.getLong(2));
          });
      active.forEach((status, value) -> value.set(counts.getOrDefault(status, 0L)));
    } catch (RuntimeException e) {
      log.debug("query gauges not refreshed: {}", e.toString());
    }
  }
}
