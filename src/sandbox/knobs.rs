//! The sandbox's knobs: what each run may change of how the emulated APIs answer (latency,
//! concurrency, rate limits, faults, pages, lag, and the variants that answer the way a
//! real API plausibly might where the notes only infer). Plain data: the server applies
//! them (`server.rs`), the variants reshape answers by them (`variants.rs`); both import
//! this file and neither imports the other.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The sandbox's knobs. `Knobs::default()` disturbs nothing: no latency, no faults, a
/// rate limit far above what tests send.
#[derive(Clone, Debug, PartialEq)]
pub struct Knobs {
    /// The time every API request takes to answer, in milliseconds, counted from when it
    /// is handled (the emulator's own work happens inside it).
    pub latency_ms: u64,
    /// Extra random delay, uniform in `0..=jitter_ms` milliseconds (seeded).
    pub jitter_ms: u64,
    /// When set, every API serves at most this many items per page.
    pub max_page_size: Option<usize>,
    /// At most this many API requests are handled at once; the rest wait their turn.
    pub max_concurrency: Option<usize>,
    /// Requests allowed per token per API in each window; beyond it, that API's 429.
    /// The default for APIs without an entry in `rate_limits`.
    pub rate_limit: u32,
    /// Length of the rate-limit window in seconds (PixieBrix documents one minute).
    pub rate_window_secs: u64,
    /// Per API (`"pixiebrix"`, `"gitbook"`, `"contentful"`): requests allowed per token in
    /// each window, and the window's length in seconds, like the real APIs: Contentful
    /// `(7, 1)`, GitBook `(60, 60)`, PixieBrix per minute. Overrides `rate_limit`.
    pub rate_limits: BTreeMap<String, (u32, u64)>,
    /// Probability (0.0–1.0) of each injected fault, per API request.
    pub faults: Faults,
    /// How long each chunk of a "slow body" fault waits, in milliseconds.
    pub slow_body_ms: u64,
    /// Seed for jitter, faults and generated ids.
    pub seed: u64,
    /// Plausible answers that differ from what the notes infer (see [`Variant`]).
    pub variants: BTreeSet<Variant>,
    /// Whether GitBook's invite route (`POST …/invites`) is open to the token (ADDENDUM §2.1:
    /// availability unconfirmed).
    pub gitbook_invites: GitbookInvites,
    /// What a GitBook invitation makes of the invitee: pending until accepted, or a member
    /// at once.
    pub gitbook_invitees: GitbookInvitees,
    /// What GitBook's bulk team update makes of `memberships` (API_NOTES §2.7 infers it
    /// sets the roles it names and leaves the others).
    pub gitbook_memberships: GitbookMemberships,
    /// Every who-am-I route (PixieBrix `GET /api/me/`, GitBook `GET /v1/user`, Contentful
    /// `GET /users/me`) answers 403 in its API's error shape: a token that may not read
    /// its own account (ADDENDUM §2.2 infers a GitBook token without `user:read` may).
    pub who_am_i_forbidden: bool,
    /// Contentful's invitation create answers 400 `BadRequest` unless the
    /// `x-contentful-enable-alpha-feature` header names `pending-org-membership`.
    pub contentful_strict_alpha_header: bool,
    /// Reads that lag writes: after each write to an API, reads of the covered routes
    /// answer the list as it was before, for N reads or T ms (see [`super::lag`]).
    pub lag: Vec<super::lag::Lag>,
    /// Answers of the covered routes come from a cache whose entries live T ms, whatever
    /// was written meanwhile.
    pub stale_cache: Vec<super::lag::StaleCache>,
}

/// The `gitbook_invites` knob: how GitBook's invite route (`POST …/invites`) answers.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum GitbookInvites {
    /// Invites are made (200).
    #[default]
    Available,
    /// 403 in GitBook's error shape (the endpoint was staff-only once, GB-I184).
    Forbidden,
    /// 404 in GitBook's error shape (the route is not there for this token).
    NotFound,
}

/// The `gitbook_invitees` knob: whether an invitee is an organization member at once.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum GitbookInvitees {
    /// Kept as a pending invitation (`gitbook.invites` in the state file), absent from the
    /// members list, until accepted (`POST /_sandbox/gitbook/accept`).
    #[default]
    Pending,
    /// A member at once, with a new user id (returned in `users`).
    Immediate,
}

/// The `gitbook_memberships` knob: what `memberships` in GitBook's bulk team update
/// (`PUT …/teams/{team}/members`) means.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum GitbookMemberships {
    /// As the notes infer: the roles it names are set, every other member keeps theirs.
    #[default]
    Merge,
    /// The team's whole role map: a member it does not name goes back to `member` (an
    /// owner it leaves out is demoted).
    Replace,
}

/// An answer a real API may give that differs from what API_NOTES infers. The clients must
/// keep their promises under every one of them (issue 13): each is a knob, so tests can
/// run the same scenario against each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Contentful team-membership lists carry no `includes` (no users, so no emails).
    NoIncludes,
    /// Container member lists carry no emails (GitBook team members, PixieBrix group
    /// memberships, Contentful included users); directory lists and by-id routes still do.
    HiddenEmails,
    /// No answer carries an email, except where the email is the key (PixieBrix campaign
    /// members and invitations).
    NoEmails,
    /// PixieBrix lists have no `Link` header.
    NoLink,
    /// Pages hold fewer items than asked for (7), while answers echo the asked limit.
    ShortPages,
    /// Contentful and GitBook pages after the first hold one or two items fewer than the
    /// first page (at least one), while answers echo the asked limit: a client that steps
    /// by the first page's length skips items. (PixieBrix pages by number, so its pages
    /// cannot differ without losing items; its count check covers that.)
    UnevenPages,
    /// PixieBrix users carry no `service_account` / `deployment_key_account` flags.
    NoAccountFlags,
    /// In every page of two or more items, the last item is a copy of the first (the
    /// shift offset paging shows when the list changes between pages).
    DuplicateItems,
    /// The total count is one more than the items served.
    LyingCount,
    /// Paging never ends: PixieBrix serves page 1 for every page and drops its count,
    /// GitBook's `next.page` never ends, Contentful's `total` grows with every page.
    EndlessPaging,
    /// List answers are a gzip bomb (64 MiB of whitespace, ~64 KiB on the wire).
    OversizedBody,
    /// Error answers (4xx) quote the request's `Authorization` header back.
    EchoAuthorization,
    /// Every list serves its items in an order that is not the natural one: a shuffle fixed
    /// by the seed, the request path and the world's version (so the pages of one read
    /// agree), while counts and paging stay honest.
    Shuffled,
    /// Roles the notes never name (issue 31): at start, in every PixieBrix organization
    /// the first roster membership of role 1 gets role `9`, and in every GitBook team the
    /// first `member` gets the role `admin`; in every Contentful organization the first
    /// `member` membership gets the role `billing_admin` and the next the status
    /// `suspended`. They are stored, so they stay until a write sets a value teamsync
    /// knows. (A state file can hold any such value too.)
    UnknownRoles,
}

impl Variant {
    /// Every variant, in declaration order (tests that run a scenario under each use it).
    pub const ALL: &'static [Variant] = &[
        Variant::NoIncludes,
        Variant::HiddenEmails,
        Variant::NoEmails,
        Variant::NoLink,
        Variant::ShortPages,
        Variant::UnevenPages,
        Variant::NoAccountFlags,
        Variant::DuplicateItems,
        Variant::LyingCount,
        Variant::EndlessPaging,
        Variant::OversizedBody,
        Variant::EchoAuthorization,
        Variant::Shuffled,
        Variant::UnknownRoles,
    ];
}

/// Probabilities of injected faults; their sum should not exceed 1.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    pub status_500: f64,
    pub status_502: f64,
    pub status_503: f64,
    pub status_429: f64,
    pub reset: f64,
    pub slow_body: f64,
    /// Writes only: the write is carried out, then its answer is lost (a 502 from a proxy
    /// in between), so a client cannot tell from the answer whether it took effect.
    pub lost_answer: f64,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            latency_ms: 0,
            jitter_ms: 0,
            max_page_size: None,
            max_concurrency: None,
            rate_limit: 1_000_000,
            rate_window_secs: 60,
            rate_limits: BTreeMap::new(),
            faults: Faults::default(),
            slow_body_ms: 50,
            seed: 0,
            variants: BTreeSet::new(),
            gitbook_invites: GitbookInvites::default(),
            gitbook_invitees: GitbookInvitees::default(),
            gitbook_memberships: GitbookMemberships::default(),
            who_am_i_forbidden: false,
            contentful_strict_alpha_header: false,
            lag: Vec::new(),
            stale_cache: Vec::new(),
        }
    }
}
