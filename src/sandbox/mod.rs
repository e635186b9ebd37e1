//! The sandbox: an in-repo emulator of the PixieBrix, GitBook and Contentful APIs, written
//! from `docs/providers/API_NOTES.md`, never from our clients' types, so the two can
//! disagree. It imports nothing from the rest of the crate.
//!
//! Contract between the core (this file and its siblings) and the per-API modules:
//! - each API module owns its slice of the state file (`World`) and its routes;
//! - it implements [`Api`] and has its line in `served!`, which makes its field of
//!   [`World`] and its entry of [`SERVED`], so the core finds it by a request's path and can answer with that API's own error, throttling and rate-limit
//!   headers when it injects faults or enforces limits;
//! - all mutation goes through [`AppState::write`], which records an event and persists.

pub mod cli;
pub mod contentful;
mod delay;
pub mod gitbook;
mod knobs;
pub mod lag;
pub mod pixiebrix;
pub mod seed;
mod server;
mod variants;

pub use knobs::{Faults, GitbookInvitees, GitbookInvites, GitbookMemberships, Knobs, Variant};
pub use server::{
    Arrival, Sandbox, SandboxError, SandboxHandle, Stats, load_state, serve_blocking,
};

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What a state file written by `teamsync sandbox seed` says it is.
pub const GENERATED_BY: &str = "teamsync sandbox seed";

/// One change the sandbox made, in order: the introspection log tests assert on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub api: String,
    pub action: String,
    pub detail: serde_json::Value,
}

struct Shared {
    /// Read-locked by every answer (which renders under it), so answers are rendered on
    /// every worker thread at once; a write takes it alone. The lookups built lazily
    /// under a read lock are `OnceLock`s, cleared by the write that outdates them.
    world: RwLock<World>,
    events: Mutex<Vec<Event>>,
    rng: Mutex<StdRng>,
    max_page_size: Mutex<Option<usize>>,
    variants: Mutex<std::collections::BTreeSet<Variant>>,
    behaviour: Mutex<Behaviour>,
    /// The sandbox seed (ids, faults, the `shuffled` order).
    seed: u64,
    /// Bumped by every write and reset: the `shuffled` order is fixed per version.
    version: std::sync::atomic::AtomicU64,
}

/// The knobs that change how an API answers (rather than how the core delivers it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Behaviour {
    pub gitbook_invites: GitbookInvites,
    pub gitbook_invitees: GitbookInvitees,
    pub gitbook_memberships: GitbookMemberships,
    pub who_am_i_forbidden: bool,
    pub contentful_strict_alpha_header: bool,
}

/// Shared handler state. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked mid-update cannot leave the world half-written in a way a
    // later reader could not cope with, so recovering from poisoning is safe here.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// [`lock`] for the world's writers (the same reasoning about poisoning).
fn write_lock<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AppState {
    pub fn new(world: World, seed: u64) -> Self {
        AppState(Arc::new(Shared {
            world: RwLock::new(world),
            events: Mutex::new(Vec::new()),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            max_page_size: Mutex::new(None),
            variants: Mutex::new(Default::default()),
            behaviour: Mutex::new(Behaviour::default()),
            seed,
            version: std::sync::atomic::AtomicU64::new(0),
        }))
    }

    pub(crate) fn set_behaviour(&self, behaviour: Behaviour) {
        *lock(&self.0.behaviour) = behaviour;
    }

    /// The knobs that change answers (GitBook invites, Contentful's alpha header).
    pub(crate) fn behaviour(&self) -> Behaviour {
        *lock(&self.0.behaviour)
    }

    /// Puts a list answer's items (the whole collection, before paging) in the order it
    /// is served. Natural order, except under the `shuffled` variant: a permutation fixed
    /// by the seed, the request path and the world's version, so the pages of one read
    /// agree with each other, and never the natural order itself (for two or more items).
    pub fn arrange<T>(&self, path: &str, items: &mut [T]) {
        if items.len() < 2 || !self.variant(Variant::Shuffled) {
            return;
        }
        let version = self.0.version.load(std::sync::atomic::Ordering::SeqCst);
        let key = fold_more(
            fold(path, false) ^ self.0.seed.rotate_left(17),
            &version.to_le_bytes(),
            false,
        );
        let mut rng = StdRng::seed_from_u64(key);
        let n = items.len();
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        if order.iter().enumerate().all(|(i, o)| i == *o) {
            order.rotate_left(1);
        }
        apply_permutation(items, order);
    }

    /// [`AppState::arrange`] for a borrowed collection: the items as they are, or a
    /// rearranged copy under the `shuffled` variant.
    pub fn arranged<'a, T: Clone>(&self, path: &str, items: &'a [T]) -> std::borrow::Cow<'a, [T]> {
        if items.len() < 2 || !self.variant(Variant::Shuffled) {
            return std::borrow::Cow::Borrowed(items);
        }
        let mut copy = items.to_vec();
        self.arrange(path, &mut copy);
        std::borrow::Cow::Owned(copy)
    }

    /// The `max_page_size` knob: when set, every API clamps its page size to at most this.
    pub fn max_page_size(&self) -> Option<usize> {
        *lock(&self.0.max_page_size)
    }

    pub(crate) fn set_max_page_size(&self, max: Option<usize>) {
        *lock(&self.0.max_page_size) = max;
    }

    pub(crate) fn set_variants(&self, variants: std::collections::BTreeSet<Variant>) {
        *lock(&self.0.variants) = variants;
    }

    /// Whether a [`Variant`] knob is on.
    pub fn variant(&self, v: Variant) -> bool {
        lock(&self.0.variants).contains(&v)
    }

    /// How many items a page may hold when `asked` were asked for: the `max_page_size`
    /// knob clamps (and the answer says so), the `short_pages` variant serves fewer
    /// without saying so. Returns (served, echoed).
    pub fn page_limit(&self, asked: usize) -> (usize, usize) {
        let echoed = self.max_page_size().map_or(asked, |cap| asked.min(cap));
        let served = if self.variant(Variant::ShortPages) {
            echoed.min(variants::SHORT_PAGE)
        } else {
            echoed
        };
        (served, echoed)
    }

    /// How many of `served` items the page starting at `offset` holds: all of them, but
    /// one or two fewer on a page after the first under the `uneven_pages` variant.
    pub fn served_from(&self, served: usize, offset: usize) -> usize {
        if offset == 0 || !self.variant(Variant::UnevenPages) {
            return served;
        }
        served.saturating_sub(1 + offset % 2).max(1)
    }

    /// Replaces the whole world and clears the event log (used by reset).
    pub(crate) fn replace(&self, world: World) {
        self.0
            .version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        *write_lock(&self.0.world) = world;
        lock(&self.0.events).clear();
    }

    pub(crate) fn event_count(&self) -> usize {
        lock(&self.0.events).len()
    }

    /// Reads the world.
    pub fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.0.world.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Mutates the world. Call [`AppState::event`] for each change made.
    pub fn write<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        self.write_dropping(World::invalidate, f)
    }

    /// Derived lookups must never outlive the state they were built from: `drop` clears
    /// those `f` may outdate, before and after it.
    fn write_dropping<R>(&self, drop: impl Fn(&mut World), f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = write_lock(&self.0.world);
        self.0
            .version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        drop(&mut world);
        let out = f(&mut world);
        drop(&mut world);
        out
    }

    /// Records one change in the event log.
    pub fn event(&self, api: &str, action: &str, detail: serde_json::Value) {
        let mut events = lock(&self.0.events);
        let seq = events.len() as u64 + 1;
        events.push(Event {
            seq,
            api: api.to_string(),
            action: action.to_string(),
            detail,
        });
    }

    pub fn events(&self) -> Vec<Event> {
        lock(&self.0.events).clone()
    }

    /// A random (seeded, so reproducible) RFC 4122 version-4 UUID.
    pub fn new_uuid(&self) -> String {
        let bytes: [u8; 16] = lock(&self.0.rng).random();
        let mut b = bytes;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    /// A random alphanumeric id of `len` characters (GitBook and Contentful style ids).
    pub fn new_id(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = lock(&self.0.rng);
        (0..len)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    }

    /// The current time as RFC 3339, second precision.
    pub fn now(&self) -> String {
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
    }
}

/// What a handler answers: the response, or the API's error response (so handlers and the
/// extractors of their prelude can use `?`).
pub(crate) type Answer = Result<Response, Response>;

/// What the core needs from each emulated API.
pub trait Api {
    /// Short name used in stats and events: `pixiebrix`, `gitbook`, `contentful`; also
    /// its key in the state file and the config's `kind:` of the providers it serves.
    const NAME: &'static str;
    /// Its slice of the state file, a field of [`World`].
    type World: Clone + std::fmt::Debug + Default + Serialize + serde::de::DeserializeOwned;
    /// Drops every lookup built from its slice (around every write to the whole world).
    fn invalidate(world: &mut Self::World);
    /// Adds one configured organization to its slice, in its own shapes
    /// (`teamsync sandbox seed`).
    fn seed(world: &mut Self::World, org: &seed::Org) -> Result<(), String>;
    /// The routes of this API, with their full paths (for example `/api/…`, `/v1/…`).
    fn routes() -> Router<AppState>;
    /// Whether a request path belongs to this API.
    fn owns_path(path: &str) -> bool;
    /// This API's error body for a status (used for injected 5xx faults).
    fn error_response(status: StatusCode, message: &str) -> Response;
    /// This API's 429 answer, including its own retry headers; `reset`: how long until the
    /// window resets.
    fn throttled(reset: std::time::Duration, limit: u32) -> Response;
    /// Route templates that list a container's members (for the `hidden_emails` variant).
    const MEMBER_LISTS: &'static [&'static str];
    /// Route templates whose items are keyed by their email.
    const EMAIL_KEYED: &'static [&'static str];
    /// Route templates whose answers carry `includes` (for the `no_includes` variant).
    const WITH_INCLUDES: &'static [&'static str] = &[];
    /// Adds this API's rate-limit headers (if it has any) to a normal response.
    fn rate_limit_headers(
        headers: &mut HeaderMap,
        limit: u32,
        remaining: u32,
        reset: std::time::Duration,
    );
    /// Where a client's base URL points for this API, below the sandbox's root (GitBook's
    /// `/v1`; the others live at the root).
    const BASE_PATH: &'static str = "";
}

/// Registers the APIs the sandbox serves, one line each (`field: Type`, the field being its
/// key in the state file and its [`Api::NAME`]), in the order a request's path is matched
/// against them: it makes [`World`] (a field per API), the dispatch of its `invalidate` and
/// `seed`, and [`SERVED`], the list the core finds a request's API in.
macro_rules! served {
    ($($field:ident: $api:ty),* $(,)?) => {
        /// The whole emulated world; this is also the state file's format (see
        /// `docs/sandbox.md`).
        #[derive(Clone, Debug, Default, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct World {
            /// Set by `teamsync sandbox seed` ([`GENERATED_BY`]): marks a file teamsync
            /// wrote, so it may be written again without `--force`, while a hand-written
            /// state never is.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub generated_by: Option<String>,
            $(
                #[serde(default)]
                pub $field: <$api as Api>::World,
            )*
        }

        impl World {
            /// Drops the per-API lookups built for reads, which must never outlive the
            /// state they were built from.
            fn invalidate(&mut self) {
                $(<$api as Api>::invalidate(&mut self.$field);)*
            }

            /// Adds one configured organization to the API named `api` (`teamsync sandbox
            /// seed`).
            pub fn seed(&mut self, api: &str, org: &seed::Org) -> Result<(), String> {
                $(
                    if api == <$api as Api>::NAME {
                        return <$api as Api>::seed(&mut self.$field, org);
                    }
                )*
                Err(format!("internal error: the sandbox serves no API named `{api}`"))
            }
        }

        /// Every API the sandbox serves, in the order a request's path is matched against
        /// them.
        pub(crate) const SERVED: &[Served] = &[$(Served::of::<$api>(),)*];
    };
}

served! {
    pixiebrix: pixiebrix::Pixiebrix,
    gitbook: gitbook::Gitbook,
    contentful: contentful::Contentful,
}

/// An emulated API as the core dispatches to it: its [`Api`] as plain values, so the core
/// finds the API of a request by looking through [`SERVED`] instead of naming each one.
pub(crate) struct Served {
    pub name: &'static str,
    pub base_path: &'static str,
    pub routes: fn() -> Router<AppState>,
    pub owns_path: fn(&str) -> bool,
    pub error_response: fn(StatusCode, &str) -> Response,
    pub throttled: fn(std::time::Duration, u32) -> Response,
    pub rate_limit_headers: fn(&mut HeaderMap, u32, u32, std::time::Duration),
    pub member_lists: &'static [&'static str],
    pub email_keyed: &'static [&'static str],
    pub with_includes: &'static [&'static str],
}

impl Served {
    const fn of<A: Api>() -> Served {
        Served {
            name: A::NAME,
            base_path: A::BASE_PATH,
            routes: A::routes,
            owns_path: A::owns_path,
            error_response: A::error_response,
            throttled: A::throttled,
            rate_limit_headers: A::rate_limit_headers,
            member_lists: A::MEMBER_LISTS,
            email_keyed: A::EMAIL_KEYED,
            with_includes: A::WITH_INCLUDES,
        }
    }

    /// The API a request path belongs to.
    pub fn of_path(path: &str) -> Option<&'static Served> {
        SERVED.iter().find(|api| (api.owns_path)(path))
    }
}

/// Lookups derived from the world for reads: built on first use, dropped by every write,
/// and never copied (a clone of the world, as saved to the state file, starts without).
pub(crate) struct Lookups<T>(std::sync::OnceLock<T>);

impl<T> Default for Lookups<T> {
    fn default() -> Self {
        Lookups(std::sync::OnceLock::new())
    }
}

impl<T> Clone for Lookups<T> {
    fn clone(&self) -> Self {
        Lookups::default()
    }
}

impl<T> std::fmt::Debug for Lookups<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Lookups(built)"
        } else {
            "Lookups(empty)"
        })
    }
}

impl<T> Lookups<T> {
    pub(crate) fn get_or_init(&self, build: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(build)
    }

    /// The lookup, if a read built it since the last write that dropped it.
    pub(crate) fn get(&self) -> Option<&T> {
        self.0.get()
    }

    pub(crate) fn clear(&mut self) {
        self.0.take();
    }
}

/// Positions of items keyed by a 64-bit hash of their key, sorted for binary search. It is
/// built with one allocation (rebuilding after each write must stay cheap) and never
/// compares keys: hashes can collide, so callers check the key at each position.
#[derive(Debug, Default)]
pub(crate) struct HashIndex<P> {
    entries: Vec<(u64, P)>,
}

impl<P: Copy + Ord> HashIndex<P> {
    pub(crate) fn build(items: impl Iterator<Item = (u64, P)>) -> Self {
        let mut entries: Vec<(u64, P)> = items.collect();
        // Positions of one hash come out in ascending order, i.e. the world's order.
        entries.sort_unstable();
        HashIndex { entries }
    }

    /// The positions recorded under `hash`, ascending.
    pub(crate) fn get(&self, hash: u64) -> impl Iterator<Item = P> + '_ {
        let start = self.entries.partition_point(|(h, _)| *h < hash);
        self.entries[start..]
            .iter()
            .take_while(move |(h, _)| *h == hash)
            .map(|(_, p)| *p)
    }
}

impl HashIndex<usize> {
    /// Positions of `items` by their exact id.
    pub(crate) fn of_ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Self {
        Self::build(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| (fold(id(item), false), i)),
        )
    }

    /// The position in `items` (the slice this index was built from) of the item whose id
    /// is `key`.
    pub(crate) fn find<T>(&self, items: &[T], id: impl Fn(&T) -> &str, key: &str) -> Option<usize> {
        self.get(fold(key, false))
            .find(|i| items.get(*i).is_some_and(|item| id(item) == key))
    }
}

/// The `limit` a list request asks for: `default` when absent, `None` when it is not a
/// number of at most `max` (each API answers that with its own 400).
pub(crate) fn limit_param(
    q: &std::collections::HashMap<String, String>,
    default: usize,
    max: usize,
) -> Option<usize> {
    match q.get("limit") {
        None => Some(default),
        Some(raw) => raw.parse::<usize>().ok().filter(|n| *n <= max),
    }
}

/// Whether `e` looks like an email address: `local@domain.tld`, no whitespace, at most 254
/// characters (the one check every emulated API applies to an address it is given).
pub(crate) fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace) && e.len() <= 254
}

/// Reorders `items` so that position `i` holds what was at `order[i]` (`order` is a
/// permutation of the positions), in place: follows each cycle once.
fn apply_permutation<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..order.len() {
        let mut at = start;
        // Each cycle is walked from its smallest position; positions done are marked by
        // pointing at themselves.
        while order[at] != start {
            let next = order[at];
            items.swap(at, next);
            order[at] = at;
            at = next;
        }
        order[at] = at;
    }
}

/// FNV-1a of a key's bytes, optionally ASCII-lower-cased (emails compare that way).
pub(crate) fn fold(key: &str, caseless: bool) -> u64 {
    fold_more(0xcbf2_9ce4_8422_2325, key.as_bytes(), caseless)
}

/// FNV-1a continued from `hash` over `bytes`.
pub(crate) fn fold_more(hash: u64, bytes: &[u8], caseless: bool) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        let b = if caseless { b.to_ascii_lowercase() } else { b };
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether `hay` contains `needle_lower` (already lower-cased), ignoring case. ASCII
/// needles, the common case (emails), are compared without allocating.
pub(crate) fn contains_caseless(hay: &str, needle_lower: &str) -> bool {
    if hay.contains(needle_lower) {
        return true;
    }
    if !hay.bytes().any(|b| b.is_ascii_uppercase()) && hay.is_ascii() {
        // Already lower-case: the exact search above was the whole answer.
        return false;
    }
    if needle_lower.is_ascii() {
        needle_lower.is_empty()
            || hay
                .as_bytes()
                .windows(needle_lower.len())
                .any(|w| w.eq_ignore_ascii_case(needle_lower.as_bytes()))
    } else {
        hay.to_lowercase().contains(needle_lower)
    }
}

#[cfg(test)]
mod tests {
    use super::{apply_permutation, contains_caseless};

    #[test]
    fn permutations_apply_in_place() {
        let mut items = vec!['a', 'b', 'c', 'd', 'e'];
        apply_permutation(&mut items, vec![3, 0, 4, 1, 2]);
        assert_eq!(items, vec!['d', 'a', 'e', 'b', 'c']);
        let mut items = vec![1, 2, 3];
        apply_permutation(&mut items, vec![0, 1, 2]);
        assert_eq!(items, vec![1, 2, 3]);
    }

    #[test]
    fn caseless_contains() {
        assert!(contains_caseless(
            "Ada.Lovelace@Example.com",
            "lovelace@example"
        ));
        assert!(contains_caseless("anything", ""));
        assert!(!contains_caseless("ada@example.com", "bob"));
        assert!(contains_caseless("ÉCOLE", "école"));
        assert!(!contains_caseless("ab", "abc"));
    }
}
