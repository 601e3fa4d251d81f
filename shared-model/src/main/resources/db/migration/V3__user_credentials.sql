-- Chorus schema v3: users' own provider API keys, encrypted by the api-server (AES-256-GCM under a
-- master keyring, see dev.chorus.model.crypto.CredentialCipher) and decrypted only by the worker
-- that calls the provider. The plaintext key is never stored; key_hint is a masked form (sk-…AbCd).

CREATE TABLE user_credentials (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The provider id of the providers directory (V2); not a foreign key, so a provider a worker
    -- stops serving does not take its users' keys with it.
    provider   text        NOT NULL,
    -- Which master key sealed this row: rows of a key that is no longer first get re-sealed.
    key_id     text        NOT NULL,
    nonce      bytea       NOT NULL CHECK (octet_length(nonce) = 12),
    -- Ciphertext with the 16-byte GCM tag; the associated data binds it to (user_id, provider).
    ciphertext bytea       NOT NULL CHECK (octet_length(ciphertext) >= 16),
    key_hint   text,
    base_url   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, provider)
);
-- Rotation looks for rows sealed by an older key.
CREATE INDEX user_credentials_key_idx ON user_credentials (key_id);
