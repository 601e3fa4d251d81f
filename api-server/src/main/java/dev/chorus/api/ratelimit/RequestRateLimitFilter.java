package dev.chorus.api.ratelimit;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.auth.CurrentUser;
import dev.chorus.api.auth.FilterProblems;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Requests per minute per authenticated user on {@code /api}, counted in Redis. Runs inside the
 * security chain, after the bearer token has been resolved; anonymous requests (register, login)
 * have limits of their own.
 */
public class RequestRateLimitFilter extends OncePerRequestFilter {
  static final String BUCKET = "req";
  private static final Duration MINUTE = Duration.ofMinutes(1);

  private final RateLimiter limiter;
  private final RateLimitProperties properties;
  private final ObjectMapper json;

  public RequestRateLimitFilter(
      RateLimiter limiter, RateLimitProperties properties, ObjectMapper json) {
    this.limiter = limiter;
    this.properties = properties;
    this.json = json;
  }

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    return properties.requestsPerMinute() <= 0 || !request.getRequestURI().startsWith("/api/");
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    var authentication = SecurityContextHolder.getContext().getAuthentication();
    if (authentication == null || !(authentication.getPrincipal() instanceof CurrentUser user)) {
      chain.doFilter(request, response);
      return;
    }
    int limit = properties.requestsPerMinute();
    var window = limiter.hit(BUCKET, user.id().toString(), MINUTE, 1);
    response.setHeader("X-RateLimit-Limit", Integer.toString(limit));
    response.setHeader("X-RateLimit-Remaining", Long.toString(Math.max(0, limit - window.count())));
    if (window.count() > limit) {
      var limited =
          new RateLimitedException(
              "rate-limited",
              "at most " + limit + " requests per minute; try again later",
              window.remaining());
      response.setHeader(HttpHeaders.RETRY_AFTER, Long.toString(limited.retryAfterSeconds()));
      FilterProblems.write(
          response, json, HttpStatus.TOO_MANY_REQUESTS, limited.type(), limited.getMessage());
      return;
    }
    chain.doFilter(request, response);
  }
}
