//! Linking a provider's identity to a festival account.
//!
//! # The rule: link by (`iss`, `sub`), never by email
//!
//! OIDC Core §5.7 says so plainly: `sub` is the only claim that identifies the person, and only
//! together with `iss`. Two providers may hand out the same `sub` to different people, so the
//! pair is the key. An email address is *not* a key: a provider may let people claim any
//! address, addresses get recycled, and the same address at two providers may belong to two
//! people. A festival that linked by email would let anyone who can get a provider to state
//! "email: bob@example.com" walk in as Bob.
//!
//! The store keeps a table of links with a uniqueness constraint on (`issuer`, `subject`) and
//! implements [`IdentityLinks`]; [`find_or_create`] does the rest.
//!
//! The new account's *username* is only a label: [`username_candidates`] proposes names from
//! the display name the provider released, and the store takes the first one that is free. A
//! name that is taken is never a reason to link to the account that holds it.

use std::future::Future;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::VerifiedIdentity;

/// The key an external account is linked by: the provider's issuer and its subject identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExternalIdentity {
    /// The provider's issuer identifier, exactly as in the ID token.
    pub issuer: String,
    /// The provider's identifier for the person, exactly as in the ID token.
    pub subject: String,
}

/// A store of links from (`iss`, `sub`) to festival accounts.
pub trait IdentityLinks {
    /// The festival's account (a user id, or a whole user row).
    type Account;
    /// What the store fails with.
    type Error;

    /// The account linked to `identity`, if any.
    fn find_linked(
        &self,
        identity: &ExternalIdentity,
    ) -> impl Future<Output = Result<Option<Self::Account>, Self::Error>> + Send;

    /// Creates an account for the verified identity and links it, in one transaction.
    ///
    /// Must be atomic against a concurrent first login of the same person: if a link for the
    /// same (`iss`, `sub`) appears meanwhile, return *that* account instead of creating a
    /// second one (the uniqueness constraint on the pair makes this detectable).
    fn create_linked(
        &self,
        identity: &VerifiedIdentity,
    ) -> impl Future<Output = Result<Self::Account, Self::Error>> + Send;
}

/// Whether the login found an existing account or made a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linked<A> {
    /// The (`iss`, `sub`) pair was already linked to this account.
    Existing(A),
    /// This was the first login through the provider: the account was created and linked.
    Created(A),
}

impl<A> Linked<A> {
    /// The account, however it was found.
    pub fn into_account(self) -> A {
        match self {
            Self::Existing(account) | Self::Created(account) => account,
        }
    }
}

/// The account linked to `identity`, created on the first login.
///
/// # Errors
///
/// Whatever the store fails with.
pub async fn find_or_create<L>(
    links: &L,
    identity: &VerifiedIdentity,
) -> Result<Linked<L::Account>, L::Error>
where
    L: IdentityLinks + Sync,
{
    if let Some(account) = links.find_linked(&identity.external_identity()).await? {
        return Ok(Linked::Existing(account));
    }
    links.create_linked(identity).await.map(Linked::Created)
}

/// The shortest and longest username proposed, and the fallback when the provider's name
/// yields nothing usable.
const MIN_USERNAME: usize = 3;
const MAX_BASE: usize = 20;
const FALLBACK_BASE: &str = "guest";

/// Usernames to try, in order, for a new account linked to `identity`.
///
/// The base is the provider's display name (`name`, else `preferred_username`) reduced to
/// lowercase ASCII letters, digits and single dashes, starting with a letter or digit, at most
/// 20 characters (`"Dave O'Brien"` becomes `dave-obrien`); `guest` if that leaves fewer than
/// three. Then `base-2` to `base-9`, and last `base-` followed by eight hex digits of a hash of
/// (`iss`, `sub`), which is unique to this identity in practice. Every candidate is at most 29
/// characters from `[a-z0-9-]`.
pub fn username_candidates(identity: &VerifiedIdentity) -> Vec<String> {
    let claimed = identity.name.clone().or_else(|| {
        identity
            .claims
            .get("preferred_username")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    });
    let base = claimed
        .map(|name| username_base(&name))
        .filter(|base| base.len() >= MIN_USERNAME)
        .unwrap_or_else(|| FALLBACK_BASE.to_owned());
    let digest = Sha256::digest(format!("{}\u{0}{}", identity.issuer, identity.subject).as_bytes());
    let tag: String = digest
        .iter()
        .take(4)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    std::iter::once(base.clone())
        .chain((2..=9).map(|n| format!("{base}-{n}")))
        .chain(std::iter::once(format!("{base}-{tag}")))
        .collect()
}

fn username_base(name: &str) -> String {
    let mut base = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            base.push(c.to_ascii_lowercase());
        } else if (c.is_whitespace() || "-_.".contains(c))
            && !base.is_empty()
            && !base.ends_with('-')
        {
            base.push('-');
        }
        if base.len() >= MAX_BASE {
            break;
        }
    }
    base.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    fn identity(name: Option<&str>) -> VerifiedIdentity {
        VerifiedIdentity {
            issuer: "https://vendor.example".to_owned(),
            subject: "s-1".to_owned(),
            name: name.map(str::to_owned),
            ticket: None,
            claims: Map::new(),
        }
    }

    #[test]
    fn a_display_name_becomes_a_lowercase_ascii_username() {
        let candidates = username_candidates(&identity(Some("Dave O'Brien")));
        assert_eq!(candidates[0], "dave-obrien");
        assert_eq!(candidates[1], "dave-obrien-2");
        assert_eq!(candidates.len(), 10);
    }

    #[test]
    fn a_name_with_nothing_usable_falls_back_to_guest() {
        assert_eq!(username_candidates(&identity(Some("Ж")))[0], "guest");
        assert_eq!(username_candidates(&identity(None))[0], "guest");
        assert_eq!(username_candidates(&identity(Some("  -- ")))[0], "guest");
    }

    #[test]
    fn the_preferred_username_is_used_when_there_is_no_name() {
        let mut identity = identity(None);
        identity
            .claims
            .insert("preferred_username".to_owned(), json!("Rosa.Parks"));
        assert_eq!(username_candidates(&identity)[0], "rosa-parks");
    }

    #[test]
    fn every_candidate_is_short_and_from_a_small_alphabet() {
        let long = "A".repeat(200);
        for candidate in username_candidates(&identity(Some(&long))) {
            assert!(candidate.len() <= 29, "{candidate} is too long");
            assert!(
                candidate
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
        }
    }

    #[test]
    fn the_last_candidate_depends_on_issuer_and_subject() {
        let a = identity(Some("Dave"));
        let mut b = identity(Some("Dave"));
        b.issuer = "https://other.example".to_owned();
        assert_ne!(
            username_candidates(&a).last(),
            username_candidates(&b).last()
        );
    }
}
