package dev.chorus.api.query;

import dev.chorus.api.auth.CurrentUser;
import dev.chorus.model.api.QueryView;
import java.util.UUID;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/queries")
class QueryController {
  private final QueryService service;

  QueryController(QueryService service) {
    this.service = service;
  }

  @GetMapping("/{id}")
  QueryView get(@AuthenticationPrincipal CurrentUser user, @PathVariable UUID id) {
    return service.get(user.id(), id);
  }
}
