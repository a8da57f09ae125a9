//! The vendor's ID-token signing key: Ed25519 (`EdDSA`, RFC 8037).
//!
//! Asymmetric on purpose: the vendor signs with the private half and publishes only the public
//! half at `/jwks`, so a client can check a token but never mint one. (A shared HMAC secret
//! would let every client forge tokens for every other client.)

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wristband_inject::Entropy;

/// An Ed25519 signing key with its key id.
///
/// `Debug` shows only the key id; the private key never leaves this type except as the PKCS#8
/// file written by [`VendorSigningKey::load_or_create`].
#[derive(Clone)]
pub struct VendorSigningKey {
    signing_key: SigningKey,
    encoding_key: EncodingKey,
    kid: String,
}

impl VendorSigningKey {
    /// The key whose 32-byte private seed is `seed`. The same seed always gives the same key.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self::from_signing_key(SigningKey::from_bytes(&seed))
    }

    /// A fresh key drawn from `entropy` (use [`wristband_inject::OsEntropy`] outside tests).
    pub fn generate(entropy: &dyn Entropy) -> Self {
        let mut seed = [0u8; 32];
        entropy.fill(&mut seed);
        Self::from_seed(seed)
    }

    /// Reads a key from a PKCS#8 PEM document (`-----BEGIN PRIVATE KEY-----`).
    ///
    /// # Errors
    ///
    /// [`KeyFileError::Malformed`] if the text is not an Ed25519 PKCS#8 private key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyFileError> {
        let signing_key = SigningKey::from_pkcs8_pem(pem).map_err(|_| KeyFileError::Malformed)?;
        Ok(Self::from_signing_key(signing_key))
    }

    /// Loads the key stored at `path`, or generates one from `entropy` and stores it there.
    ///
    /// A new file is created with mode `0600` (owner read and write only) and is never
    /// overwritten: if two processes race, the loser reads the winner's key.
    ///
    /// # Errors
    ///
    /// [`KeyFileError::Io`] if the file cannot be read or created, and
    /// [`KeyFileError::Malformed`] if it exists but does not hold an Ed25519 PKCS#8 key.
    pub fn load_or_create(path: &Path, entropy: &dyn Entropy) -> Result<Self, KeyFileError> {
        match fs::read_to_string(path) {
            Ok(pem) => return Self::from_pkcs8_pem(&pem),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(KeyFileError::Io(error)),
        }

        let key = Self::generate(entropy);
        let pem = key
            .signing_key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| KeyFileError::Malformed)?;

        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(pem.as_bytes())?;
                file.sync_all()?;
                Ok(key)
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::from_pkcs8_pem(&fs::read_to_string(path)?)
            }
            Err(error) => Err(KeyFileError::Io(error)),
        }
    }

    fn from_signing_key(signing_key: SigningKey) -> Self {
        // jsonwebtoken signs EdDSA with a PKCS#8 DER encoding of the private key. Encoding a
        // valid in-memory key cannot fail; were it to, the empty key makes every signature
        // fail, which fails closed. (The DER document zeroes itself when dropped.)
        let encoding_key = match signing_key.to_pkcs8_der() {
            Ok(document) => EncodingKey::from_ed_der(document.as_bytes()),
            Err(_) => EncodingKey::from_ed_der(&[]),
        };
        let public = signing_key.verifying_key().to_bytes();
        Self {
            kid: jwk_thumbprint(&public),
            signing_key,
            encoding_key,
        }
    }

    /// The key id (`kid`): the RFC 7638 JWK thumbprint of the public key, so it changes exactly
    /// when the key does and a client knows to fetch the JWKS again.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing_key.verifying_key().to_bytes()
    }

    /// The public key as a JSON Web Key (RFC 8037 §2), as published at `/jwks`.
    pub fn public_jwk(&self) -> PublicJwk {
        PublicJwk {
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            x: URL_SAFE_NO_PAD.encode(self.public_key()),
            kid: self.kid.clone(),
            alg: "EdDSA".to_owned(),
            key_use: "sig".to_owned(),
        }
    }

    /// Signs `claims` as a JWT with header `{"typ":"JWT","alg":"EdDSA","kid":...}`.
    pub(crate) fn sign<T: Serialize>(
        &self,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding_key)
    }
}

impl fmt::Debug for VendorSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VendorSigningKey")
            .field("kid", &self.kid)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

/// RFC 7638: SHA-256 over the required members, in lexicographic order, without whitespace.
fn jwk_thumbprint(public_key: &[u8; 32]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public_key)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A public Ed25519 key as a JSON Web Key (RFC 7517, RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// Key type: `OKP` (octet key pair).
    pub kty: String,
    /// Curve: `Ed25519`.
    pub crv: String,
    /// The public key, base64url without padding.
    pub x: String,
    /// Key id, matching the `kid` header of tokens signed with this key.
    pub kid: String,
    /// Algorithm: `EdDSA`.
    pub alg: String,
    /// Intended use: `sig` (signatures only).
    #[serde(rename = "use")]
    pub key_use: String,
}

/// Why a signing key could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("cannot read or write the signing key file")]
    Io(#[from] std::io::Error),
    /// The file exists but does not hold an Ed25519 PKCS#8 private key.
    #[error("the signing key file does not hold an Ed25519 PKCS#8 private key")]
    Malformed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use wristband_inject::SeededEntropy;

    #[test]
    fn the_same_seed_gives_the_same_key_id() {
        let a = VendorSigningKey::from_seed([7; 32]);
        let b = VendorSigningKey::from_seed([7; 32]);
        let c = VendorSigningKey::from_seed([8; 32]);
        assert_eq!(a.kid(), b.kid());
        assert_ne!(a.kid(), c.kid());
        assert_eq!(a.kid().len(), 43, "a base64url SHA-256 digest");
    }

    #[test]
    fn the_debug_output_shows_the_key_id_only() {
        let key = VendorSigningKey::from_seed([7; 32]);
        assert_eq!(
            format!("{key:?}"),
            format!(
                "VendorSigningKey {{ kid: {:?}, private_key: \"[redacted]\" }}",
                key.kid()
            )
        );
    }

    #[test]
    fn the_key_id_is_the_rfc_8037_thumbprint() {
        // RFC 8037 Appendix A.2/A.3: the example public key and its thumbprint.
        let public = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .expect("valid base64url");
        let public: [u8; 32] = public.try_into().expect("32 bytes");
        assert_eq!(
            jwk_thumbprint(&public),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn a_created_key_file_is_private_and_reloads_as_the_same_key() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("vendor-signing-key");
        let created = VendorSigningKey::load_or_create(&path, &SeededEntropy::new(1))
            .expect("the key is created");
        let loaded = VendorSigningKey::load_or_create(&path, &SeededEntropy::new(2))
            .expect("the key is loaded");
        assert_eq!(created.kid(), loaded.kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path)
                .expect("the file exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_key_file_with_garbage_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("vendor-signing-key");
        fs::write(&path, "not a key").expect("the file is written");
        assert!(matches!(
            VendorSigningKey::load_or_create(&path, &SeededEntropy::new(1)),
            Err(KeyFileError::Malformed)
        ));
    }
}
