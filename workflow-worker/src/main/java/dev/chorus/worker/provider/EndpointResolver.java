package dev.chorus.worker.provider;

import dev.chorus.model.agent.ProviderFailureType;
import dev.chorus.model.crypto.CredentialDecryptionException;
import dev.chorus.model.workflow.AgentTask;
import dev.chorus.worker.credential.CredentialStore;
import dev.chorus.worker.credential.UserCredential;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Decides where one agent's call goes and with which key, at the start of every attempt (so a key a
 * user replaces mid-query is picked up by the next attempt). A user's own credential wins over the
 * server's; a user's base URL gets the user's key or none — a server-owned key never leaves for a
 * URL a user chose. Keys are read here, inside the activity: history holds only the user id.
 */
@Component
public class EndpointResolver {
  private final CredentialStore credentials;

  public EndpointResolver(CredentialStore credentials) {
    this.credentials = credentials;
  }

  public Endpoint resolve(ChatProvider provider, AgentTask task) {
    Optional<UserCredential> own;
    try {
      own =
          task.userId() == null ? Optional.empty() : credentials.find(task.userId(), provider.id());
    } catch (CredentialDecryptionException e) {
      throw ProviderFailure.of(
              ProviderFailureType.ProviderNotConfigured,
              "your stored key for '"
                  + provider.id()
                  + "' cannot be opened on this worker ("
                  + e.getMessage()
                  + "); store it again with PUT /api/me/credentials/"
                  + provider.id())
          .exception();
    }
    if (own.isPresent()) {
      UserCredential credential = own.get();
      String key =
          credential.apiKey() == null || credential.apiKey().isEmpty() ? null : credential.apiKey();
      return credential.baseUrl() == null || credential.baseUrl().isBlank()
          ? new Endpoint(provider.defaultBaseUrl(), key, false)
          : new Endpoint(credential.baseUrl(), key, true);
    }
    return provider
        .serverEndpoint()
        .orElseThrow(() ->
            ProviderFailure.of(
                    ProviderFailureType.ProviderNotConfigured,
                    "provider '"
                        + provider.id()
                        + "' has no server key and you stored none: "
                        + "PUT /api/me/credentials/"
                        + provider.id())
                .exception());
  }
}
