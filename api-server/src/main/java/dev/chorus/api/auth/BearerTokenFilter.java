package dev.chorus.api.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Resolves {@code Authorization: Bearer <token>} to a {@link CurrentUser} (the principal) and its
 * {@link AccessToken} (the details). A token without the {@code write} scope may only read.
 */
class BearerTokenFilter extends OncePerRequestFilter {
  private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS");

  private final AuthService auth;
  private final ObjectMapper json;

  BearerTokenFilter(AuthService auth, ObjectMapper json) {
    this.auth = auth;
    this.json = json;
  }

  static String bearerToken(HttpServletRequest request) {
    String header = request.getHeader(HttpHeaders.AUTHORIZATION);
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return header.substring(7).trim();
    }
    return null;
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String token = bearerToken(request);
    var resolved = token == null ? null : auth.resolve(token).orElse(null);
    if (resolved != null) {
      if (!resolved.token().canWrite()
          && !SAFE_METHODS.contains(request.getMethod())
          && !request.getRequestURI().equals("/api/auth/logout")) {
        FilterProblems.write(
            response,
            json,
            HttpStatus.FORBIDDEN,
            "insufficient-scope",
            "this token has only the read scope");
        return;
      }
      var authentication =
          new UsernamePasswordAuthenticationToken(resolved.user(), null, List.of());
      authentication.setDetails(resolved.token());
      SecurityContextHolder.getContext().setAuthentication(authentication);
    }
    chain.doFilter(request, response);
  }
}
