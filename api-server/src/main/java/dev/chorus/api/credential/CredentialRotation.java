package dev.chorus.api.credential;

import dev.chorus.model.crypto.CredentialCipher;
import dev.chorus.model.crypto.CredentialDecryptionException;
import dev.chorus.model.crypto.SealedCredential;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.dao.DataAccessException;
import org.springframework.stereotype.Component;

/**
 * Re-seals, at start, every stored key whose master key is no longer the first of the keyring, so
 * an old master key can be dropped once every api-server has run with the new order. Idempotent and
 * safe with several api-servers starting at once: a row is replaced only if it is still the one
 * that was read.
 */
@Component
class CredentialRotation implements ApplicationRunner {
  private static final Logger log = LoggerFactory.getLogger(CredentialRotation.class);
  static final int BATCH = 100;
  private static final int LOGGED_UNREADABLE = 10;

  /** What one pass did. */
  record Result(int resealed, int unreadable) {}

  private final CredentialStore store;
  private final CredentialService credentials;

  CredentialRotation(CredentialStore store, CredentialService credentials) {
    this.store = store;
    this.credentials = credentials;
  }

  @Override
  public void run(ApplicationArguments args) {
    try {
      rotate();
    } catch (DataAccessException e) {
      // Never keep the API from starting: the next start tries again.
      log.warn("re-encrypting user credentials failed; will retry at the next start", e);
    }
  }

  Result rotate() {
    CredentialCipher cipher = credentials.cipher().orElse(null);
    if (cipher == null) {
      return new Result(0, 0);
    }
    int resealed = 0;
    int unreadable = 0;
    UUID afterUser = null;
    String afterProvider = null;
    while (true) {
      var batch = store.sealedWithOtherKeys(cipher.activeKeyId(), afterUser, afterProvider, BATCH);
      for (var row : batch) {
        try {
          SealedCredential fresh = cipher.reseal(row.userId(), row.provider(), row.sealed());
          if (store.replaceSealed(row.userId(), row.provider(), row.sealed(), fresh)) {
            resealed++;
          }
        } catch (CredentialDecryptionException e) {
          if (++unreadable > LOGGED_UNREADABLE) {
            continue;
          }
          log.warn(
              "cannot re-encrypt the {} credential of user {}: {}",
              row.provider(),
              row.userId(),
              e.getMessage());
        }
      }
      if (batch.size() < BATCH) {
        break;
      }
      afterUser = batch.getLast().userId();
      afterProvider = batch.getLast().provider();
    }
    if (resealed > 0 || unreadable > 0) {
      log.info(
          "re-encrypted {} user credential(s) with master key '{}'; {} could not be opened",
          resealed,
          cipher.activeKeyId(),
          unreadable);
    }
    return new Result(resealed, unreadable);
  }
}
