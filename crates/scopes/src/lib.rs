//! Scopes: what a wristband lets you into.
//!
//! An OAuth 2.0 access token carries a *scope*: the list of things it may be used for, written
//! as space-separated, case-sensitive names (RFC 6749 §3.3). The festival knows two:
//!
//! | scope | lets you into | carried by |
//! |---|---|---|
//! | `stages` | the stages and food tents | green and gold wristbands |
//! | `backstage` | backstage | gold wristbands only |
//!
//! This crate parses and prints scope lists ([`ScopeSet`]), knows which scopes each wristband is
//! entitled to ([`entitlements`]), and decides what to grant when a client asks for some
//! ([`grant`]). The rule for granting is the security point of the crate: a client's request is
//! a *wish*, never a claim. A request for more than the wristband allows is narrowed to what it
//! allows, and the token response then says which scopes were really granted (RFC 6749 §3.3,
//! §5.1).
//!
//! ```
//! use wristband_scopes::{Scope, ScopeSet, grant};
//! use wristband_tokens::Wristband;
//!
//! let wish = ScopeSet::parse("backstage stages")?;
//! assert_eq!(wish.to_string(), "stages backstage", "printed in a stable order");
//!
//! // A green wristband asking for backstage gets the stages only.
//! let granted = grant(Some(&wish), Wristband::Green)?;
//! assert_eq!(granted.to_string(), "stages");
//! assert!(!granted.contains(Scope::Backstage));
//!
//! // Asking for nothing in particular grants everything the wristband is entitled to.
//! assert_eq!(grant(None, Wristband::Gold)?.to_string(), "stages backstage");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use wristband_tokens::Wristband;

/// One scope the festival knows.
///
/// The variants are ordered as the festival introduces them, and every [`ScopeSet`] prints them
/// in that order, so the same set always has the same text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `stages`: the stages and food tents.
    Stages,
    /// `backstage`: the area behind the stages, for gold wristbands.
    Backstage,
}

impl Scope {
    /// Every scope, in display order.
    pub const ALL: [Self; 2] = [Self::Stages, Self::Backstage];

    /// The scope's name as it appears in tokens and requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stages => "stages",
            Self::Backstage => "backstage",
        }
    }

    /// A one-line human description, for API documentation and consent screens.
    pub fn description(self) -> &'static str {
        match self {
            Self::Stages => "Enter the stages and food tents (green and gold wristbands)",
            Self::Backstage => "Enter backstage (gold wristbands only)",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;

    /// Scope names are case-sensitive (RFC 6749 §3.3): `Stages` is not `stages`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == name)
            .ok_or_else(|| UnknownScope::new(name))
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A scope name the festival does not know.
///
/// The token endpoint answers it with `invalid_scope` (RFC 6749 §5.2). The name is kept for the
/// server's log only, shortened and printed with escapes; it is never echoed to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {name:?}")]
pub struct UnknownScope {
    name: String,
}

impl UnknownScope {
    /// Longest part of an unknown name kept for the log: enough to recognise a typo, too short
    /// to flood a log line.
    const KEPT_CHARS: usize = 40;

    fn new(name: &str) -> Self {
        Self {
            name: name.chars().take(Self::KEPT_CHARS).collect(),
        }
    }

    /// The unknown name (at most 40 characters of it). Untrusted input: log it, don't echo it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A set of scopes, such as the scope of a token or of a token request.
///
/// Parsed from and printed as the OAuth form, scope names separated by single spaces. Printing
/// always lists the scopes in [`Scope`] order without repeats, so equal sets print equally.
/// Serialized (for JSON) as an array of names: `["stages", "backstage"]`.
///
/// The festival knows a handful of scopes, so a set is one bit per [`Scope`]: `Copy`, and
/// checked on every gated request without allocating.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u8);

impl ScopeSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the space-separated form, e.g. `"stages backstage"`.
    ///
    /// Repeated names count once, and runs of spaces are read as one separator. The empty
    /// string is the empty set. Any other whitespace (tab, newline) is not a separator, so it
    /// makes the name around it unknown.
    ///
    /// # Errors
    ///
    /// [`UnknownScope`] for the first name that is not a known scope.
    pub fn parse(text: &str) -> Result<Self, UnknownScope> {
        text.split(' ')
            .filter(|name| !name.is_empty())
            .map(str::parse)
            .collect()
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0 & bit(scope) != 0
    }

    /// Whether every scope in `self` is also in `other`.
    pub fn is_subset(&self, other: &Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// The scopes in both sets.
    pub fn intersection(&self, other: &Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The scopes of `self` that are not in `other`: what `other` lacks to cover `self`.
    pub fn difference(&self, other: &Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Adds `scope`; returns whether it was new.
    pub fn insert(&mut self, scope: Scope) -> bool {
        let new = !self.contains(scope);
        self.0 |= bit(scope);
        new
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// How many scopes the set holds.
    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// The scopes, in [`Scope`] order.
    pub fn iter(&self) -> Iter {
        Iter {
            set: *self,
            next: 0,
        }
    }
}

/// The bit that stands for `scope` in a [`ScopeSet`].
fn bit(scope: Scope) -> u8 {
    1 << (scope as u8)
}

/// The scopes of a [`ScopeSet`], in [`Scope`] order.
#[derive(Debug, Clone)]
pub struct Iter {
    set: ScopeSet,
    /// The index into [`Scope::ALL`] to look at next.
    next: usize,
}

impl Iterator for Iter {
    type Item = Scope;

    fn next(&mut self) -> Option<Scope> {
        while let Some(&scope) = Scope::ALL.get(self.next) {
            self.next += 1;
            if self.set.contains(scope) {
                return Some(scope);
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = Scope::ALL
            .get(self.next..)
            .unwrap_or_default()
            .iter()
            .filter(|scope| self.set.contains(**scope))
            .count();
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter {}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, scope) in self.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for ScopeSet {
    type Err = UnknownScope;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(scopes: I) -> Self {
        let mut set = Self::new();
        for scope in scopes {
            set.insert(scope);
        }
        set
    }
}

impl<const N: usize> From<[Scope; N]> for ScopeSet {
    fn from(scopes: [Scope; N]) -> Self {
        scopes.into_iter().collect()
    }
}

impl From<&[Scope]> for ScopeSet {
    fn from(scopes: &[Scope]) -> Self {
        scopes.iter().copied().collect()
    }
}

impl IntoIterator for &ScopeSet {
    type Item = Scope;
    type IntoIter = Iter;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Serialize for ScopeSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// The scopes a wristband entitles its wearer to: green → `stages`; gold → `stages backstage`.
pub fn entitlements(wristband: Wristband) -> ScopeSet {
    match wristband {
        Wristband::Green => ScopeSet::from([Scope::Stages]),
        Wristband::Gold => ScopeSet::from([Scope::Stages, Scope::Backstage]),
    }
}

/// Why no scope could be granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// The request names only scopes the wristband is not entitled to (or no scope at all).
    /// The token endpoint answers `invalid_scope` (RFC 6749 §5.2: the requested scope
    /// "exceeds the scope granted by the resource owner").
    #[error("a {wristband} wristband is entitled to none of the requested scopes ({requested})")]
    NotEntitled {
        /// What was asked for.
        requested: ScopeSet,
        /// The wristband that asked.
        wristband: Wristband,
    },
}

/// Decides the scope of a new token for `wristband`, given the scope the client `requested`.
///
/// - No request (`None`): everything the wristband is entitled to. RFC 6749 §3.3 lets the
///   server choose a default; the wristband's entitlements are the natural one.
/// - A request within the entitlements: exactly what was asked for. A client asking for less
///   than it could have gets less, so a token can be made for one narrow job.
/// - A request for more: narrowed to the entitlements it overlaps. The request is never trusted,
///   and the token response must then state the granted scope (RFC 6749 §5.1), which the token
///   endpoint always does.
///
/// # Errors
///
/// [`GrantError::NotEntitled`] when the overlap is empty, for example a green wristband asking
/// for `backstage` alone. Issuing a token the client did not ask for, or one that opens nothing,
/// would only hide the refusal, so the request fails with `invalid_scope` instead.
pub fn grant(requested: Option<&ScopeSet>, wristband: Wristband) -> Result<ScopeSet, GrantError> {
    let entitled = entitlements(wristband);
    let Some(requested) = requested else {
        return Ok(entitled);
    };
    let granted = requested.intersection(&entitled);
    if granted.is_empty() {
        return Err(GrantError::NotEntitled {
            requested: *requested,
            wristband,
        });
    }
    Ok(granted)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn known_scope_names_parse_and_print_back_the_same() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
            assert_eq!(scope.to_string(), scope.as_str());
        }
    }

    #[test]
    fn scope_names_are_case_sensitive() {
        let error = "Stages".parse::<Scope>().unwrap_err();
        assert_eq!(error.name(), "Stages");
        assert_eq!(error.to_string(), r#"unknown scope "Stages""#);
    }

    #[test]
    fn a_scope_list_prints_in_a_stable_order_without_repeats() {
        let set = ScopeSet::parse("backstage stages backstage").unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.to_string(), "stages backstage");
    }

    #[test]
    fn extra_spaces_between_names_are_tolerated() {
        let set = ScopeSet::parse("  stages   backstage ").unwrap();
        assert_eq!(set, ScopeSet::from([Scope::Stages, Scope::Backstage]));
    }

    #[test]
    fn the_empty_string_is_the_empty_set() {
        let set = ScopeSet::parse("").unwrap();
        assert!(set.is_empty());
        assert_eq!(set.to_string(), "");
    }

    #[test]
    fn an_unknown_name_anywhere_in_the_list_is_an_error() {
        let error = ScopeSet::parse("stages admin").unwrap_err();
        assert_eq!(error.name(), "admin");
    }

    #[test]
    fn tabs_are_not_separators() {
        assert!(ScopeSet::parse("stages\tbackstage").is_err());
    }

    #[test]
    fn an_unknown_name_is_shortened_for_the_log() {
        let long = "x".repeat(10_000);
        let error = ScopeSet::parse(&long).unwrap_err();
        assert_eq!(error.name().len(), 40);
    }

    #[test]
    fn a_scope_set_serializes_as_an_array_of_names() {
        let set = ScopeSet::from([Scope::Backstage, Scope::Stages]);
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"["stages","backstage"]"#
        );
    }

    #[test]
    fn green_is_entitled_to_stages_and_gold_to_stages_and_backstage() {
        assert_eq!(entitlements(Wristband::Green).to_string(), "stages");
        assert_eq!(
            entitlements(Wristband::Gold).to_string(),
            "stages backstage"
        );
    }

    #[test]
    fn no_request_grants_everything_the_wristband_is_entitled_to() {
        assert_eq!(
            grant(None, Wristband::Green).unwrap(),
            entitlements(Wristband::Green)
        );
        assert_eq!(
            grant(None, Wristband::Gold).unwrap(),
            entitlements(Wristband::Gold)
        );
    }

    #[test]
    fn a_request_within_the_entitlements_is_granted_as_asked() {
        let wish = ScopeSet::from([Scope::Stages]);
        assert_eq!(grant(Some(&wish), Wristband::Gold).unwrap(), wish);
    }

    #[test]
    fn a_request_for_more_than_the_wristband_allows_is_narrowed() {
        let wish = ScopeSet::from([Scope::Stages, Scope::Backstage]);
        assert_eq!(
            grant(Some(&wish), Wristband::Green).unwrap(),
            ScopeSet::from([Scope::Stages])
        );
    }

    #[test]
    fn a_request_for_only_what_the_wristband_lacks_is_refused() {
        let wish = ScopeSet::from([Scope::Backstage]);
        assert_eq!(
            grant(Some(&wish), Wristband::Green).unwrap_err(),
            GrantError::NotEntitled {
                requested: wish,
                wristband: Wristband::Green
            }
        );
    }

    #[test]
    fn an_empty_request_is_refused() {
        assert!(grant(Some(&ScopeSet::new()), Wristband::Gold).is_err());
    }

    #[test]
    fn difference_names_what_is_missing() {
        let required = ScopeSet::from([Scope::Stages, Scope::Backstage]);
        let held = ScopeSet::from([Scope::Stages]);
        assert_eq!(
            required.difference(&held),
            ScopeSet::from([Scope::Backstage])
        );
        assert!(held.is_subset(&required));
        assert!(!required.is_subset(&held));
    }
}
