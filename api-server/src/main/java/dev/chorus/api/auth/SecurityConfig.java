package dev.chorus.api.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.common.Problems;
import jakarta.servlet.DispatcherType;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;

/**
 * Stateless bearer-token security: every {@code /api} route needs a token except register and
 * login. {@code /ws} authenticates inside the WebSocket protocol (query parameter or first frame).
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfig {
  @Bean
  PasswordEncoder passwordEncoder() {
    return new BCryptPasswordEncoder();
  }

  @Bean
  SecurityFilterChain api(HttpSecurity http, AuthService auth, ObjectMapper json) throws Exception {
    return http.csrf(AbstractHttpConfigurer::disable)
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
                .requestMatchers("/actuator/health/**", "/actuator/health", "/actuator/info")
                .permitAll()
                .anyRequest()
                .authenticated())
        .addFilterBefore(new BearerTokenFilter(auth), AnonymousAuthenticationFilter.class)
        .exceptionHandling(e ->
            e.authenticationEntryPoint((request, response, ex) -> {
              response.setStatus(HttpStatus.UNAUTHORIZED.value());
              response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
              json.writeValue(
                  response.getOutputStream(),
                  Problems.problem(
                      HttpStatus.UNAUTHORIZED, "unauthorized", "a valid bearer token is required"));
            }))
        .build();
  }
}
