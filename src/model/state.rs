//! Desired state (what the config says) and live state (what a provider read), in the same
//! provider-neutral vocabulary, so that the diff compares like with like.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Data, Email, ProviderKind, ResourceKey, ResourceKind};

/// The organization role an invitation carries: each provider has its own set
/// (`InviteRole::valid_for`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum InviteRole {
    /// PixieBrix and Contentful: an ordinary member.
    Member,
    /// PixieBrix, GitBook and Contentful: an administrator.
    Admin,
    /// PixieBrix and Contentful: a developer.
    Developer,
    /// PixieBrix: a restricted member.
    Restricted,
    /// PixieBrix: a manager.
    Manager,
    /// Contentful: an owner.
    Owner,
    /// GitBook: may create content.
    Create,
    /// GitBook: may edit content.
    Edit,
    /// GitBook: may review changes.
    Review,
    /// GitBook: may comment.
    Comment,
    /// GitBook: may read.
    Read,
}

impl InviteRole {
    /// The organization roles an invitation to this provider may carry (`invite_role`).
    pub fn valid_for(provider: ProviderKind) -> &'static [InviteRole] {
        provider.spec().invite_roles
    }

    /// The role an invitation carries when the config names none: the least access.
    pub fn default_for(provider: ProviderKind) -> InviteRole {
        provider.spec().default_invite_role
    }

    /// Whether an invitation with this role grants management rights.
    pub fn is_privileged(self) -> bool {
        matches!(self, InviteRole::Admin | InviteRole::Owner)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InviteRole::Member => "member",
            InviteRole::Admin => "admin",
            InviteRole::Developer => "developer",
            InviteRole::Restricted => "restricted",
            InviteRole::Manager => "manager",
            InviteRole::Owner => "owner",
            InviteRole::Create => "create",
            InviteRole::Edit => "edit",
            InviteRole::Review => "review",
            InviteRole::Comment => "comment",
            InviteRole::Read => "read",
        }
    }
}

impl From<Role> for InviteRole {
    /// A PixieBrix roster role, as the invitation that grants it.
    fn from(role: Role) -> InviteRole {
        match role {
            Role::Member => InviteRole::Member,
            Role::Admin => InviteRole::Admin,
            Role::Developer => InviteRole::Developer,
            Role::Restricted => InviteRole::Restricted,
            Role::Manager => InviteRole::Manager,
            Role::Owner => InviteRole::Owner,
        }
    }
}

impl fmt::Display for InviteRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A membership role. One enum for every provider; which values a provider accepts for a
/// resource kind is `Role::valid_for`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Ordinary member (PixieBrix organization, GitBook team).
    Member,
    /// PixieBrix organization admin.
    Admin,
    /// PixieBrix organization developer.
    Developer,
    /// PixieBrix organization restricted member.
    Restricted,
    /// PixieBrix organization manager.
    Manager,
    /// GitBook team owner: can manage the team's members.
    Owner,
}

impl Role {
    /// The roles a provider accepts on a resource kind (empty: roles are not managed there).
    pub fn valid_for(provider: ProviderKind, kind: ResourceKind) -> &'static [Role] {
        provider.spec().roles_for(kind)
    }

    /// The highest role a member can hold on a resource kind, the one that manages its
    /// members: a GitBook team's `owner`, the PixieBrix organization's `admin`. `None`
    /// where teamsync manages no role (PixieBrix groups and campaigns, Contentful teams:
    /// a Contentful team membership carries no role; an organization admin or owner
    /// manages every team, and that role is not in the configuration).
    pub fn top_for(provider: ProviderKind, kind: ResourceKind) -> Option<Role> {
        provider.spec().owner_role(kind)
    }

    /// The role teamsync manages for a declared member, if any. GitBook team membership
    /// always has a role, so an unstated one means `member`; elsewhere an unstated role is
    /// left alone.
    pub fn managed(
        provider: Option<ProviderKind>,
        kind: ResourceKind,
        role: Option<Role>,
    ) -> Option<Role> {
        match provider.and_then(|p| p.spec().default_role(kind)) {
            Some(default) => Some(role.unwrap_or(default)),
            None => role,
        }
    }

    /// Whether moving to this role grants management rights a reviewer should notice.
    pub fn is_privileged(self) -> bool {
        matches!(self, Role::Admin | Role::Owner)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Developer => "developer",
            Role::Restricted => "restricted",
            Role::Manager => "manager",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `exact` removes live members nobody listed; `additive` only ever adds.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Remove members who are not listed (the default).
    #[default]
    Exact,
    /// Only add members; never remove anyone.
    Additive,
    /// Read and shown, never written: another system (SCIM, the vendor's UI) owns the
    /// members. Never created, changed, pruned or offboarded by teamsync, and never drift.
    Observe,
}

/// What sort of account a live member is; `organization.keep` names the kinds never removed.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// A person.
    #[default]
    Human,
    /// An API-only service account.
    ServiceAccounts,
    /// A deployment-key account.
    DeploymentKeys,
    /// The API did not say (its answer left out the account-kind flags): never removed
    /// by a roster, since it may be a service account teamsync or an integration runs on.
    /// Never written in a config.
    #[schemars(skip)]
    #[serde(skip_deserializing)]
    Unknown,
}

/// Where a provider's API lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Endpoint {
    /// The kind's public base URL.
    Default,
    /// An explicit base URL (HTTPS, or HTTP on loopback only).
    Url(String),
    /// `sandbox:FILE`: an in-process emulator seeded from FILE (resolved against the config).
    Sandbox(PathBuf),
}

/// One configured provider, as the providers module needs it. The token itself is never
/// stored here: only the name of the environment variable that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The name the config gives it (`docs`, `cms`, …).
    pub name: String,
    pub kind: ProviderKind,
    /// PixieBrix organization UUID, GitBook organization id, Contentful organization id.
    pub organization: String,
    pub endpoint: Endpoint,
    /// Environment variable holding the token. `None` only for sandbox endpoints.
    pub token_env: Option<String>,
    /// The config's cap on requests per second (`rate_limit`), below what the API allows.
    pub rate_limit: Option<RequestsPerSecond>,
    /// Invite people a container needs who are not in the organization (`invite`, or
    /// PixieBrix's `organization.invite`).
    pub invite: bool,
    /// The organization role invitations carry (`invite_role`); `None`: the provider's
    /// least access (`Role::default_invite`).
    pub invite_role: Option<InviteRole>,
    /// PixieBrix: domains verified for the team, whose people may join groups and
    /// campaigns without being team members.
    pub verified_domains: BTreeSet<String>,
    /// This provider's removal budget (`max_removals` on it).
    pub max_removals: Option<u64>,
}

impl ProviderSettings {
    /// A provider at its defaults: the vendor's endpoint, no token variable, no rate cap,
    /// no invitations, no verified domains (what a config states only its name, kind and
    /// organization for; tests and benches build from it).
    pub fn new(
        name: impl Into<String>,
        kind: ProviderKind,
        organization: impl Into<String>,
    ) -> ProviderSettings {
        ProviderSettings {
            name: name.into(),
            kind,
            organization: organization.into(),
            endpoint: Endpoint::Default,
            token_env: None,
            rate_limit: None,
            invite: false,
            invite_role: None,
            verified_domains: BTreeSet::new(),
            max_removals: None,
        }
    }
}

/// A positive, finite number of requests per second.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct RequestsPerSecond(f64);

impl RequestsPerSecond {
    /// `None` unless `rps` is positive and finite.
    pub fn new(rps: f64) -> Option<RequestsPerSecond> {
        (rps.is_finite() && rps > 0.0).then_some(RequestsPerSecond(rps))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

// Never NaN (see `new`), so equality is total.
impl Eq for RequestsPerSecond {}

/// The repository-wide policy block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Lower-case domains; empty means no restriction.
    pub allowed_email_domains: BTreeSet<String>,
    /// Removals above this in one apply need `--allow-removals`.
    pub max_removals: Option<u64>,
    /// Allow a change that leaves a GitBook team or an organization without any owner or
    /// admin (refused by default).
    pub allow_no_owner: bool,
    /// Warn this many days before an `until` date (`None`: the default, 14).
    pub expiry_warning_days: Option<u32>,
    /// Access rule: owners of a GitBook team / admins of an organization roster kept
    /// after a plan (`policy.min_owners`).
    pub min_owners: Option<u32>,
    /// Access rule: an `until` at most this many days ahead.
    pub max_until_days: Option<u32>,
    /// Access rule: domains whose people need an `until` on every access.
    pub require_until: BTreeSet<String>,
    /// Lets a member with `until` be an owner or admin (off: temporary access is ordinary).
    pub allow_temporary_owners: bool,
}

impl Policy {
    /// Days before an `until` date from which every view warns.
    pub fn expiry_warning_days(&self) -> u32 {
        self.expiry_warning_days.unwrap_or(14)
    }

    /// Whether `allowed_email_domains` lets this address in (always, when it is empty).
    pub fn allows(&self, email: &super::Email) -> bool {
        self.allowed_email_domains.is_empty() || self.allowed_email_domains.contains(email.domain())
    }
}

/// How a member is identified. Desired members from the roster are known by email; a config
/// may also name a raw provider user id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberKey {
    Email(Email),
    UserId(Arc<str>),
}

impl fmt::Display for MemberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemberKey::Email(e) => write!(f, "{e}"),
            MemberKey::UserId(id) => write!(f, "user_id:{id}"),
        }
    }
}

/// A member as the config wants it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredMember {
    /// The roster handle it came from, for display.
    pub handle: Option<String>,
    /// `None`: the role is not managed for this member.
    pub role: Option<Role>,
    /// Campaign data (roster attributes overlaid with per-campaign overrides); empty elsewhere.
    pub data: Data,
    /// The last day (UTC) of this access: the person's `until` or the entry's, whichever
    /// comes first. From the next day the plan removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<jiff::civil::Date>,
}

/// Organization-only options (`organization:` in the config).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgOptions {
    /// Account kinds never removed as leavers.
    pub keep: BTreeSet<AccountKind>,
    /// Invite listed people who are not in the organization yet.
    pub invite: bool,
}

/// One resource the config declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredResource {
    pub key: ResourceKey,
    /// Earlier names: if one exists live and `key.name` does not, the plan renames it.
    pub previously: Vec<String>,
    pub mode: Mode,
    pub members: BTreeMap<MemberKey, DesiredMember>,
    /// Set only for `ResourceKind::Organization`.
    pub organization: Option<OrgOptions>,
    /// Contentful teams: the description the config states (`None`: left as it is).
    pub description: Option<String>,
    /// This container's removal budget (`max_removals` on it).
    pub max_removals: Option<u64>,
}

/// Everything the config declares, across providers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DesiredState {
    pub resources: BTreeMap<ResourceKey, DesiredResource>,
    /// (provider name, kind) pairs whose undeclared live resources are deleted.
    pub prune: BTreeSet<(String, ResourceKind)>,
    /// People marked `offboarded` (email → handle): removed from every live container and
    /// organization of every provider, and declared nowhere.
    pub offboarded: BTreeMap<Email, String>,
}

/// A member as a provider reported it. Its texts are shared (`Arc<str>`): a provider
/// answers the same twenty thousand people in a thousand lists, and each reader keeps one
/// allocation per distinct user id and name (`providers::identity::Seen`), so a million
/// live memberships hold a million pointers, not three million strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMember {
    /// The provider's user id (PixieBrix user UUID, GitBook user id, Contentful user id).
    pub user_id: Option<Arc<str>>,
    pub email: Option<Email>,
    /// Display name, when the API gives one.
    pub name: Option<Arc<str>>,
    pub role: Option<Role>,
    pub data: Data,
    pub account: AccountKind,
    /// The id of the membership record itself, when removing needs it (PixieBrix
    /// organization membership id or group membership UUID, Contentful team membership id,
    /// Contentful organization membership id for team adds).
    pub membership_id: Option<Arc<str>>,
    /// An organization membership that waits for its invitation to be accepted (Contentful
    /// `sys.status: pending`): it may join teams already, but has not joined.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    /// The role the API gave, verbatim, when it is none teamsync knows (a GitBook team role
    /// other than owner/member, a PixieBrix role number past 5): `role` is `None` then. It
    /// is shown as it came and never overwritten unless the configuration states a role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_role: Option<Arc<str>>,
    /// The membership status the API gave, verbatim, when it is none teamsync knows (a
    /// Contentful `sys.status` other than `active`/`pending`): planned for as an active
    /// member, shown as it came, flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_status: Option<Arc<str>>,
}

impl LiveMember {
    /// Whether the API gave this member a value teamsync does not know.
    pub fn has_unknown(&self) -> bool {
        self.unknown_role.is_some() || self.unknown_status.is_some()
    }

    /// Each value teamsync does not know, with its field: `role: billing`.
    pub fn unknown_values(&self) -> impl Iterator<Item = String> + '_ {
        let role = self.unknown_role.as_deref().map(|r| format!("role: {r}"));
        let status = self
            .unknown_status
            .as_deref()
            .map(|s| format!("status: {s}"));
        role.into_iter().chain(status)
    }

    /// Its [`Standing`]: who it is and the role it has, as hashes.
    pub fn standing(&self) -> Standing {
        Standing {
            email: self.email.as_ref().map_or(0, |e| hash_of(e.as_str())),
            user_id: self.user_id.as_deref().map_or(0, hash_of),
            role: hash_of(&(self.role, self.unknown_role.as_deref())),
        }
    }

    /// The key the diff matches desired members by: email when known, else user id.
    pub fn key(&self) -> Option<MemberKey> {
        match (&self.email, &self.user_id) {
            (Some(e), _) => Some(MemberKey::Email(e.clone())),
            (None, Some(id)) => Some(MemberKey::UserId(id.clone())),
            (None, None) => None,
        }
    }
}

/// What a member of a container looked like when it was read: its email, its user id and
/// its role (with a value teamsync does not know), each as a hash (0: none). A plan keeps
/// one for every member it leaves as it is, so apply's read-back can tell that the API
/// changed no one it was not asked to (a removal that emptied other lists, a "replace"
/// where an "add" was meant). 24 bytes, not copies: a 20,000-person apply keeps one per
/// untouched membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    email: u64,
    user_id: u64,
    pub role: u64,
}

impl Standing {
    /// The hash of its email, if it had one.
    pub fn email(&self) -> Option<u64> {
        (self.email != 0).then_some(self.email)
    }

    /// The hash of its user id, if it had one.
    pub fn user_id(&self) -> Option<u64> {
        (self.user_id != 0).then_some(self.user_id)
    }
}

/// A hash that is the same for the same value within one run (all a [`Standing`] needs),
/// never 0 (which a [`Standing`] reads as "none").
pub fn hash_of<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default()
        .hash_one(value)
        .max(1)
}

/// A resource as a provider reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveResource {
    pub key: ResourceKey,
    /// The provider's id of the container (organization, group, campaign or team id).
    pub id: String,
    /// Sorted by `LiveMember::key` for determinism.
    pub members: Vec<LiveMember>,
    /// Organizations only: emails with an open invitation.
    pub pending_invites: BTreeSet<Email>,
    /// Organizations only: whose account the token is, as the API's who-am-I route said.
    #[serde(default)]
    pub who_am_i: WhoAmI,
    /// Contentful teams: the team's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The member list came without the API's own count (read until a short page), so it
    /// cannot prove it is whole: apply never replaces a list built from such a read.
    #[serde(skip)]
    pub uncounted: bool,
}

impl LiveResource {
    /// A container as a read found it: its key, its id and its members (sorted), with no
    /// description and a counted list.
    pub fn container(key: ResourceKey, id: String, members: Vec<LiveMember>) -> Self {
        LiveResource {
            key,
            id,
            members,
            pending_invites: BTreeSet::new(),
            who_am_i: WhoAmI::default(),
            description: None,
            uncounted: false,
        }
    }

    /// A provider's organization directory (who may join its containers) and whose
    /// account the token is, as the plan reads them where no roster is managed.
    pub fn directory(
        provider: &str,
        organization: &str,
        members: Vec<LiveMember>,
        who_am_i: WhoAmI,
    ) -> Self {
        LiveResource {
            key: ResourceKey::new(provider, ResourceKind::Organization, organization),
            id: organization.to_string(),
            members,
            pending_invites: BTreeSet::new(),
            who_am_i,
            description: None,
            uncounted: false,
        }
    }
}

/// The answer of a provider's who-am-I route (`docs/providers/API_NOTES_ADDENDUM.md` §2)
/// for the token in use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "value")]
pub enum WhoAmI {
    /// Not asked: the resource has no organization roster.
    #[default]
    NotAsked,
    /// The route failed, with why: removals from the organization are refused.
    Unknown(String),
    /// The provider's user id of the token's own account.
    User(String),
}

/// What providers read: the resources the config touches (found by current or earlier
/// name), plus every resource of the kinds being pruned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveState {
    pub resources: BTreeMap<ResourceKey, LiveResource>,
}

/// A member as a change names it: enough to address it on the API and to show it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MemberRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Arc<str>>,
    /// Roster handle, for display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// Provider membership-record id (see `LiveMember::membership_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membership_id: Option<Arc<str>>,
    /// The live role, verbatim, when teamsync does not know it (`LiveMember::unknown_role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_role: Option<Arc<str>>,
    /// The live status, verbatim, when teamsync does not know it (`LiveMember::unknown_status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_status: Option<Arc<str>>,
}

impl MemberRef {
    /// The keys a configuration may list this member under: its email, then its user id.
    pub fn keys(&self) -> impl Iterator<Item = MemberKey> + '_ {
        let by_email = self.email.clone().map(MemberKey::Email);
        let by_id = self.user_id.clone().map(MemberKey::UserId);
        by_email.into_iter().chain(by_id)
    }
}

impl fmt::Display for MemberRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.email, &self.user_id) {
            (Some(e), _) => write!(f, "{e}"),
            (None, Some(id)) => write!(f, "user_id:{id}"),
            (None, None) => f.write_str("(unknown member)"),
        }
    }
}

/// The role the plan sets for a declared member who is already live, or `None` when it
/// leaves the live role alone. The report's `role_differs` uses this same rule, so the
/// report never shows drift the plan will not fix (issue 32).
///
/// In `additive` mode a role is managed only where the config states one: a live owner
/// listed without `role:` keeps it. Nor is a live role teamsync does not know ever
/// replaced by a default: only by a role the configuration states.
pub fn role_to_set(
    provider: Option<ProviderKind>,
    kind: ResourceKind,
    mode: Mode,
    stated: Option<Role>,
    live: &LiveMember,
) -> Option<Role> {
    if (mode == Mode::Additive || live.unknown_role.is_some()) && stated.is_none() {
        return None;
    }
    Role::managed(provider, kind, stated)
}

/// Whether the plan would change this live member's role: the report's drift rule.
pub fn role_drifts(
    provider: Option<ProviderKind>,
    kind: ResourceKind,
    mode: Mode,
    stated: Option<Role>,
    live: &LiveMember,
) -> bool {
    mode != Mode::Observe
        && role_to_set(provider, kind, mode, stated, live).is_some_and(|r| live.role != Some(r))
}
