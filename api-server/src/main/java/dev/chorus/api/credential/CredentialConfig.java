package dev.chorus.api.credential;

import dev.chorus.model.net.EgressPolicy;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class CredentialConfig {
  /** Fails the start on a malformed allowlist entry rather than ignoring it. */
  @Bean
  EgressPolicy egressPolicy(CredentialProperties properties) {
    return EgressPolicy.of(properties.egressAllow());
  }
}
