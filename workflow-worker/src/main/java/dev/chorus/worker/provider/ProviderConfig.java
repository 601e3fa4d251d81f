package dev.chorus.worker.provider;

import dev.chorus.worker.credential.UserEndpointClients;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration
class ProviderConfig {
  /** Calls to a base URL a user chose go through the egress-checked client (no redirects). */
  @Bean
  ProviderHttp.UserEndpointGuard userEndpointGuard(UserEndpointClients clients) {
    return clients::userEndpointClient;
  }
}
