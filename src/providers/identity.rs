//! Identity before diff (issue 13): a live member takes part in the diff only under a
//! resolved email. When a list answer leaves the email out, the provider resolves the
//! member through a second documented route (`docs/providers/API_NOTES_ADDENDUM.md` §3):
//! one lookup per member when few are missing, else one paged read of the organization's
//! directory, which at Contentful's 7 requests per second is the difference between seconds
//! and most of an hour. A member that stays unresolved keeps `email: None`; the diff never
//! removes, replaces away or re-roles it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;

use super::ProviderError;
use crate::model::{Email, LiveResource};

/// Up to this many members are looked up one by one; more, and the directory is read.
pub(crate) const ONE_BY_ONE: usize = 20;

/// The user ids of members whose email is missing.
pub(crate) fn missing(resources: &[LiveResource]) -> BTreeSet<String> {
    resources
        .iter()
        .flat_map(|r| &r.members)
        .filter(|m| m.email.is_none())
        .filter_map(|m| m.user_id.as_deref().map(str::to_string))
        .collect()
}

/// Looks up `ids`: each through `one` when there are few, else all through `directory`.
/// A lookup that fails leaves its members unresolved (never guessed), so the error is
/// only returned when nothing could be looked up at all.
pub(crate) async fn lookup<One, OneFut, Dir, DirFut>(
    ids: BTreeSet<String>,
    one: One,
    directory: Dir,
) -> Result<HashMap<String, Email>, ProviderError>
where
    One: Fn(String) -> OneFut,
    OneFut: Future<Output = Result<Option<Email>, ProviderError>> + Send + 'static,
    Dir: FnOnce() -> DirFut,
    DirFut: Future<Output = Result<HashMap<String, Email>, ProviderError>>,
{
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    if ids.len() > ONE_BY_ONE {
        let mut all = directory().await?;
        all.retain(|id, _| ids.contains(id));
        return Ok(all);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let request = one(id.clone());
        tasks.spawn(async move { (id, request.await) });
    }
    let mut found = HashMap::new();
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((id, Ok(Some(email)))) => {
                found.insert(id, email);
            }
            Ok((_, Ok(None))) | Err(_) => {}
            Ok((_, Err(e))) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if found.is_empty() => Err(e),
        _ => Ok(found),
    }
}

/// Gives every member whose email was missing the email found for its user id.
pub(crate) fn fill(resources: &mut [LiveResource], found: &HashMap<String, Email>) {
    for m in resources.iter_mut().flat_map(|r| r.members.iter_mut()) {
        if m.email.is_none()
            && let Some(email) = m.user_id.as_deref().and_then(|id| found.get(id))
        {
            m.email = Some(email.clone());
        }
    }
}

/// The addresses, user ids and names one provider has read, each stored once: a member
/// list answers the same people over and over (a thousand groups of the same twenty
/// thousand), and every text shared through here reuses the first allocation of its value.
///
/// Hashed with foldhash (randomly seeded per process) rather than SipHash, which was a
/// tenth of a large plan's CPU here; the keys are what an API answered, so they are
/// bounded by the answers' size limits.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    emails: std::sync::Mutex<Emails>,
    texts: std::sync::Mutex<HashSet<std::sync::Arc<str>, foldhash::fast::RandomState>>,
}

#[derive(Debug, Default)]
struct Emails {
    /// By address: texts that spell one address differently share it. An answer's text
    /// that is already the address's normal form (most are) is found here directly.
    unique: HashSet<Email, foldhash::fast::RandomState>,
    /// By the text an answer gave, for texts not in normal form (`Amy@Acme.com`): an
    /// address read again is not parsed again.
    by_text: HashMap<Box<str>, Email, foldhash::fast::RandomState>,
}

impl Seen {
    /// `Email::parse`, returning the address already read when there is one.
    pub fn email(&self, raw: &str) -> Option<Email> {
        if let Ok(seen) = self.emails.lock()
            && let Some(known) = seen.unique.get(raw).or_else(|| seen.by_text.get(raw))
        {
            return Some(known.clone());
        }
        let email = Email::parse(raw).ok()?;
        let Ok(mut seen) = self.emails.lock() else {
            return Some(email);
        };
        let email = match seen.unique.get(&email) {
            Some(known) => known.clone(),
            None => {
                seen.unique.insert(email.clone());
                email
            }
        };
        if email.as_str() != raw {
            seen.by_text.insert(raw.into(), email.clone());
        }
        Some(email)
    }

    /// `text` as a shared string: the one already read when there is one.
    pub fn text(&self, text: &str) -> std::sync::Arc<str> {
        let Ok(mut seen) = self.texts.lock() else {
            return text.into();
        };
        if let Some(known) = seen.get(text) {
            return known.clone();
        }
        let shared: std::sync::Arc<str> = text.into();
        seen.insert(shared.clone());
        shared
    }

    /// [`Seen::text`] for a text that may be absent.
    pub fn text_of(&self, text: Option<&str>) -> Option<std::sync::Arc<str>> {
        text.map(|t| self.text(t))
    }
}

/// Asks a provider's who-am-I route (ADDENDUM §1.2, §2.2, §3.2) whose account the token
/// is: `pick` reads the account id from the answer. Whatever goes wrong is kept as the
/// reason, and the diff then removes nobody from that organization.
pub(crate) async fn who_am_i(
    client: &super::http::ReadClient,
    path: &str,
    accept: &'static str,
    pick: impl FnOnce(&super::http::Resp) -> Result<Option<String>, ProviderError>,
) -> crate::model::WhoAmI {
    use crate::model::WhoAmI;
    let answer = async {
        let resp = client.get(client.url(path)?, accept).await?;
        pick(&resp)
    };
    match answer.await {
        Ok(Some(id)) => WhoAmI::User(id),
        Ok(None) => WhoAmI::Unknown(format!("GET {path} answered without an id")),
        Err(e) => WhoAmI::Unknown(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One address is one `Email` however an answer spells it, and a text read again is
    /// the allocation read first.
    #[test]
    fn seen_shares_each_address_and_text_once() {
        let seen = Seen::default();
        let first = seen.email("Amy@Acme.com").expect("an address");
        let again = seen.email("Amy@Acme.com").expect("an address");
        let other_spelling = seen.email("amy@acme.COM").expect("an address");
        assert_eq!(first.as_str(), "amy@acme.com");
        for e in [&again, &other_spelling] {
            assert_eq!(e, &first);
            assert!(std::ptr::eq(e.as_str(), first.as_str()));
        }
        assert_eq!(seen.email("not an address"), None);
        assert_eq!(seen.email("not an address"), None);
        let a = seen.text("u-1");
        let b = seen.text("u-1");
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        assert_ne!(seen.text("u-2"), a);
    }
}
