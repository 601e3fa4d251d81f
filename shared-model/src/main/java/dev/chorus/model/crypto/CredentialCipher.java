package dev.chorus.model.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals users' provider API keys with AES-256-GCM under a keyring of master keys.
 *
 * <p>The first key of the keyring seals, every key opens: rotating means putting a new key first
 * and keeping the old ones until every row has been re-sealed. Each seal uses a fresh random 96-bit
 * nonce and a 128-bit tag. The associated data binds the ciphertext to its user and provider, so a
 * row copied to another user or provider does not open. Neither this class nor its exceptions ever
 * print key material or plaintext.
 */
public final class CredentialCipher {
  public static final int KEY_BYTES = 32;
  public static final int NONCE_BYTES = 12;
  public static final int TAG_BITS = 128;

  private static final String TRANSFORMATION = "AES/GCM/NoPadding";
  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,32}");
  private static final Pattern MASK_PREFIX = Pattern.compile("^[A-Za-z]{2,5}[-_]");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String activeKeyId;
  private final Map<String, SecretKey> keys;

  private CredentialCipher(Map<String, SecretKey> keys) {
    this.keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    this.activeKeyId = keys.keySet().iterator().next();
  }

  /**
   * Parses a keyring {@code id:base64key[,id:base64key...]} of 32-byte keys (standard or URL-safe
   * base64). The first key is the active one.
   *
   * @throws IllegalArgumentException with a message that names at most the key id, never the key
   */
  public static CredentialCipher fromKeyring(String keyring) {
    if (keyring == null || keyring.isBlank()) {
      throw new IllegalArgumentException(
          "the master keyring is empty: expected id:base64key[,id:base64key...]");
    }
    Map<String, SecretKey> keys = new LinkedHashMap<>();
    String[] entries = keyring.split(",", -1);
    for (int i = 0; i < entries.length; i++) {
      String entry = entries[i].strip();
      int colon = entry.indexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException(
            "master keyring entry "
                + (i + 1)
                + " must look like id:base64key (32 bytes in base64, e.g. k1:<44 characters>)");
      }
      String id = entry.substring(0, colon).strip();
      if (!KEY_ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "master keyring entry "
                + (i + 1)
                + " has an invalid key id: use 1-32 characters of A-Z a-z 0-9 . _ -");
      }
      if (keys.containsKey(id)) {
        throw new IllegalArgumentException("master key id '" + id + "' appears twice");
      }
      byte[] raw = decodeBase64(entry.substring(colon + 1).strip(), id);
      try {
        if (raw.length != KEY_BYTES) {
          throw new IllegalArgumentException(
              "master key '"
                  + id
                  + "' must be "
                  + KEY_BYTES
                  + " bytes (256 bits), but it is "
                  + raw.length
                  + " bytes");
        }
        keys.put(id, new SecretKeySpec(raw, "AES"));
      } finally {
        Arrays.fill(raw, (byte) 0);
      }
    }
    return new CredentialCipher(keys);
  }

  private static byte[] decodeBase64(String text, String id) {
    if (text.isEmpty()) {
      throw new IllegalArgumentException("master key '" + id + "' is empty");
    }
    try {
      return text.indexOf('-') >= 0 || text.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(text)
          : Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      // The decoder's message quotes the offending character: do not pass it on.
      throw new IllegalArgumentException("master key '" + id + "' is not valid base64");
    }
  }

  /** The id of the key new seals use. */
  public String activeKeyId() {
    return activeKeyId;
  }

  /** Every configured key id, the active one first. */
  public List<String> keyIds() {
    return List.copyOf(keys.keySet());
  }

  /** Whether {@code sealed} was sealed by an older key and should be re-sealed. */
  public boolean needsRotation(SealedCredential sealed) {
    return !activeKeyId.equals(sealed.keyId());
  }

  /** Seals {@code secret} for one user and provider with the active key. */
  public SealedCredential seal(UUID userId, String provider, String secret) {
    Objects.requireNonNull(secret, "secret");
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance(TRANSFORMATION);
      cipher.init(
          Cipher.ENCRYPT_MODE, keys.get(activeKeyId), new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(associatedData(userId, provider));
      byte[] ciphertext = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
      return new SealedCredential(activeKeyId, nonce, ciphertext);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available in this JVM", e);
    }
  }

  /**
   * Opens a sealed credential of one user and provider.
   *
   * @throws CredentialDecryptionException when its key is not configured, or it was tampered with,
   *     or it belongs to another user or provider
   */
  public String open(UUID userId, String provider, SealedCredential sealed) {
    SecretKey key = keys.get(sealed.keyId());
    if (key == null) {
      throw new CredentialDecryptionException(
          "the "
              + provider
              + " credential was sealed with master key '"
              + sealed.keyId()
              + "', which is not configured");
    }
    byte[] nonce = sealed.nonce();
    if (nonce.length != NONCE_BYTES) {
      throw new CredentialDecryptionException(
          "the " + provider + " credential cannot be decrypted: malformed nonce");
    }
    try {
      Cipher cipher = Cipher.getInstance(TRANSFORMATION);
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(associatedData(userId, provider));
      return new String(cipher.doFinal(sealed.ciphertext()), StandardCharsets.UTF_8);
    } catch (AEADBadTagException | IllegalArgumentException e) {
      throw new CredentialDecryptionException(
          "the "
              + provider
              + " credential cannot be decrypted: it was altered or does not belong to this user"
              + " and provider");
    } catch (GeneralSecurityException e) {
      throw new CredentialDecryptionException(
          "the " + provider + " credential cannot be decrypted", e);
    }
  }

  /** Opens with whatever key sealed it and seals again with the active key. */
  public SealedCredential reseal(UUID userId, String provider, SealedCredential sealed) {
    return seal(userId, provider, open(userId, provider, sealed));
  }

  // The user id has a fixed length, so "v1|<uuid>|<provider>" is unambiguous.
  private static byte[] associatedData(UUID userId, String provider) {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(provider, "provider");
    return ("chorus-credential-v1|" + userId + "|" + provider).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A hint that tells keys apart without revealing them: a short type prefix such as {@code sk-}
   * and at most the last 4 characters ({@code sk-…AbCd}); keys shorter than 16 characters are fully
   * masked. Null for null or empty.
   */
  public static String mask(String apiKey) {
    if (apiKey == null || apiKey.isEmpty()) {
      return null;
    }
    if (apiKey.length() < 16) {
      return "****";
    }
    String tail = apiKey.substring(apiKey.length() - 4);
    var prefix = MASK_PREFIX.matcher(apiKey);
    return (apiKey.length() >= 20 && prefix.find() ? prefix.group() : "") + "…" + tail;
  }

  @Override
  public String toString() {
    return "CredentialCipher[active=" + activeKeyId + ", keys=" + keys.keySet() + "]";
  }
}
