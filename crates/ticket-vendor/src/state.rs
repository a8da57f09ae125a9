//! The vendor's shared state: configuration, injected clock and entropy, and the in-memory
//! records of issued codes and access tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use wristband_inject::{Clock, Entropy};

use crate::claims::Scopes;
use crate::config::{
    ClientRegistration, ConfigError, Secret, VendorConfig, VendorUser, issuer_string,
};

/// The vendor's state, shared by every request. Cloning is cheap (one `Arc`).
///
/// Codes and access tokens live in memory only: restarting the vendor forgets them, which is
/// harmless because both are short-lived.
#[derive(Clone)]
pub struct VendorState {
    inner: Arc<Inner>,
}

struct Inner {
    config: VendorConfig,
    issuer: String,
    base_path: String,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    records: Mutex<Records>,
}

impl std::fmt::Debug for VendorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorState")
            .field("issuer", &self.inner.issuer)
            .finish_non_exhaustive()
    }
}

impl VendorState {
    /// Checks `config` and builds the state the router serves from.
    ///
    /// Pass [`wristband_inject::SystemClock`] and [`wristband_inject::OsEntropy`] in production;
    /// tests and lessons pass a `FixedClock` and a `SeededEntropy` so every code and token is
    /// reproducible and expiry is tested by moving the clock, not by sleeping.
    ///
    /// # Errors
    ///
    /// Any [`ConfigError`] found by [`VendorConfig::validate`].
    pub fn new(
        config: VendorConfig,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let issuer = issuer_string(&config.issuer);
        let base_path = config.issuer.path().trim_end_matches('/').to_owned();
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                issuer,
                base_path,
                clock,
                entropy,
                records: Mutex::new(Records::default()),
            }),
        })
    }

    /// The configuration the vendor runs with.
    pub fn config(&self) -> &VendorConfig {
        &self.inner.config
    }

    /// The issuer identifier, exactly as it appears in discovery and in `iss`.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The URL of an endpoint: the issuer plus `path` (which starts with `/`).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.inner.issuer)
    }

    /// The path of a page on this server, for links inside HTML (the issuer's path plus `path`).
    pub(crate) fn local_path(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base_path)
    }

    pub(crate) fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    pub(crate) fn client(&self, client_id: &str) -> Option<&ClientRegistration> {
        self.inner
            .config
            .clients
            .iter()
            .find(|client| client.client_id == client_id)
    }

    pub(crate) fn user_by_subject(&self, subject: &str) -> Option<&VendorUser> {
        self.inner
            .config
            .users
            .iter()
            .find(|user| user.subject == subject)
    }

    /// The holder with this username and password, or `None`.
    ///
    /// An unknown username still costs one secret comparison, so the response time does not
    /// tell an attacker which usernames exist.
    pub(crate) fn authenticate_user(&self, username: &str, password: &str) -> Option<&VendorUser> {
        match self
            .inner
            .config
            .users
            .iter()
            .find(|user| user.username == username)
        {
            Some(user) => user.password.matches(password).then_some(user),
            None => {
                let _ = Secret::new("no such user").matches(password);
                None
            }
        }
    }

    /// The client with this id and secret, or `None`. Like [`Self::authenticate_user`], an
    /// unknown client id costs the same comparison as a known one.
    pub(crate) fn authenticate_client(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Option<&ClientRegistration> {
        match self.client(client_id) {
            Some(client) => client
                .client_secret
                .matches(client_secret)
                .then_some(client),
            None => {
                let _ = Secret::new("no such client").matches(client_secret);
                None
            }
        }
    }

    /// 256 bits from the injected entropy, base64url-encoded: an authorization code or an access
    /// token. RFC 6749 §10.10 asks for at least 128 bits (RFC 9700 repeats it).
    fn random_token(&self) -> String {
        let mut bytes = [0u8; 32];
        self.inner.entropy.fill(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn records(&self) -> MutexGuard<'_, Records> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // grants access (each operation is a single insert or remove), so keep serving.
        let mut records = self
            .inner
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        records.prune(self.now());
        records
    }

    /// Stores `grant` and returns the new authorization code.
    pub(crate) fn issue_code(&self, grant: CodeGrant) -> String {
        let code = self.random_token();
        let expires_at = self.now() + self.inner.config.code_ttl.as_secs();
        self.records().codes.insert(
            fingerprint(&code),
            CodeRecord {
                grant,
                expires_at,
                status: CodeStatus::Unused,
            },
        );
        code
    }

    /// Looks `code` up and spends it in the same step: whatever happens next, the code can never
    /// be presented again (RFC 6749 §4.1.2: "MUST NOT use the authorization code more than once").
    ///
    /// Presenting a spent code revokes every access token issued from it, because one of the
    /// two presenters is an attacker and the server cannot tell which (RFC 6749 §4.1.2).
    pub(crate) fn spend_code(&self, code: &str) -> CodeLookup {
        let now = self.now();
        let token_ttl = self.inner.config.token_ttl.as_secs();
        let mut records = self.records();
        let Records {
            codes,
            access_tokens,
        } = &mut *records;
        let Some(record) = codes.get_mut(&fingerprint(code)) else {
            return CodeLookup::Unknown;
        };
        match &mut record.status {
            CodeStatus::Unused => {
                // Keep the spent record for as long as a token issued from it could live, so a
                // late replay can still revoke it.
                record.status = CodeStatus::Spent {
                    replayed: false,
                    access_tokens: Vec::new(),
                    retain_until: (now + token_ttl).max(record.expires_at),
                };
                CodeLookup::Fresh {
                    grant: record.grant.clone(),
                    expired: now >= record.expires_at,
                }
            }
            CodeStatus::Spent {
                replayed,
                access_tokens: issued,
                ..
            } => {
                *replayed = true;
                let mut revoked = 0;
                for token in issued.drain(..) {
                    if access_tokens.remove(&token).is_some() {
                        revoked += 1;
                    }
                }
                CodeLookup::Replayed {
                    client_id: record.grant.client_id.clone(),
                    revoked_access_tokens: revoked,
                }
            }
        }
    }

    /// Issues an access token for a code spent by [`Self::spend_code`].
    ///
    /// Returns `None` if the code was replayed in the meantime: the replay has already revoked
    /// everything issued from the code, and this token must not slip past it.
    pub(crate) fn issue_access_token(&self, code: &str, grant: &CodeGrant) -> Option<String> {
        let token = self.random_token();
        let expires_at = self.now() + self.inner.config.token_ttl.as_secs();
        let mut records = self.records();
        let Records {
            codes,
            access_tokens,
        } = &mut *records;
        match codes
            .get_mut(&fingerprint(code))
            .map(|record| &mut record.status)
        {
            Some(CodeStatus::Spent {
                replayed: false,
                access_tokens: issued,
                ..
            }) => {
                let key = fingerprint(&token);
                issued.push(key);
                access_tokens.insert(
                    key,
                    AccessRecord {
                        subject: grant.subject.clone(),
                        scopes: grant.scopes,
                        expires_at,
                    },
                );
                Some(token)
            }
            _ => None,
        }
    }

    /// The grant behind a live access token, or `None` if it is unknown, expired or revoked.
    pub(crate) fn access_token(&self, token: &str) -> Option<AccessRecord> {
        // Expired records are pruned when the lock is taken, so a found record is live.
        self.records()
            .access_tokens
            .get(&fingerprint(token))
            .cloned()
    }
}

/// Codes and tokens are stored under their SHA-256, not in the clear: a memory dump or a debug
/// print of the maps does not hand out working credentials.
fn fingerprint(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// What an authorization code stands for, fixed when the holder approved.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: String,
    pub(crate) subject: String,
    pub(crate) scopes: Scopes,
    pub(crate) auth_time: u64,
}

/// The outcome of presenting a code at the token endpoint.
#[derive(Debug)]
pub(crate) enum CodeLookup {
    /// Never issued, or expired and already forgotten.
    Unknown,
    /// Presented for the first time; `expired` says whether its lifetime has run out.
    Fresh { grant: CodeGrant, expired: bool },
    /// Presented before: refused, and its access tokens revoked.
    Replayed {
        client_id: String,
        revoked_access_tokens: usize,
    },
}

/// What an access token lets its bearer read at `/userinfo`.
#[derive(Debug, Clone)]
pub(crate) struct AccessRecord {
    pub(crate) subject: String,
    pub(crate) scopes: Scopes,
    pub(crate) expires_at: u64,
}

#[derive(Default)]
struct Records {
    codes: HashMap<[u8; 32], CodeRecord>,
    access_tokens: HashMap<[u8; 32], AccessRecord>,
}

impl Records {
    /// Drops everything that can no longer be used.
    // NOTE: a scan on every access is linear in the number of live records; fine for a
    // teaching provider with a handful of users, a real one would use a store with expiry.
    fn prune(&mut self, now: u64) {
        self.codes.retain(|_, record| match record.status {
            CodeStatus::Unused => now < record.expires_at,
            CodeStatus::Spent { retain_until, .. } => now < retain_until,
        });
        self.access_tokens
            .retain(|_, record| now < record.expires_at);
    }
}

struct CodeRecord {
    grant: CodeGrant,
    expires_at: u64,
    status: CodeStatus,
}

enum CodeStatus {
    Unused,
    Spent {
        replayed: bool,
        access_tokens: Vec<[u8; 32]>,
        retain_until: u64,
    },
}
