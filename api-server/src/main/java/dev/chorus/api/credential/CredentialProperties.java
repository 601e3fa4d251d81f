package dev.chorus.api.credential;

import dev.chorus.model.crypto.CredentialCipher;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * @param masterKeys the keyring {@code id:base64key[,id:base64key...]} (env {@code
 *     CHORUS_MASTER_KEYS}): the first key seals, every key opens. Blank: users cannot store keys
 * @param egressAllow hosts, addresses and CIDR ranges that user-supplied base URLs may point to
 *     even though they are not public (env {@code CHORUS_EGRESS_ALLOW}, comma-separated)
 */
@ConfigurationProperties("chorus.credentials")
public record CredentialProperties(String masterKeys, List<String> egressAllow) {
  public CredentialProperties {
    egressAllow = egressAllow == null ? List.of() : List.copyOf(egressAllow);
  }

  /** The cipher of the keyring, or null when none is configured; fails on a malformed keyring. */
  public CredentialCipher cipherOrNull() {
    return masterKeys == null || masterKeys.isBlank()
        ? null
        : CredentialCipher.fromKeyring(masterKeys);
  }

  @Override
  public String toString() {
    return "CredentialProperties[masterKeys="
        + (masterKeys == null || masterKeys.isBlank() ? "<unset>" : "<set>")
        + ", egressAllow="
        + egressAllow
        + "]";
  }
}
