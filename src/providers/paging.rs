//! What every list read must prove before anything is planned from it (issue 13): that it
//! saw every item the API counts, each once, in a bounded number of pages. The page after
//! the first is always derived from our own request (`page`, `skip`, or GitBook's opaque
//! `next.page` token sent back to the same path), never from a URL the answer names, so
//! the token only ever travels to the configured endpoint.

use std::collections::HashSet;
use std::future::Future;

use super::ProviderError;
use super::http::ReadClient;

/// Most pages one list may take: 100,000 pages of the smallest page (7 items) is 700,000
/// members, far beyond any organization; a list that goes on is broken, not big.
pub(crate) const MAX_PAGES: usize = 100_000;

/// The most items a list makes room for up front from the count its first page gives: a
/// whole list is then one allocation instead of a vector doubling page after page (which
/// left up to half of the largest lists' room unused at a read's peak), while a count a
/// server lies about cannot make teamsync reserve more than this.
const MAX_RESERVED: usize = 200_000;

/// Room for the rest of a list of `total` items, of which `items` holds the first ones.
pub(crate) fn reserve<T>(items: &mut Vec<T>, total: usize) {
    items.reserve(total.min(MAX_RESERVED).saturating_sub(items.len()));
}

/// A list read as far as it goes.
pub(crate) struct Listed<T> {
    pub items: Vec<T>,
    /// Proven against the API's own count (false: the API sent none, so the read ended
    /// on a short or empty page). Only a counted read may be the base of a replace (PUT).
    pub counted: bool,
}

/// Why a list read is not complete.
pub(crate) enum Incomplete {
    /// The count moved or disagrees with what was served: worth reading again once.
    Moved(String),
    /// The answers cannot describe a finite, duplicate-free list.
    Broken(String),
}

/// Something a list holds, with the id that must be unique in it.
pub(crate) trait Identified {
    fn id(&self) -> Option<String>;
}

/// The first id that appears twice, if any.
pub(crate) fn duplicate<T: Identified>(items: &[T]) -> Option<String> {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .filter_map(Identified::id)
        .find(|id| !seen.insert(id.clone()))
}

/// Checks a finished read against the count the API announced.
pub(crate) fn check_count<T: Identified>(items: &[T], count: usize) -> Result<(), Incomplete> {
    if items.len() != count {
        return Err(Incomplete::Moved(format!(
            "the list counts {count} items but {} were served",
            items.len()
        )));
    }
    check_unique(items)
}

pub(crate) fn check_unique<T: Identified>(items: &[T]) -> Result<(), Incomplete> {
    match duplicate(items) {
        Some(id) => Err(Incomplete::Broken(format!(
            "item {id} appears twice (the list shifted while it was read, or the API pages \
             inconsistently)"
        ))),
        None => Ok(()),
    }
}

/// The message for a list that stayed incomplete: said once, in the same words for every
/// provider, with what teamsync does about it.
fn give_up(why: Incomplete, read_twice: bool) -> String {
    let (why, again) = match why {
        Incomplete::Moved(m) => (m, read_twice),
        Incomplete::Broken(m) => (m, false),
    };
    format!(
        "{why}{}; nothing is planned or applied from an incomplete list",
        if again { " (read twice)" } else { "" }
    )
}

/// Reads a list with `once`; a list whose count moved is read once more; what stays
/// incomplete is a protocol error naming the list. The one retry policy of every pager.
pub(crate) async fn read_whole<T, Fut>(
    client: &ReadClient,
    path: &str,
    once: impl Fn() -> Fut,
) -> Result<T, ProviderError>
where
    Fut: Future<Output = Result<Result<T, Incomplete>, ProviderError>>,
{
    let what = format!("GET {path}");
    match once().await? {
        Ok(listed) => Ok(listed),
        Err(Incomplete::Moved(_)) => match once().await? {
            Ok(listed) => Ok(listed),
            Err(why) => Err(client.protocol(&what, give_up(why, true))),
        },
        Err(why) => Err(client.protocol(&what, give_up(why, false))),
    }
}

/// A member list in an allocation of its own size. Members are made from a page's wire
/// items, and collecting in place reuses the wire items' larger allocation: a thousand
/// groups of a thousand kept about a quarter more than the members need for as long as
/// the plan lives.
pub(crate) fn fitted<T>(mut items: Vec<T>) -> Vec<T> {
    items.shrink_to_fit();
    items
}
