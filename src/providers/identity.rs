//! Identity before diff (issue 13): a live member takes part in the diff only under a
//! resolved email. When a list answer leaves the email out, the provider resolves the
//! member through a second documented route (`docs/providers/API_NOTES_ADDENDUM.md` §3):
//! one lookup per member when few are missing, else one paged read of the organization's
//! directory, which at Contentful's 7 requests per second is the difference between seconds
//! and most of an hour. A member that stays unresolved keeps `email: None`; the diff never
//! removes, replaces away or re-roles it.

use std::collections::{BTreeSet, HashMap};
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
#[derive(Debug, Default)]
pub(crate) struct Seen {
    emails: std::sync::Mutex<std::collections::HashSet<Email>>,
    texts: std::sync::Mutex<std::collections::HashSet<std::sync::Arc<str>>>,
}

impl Seen {
    /// `Email::parse`, returning the address already read when there is one.
    pub fn email(&self, raw: &str) -> Option<Email> {
        let email = Email::parse(raw).ok()?;
        let Ok(mut seen) = self.emails.lock() else {
            return Some(email);
        };
        if let Some(known) = seen.get(&email) {
            return Some(known.clone());
        }
        seen.insert(email.clone());
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
