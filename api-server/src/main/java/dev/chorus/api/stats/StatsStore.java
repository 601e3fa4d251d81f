package dev.chorus.api.stats;

import dev.chorus.api.stats.StatsView.DayStats;
import dev.chorus.api.stats.StatsView.ProviderStats;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

@Repository
class StatsStore {
  private final JdbcClient jdbc;

  StatsStore(JdbcClient jdbc) {
    this.jdbc = jdbc;
  }

  /** One day's figures as they are summed up. */
  private static final class Day {
    long conversations;
    long messages;
    long queries;
    long inputTokens;
    long outputTokens;
    BigDecimal costUsd = BigDecimal.ZERO;
  }

  StatsView stats(UUID userId, Instant from, Instant to) {
    Map<LocalDate, Day> days = new TreeMap<>();
    LocalDate last = to.minusNanos(1).atZone(ZoneOffset.UTC).toLocalDate();
    for (LocalDate d = from.atZone(ZoneOffset.UTC).toLocalDate();
        !d.isAfter(last);
        d = d.plusDays(1)) {
      days.put(d, new Day());
    }
    perDay(
            "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM conversations"
                + " WHERE user_id = :user AND created_at >= :from AND created_at < :to GROUP BY 1",
            userId,
            from,
            to)
        .forEach(r -> days.get(r.day()).conversations = r.n());
    long[] roles = new long[2];
    jdbc.sql(
            """
            SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, m.role, count(*) AS n
              FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE c.user_id = :user AND m.created_at >= :from AND m.created_at < :to
             GROUP BY 1, 2
            """)
        .param("user", userId)
        .param("from", Timestamp.from(from))
        .param("to", Timestamp.from(to))
        .query((rs, i) -> {
          long n = rs.getLong("n");
          days.get(rs.getObject("day", LocalDate.class)).messages += n;
          roles["user".equals(rs.getString("role")) ? 0 : 1] += n;
          return n;
        })
        .list();
    perDay(
            "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM queries"
                + " WHERE user_id = :user AND created_at >= :from AND created_at < :to GROUP BY 1",
            userId,
            from,
            to)
        .forEach(r -> days.get(r.day()).queries = r.n());
    // Usage is counted on the day its query was asked.
    jdbc.sql(
            """
            SELECT (q.created_at AT TIME ZONE 'UTC')::date AS day,
                   coalesce(sum(r.input_tokens), 0) AS input, coalesce(sum(r.output_tokens), 0) AS output,
                   coalesce(sum(r.cost_usd), 0) AS cost
              FROM responses r JOIN queries q ON q.id = r.query_id
             WHERE q.user_id = :user AND q.created_at >= :from AND q.created_at < :to
             GROUP BY 1
            """)
        .param("user", userId)
        .param("from", Timestamp.from(from))
        .param("to", Timestamp.from(to))
        .query((rs, i) -> {
          Day day = days.get(rs.getObject("day", LocalDate.class));
          day.inputTokens = rs.getLong("input");
          day.outputTokens = rs.getLong("output");
          day.costUsd = rs.getBigDecimal("cost");
          return day;
        })
        .list();
    List<ProviderStats> byProvider =
        jdbc.sql(
                """
                SELECT r.provider, count(*) AS responses,
                       coalesce(sum(r.input_tokens), 0) AS input,
                       coalesce(sum(r.output_tokens), 0) AS output,
                       coalesce(sum(r.cost_usd), 0) AS cost
                  FROM responses r JOIN queries q ON q.id = r.query_id
                 WHERE q.user_id = :user AND q.created_at >= :from AND q.created_at < :to
                 GROUP BY r.provider ORDER BY r.provider
                """)
            .param("user", userId)
            .param("from", Timestamp.from(from))
            .param("to", Timestamp.from(to))
            .query((rs, i) ->
                new ProviderStats(
                    rs.getString("provider"),
                    rs.getLong("responses"),
                    rs.getLong("input"),
                    rs.getLong("output"),
                    rs.getBigDecimal("cost")))
            .list();
    List<DayStats> byDay = new ArrayList<>();
    long conversations = 0;
    long queries = 0;
    long input = 0;
    long output = 0;
    BigDecimal cost = BigDecimal.ZERO;
    for (var e : days.entrySet()) {
      Day d = e.getValue();
      byDay.add(
          new DayStats(
              e.getKey(),
              d.conversations,
              d.messages,
              d.queries,
              d.inputTokens,
              d.outputTokens,
              d.costUsd));
      conversations += d.conversations;
      queries += d.queries;
      input += d.inputTokens;
      output += d.outputTokens;
      cost = cost.add(d.costUsd);
    }
    return new StatsView(
        from,
        to,
        conversations,
        roles[0] + roles[1],
        roles[0],
        roles[1],
        queries,
        input,
        output,
        cost,
        byProvider,
        byDay);
  }

  private record Count(LocalDate day, long n) {}

  private List<Count> perDay(String sql, UUID userId, Instant from, Instant to) {
    return jdbc.sql(sql)
        .param("user", userId)
        .param("from", Timestamp.from(from))
        .param("to", Timestamp.from(to))
        .query((rs, i) -> new Count(rs.getObject("day", LocalDate.class), rs.getLong("n")))
        .list();
  }
}
