//! The access review (`teamsync report`): who has access to what, from the live state and
//! the configuration together, in one provider-neutral model that the HTML, CSV and JSON
//! renderers all draw from. Read-only: nothing here talks to a provider; the command reads
//! the live state through the plan's read-only path and hands it in.
//!
//! Arrows: `report → {model, config}`; it knows no HTTP, no provider client and no plan.

mod csv;
mod html;
mod json;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::config::Loaded;
use crate::model::{
    AccountKind, Endpoint, LiveMember, LiveResource, LiveState, MemberKey, Mode, ProviderKind,
    ResourceKey, ResourceKind, Role,
};

pub use csv::csv;
pub use html::html;
pub use json::json;

/// The version of the JSON document (docs/report-format.md). Fields may be added within a
/// version; removing a field or changing its meaning bumps it.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// The whole access review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub report_format_version: u32,
    pub teamsync_version: String,
    /// When the live state was read, UTC RFC 3339.
    pub read_at: String,
    pub config: ConfigInfo,
    /// Configured providers, in configuration order (by name).
    pub providers: Vec<ProviderInfo>,
    /// Every container, grouped by provider (the providers' order), then by kind and name.
    pub containers: Vec<Container>,
    /// `--person`: the one person the report was narrowed to (as given); `null`: everyone.
    pub person: Option<String>,
    /// One row per person or account: the roster first, then accounts the config does not
    /// know, each group by label.
    pub people: Vec<Person>,
    pub summary: Summary,
}

/// What the report was compared against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigInfo {
    /// Every file read, relative to the root file's folder, in byte order.
    pub files: Vec<String>,
    /// `sha256:` + hex of the files' bytes concatenated in `files` order.
    pub digest: String,
    /// `git rev-parse HEAD` of the config folder, when it is a git checkout.
    pub git_commit: Option<String>,
    /// Whether a config file differs from `git_commit` or is untracked (only with it).
    pub git_dirty: Option<bool>,
    /// Whether the grants of declared access could be read from git.
    pub history: HistoryState,
    /// Why `history` is not `full` (`null` when it is).
    pub history_reason: Option<String>,
    /// `policy.allowed_email_domains`; empty means no restriction.
    pub allowed_email_domains: Vec<String>,
}

/// One configured provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    /// The name under `providers:`.
    pub name: String,
    pub kind: ProviderKind,
    /// The organization id from the provider settings.
    pub organization: String,
    /// Whether it was read from an embedded sandbox rather than the real API.
    pub sandbox: bool,
}

/// One column: a group, campaign, team or organization roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Container {
    /// `provider.kind["name"]`, as plans write it.
    pub key: String,
    pub provider: String,
    pub kind: ResourceKind,
    pub name: String,
    /// Declared in the configuration.
    pub declared: bool,
    /// Found live.
    pub live: bool,
    /// The live container's name when it differs (found by one of its `previously` names).
    pub live_name: Option<String>,
    /// The provider's id of the live container.
    pub live_id: Option<String>,
    /// The declared mode; `None` for undeclared containers.
    pub mode: Option<Mode>,
}

/// Something an auditor asks about. Cell marks and row marks share this list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// Drift: live access (or an invitation) the configuration does not declare.
    Undeclared,
    /// Drift: declared access that is not live (and not pending as an invitation).
    Missing,
    /// Drift: the live role is not the declared one.
    RoleDiffers,
    /// An open invitation (PixieBrix organizations).
    PendingInvitation,
    /// An owner or admin role.
    Privileged,
    /// An API-only service account.
    ServiceAccount,
    /// A deployment-key account.
    DeploymentKey,
    /// Row only: a live account the configuration does not know at all.
    UnknownToConfig,
    /// Row only: found live with an address outside `policy.allowed_email_domains`.
    OutsideAllowedDomains,
}

impl Mark {
    pub const ALL: [Mark; 9] = [
        Mark::Undeclared,
        Mark::Missing,
        Mark::RoleDiffers,
        Mark::PendingInvitation,
        Mark::Privileged,
        Mark::ServiceAccount,
        Mark::DeploymentKey,
        Mark::UnknownToConfig,
        Mark::OutsideAllowedDomains,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Undeclared => "undeclared",
            Mark::Missing => "missing",
            Mark::RoleDiffers => "role_differs",
            Mark::PendingInvitation => "pending_invitation",
            Mark::Privileged => "privileged",
            Mark::ServiceAccount => "service_account",
            Mark::DeploymentKey => "deployment_key",
            Mark::UnknownToConfig => "unknown_to_config",
            Mark::OutsideAllowedDomains => "outside_allowed_domains",
        }
    }

    /// What the mark means, for legends.
    pub fn describe(self) -> &'static str {
        match self {
            Mark::Undeclared => "live access the configuration does not declare (drift)",
            Mark::Missing => "declared access that is not live (drift)",
            Mark::RoleDiffers => "the live role differs from the declared one (drift)",
            Mark::PendingInvitation => "invitation sent, not yet accepted",
            Mark::Privileged => "owner or admin",
            Mark::ServiceAccount => "service account",
            Mark::DeploymentKey => "deployment key",
            Mark::UnknownToConfig => "account the configuration does not know",
            Mark::OutsideAllowedDomains => "address outside policy.allowed_email_domains",
        }
    }

    /// Whether the mark is drift between configuration and live state.
    pub fn is_drift(self) -> bool {
        matches!(self, Mark::Undeclared | Mark::Missing | Mark::RoleDiffers)
    }
}

/// One row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Person {
    /// A stable label: the roster handle, else the email, else `user_id:…`.
    pub id: String,
    pub handle: Option<String>,
    pub email: Option<String>,
    /// A provider user id seen live (the first one, by container order).
    pub user_id: Option<String>,
    /// Display name as a provider gave it.
    pub name: Option<String>,
    /// Declared anywhere in the configuration (roster or a container's members).
    pub known_to_config: bool,
    /// `human`, `service_accounts` or `deployment_keys`, as the live state reports it.
    pub account: AccountKind,
    /// Row marks: the union of the cell marks, plus the row-only ones. Sorted.
    pub marks: Vec<Mark>,
    /// Non-empty cells, in container order.
    pub access: Vec<Cell>,
}

/// One non-empty cell: a person's access to one container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The container's `key`.
    pub container: String,
    /// Index into `Report::containers` (not serialised: `container` is the reference).
    #[serde(skip)]
    pub column: usize,
    /// What to show: the live role, else the declared one, else `member`.
    pub role: String,
    /// The role the configuration wants, where it manages one.
    pub declared_role: Option<Role>,
    /// The role the provider reports, if it reports one.
    pub live_role: Option<Role>,
    pub declared: bool,
    pub live: bool,
    pub pending_invitation: bool,
    /// Expiry date (YYYY-MM-DD) of this access. Always `null` for now: filled once
    /// expiring access lands (issue 16).
    pub until: Option<String>,
    /// Days from `read_at` to `until`. Always `null` for now: filled once expiring access
    /// lands (issue 16).
    pub days_left: Option<i64>,
    /// Sorted.
    pub marks: Vec<Mark>,
    /// The commit that last changed the configuration lines declaring this access; `null`
    /// unless `grant_evidence` is `commit`.
    pub granted: Option<Arc<Grant>>,
    /// What the history says about the grant; `null` for access the configuration does not
    /// declare.
    pub grant_evidence: Option<GrantEvidence>,
}

/// The commit that granted a declared access: the last one that changed a line declaring
/// it (a role change re-grants; it is not the first commit that listed the member).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The full commit id.
    pub commit: String,
    /// Author date, UTC RFC 3339.
    pub date: String,
    /// `Name <email>` of the author.
    pub author: String,
    /// `Name <email>` of the committer.
    pub committer: String,
    /// Committer date, UTC RFC 3339 (when the commit was made, e.g. merged by a rebase).
    pub committed_at: String,
    /// The `Reviewed-by:` and `Approved-by:` trailers of the commit message, in order.
    pub approvers: Vec<String>,
}

/// What the git history says about one declared access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantEvidence {
    /// `granted` holds the commit.
    Commit,
    /// A line declaring it is not in `HEAD`: an uncommitted edit or an untracked file.
    NotCommitted,
    /// The history is there but does not tell (a boundary commit, a line that is gone).
    Unknown,
    /// `config.history` is `shallow`: no commit is reported.
    ShallowHistory,
    /// `config.history` is `none`: not a git checkout, or no `git`.
    NoHistory,
}

impl GrantEvidence {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantEvidence::Commit => "commit",
            GrantEvidence::NotCommitted => "not_committed",
            GrantEvidence::Unknown => "unknown",
            GrantEvidence::ShallowHistory => "shallow_history",
            GrantEvidence::NoHistory => "no_history",
        }
    }
}

/// How much of the configuration's git history the report could read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryState {
    /// A whole history: every declared access has its grant (or is not committed).
    Full,
    /// A shallow clone: the oldest commit present would be blamed for every line older
    /// than it, so no grant is reported.
    Shallow,
    /// No history: not a git checkout, no commit yet, or no `git` to ask.
    #[default]
    None,
}

impl HistoryState {
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryState::Full => "full",
            HistoryState::Shallow => "shallow",
            HistoryState::None => "none",
        }
    }
}

/// What the command found in the history for one declared membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Granted {
    /// Shared: every member a commit added points at the same one.
    Commit(Arc<Grant>),
    NotCommitted,
    Unknown,
}

/// Declared membership → what the history says, by container then member (the command
/// fills it from `config::member_lines` and git).
pub type Grants = BTreeMap<ResourceKey, BTreeMap<MemberKey, Granted>>;

/// Counts for the header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub people: usize,
    pub containers: usize,
    /// Non-empty cells.
    pub access: usize,
    /// Cells with a drift mark.
    pub drift: usize,
    pub pending_invitations: usize,
    /// Cells with an owner or admin role.
    pub privileged: usize,
    /// Rows the configuration does not know.
    pub unknown_to_config: usize,
    /// Rows that are service accounts or deployment keys.
    pub non_human: usize,
    pub outside_allowed_domains: usize,
}

/// What the command knows that the configuration and live state do not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadContext {
    /// UTC RFC 3339.
    pub read_at: String,
    /// See `config_digest`.
    pub config_digest: String,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub history: HistoryState,
    pub history_reason: Option<String>,
    /// Only consulted when `history` is `Full`.
    pub grants: Grants,
}

/// The configuration files relative to the root's folder, in byte order of that text.
pub fn config_files(loaded: &Loaded) -> Vec<(String, std::path::PathBuf)> {
    loaded.relative_files()
}

/// `sha256:` + hex over the loaded configuration files' bytes, concatenated in the order of
/// `config_files` (so `cat` of the same files in that order into `sha256sum` agrees).
pub fn config_digest(loaded: &Loaded) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (_, path) in config_files(loaded) {
        hasher.update(std::fs::read(&path)?);
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(format!("sha256:{hex}"))
}

#[derive(Default)]
struct CellDraft {
    declared: bool,
    declared_role: Option<Role>,
    live: bool,
    live_role: Option<Role>,
    /// The live role verbatim, when teamsync does not know it.
    live_unknown_role: Option<std::sync::Arc<str>>,
    /// The plan would change the live role ([`crate::model::role_drifts`]).
    role_differs: bool,
    pending: bool,
    /// What the history says, for a declared member.
    grant: Option<Granted>,
}

#[derive(Default)]
struct RowDraft {
    handle: Option<String>,
    email: Option<String>,
    user_id: Option<Arc<str>>,
    name: Option<Arc<str>>,
    known: bool,
    account: AccountKind,
    cells: BTreeMap<usize, CellDraft>,
}

/// Rows, found by email or by provider user id.
#[derive(Default)]
struct Rows {
    rows: Vec<RowDraft>,
    by_email: HashMap<String, usize>,
    by_user: HashMap<Arc<str>, usize>,
}

impl Rows {
    fn find(&self, key: &MemberKey) -> Option<usize> {
        match key {
            MemberKey::Email(e) => self.by_email.get(e.as_str()).copied(),
            MemberKey::UserId(u) => self.by_user.get(&**u).copied(),
        }
    }

    /// The row for a declared member, created if new.
    fn declared(&mut self, key: &MemberKey) -> usize {
        if let Some(i) = self.find(key) {
            return i;
        }
        let mut row = RowDraft {
            known: true,
            ..RowDraft::default()
        };
        match key {
            MemberKey::Email(e) => row.email = Some(e.as_str().to_string()),
            MemberKey::UserId(u) => row.user_id = Some(u.clone()),
        }
        self.push(row)
    }

    fn push(&mut self, row: RowDraft) -> usize {
        let i = self.rows.len();
        if let Some(e) = &row.email {
            self.by_email.entry(e.clone()).or_insert(i);
        }
        if let Some(u) = &row.user_id {
            self.by_user.entry(u.clone()).or_insert(i);
        }
        self.rows.push(row);
        i
    }

    /// Records what a live member tells about the person in row `i`.
    fn learn(&mut self, i: usize, m: &LiveMember) {
        if let Some(e) = &m.email {
            self.by_email.entry(e.as_str().to_string()).or_insert(i);
        }
        if let Some(u) = &m.user_id {
            self.by_user.entry(u.clone()).or_insert(i);
        }
        let row = &mut self.rows[i];
        if row.email.is_none() {
            row.email = m.email.as_ref().map(|e| e.as_str().to_string());
        }
        if row.user_id.is_none() {
            row.user_id.clone_from(&m.user_id);
        }
        if row.name.is_none() {
            row.name.clone_from(&m.name);
        }
        if m.account != AccountKind::Human {
            row.account = m.account;
        }
    }

    /// The row for a live member no declared member matched: an existing row with the same
    /// email or user id, else a new row the configuration does not know.
    fn live(&mut self, m: &LiveMember) -> Option<usize> {
        let found = m
            .email
            .as_ref()
            .and_then(|e| self.by_email.get(e.as_str()))
            .or_else(|| m.user_id.as_ref().and_then(|u| self.by_user.get(&**u)))
            .copied();
        let i = match found {
            Some(i) => i,
            None if m.email.is_none() && m.user_id.is_none() => return None,
            None => self.push(RowDraft::default()),
        };
        self.learn(i, m);
        Some(i)
    }
}

/// The live resource a declared one corresponds to: by name, then by an earlier name.
fn match_live<'a>(
    key: &ResourceKey,
    previously: &[String],
    live: &'a LiveState,
) -> Option<&'a LiveResource> {
    live.resources.get(key).or_else(|| {
        previously.iter().find_map(|old| {
            live.resources.get(&ResourceKey {
                name: old.clone(),
                ..key.clone()
            })
        })
    })
}

/// Builds the report from a loaded configuration and the live state read for it.
pub fn build(loaded: &Loaded, live: &LiveState, ctx: ReadContext) -> Report {
    let provider_kind = |name: &str| loaded.providers.get(name).map(|p| p.kind);

    // Columns: every declared container (with the live one it corresponds to), then every
    // live container nobody declared.
    let mut columns: Vec<(
        Container,
        Option<&crate::model::DesiredResource>,
        Option<&LiveResource>,
    )> = Vec::new();
    let mut claimed: BTreeSet<&ResourceKey> = BTreeSet::new();
    for desired in loaded.desired.resources.values() {
        let found = match_live(&desired.key, &desired.previously, live);
        if let Some(l) = found {
            claimed.insert(&l.key);
        }
        columns.push((
            Container {
                key: desired.key.to_string(),
                provider: desired.key.provider.clone(),
                kind: desired.key.kind,
                name: desired.key.name.clone(),
                declared: true,
                live: found.is_some(),
                live_name: found
                    .filter(|l| l.key.name != desired.key.name)
                    .map(|l| l.key.name.clone()),
                live_id: found.map(|l| l.id.clone()),
                mode: Some(desired.mode),
            },
            Some(desired),
            found,
        ));
    }
    for l in live.resources.values() {
        if claimed.contains(&l.key) || loaded.desired.resources.contains_key(&l.key) {
            continue;
        }
        columns.push((
            Container {
                key: l.key.to_string(),
                provider: l.key.provider.clone(),
                kind: l.key.kind,
                name: l.key.name.clone(),
                declared: false,
                live: true,
                live_name: None,
                live_id: Some(l.id.clone()),
                mode: None,
            },
            None,
            Some(l),
        ));
    }
    // Grouped by provider in configuration order, then by kind and name.
    let provider_rank: HashMap<&str, usize> = loaded
        .providers
        .keys()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    columns.sort_by(|a, b| {
        let rank = |c: &Container| {
            provider_rank
                .get(c.provider.as_str())
                .copied()
                .unwrap_or(usize::MAX)
        };
        rank(&a.0)
            .cmp(&rank(&b.0))
            .then_with(|| a.0.provider.cmp(&b.0.provider))
            .then_with(|| a.0.kind.cmp(&b.0.kind))
            .then_with(|| a.0.name.cmp(&b.0.name))
    });

    let mut rows = Rows::default();
    for (handle, email) in &loaded.people {
        let i = rows.declared(&MemberKey::Email(email.clone()));
        rows.rows[i].handle = Some(handle.clone());
    }
    for (col, (container, desired, found)) in columns.iter().enumerate() {
        let pk = provider_kind(&container.provider);
        let members: &[LiveMember] = found.map(|l| l.members.as_slice()).unwrap_or(&[]);
        let mut live_by_email: HashMap<&str, usize> = HashMap::new();
        let mut live_by_user: HashMap<&str, usize> = HashMap::new();
        for (j, m) in members.iter().enumerate() {
            if let Some(e) = &m.email {
                live_by_email.entry(e.as_str()).or_insert(j);
            }
            if let Some(u) = &m.user_id {
                live_by_user.entry(&**u).or_insert(j);
            }
        }
        let mut matched = vec![false; members.len()];
        if let Some(desired) = desired {
            for (key, want) in &desired.members {
                let i = rows.declared(key);
                if rows.rows[i].handle.is_none() {
                    rows.rows[i].handle.clone_from(&want.handle);
                }
                let cell = rows.rows[i].cells.entry(col).or_default();
                cell.declared = true;
                cell.declared_role = Role::managed(pk, container.kind, want.role);
                if cell.grant.is_none() {
                    cell.grant = ctx
                        .grants
                        .get(&desired.key)
                        .and_then(|m| m.get(key))
                        .cloned();
                }
                let j = match key {
                    MemberKey::Email(e) => live_by_email.get(e.as_str()),
                    MemberKey::UserId(u) => live_by_user.get(&**u),
                }
                .copied();
                if let Some(j) = j {
                    matched[j] = true;
                    let m = &members[j];
                    let cell = rows.rows[i].cells.entry(col).or_default();
                    cell.live = true;
                    cell.live_role = m.role;
                    cell.live_unknown_role = m.unknown_role.clone();
                    cell.role_differs =
                        crate::model::role_drifts(pk, container.kind, desired.mode, want.role, m);
                    rows.learn(i, m);
                }
            }
        }
        for (j, m) in members.iter().enumerate() {
            if matched[j] {
                continue;
            }
            if let Some(i) = rows.live(m) {
                let cell = rows.rows[i].cells.entry(col).or_default();
                cell.live = true;
                cell.live_role = m.role;
                cell.live_unknown_role = m.unknown_role.clone();
            }
        }
        if let Some(l) = found {
            for email in &l.pending_invites {
                let i = match rows.find(&MemberKey::Email(email.clone())) {
                    Some(i) => i,
                    None => rows.push(RowDraft {
                        email: Some(email.as_str().to_string()),
                        ..RowDraft::default()
                    }),
                };
                rows.rows[i].cells.entry(col).or_default().pending = true;
            }
        }
    }

    let allowed = &loaded.policy.allowed_email_domains;
    // A container in `mode: observe` is owned elsewhere (SCIM, the UI): shown, never drift.
    let observed: Vec<bool> = columns
        .iter()
        .map(|c| c.0.mode == Some(crate::model::Mode::Observe))
        .collect();
    let mut people: Vec<Person> = rows
        .rows
        .into_iter()
        .map(|row| {
            let mut row_marks: BTreeSet<Mark> = BTreeSet::new();
            let access: Vec<Cell> = row
                .cells
                .into_iter()
                .map(|(col, c)| {
                    let mut marks = BTreeSet::new();
                    let owned_here = !observed.get(col).copied().unwrap_or(false);
                    if owned_here && (c.live || c.pending) && !c.declared {
                        marks.insert(Mark::Undeclared);
                    }
                    if owned_here && c.declared && !c.live && !c.pending {
                        marks.insert(Mark::Missing);
                    }
                    // Drift is what the plan would change: an owner in an `additive` team
                    // or a role teamsync does not know is left alone, so not marked.
                    if c.role_differs {
                        marks.insert(Mark::RoleDiffers);
                    }
                    if c.pending {
                        marks.insert(Mark::PendingInvitation);
                    }
                    let shown = if c.live {
                        c.live_role.or(c.declared_role)
                    } else {
                        c.declared_role
                    };
                    if shown.is_some_and(Role::is_privileged)
                        || c.live_role.is_some_and(Role::is_privileged)
                    {
                        marks.insert(Mark::Privileged);
                    }
                    row_marks.extend(marks.iter().copied());
                    let (granted, grant_evidence) = match (c.declared, ctx.history) {
                        (false, _) => (None, None),
                        (true, HistoryState::None) => (None, Some(GrantEvidence::NoHistory)),
                        (true, HistoryState::Shallow) => {
                            (None, Some(GrantEvidence::ShallowHistory))
                        }
                        (true, HistoryState::Full) => match c.grant {
                            Some(Granted::Commit(g)) => (Some(g), Some(GrantEvidence::Commit)),
                            Some(Granted::NotCommitted) => {
                                (None, Some(GrantEvidence::NotCommitted))
                            }
                            Some(Granted::Unknown) | None => (None, Some(GrantEvidence::Unknown)),
                        },
                    };
                    Cell {
                        container: columns[col].0.key.clone(),
                        column: col,
                        role: match (&c.live_unknown_role, c.live) {
                            (Some(r), true) => format!("{r} (unknown to teamsync)"),
                            _ => shown.map_or("member", Role::as_str).to_string(),
                        },
                        declared_role: c.declared_role,
                        live_role: c.live_role,
                        declared: c.declared,
                        live: c.live,
                        pending_invitation: c.pending,
                        until: None,
                        days_left: None,
                        marks: marks.into_iter().collect(),
                        granted,
                        grant_evidence,
                    }
                })
                .collect();
            match row.account {
                AccountKind::Human => {}
                AccountKind::ServiceAccounts => {
                    row_marks.insert(Mark::ServiceAccount);
                }
                AccountKind::DeploymentKeys => {
                    row_marks.insert(Mark::DeploymentKey);
                }
                // The API did not say; the report does not guess either.
                AccountKind::Unknown => {}
            }
            if !row.known {
                row_marks.insert(Mark::UnknownToConfig);
            }
            let found_live = access.iter().any(|c| c.live || c.pending_invitation);
            let outside = !allowed.is_empty()
                && found_live
                && row
                    .email
                    .as_deref()
                    .and_then(|e| e.rsplit_once('@'))
                    .is_some_and(|(_, d)| !allowed.contains(d));
            if outside {
                row_marks.insert(Mark::OutsideAllowedDomains);
            }
            let id = row
                .handle
                .clone()
                .or_else(|| row.email.clone())
                .or_else(|| row.user_id.as_ref().map(|u| format!("user_id:{u}")))
                .unwrap_or_default();
            Person {
                id,
                handle: row.handle,
                email: row.email,
                user_id: row.user_id.as_deref().map(str::to_string),
                name: row.name.as_deref().map(str::to_string),
                known_to_config: row.known,
                account: row.account,
                marks: row_marks.into_iter().collect(),
                access,
            }
        })
        .collect();
    people.sort_by(|a, b| {
        b.known_to_config
            .cmp(&a.known_to_config)
            .then_with(|| a.id.cmp(&b.id))
    });
    let summary = summarize(&people, columns.len());

    Report {
        report_format_version: REPORT_FORMAT_VERSION,
        teamsync_version: env!("CARGO_PKG_VERSION").to_string(),
        read_at: ctx.read_at,
        config: ConfigInfo {
            files: config_files(loaded)
                .into_iter()
                .map(|(shown, _)| shown)
                .collect(),
            digest: ctx.config_digest,
            git_commit: ctx.git_commit,
            git_dirty: ctx.git_dirty,
            history: ctx.history,
            history_reason: ctx.history_reason,
            allowed_email_domains: allowed.iter().cloned().collect(),
        },
        providers: loaded
            .providers
            .values()
            .map(|p| ProviderInfo {
                name: p.name.clone(),
                kind: p.kind,
                organization: p.organization.clone(),
                sandbox: matches!(p.endpoint, Endpoint::Sandbox(_)),
            })
            .collect(),
        containers: columns.into_iter().map(|(c, _, _)| c).collect(),
        person: None,
        people,
        summary,
    }
}

/// The header's counts over `people` (rows) and `containers` (columns).
fn summarize(people: &[Person], containers: usize) -> Summary {
    let mut s = Summary {
        people: people.len(),
        containers,
        ..Summary::default()
    };
    for p in people {
        for c in &p.access {
            s.access += 1;
            s.drift += usize::from(c.marks.iter().any(|m| m.is_drift()));
            s.pending_invitations += usize::from(c.pending_invitation);
            s.privileged += usize::from(c.marks.contains(&Mark::Privileged));
        }
        s.unknown_to_config += usize::from(!p.known_to_config);
        s.non_human += usize::from(p.account != AccountKind::Human);
        s.outside_allowed_domains += usize::from(p.marks.contains(&Mark::OutsideAllowedDomains));
    }
    s
}

/// Whether row `p` is the person `who` names: their handle or email (ignoring case), or
/// their row id (`user_id:…` for an account known only by its id).
pub fn is_person(p: &Person, who: &str) -> bool {
    let who = who.trim();
    p.handle
        .as_deref()
        .is_some_and(|h| h.eq_ignore_ascii_case(who))
        || p.id == who
        || p.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(who))
}

/// The report narrowed to the rows `who` names (`--person`), its summary counted over
/// them; `None` when no row is that person.
pub fn only_person(mut report: Report, who: &str) -> Option<Report> {
    report.people.retain(|p| is_person(p, who));
    if report.people.is_empty() {
        return None;
    }
    report.summary = summarize(&report.people, report.containers.len());
    report.person = Some(who.trim().to_string());
    Some(report)
}
