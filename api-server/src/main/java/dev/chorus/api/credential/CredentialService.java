package dev.chorus.api.credential;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chorus.api.common.ApiException;
import dev.chorus.api.common.NotFoundException;
import dev.chorus.model.crypto.CredentialCipher;
import dev.chorus.model.crypto.CredentialDecryptionException;
import dev.chorus.model.crypto.SealedCredential;
import dev.chorus.model.net.EgressPolicy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;

/**
 * Stores users' own provider keys sealed (AES-256-GCM, bound to user and provider) and shows them
 * only masked. Keys are never logged, echoed or put in an exception message: request bodies are
 * parsed here from raw bytes so that not even a parse error can quote one.
 */
@Service
class CredentialService {
  static final Pattern PROVIDER_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
  static final int MAX_API_KEY = 4096;
  static final int MAX_BASE_URL = 2048;
  static final int MAX_BODY = 16 * 1024;

  /** One invalid field of a request; the message never contains the value. */
  record FieldProblem(String field, String message) {}

  /** Invalid fields: a 400 problem with {@code errors[]}. */
  static final class InvalidFields extends RuntimeException {
    private final transient List<FieldProblem> problems;

    InvalidFields(List<FieldProblem> problems) {
      super("the request has invalid fields", null, false, false);
      this.problems = List.copyOf(problems);
    }

    List<FieldProblem> problems() {
      return problems;
    }
  }

  private final CredentialStore store;
  private final EgressPolicy egress;
  private final ObjectMapper json;
  private final CredentialCipher cipher;

  CredentialService(
      CredentialStore store,
      CredentialProperties properties,
      EgressPolicy egress,
      ObjectMapper json) {
    this.store = store;
    this.egress = egress;
    this.json = json;
    this.cipher = properties.cipherOrNull();
  }

  Optional<CredentialCipher> cipher() {
    return Optional.ofNullable(cipher);
  }

  /** Validates and seals {@code body} ({@code {apiKey, baseUrl?}}) as the user's key. */
  CredentialView put(UUID userId, String provider, byte[] body) {
    String kind = knownProvider(provider);
    if (kind.equals("mock")) {
      throw new ApiException(HttpStatus.BAD_REQUEST, "mock-needs-no-key", "mock needs no key");
    }
    if (cipher == null) {
      throw new ApiException(
          HttpStatus.SERVICE_UNAVAILABLE,
          "credentials-not-configured",
          "credential storage is not configured: set CHORUS_MASTER_KEYS");
    }
    JsonNode request = parse(body);
    List<FieldProblem> problems = new ArrayList<>();
    String apiKey = text(request, "apiKey", problems);
    String baseUrl = text(request, "baseUrl", problems);
    if (apiKey != null) {
      if (apiKey.length() > MAX_API_KEY) {
        problems.add(new FieldProblem("apiKey", "must be at most " + MAX_API_KEY + " characters"));
      } else if (!apiKey.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        // Keys go into HTTP headers: spaces, control and non-ASCII characters would break them.
        problems.add(
            new FieldProblem(
                "apiKey", "must be printable ASCII without spaces or control characters"));
      }
    }
    if (baseUrl != null) {
      if (baseUrl.length() > MAX_BASE_URL) {
        problems.add(
            new FieldProblem("baseUrl", "must be at most " + MAX_BASE_URL + " characters"));
      } else if (egress.check(baseUrl) instanceof EgressPolicy.Rejected rejected) {
        problems.add(new FieldProblem("baseUrl", rejected.reason()));
      }
    }
    if (apiKey == null && baseUrl == null && problems.isEmpty()) {
      problems.add(new FieldProblem("apiKey", "is required unless baseUrl is given"));
    }
    if (!problems.isEmpty()) {
      throw new InvalidFields(problems);
    }
    // A base-URL-only credential seals an empty key: every row has the same shape.
    SealedCredential sealed = cipher.seal(userId, provider, apiKey == null ? "" : apiKey);
    return store.upsert(userId, provider, sealed, CredentialCipher.mask(apiKey), baseUrl);
  }

  List<CredentialView> list(UUID userId) {
    return store.list(userId);
  }

  CredentialView get(UUID userId, String provider) {
    checkFormat(provider);
    return store.find(userId, provider).orElseThrow(() -> new NotFoundException("credential"));
  }

  void delete(UUID userId, String provider) {
    checkFormat(provider);
    if (!store.delete(userId, provider)) {
      throw new NotFoundException("credential");
    }
  }

  /**
   * Opens the user's stored key (empty string for a base-URL-only credential), as the worker does.
   *
   * @throws CredentialDecryptionException when it cannot be opened here
   */
  Optional<String> open(UUID userId, String provider) {
    Optional<SealedCredential> sealed = store.sealed(userId, provider);
    if (sealed.isEmpty()) {
      return Optional.empty();
    }
    if (cipher == null) {
      throw new CredentialDecryptionException("no master keys are configured");
    }
    return Optional.of(cipher.open(userId, provider, sealed.get()));
  }

  private String knownProvider(String provider) {
    checkFormat(provider);
    return store
        .providerKind(provider)
        .orElseThrow(() -> new NotFoundException("provider '" + provider + "'"));
  }

  private static void checkFormat(String provider) {
    if (provider == null || !PROVIDER_ID.matcher(provider).matches()) {
      throw new InvalidFields(
          List.of(
              new FieldProblem(
                  "provider",
                  "must be 1-63 characters of a-z 0-9 . _ - starting with a letter or digit")));
    }
  }

  private JsonNode parse(byte[] body) {
    if (body == null || body.length == 0) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-body", "a JSON body {apiKey, baseUrl?} is required");
    }
    if (body.length > MAX_BODY) {
      throw new ApiException(
          HttpStatus.PAYLOAD_TOO_LARGE,
          "body-too-large",
          "the request body must be at most " + MAX_BODY + " bytes");
    }
    JsonNode node;
    try {
      node = json.readTree(body);
    } catch (IOException e) {
      // Jackson's message may quote the input, i.e. the key: drop it.
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-body", "the request body is not valid JSON");
    }
    if (node == null || !node.isObject()) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "invalid-body", "the request body must be a JSON object");
    }
    return node;
  }

  /** A stripped string field; null when absent, null or blank. */
  private static String text(JsonNode request, String field, List<FieldProblem> problems) {
    JsonNode value = request.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      problems.add(new FieldProblem(field, "must be a string"));
      return null;
    }
    String text = value.textValue().strip();
    return text.isEmpty() ? null : text;
  }
}
