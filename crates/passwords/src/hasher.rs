use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use argon2::password_hash::phc;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHasher as _, Version};
use subtle::ConstantTimeEq as _;
use wristband_inject::{Entropy, OsEntropy};

use crate::Password;

/// Length of the random salt in bytes (128 bits, as the OWASP cheat sheet and RFC 9106 advise).
const SALT_BYTES: usize = 16;

/// What the dummy hash for unknown usernames is made from (see
/// [`PasswordHasher::verify_unknown_user`]).
const DUMMY_PASSWORD: &str = "wristband: the password of nobody";
const DUMMY_SALT: &[u8] = b"wristband-dummy!";

/// The cost parameters of argon2id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB that each hash fills.
    pub memory_kib: u32,
    /// Passes over that memory.
    pub iterations: u32,
    /// Lanes computed in parallel.
    pub parallelism: u32,
}

impl HashParams {
    /// The OWASP Password Storage Cheat Sheet's first argon2id option: 19 MiB, 2 passes, 1 lane.
    pub const OWASP: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    fn to_argon2(self) -> Result<Params, HashError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|err| HashError::Parameters(err.to_string()))
    }
}

impl Default for HashParams {
    fn default() -> Self {
        Self::OWASP
    }
}

/// The working memory of argon2id (19 MiB at [`HashParams::OWASP`]), kept between checks.
///
/// Every check fills this memory from scratch, so nothing of one password survives into the
/// next check's result. What reusing it saves is the allocation: fresh memory from the operating
/// system arrives as pages that fault in and are zeroed on first touch, several milliseconds
/// per check at 19 MiB. A thread that checks passwords all day, such as a worker of
/// [`crate::HashingPool`], keeps one `HashMemory` and lends it to every check.
#[derive(Default)]
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl HashMemory {
    /// Empty memory; the first check that borrows it allocates what its parameters need.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes currently held.
    pub fn len_bytes(&self) -> usize {
        self.blocks.len() * Block::SIZE
    }

    /// Exactly the blocks `params` needs, reusing what is held.
    fn blocks_for(&mut self, params: &Params) -> &mut [Block] {
        let count = params.block_count();
        if self.blocks.len() != count {
            self.blocks.resize(count, Block::default());
            // After a check against an old, bigger hash, give the surplus back.
            self.blocks.shrink_to_fit();
        }
        &mut self.blocks
    }
}

impl fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashMemory({} KiB)", self.len_bytes() / 1024)
    }
}

/// A stored password hash in PHC string format.
///
/// The string holds everything needed to verify a password later: algorithm, version,
/// parameters, salt and output. It is safe to store, but it is still an offline-cracking target,
/// so `Debug` shows only the algorithm and parameters.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Parses a PHC string such as one read back from a database.
    ///
    /// # Errors
    ///
    /// [`HashError::Malformed`] if the string is not a PHC string.
    pub fn parse(phc_string: &str) -> Result<Self, HashError> {
        phc::PasswordHash::new(phc_string).map_err(|_| HashError::Malformed)?;
        Ok(Self(phc_string.to_owned()))
    }

    /// The PHC string, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parsed parts of the PHC string (algorithm, version, parameters, salt, output).
    ///
    /// # Errors
    ///
    /// [`HashError::Malformed`] if the string is no longer a valid PHC string.
    pub fn parts(&self) -> Result<phc::PasswordHash, HashError> {
        phc::PasswordHash::new(&self.0).map_err(|_| HashError::Malformed)
    }

    /// The part of the PHC string before the salt, e.g. `$argon2id$v=19$m=19456,t=2,p=1`.
    /// Safe to log: it identifies how a hash was made, not what it hides.
    pub fn scheme(&self) -> &str {
        // `$alg$v=19$params$salt$hash`: the scheme is everything before the fifth `$`.
        let cut = self
            .0
            .match_indices('$')
            .nth(3)
            .map_or(self.0.len(), |(index, _)| index);
        &self.0[..cut]
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PasswordHash({}$[salt]$[hash])", self.scheme())
    }
}

impl FromStr for PasswordHash {
    type Err = HashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why a hash could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The password is longer than [`crate::MAX_PASSWORD_BYTES`].
    #[error("password is longer than {} bytes", crate::MAX_PASSWORD_BYTES)]
    TooLong,
    /// A stored string is not a PHC string.
    #[error("not a PHC password hash string")]
    Malformed,
    /// The configured parameters are outside what argon2 accepts.
    #[error("invalid argon2 parameters: {0}")]
    Parameters(String),
    /// argon2 itself failed (for example, it could not allocate its memory).
    #[error("argon2 failed: {0}")]
    Argon2(String),
}

/// Why a password was not accepted.
///
/// The split matters: [`VerifyError::InvalidCredentials`] is the user's mistake and is answered
/// with a generic "wrong username or password"; [`VerifyError::Unexpected`] is the server's
/// problem (a corrupt stored hash, an allocation failure) and must be logged and answered as a
/// server error, never as "wrong password".
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Wrong password, unknown user, or a password too long to be anyone's.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The check itself could not run.
    #[error("password check failed: {0}")]
    Unexpected(#[source] HashError),
}

/// Hashes and verifies passwords with argon2id.
///
/// Every method here is CPU- and memory-heavy and blocks its thread for tens of milliseconds.
/// From async code, go through [`crate::HashingPool`].
#[derive(Clone)]
pub struct PasswordHasher {
    params: HashParams,
    argon2: Argon2<'static>,
    entropy: Arc<dyn Entropy>,
    dummy: Arc<PasswordHash>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher at [`HashParams::OWASP`] drawing salts from the operating system.
    pub fn owasp() -> Self {
        // The OWASP parameters are constants that argon2 accepts, so this cannot fail.
        #[allow(clippy::expect_used)]
        Self::new(HashParams::OWASP, Arc::new(OsEntropy)).expect("OWASP parameters are valid")
    }

    /// A hasher with the given parameters and salt source.
    ///
    /// Pass [`wristband_inject::OsEntropy`] in production; a seeded source only in lessons and
    /// tests, where repeatable salts make output repeatable.
    ///
    /// # Errors
    ///
    /// [`HashError::Parameters`] if argon2 does not accept `params`.
    pub fn new(params: HashParams, entropy: Arc<dyn Entropy>) -> Result<Self, HashError> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.to_argon2()?);
        let mut hasher = Self {
            params,
            argon2,
            entropy,
            dummy: Arc::new(PasswordHash(String::new())),
        };
        // Made now, once, so that the first unknown username costs one argon2id run like every
        // later one, instead of two (make the dummy, then check against it) that a stopwatch
        // could tell apart. Its salt is fixed: the dummy guards no account, and a fixed salt
        // leaves the injected entropy, and so every real salt, untouched.
        let dummy = hasher.hash_with_salt(&Password::new(DUMMY_PASSWORD), DUMMY_SALT)?;
        hasher.dummy = Arc::new(dummy);
        Ok(hasher)
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// Hashes `password` with a fresh random salt.
    ///
    /// # Errors
    ///
    /// [`HashError::TooLong`] for an over-long password, [`HashError::Argon2`] if argon2 fails.
    pub fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let mut salt = [0u8; SALT_BYTES];
        self.entropy.fill(&mut salt);
        self.hash_with_salt(password, &salt)
    }

    /// Hashes `password` with the given salt. Only for showing how the salt changes the output:
    /// real code calls [`PasswordHasher::hash`], which never reuses a salt.
    ///
    /// # Errors
    ///
    /// As [`PasswordHasher::hash`], plus [`HashError::Argon2`] for a salt shorter than 8 bytes.
    pub fn hash_with_salt(
        &self,
        password: &Password,
        salt: &[u8],
    ) -> Result<PasswordHash, HashError> {
        if password.is_too_long() {
            return Err(HashError::TooLong);
        }
        let hash = self
            .argon2
            .hash_password_with_salt(password.expose().as_bytes(), salt)
            .map_err(|err| HashError::Argon2(err.to_string()))?;
        Ok(PasswordHash(hash.to_string()))
    }

    /// Checks `password` against a stored hash, using the parameters recorded in the hash.
    ///
    /// # Errors
    ///
    /// [`VerifyError::InvalidCredentials`] if the password does not match (or is too long);
    /// [`VerifyError::Unexpected`] if the stored hash cannot be used.
    pub fn verify(&self, password: &Password, stored: &PasswordHash) -> Result<(), VerifyError> {
        self.verify_reusing(password, stored, &mut HashMemory::new())
    }

    /// [`PasswordHasher::verify`], computing in `memory` instead of allocating afresh.
    ///
    /// # Errors
    ///
    /// As [`PasswordHasher::verify`].
    pub fn verify_reusing(
        &self,
        password: &Password,
        stored: &PasswordHash,
        memory: &mut HashMemory,
    ) -> Result<(), VerifyError> {
        if password.is_too_long() {
            return Err(VerifyError::InvalidCredentials);
        }
        let unusable = |reason: String| VerifyError::Unexpected(HashError::Argon2(reason));
        let parts = stored.parts().map_err(VerifyError::Unexpected)?;
        let (Some(salt), Some(expected)) = (&parts.salt, &parts.hash) else {
            // A PHC string without salt or output verifies nothing; treat it as corrupt
            // rather than as a wrong password.
            return Err(VerifyError::Unexpected(HashError::Malformed));
        };
        let algorithm =
            Algorithm::new(parts.algorithm.as_str()).map_err(|err| unusable(err.to_string()))?;
        let version = match parts.version {
            Some(version) => Version::try_from(version).map_err(|err| unusable(err.to_string()))?,
            None => Version::V0x13,
        };
        // The parameters, including the output length, are the stored hash's own: a hash made
        // under older settings still verifies, and `needs_rehash` says when to upgrade it.
        let params = Params::try_from(&parts).map_err(|err| unusable(err.to_string()))?;

        let mut computed = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(
                password.expose().as_bytes(),
                salt.as_ref(),
                &mut computed,
                memory.blocks_for(&params),
            )
            .map_err(|err| unusable(err.to_string()))?;

        // Constant time: how many leading bytes matched must not show in the timing.
        if bool::from(computed.ct_eq(expected.as_bytes())) {
            Ok(())
        } else {
            Err(VerifyError::InvalidCredentials)
        }
    }

    /// Does the work of a verification for a username that does not exist, then refuses.
    ///
    /// Without this, "no such user" answers in microseconds and "wrong password" in tens of
    /// milliseconds, and anyone can list the registered usernames with a stopwatch. The dummy
    /// hash uses the current parameters, so both paths cost the same.
    ///
    /// # Errors
    ///
    /// Always [`VerifyError::InvalidCredentials`].
    pub fn verify_unknown_user(&self, password: &Password) -> Result<(), VerifyError> {
        self.verify_unknown_user_reusing(password, &mut HashMemory::new())
    }

    fn verify_unknown_user_reusing(
        &self,
        password: &Password,
        memory: &mut HashMemory,
    ) -> Result<(), VerifyError> {
        // The outcome is thrown away: even a password that matched the dummy is refused.
        let _ = self.verify_reusing(password, &self.dummy, memory);
        Err(VerifyError::InvalidCredentials)
    }

    /// Checks a login attempt: `stored` is the user's hash, or `None` for an unknown username.
    ///
    /// Both cases cost the same and fail with the same error.
    ///
    /// # Errors
    ///
    /// As [`PasswordHasher::verify`].
    pub fn check(
        &self,
        password: &Password,
        stored: Option<&PasswordHash>,
    ) -> Result<(), VerifyError> {
        self.check_reusing(password, stored, &mut HashMemory::new())
    }

    /// [`PasswordHasher::check`], computing in `memory` instead of allocating afresh.
    ///
    /// # Errors
    ///
    /// As [`PasswordHasher::verify`].
    pub fn check_reusing(
        &self,
        password: &Password,
        stored: Option<&PasswordHash>,
        memory: &mut HashMemory,
    ) -> Result<(), VerifyError> {
        match stored {
            Some(stored) => self.verify_reusing(password, stored, memory),
            None => self.verify_unknown_user_reusing(password, memory),
        }
    }

    /// Whether `stored` was made with a different algorithm or weaker parameters than this
    /// hasher's, and should be replaced by a fresh hash after the next successful login.
    ///
    /// A hash that cannot be parsed also needs rehashing.
    pub fn needs_rehash(&self, stored: &PasswordHash) -> bool {
        let Ok(parts) = stored.parts() else {
            return true;
        };
        if parts.algorithm.as_str() != "argon2id" || parts.version != Some(0x13) {
            return true;
        }
        let Ok(params) = Params::try_from(&parts) else {
            return true;
        };
        params.m_cost() < self.params.memory_kib
            || params.t_cost() < self.params.iterations
            || params.p_cost() != self.params.parallelism
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use wristband_inject::SeededEntropy;

    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(HashParams::OWASP, Arc::new(SeededEntropy::new(1))).unwrap()
    }

    #[test]
    fn a_hash_is_an_argon2id_phc_string_at_owasp_parameters() {
        let hash = hasher().hash(&Password::new("festival-goer-1")).unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        assert_eq!(hash.scheme(), "$argon2id$v=19$m=19456,t=2,p=1");
    }

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_is_invalid_credentials() {
        let hasher = hasher();
        let hash = hasher.hash(&Password::new("festival-goer-1")).unwrap();
        assert!(
            hasher
                .verify(&Password::new("festival-goer-1"), &hash)
                .is_ok()
        );
        assert!(matches!(
            hasher.verify(&Password::new("festival-goer-2"), &hash),
            Err(VerifyError::InvalidCredentials)
        ));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let hasher = hasher();
        let first = hasher.hash(&Password::new("same")).unwrap();
        let second = hasher.hash(&Password::new("same")).unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn an_unknown_user_is_refused_like_a_wrong_password() {
        let hasher = hasher();
        assert!(matches!(
            hasher.check(&Password::new("anything"), None),
            Err(VerifyError::InvalidCredentials)
        ));
        assert!(matches!(
            hasher.verify_unknown_user(&Password::new("wristband: the password of nobody")),
            Err(VerifyError::InvalidCredentials)
        ));
    }

    #[test]
    fn an_unknown_user_costs_one_full_check_against_a_dummy_made_in_advance() {
        let hasher = hasher();
        // Made at construction, at the current parameters.
        assert_eq!(hasher.dummy.scheme(), "$argon2id$v=19$m=19456,t=2,p=1");
        assert!(hasher.dummy.parts().unwrap().hash.is_some());
        // The check runs argon2id in the memory it is lent: proof that the work was done.
        let mut memory = HashMemory::new();
        assert!(matches!(
            hasher.check_reusing(&Password::new("guess"), None, &mut memory),
            Err(VerifyError::InvalidCredentials)
        ));
        assert_eq!(memory.len_bytes(), 19_456 * 1024);
        // Even the dummy's own password opens nothing.
        assert!(matches!(
            hasher.check(&Password::new(DUMMY_PASSWORD), None),
            Err(VerifyError::InvalidCredentials)
        ));
    }

    #[test]
    fn making_the_dummy_draws_nothing_from_the_salt_source() {
        let a = PasswordHasher::new(HashParams::OWASP, Arc::new(SeededEntropy::new(1))).unwrap();
        let b = PasswordHasher::new(HashParams::OWASP, Arc::new(SeededEntropy::new(1))).unwrap();
        a.check(&Password::new("x"), None).unwrap_err();
        assert_eq!(
            a.hash(&Password::new("pw")).unwrap(),
            b.hash(&Password::new("pw")).unwrap()
        );
    }

    #[test]
    fn a_corrupt_stored_hash_is_unexpected_not_a_wrong_password() {
        let hasher = hasher();
        let corrupt = PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ".to_owned());
        assert!(matches!(
            hasher.verify(&Password::new("x"), &corrupt),
            Err(VerifyError::Unexpected(_))
        ));
        assert!(PasswordHash::parse("plaintext-password").is_err());
    }

    #[test]
    fn weaker_or_foreign_hashes_need_rehash_and_current_ones_do_not() {
        let current = hasher();
        let weak = PasswordHasher::new(
            HashParams {
                memory_kib: 8_192,
                iterations: 1,
                parallelism: 1,
            },
            Arc::new(SeededEntropy::new(2)),
        )
        .unwrap();
        let weak_hash = weak.hash(&Password::new("pw")).unwrap();
        let current_hash = current.hash(&Password::new("pw")).unwrap();

        assert!(current.needs_rehash(&weak_hash));
        assert!(!current.needs_rehash(&current_hash));
        // A hash made with *stronger* parameters is left alone.
        assert!(!weak.needs_rehash(&current_hash));

        let argon2i = PasswordHash(current_hash.as_str().replacen("argon2id", "argon2i", 1));
        assert!(current.needs_rehash(&argon2i));
    }

    #[test]
    fn an_over_long_password_is_refused_before_hashing() {
        let hasher = hasher();
        let long = Password::new("x".repeat(crate::MAX_PASSWORD_BYTES + 1));
        assert!(matches!(hasher.hash(&long), Err(HashError::TooLong)));
        let hash = hasher.hash(&Password::new("short")).unwrap();
        assert!(matches!(
            hasher.verify(&long, &hash),
            Err(VerifyError::InvalidCredentials)
        ));
    }

    #[test]
    fn one_memory_serves_checks_against_hashes_of_different_parameters() {
        let current = hasher();
        let small = PasswordHasher::new(
            HashParams {
                memory_kib: 8_192,
                iterations: 1,
                parallelism: 1,
            },
            Arc::new(SeededEntropy::new(4)),
        )
        .unwrap();
        let big_hash = current.hash(&Password::new("gold")).unwrap();
        let small_hash = small.hash(&Password::new("green")).unwrap();
        let mut memory = HashMemory::new();

        for _ in 0..2 {
            current
                .verify_reusing(&Password::new("gold"), &big_hash, &mut memory)
                .unwrap();
            assert_eq!(memory.len_bytes(), 19_456 * 1024);
            // The stored hash's parameters decide, not the hasher's.
            current
                .verify_reusing(&Password::new("green"), &small_hash, &mut memory)
                .unwrap();
            assert_eq!(memory.len_bytes(), 8_192 * 1024);
            assert!(matches!(
                current.verify_reusing(&Password::new("gold"), &small_hash, &mut memory),
                Err(VerifyError::InvalidCredentials)
            ));
        }
    }

    #[test]
    fn hashes_with_other_output_lengths_and_versions_verify_by_their_own_parameters() {
        let hasher = hasher();
        let salt = b"sixteen-byte-slt";
        for (version, output_len) in [(Version::V0x13, 16), (Version::V0x10, 64)] {
            let params = Params::new(1_024, 1, 1, Some(output_len)).unwrap();
            let made = Argon2::new(Algorithm::Argon2id, version, params)
                .hash_password_with_salt(b"old-festival-password", salt)
                .unwrap()
                .to_string();
            let stored = PasswordHash::parse(&made).unwrap();
            assert!(
                hasher
                    .verify(&Password::new("old-festival-password"), &stored)
                    .is_ok(),
                "{made}"
            );
            assert!(matches!(
                hasher.verify(&Password::new("new-festival-password"), &stored),
                Err(VerifyError::InvalidCredentials)
            ));
            assert!(hasher.needs_rehash(&stored));
        }
    }

    #[test]
    fn debug_output_hides_salt_and_hash() {
        let hash = hasher().hash(&Password::new("pw")).unwrap();
        assert_eq!(
            format!("{hash:?}"),
            "PasswordHash($argon2id$v=19$m=19456,t=2,p=1$[salt]$[hash])"
        );
    }

    #[test]
    fn seeded_salts_make_hashing_repeatable() {
        let a = hasher().hash(&Password::new("pw")).unwrap();
        let b = hasher().hash(&Password::new("pw")).unwrap();
        assert_eq!(a, b);
    }
}
