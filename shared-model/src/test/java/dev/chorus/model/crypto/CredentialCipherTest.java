package dev.chorus.model.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CredentialCipherTest {
  private static final String SECRET = "sk-proj-Th1sIsAT0tallyRealKey-AbCd";
  private static final UUID USER = UUID.randomUUID();

  private static String key() {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    return Base64.getEncoder().encodeToString(raw);
  }

  private final String k1 = key();
  private final String k2 = key();

  @Test
  void roundTrip() {
    var cipher = CredentialCipher.fromKeyring("k1:" + k1);
    SealedCredential sealed = cipher.seal(USER, "openai", SECRET);
    assertThat(sealed.keyId()).isEqualTo("k1");
    assertThat(sealed.nonce()).hasSize(12);
    assertThat(sealed.ciphertext()).hasSize(SECRET.length() + 16);
    assertThat(new String(sealed.ciphertext(), java.nio.charset.StandardCharsets.ISO_8859_1))
        .doesNotContain("Th1sIsAT0tally");
    assertThat(cipher.open(USER, "openai", sealed)).isEqualTo(SECRET);
    assertThat(cipher.open(USER, "openai", cipher.seal(USER, "openai", ""))).isEmpty();
    assertThat(cipher.open(USER, "openai", cipher.seal(USER, "openai", "clé ✓")))
        .isEqualTo("clé ✓");
  }

  @Test
  void everySealUsesAFreshNonce() {
    var cipher = CredentialCipher.fromKeyring("k1:" + k1);
    Set<String> nonces = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      nonces.add(Base64.getEncoder().encodeToString(cipher.seal(USER, "openai", SECRET).nonce()));
    }
    assertThat(nonces).hasSize(200);
  }

  @Test
  void anotherUserOrProviderCannotOpen() {
    var cipher = CredentialCipher.fromKeyring("k1:" + k1);
    SealedCredential sealed = cipher.seal(USER, "openai", SECRET);
    assertThatThrownBy(() -> cipher.open(UUID.randomUUID(), "openai", sealed))
        .isInstanceOf(CredentialDecryptionException.class)
        .hasMessageNotContaining(SECRET)
        .hasMessageContaining("does not belong");
    assertThatThrownBy(() -> cipher.open(USER, "anthropic", sealed))
        .isInstanceOf(CredentialDecryptionException.class);
    assertThatThrownBy(() -> cipher.open(USER, "openai2", sealed))
        .isInstanceOf(CredentialDecryptionException.class);
  }

  @Test
  void tamperingFails() {
    var cipher = CredentialCipher.fromKeyring("k1:" + k1);
    SealedCredential sealed = cipher.seal(USER, "openai", SECRET);
    for (int i = 0; i < sealed.ciphertext().length; i += 7) {
      byte[] flipped = sealed.ciphertext();
      flipped[i] ^= 1;
      var tampered = new SealedCredential("k1", sealed.nonce(), flipped);
      assertThatThrownBy(() -> cipher.open(USER, "openai", tampered))
          .isInstanceOf(CredentialDecryptionException.class);
    }
    byte[] nonce = sealed.nonce();
    nonce[0] ^= 1;
    assertThatThrownBy(() ->
            cipher.open(USER, "openai", new SealedCredential("k1", nonce, sealed.ciphertext())))
        .isInstanceOf(CredentialDecryptionException.class);
    byte[] truncated = java.util.Arrays.copyOf(sealed.ciphertext(), 10);
    assertThatThrownBy(() ->
            cipher.open(USER, "openai", new SealedCredential("k1", sealed.nonce(), truncated)))
        .isInstanceOf(CredentialDecryptionException.class);
    assertThatThrownBy(
            () -> cipher.open(USER, "openai", new SealedCredential("k1", new byte[3], truncated)))
        .isInstanceOf(CredentialDecryptionException.class);
  }

  @Test
  void rotationKeepsOldKeysForDecryption() {
    var before = CredentialCipher.fromKeyring("k1:" + k1);
    SealedCredential old = before.seal(USER, "openai", SECRET);

    var after = CredentialCipher.fromKeyring("k2:" + k2 + ", k1:" + k1);
    assertThat(after.activeKeyId()).isEqualTo("k2");
    assertThat(after.keyIds()).containsExactly("k2", "k1");
    assertThat(after.needsRotation(old)).isTrue();
    assertThat(after.open(USER, "openai", old)).isEqualTo(SECRET);

    SealedCredential resealed = after.reseal(USER, "openai", old);
    assertThat(resealed.keyId()).isEqualTo("k2");
    assertThat(after.needsRotation(resealed)).isFalse();
    assertThat(after.open(USER, "openai", resealed)).isEqualTo(SECRET);

    var withoutOld = CredentialCipher.fromKeyring("k2:" + k2);
    assertThatThrownBy(() -> withoutOld.open(USER, "openai", old))
        .isInstanceOf(CredentialDecryptionException.class)
        .hasMessageContaining("'k1'")
        .hasMessageContaining("not configured");
    // Same key id, different key material: fails like tampering.
    var impostor = CredentialCipher.fromKeyring("k1:" + k2);
    assertThatThrownBy(() -> impostor.open(USER, "openai", old))
        .isInstanceOf(CredentialDecryptionException.class);
  }

  @Test
  void urlSafeBase64IsAccepted() {
    byte[] raw = new byte[32];
    java.util.Arrays.fill(raw, (byte) 0xfb); // encodes with '-' / '_' in the URL-safe alphabet
    String urlSafe = Base64.getUrlEncoder().encodeToString(raw);
    assertThat(urlSafe).containsAnyOf("-", "_");
    var a = CredentialCipher.fromKeyring("k:" + urlSafe);
    var b = CredentialCipher.fromKeyring("k:" + Base64.getEncoder().encodeToString(raw));
    assertThat(b.open(USER, "p", a.seal(USER, "p", SECRET))).isEqualTo(SECRET);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "   ",
        "no-colon-here",
        ":AAAA",
        "k1:",
        "k1:not*base64!",
        "k1:AAAAAAAAAAAAAAAAAAAAAA==",
        "bad id:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,",
        "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
      })
  void badKeyringsFailClearly(String keyring) {
    assertThatThrownBy(() -> CredentialCipher.fromKeyring(keyring))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("master key");
  }

  @Test
  void keyringErrorsNeverEchoKeyMaterial() {
    String secretish = "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LWlzLTMxYg"; // 31 bytes
    String[] keyrings = {
      secretish, // forgot the id
      "k1:" + secretish,
      "k1:" + secretish + "%%",
      "k1:" + k1 + ",k2:" + secretish,
      "k1:" + k1 + ";k2:" + k2,
    };
    for (String keyring : keyrings) {
      assertThatThrownBy(() -> CredentialCipher.fromKeyring(keyring))
          .isInstanceOf(IllegalArgumentException.class)
          .satisfies(e -> {
            assertThat(e.getMessage())
                .doesNotContain(secretish)
                .doesNotContain(k1)
                .doesNotContain(k2);
            assertThat(e.getMessage()).doesNotContain(secretish.substring(0, 8));
          });
    }
    assertThat(CredentialCipher.fromKeyring("k1:" + k1).toString()).doesNotContain(k1);
  }

  @Test
  void sealedToStringShowsNoBytes() {
    var sealed = CredentialCipher.fromKeyring("k1:" + k1).seal(USER, "openai", SECRET);
    assertThat(sealed.toString())
        .isEqualTo("SealedCredential[keyId=k1, nonce=12 bytes, ciphertext=50 bytes]");
    assertThat(sealed).isEqualTo(new SealedCredential("k1", sealed.nonce(), sealed.ciphertext()));
  }

  @Test
  void maskShowsAtMostTheLastFourCharacters() {
    assertThat(CredentialCipher.mask("sk-proj-abcdefghijklmnopAbCd")).isEqualTo("sk-…AbCd");
    assertThat(CredentialCipher.mask("sk-ant-api03-abcdefghijklmnopWxYz")).isEqualTo("sk-…WxYz");
    assertThat(CredentialCipher.mask("AIzaSyAbcdefghijklmnop1234")).isEqualTo("…1234");
    assertThat(CredentialCipher.mask("0123456789abcdef")).isEqualTo("…cdef");
    assertThat(CredentialCipher.mask("sk-0123456789ab")).isEqualTo("****");
    assertThat(CredentialCipher.mask("short")).isEqualTo("****");
    assertThat(CredentialCipher.mask("")).isNull();
    assertThat(CredentialCipher.mask(null)).isNull();
  }
}
