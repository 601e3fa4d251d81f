package dev.chorus.api.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.ratelimit.RateLimitProperties;
import dev.chorus.api.ratelimit.RateLimiter;
import dev.chorus.api.ratelimit.RequestRateLimitFilter;
import jakarta.servlet.DispatcherType;
import java.util.List;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.password.DelegatingPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;

/**
 * Stateless bearer-token security: every {@code /api} route needs a token except register and
 * login. {@code /ws} authenticates inside the WebSocket protocol (query parameter or first frame).
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfig {
  /**
   * Argon2id for new hashes. Hashes carry their algorithm ({@code {argon2}...}); the unprefixed
   * bcrypt hashes of earlier versions still match and are re-hashed at the next login.
   */
  @Bean
  PasswordEncoder passwordEncoder() {
    var encoders =
        Map.<String, PasswordEncoder>of(
            "argon2",
            Argon2PasswordEncoder.defaultsForSpringSecurity_v5_8(),
            "bcrypt",
            new BCryptPasswordEncoder());
    var delegating = new DelegatingPasswordEncoder("argon2", encoders);
    delegating.setDefaultPasswordEncoderForMatches(encoders.get("bcrypt"));
    return delegating;
  }

  @Bean
  UrlBasedCorsConfigurationSource corsConfigurationSource(CorsProperties properties) {
    var source = new UrlBasedCorsConfigurationSource();
    if (!properties.allowedOrigins().isEmpty()) {
      var cors = new CorsConfiguration();
      cors.setAllowedOriginPatterns(properties.allowedOrigins());
      cors.setAllowedMethods(List.of("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"));
      cors.setAllowedHeaders(
          List.of(
              "Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Request-Id"));
      cors.setExposedHeaders(
          List.of(
              "Retry-After",
              "X-Request-Id",
              "X-RateLimit-Limit",
              "X-RateLimit-Remaining",
              "Location"));
      // Bearer tokens, not cookies: browsers need not send credentials.
      cors.setAllowCredentials(false);
      cors.setMaxAge(properties.maxAge());
      source.registerCorsConfiguration("/api/**", cors);
    }
    return source;
  }

  @Bean
  SecurityFilterChain api(
      HttpSecurity http,
      AuthService auth,
      ObjectMapper json,
      RateLimiter limiter,
      RateLimitProperties limits,
      UrlBasedCorsConfigurationSource cors)
      throws Exception {
    var bearer = new BearerTokenFilter(auth, json);
    return http.csrf(AbstractHttpConfigurer::disable)
        .cors(c -> c.configurationSource(cors))
        .httpBasic(AbstractHttpConfigurer::disable)
        .formLogin(AbstractHttpConfigurer::disable)
        .logout(AbstractHttpConfigurer::disable)
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .authorizeHttpRequests(a ->
            // An SSE response's async dispatch (its end) was authorized when the request began.
            a.dispatcherTypeMatchers(DispatcherType.ASYNC, DispatcherType.ERROR)
                .permitAll()
                .requestMatchers("/api/auth/register", "/api/auth/login", "/ws", "/error")
                .permitAll()
                // Probes and the scraper carry no user token; bind the port privately (or set
                // management.server.port) where the network is not trusted.
                .requestMatchers(
                    "/actuator/health/**",
                    "/actuator/health",
                    "/actuator/info",
                    "/actuator/prometheus")
                .permitAll()
                // The OpenAPI document and Swagger UI (dev.chorus.api.docs) are public.
                .requestMatchers("/v3/api-docs", "/v3/api-docs/**", "/docs", "/docs/**")
                .permitAll()
                .requestMatchers("/swagger-ui.html", "/swagger-ui/**")
                .permitAll()
                .anyRequest()
                .authenticated())
        .addFilterBefore(bearer, AnonymousAuthenticationFilter.class)
        .addFilterAfter(new RequestRateLimitFilter(limiter, limits, json), BearerTokenFilter.class)
        .exceptionHandling(e ->
            e.authenticationEntryPoint((request, response, ex) ->
                FilterProblems.write(
                    response,
                    json,
                    HttpStatus.UNAUTHORIZED,
                    "unauthorized",
                    "a valid bearer token is required")))
        .build();
  }
}
