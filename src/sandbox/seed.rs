//! What `teamsync sandbox seed` hands each emulated API: one organization of a
//! configuration, in plain values (the sandbox imports nothing of ours), which the API's
//! own `seed` writes into its slice of the [`World`](super::World) in its own shapes. The
//! ids are digests of what they name, so the same configuration seeds the same world.

use sha2::{Digest, Sha256};

/// One configured organization, as if its configuration had been applied.
#[derive(Clone, Debug, Default)]
pub struct Org {
    /// The organization's id (the config's `organization`).
    pub id: String,
    /// Email domains anyone of may join (PixieBrix's `verified_domains`).
    pub verified_domains: Vec<String>,
    /// The address of the token's own account, an admin/owner of the organization.
    pub bot: String,
    /// Everyone the organization holds, in order, besides the bot.
    pub people: Vec<Person>,
    /// Each declared container, in order.
    pub containers: Vec<Container>,
}

#[derive(Clone, Debug, Default)]
pub struct Person {
    pub email: String,
    /// Their handle in the roster, else the address's local part.
    pub name: String,
    /// The organization role the configuration gives them, in the config's words
    /// (`admin`, `developer`, …); `None`: the API's plain member.
    pub role: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Container {
    /// The config's kind (`group`, `campaign`, `team`).
    pub kind: String,
    /// What names it uniquely (the resource key), for its id.
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, Default)]
pub struct Member {
    pub email: String,
    /// The role in the config's words (`owner`, `member`); `None`: unstated.
    pub role: Option<String>,
    /// Campaign member data.
    pub data: serde_json::Value,
}

impl Org {
    /// Its containers of the config's `kind`.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Container> {
        self.containers.iter().filter(move |c| c.kind == kind)
    }
}

/// When everything in a seed was created: a fixed stamp, so a seed is reproducible.
pub const STAMP: &str = "2026-01-01T00:00:00Z";

/// A stable hex id for `what`: the same config seeds the same ids, run after run.
fn digest(what: &str) -> String {
    let hash = Sha256::digest(what.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A UUID-shaped id (PixieBrix's ids are UUIDs).
pub fn uuid(what: &str) -> String {
    let h = digest(what);
    format!(
        "{}-{}-5{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A short id of the APIs' alphabet, with a prefix that says what it is.
pub fn short(prefix: &str, what: &str) -> String {
    format!("{prefix}{}", &digest(what)[..20])
}

/// `value` read as an API's own type: the shapes the seed writes are the state file's.
pub fn shaped<T: serde::de::DeserializeOwned>(
    api: &str,
    value: serde_json::Value,
) -> Result<T, String> {
    serde_json::from_value(value)
        .map_err(|e| format!("internal error: the {api} seed made is not a sandbox state: {e}"))
}
