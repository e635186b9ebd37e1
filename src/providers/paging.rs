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

/// The ids of a list's items as its pages are taken in, so that the items themselves can
/// be turned into what the read keeps page by page (and their wire form dropped) while
/// the whole list is still proven to hold each item once.
#[derive(Default)]
pub(crate) struct Tally {
    ids: HashSet<String>,
    served: usize,
    duplicate: Option<String>,
}

impl Tally {
    /// Counts a page's items, by the ids [`Identified::id`] gave them.
    pub fn add(&mut self, ids: impl IntoIterator<Item = Option<String>>) {
        for id in ids {
            self.served += 1;
            let Some(id) = id else { continue };
            if self.duplicate.is_none() && self.ids.contains(&id) {
                self.duplicate = Some(id);
            } else {
                self.ids.insert(id);
            }
        }
    }

    /// Items counted so far, duplicates and items without an id included.
    pub fn served(&self) -> usize {
        self.served
    }

    /// Makes room for a list the API counts at `total` (bounded like [`reserve`]).
    pub fn expect(&mut self, total: usize) {
        self.ids
            .reserve(total.min(MAX_RESERVED).saturating_sub(self.ids.len()));
    }

    /// The finished list against the count the API announced.
    pub fn check_count(self, count: usize) -> Result<(), Incomplete> {
        if self.served != count {
            return Err(Incomplete::Moved(format!(
                "the list counts {count} items but {} were served",
                self.served
            )));
        }
        self.check_unique()
    }

    /// The finished list holds no item twice.
    pub fn check_unique(self) -> Result<(), Incomplete> {
        match self.duplicate {
            Some(id) => Err(Incomplete::Broken(format!(
                "item {id} appears twice (the list shifted while it was read, or the API pages \
                 inconsistently)"
            ))),
            None => Ok(()),
        }
    }
}

/// A page as a read keeps it: the ids of the items it served, for the whole list's
/// [`Tally`], and what the list's `keep` made of each.
pub(crate) struct Page<U> {
    pub ids: Vec<Option<String>>,
    pub items: Vec<U>,
}

impl<U> Page<U> {
    /// `items` kept, their wire form dropped.
    pub fn of<T: Identified>(items: Vec<T>, keep: impl Fn(T) -> U) -> Page<U> {
        Page {
            ids: items.iter().map(Identified::id).collect(),
            items: items.into_iter().map(keep).collect(),
        }
    }
}

/// `items` counted in `tally` and kept, their wire form dropped.
pub(crate) fn kept<T: Identified, U>(
    items: Vec<T>,
    tally: &mut Tally,
    keep: impl Fn(T) -> U,
) -> Vec<U> {
    let page = Page::of(items, keep);
    tally.add(page.ids);
    page.items
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
