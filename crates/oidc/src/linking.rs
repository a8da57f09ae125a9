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

use std::future::Future;

use serde::{Deserialize, Serialize};

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
