//! diff(desired, live) → `Plan`; the safety facts a reviewer needs (risks, removal limit);
//! fingerprints of the live state a plan saw, so a saved plan can refuse to go stale.
//! Pure: no I/O, no HTTP, no clock.

pub mod adopt;
mod diff;
mod fingerprint;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{MemberAction, ResourceAction, ResourceChange, ResourceKey, Risk};

pub use diff::{DiffInput, diff};
pub use fingerprint::{ABSENT, SeenLive, fingerprint, fingerprints};

/// The version of the saved/JSON plan format (see `docs/plan-format.md`). Version 2 binds
/// a plan to what produced it (`binding`) and lists unresolved members; version 3 adds
/// `waiting`, `expiring`, the `revoke` member action and the lifecycle risks.
pub const FORMAT_VERSION: &str = "3";

/// A plan: data first, rendered three ways, saved as JSON by `--out`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    /// The teamsync version that made the plan.
    pub teamsync_version: String,
    /// Per-resource changes, sorted by key; resources with nothing to do are left out.
    pub changes: Vec<ResourceChange>,
    /// Resource → fingerprint of the live resource seen, or `ABSENT`. Covers every
    /// resource the plan touches, including the old name of a rename. Saved keyed by the
    /// key's text form.
    #[serde(with = "crate::model::key_text::map")]
    pub fingerprints: BTreeMap<ResourceKey, String>,
    /// Things a reviewer must know that are not changes (for example people who are not in
    /// the organization while invitations are off).
    pub notes: Vec<PlanNote>,
    pub summary: Summary,
    /// Plan-wide risks (display only).
    pub risks: Vec<Risk>,
    /// Live members teamsync could not identify, so it plans nothing for them (never a
    /// removal, a replace that drops them, or a role change). Sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<Unresolved>,
    /// What produced the plan: `apply FILE` refuses a plan whose binding differs from the
    /// configuration it is run with.
    pub binding: Binding,
    /// Why the plan cannot be used: policy breaches the live state revealed, a declared
    /// name that differs from a live one only in case or spaces. A plan with any is never
    /// shown or saved.
    #[serde(skip)]
    pub violations: Vec<String>,
    /// Changes the configuration asks for that teamsync refuses to make, with the reason
    /// and the fix (removing the token's own account, leaving no owner). Never applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<Blocked>,
    /// Member changes that wait for something outside teamsync, with what: an add to a
    /// container for a person whose invitation to the organization is not accepted yet.
    /// Not carried out now; a later plan makes them once the person has joined.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<Blocked>,
    /// Access that ends soon (`until` within `policy.expiry_warning_days`). Sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expiring: Vec<Expiring>,
    /// Live values teamsync does not know (a role or a status a vendor added), one per
    /// member and field, in every container the plan read: kept as they are and planned
    /// around, never overwritten implicitly. While any is listed, apply and
    /// `plan --detailed-exitcode` exit 3 ("needs attention"). Sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<Attention>,
    /// The providers' and containers' removal budgets (`max_removals` on them) this plan
    /// exceeds, sorted by scope. Apply refuses it unless each is named by
    /// `--allow-removals=NAME` (`allowed_removals`), or each person removed there is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub over_budget: Vec<OverBudget>,
    /// The `--allow-removals=NAME,…` the plan was made with: providers, container keys or
    /// people whose removals may pass their budgets. Reviewed with the plan, and what
    /// `apply FILE` uses (it takes no names of its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_removals: Vec<String>,
    /// What the plan read of each list apply must send back whole: a PixieBrix campaign it
    /// removes members from (the API removes only by a PUT of the members to keep). Apply
    /// builds that body from this read and its own writes, never from a read made after
    /// its own writes, which an eventually consistent API may answer with the old list.
    /// Never saved: a saved plan is made again before it is applied, and that plan has it.
    #[serde(skip)]
    pub read_basis: BTreeMap<ResourceKey, std::sync::Arc<crate::model::LiveResource>>,
    /// For apply's read-back: per container it changes that exists, the standing of every
    /// live member it leaves as it is (not those who leave the organization: that ends
    /// their containers by design). Made only for a plan that is applied; never saved.
    #[serde(skip)]
    pub untouched: BTreeMap<ResourceKey, Vec<crate::model::Standing>>,
}

/// A removal budget a plan exceeds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OverBudget {
    /// A provider's name, or a container's key in its text form (`docs.team["Writers"]`).
    pub scope: String,
    /// Its `max_removals`.
    pub max: u64,
    /// The member removals the plan makes there.
    pub removals: usize,
    /// Everyone those removals remove (email, or user id), for `--allow-removals` by person.
    pub people: Vec<String>,
}

/// A live value teamsync does not know, on one member of one container.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Attention {
    #[serde(with = "crate::model::key_text")]
    pub resource: crate::model::ResourceKey,
    pub member: crate::model::MemberRef,
    /// The field and the value as the API gave it: `role: billing`, `status: suspended`.
    pub value: String,
}

impl Attention {
    /// `cms.organization[c1]: bob@acme.com: status: suspended (unknown to teamsync)`.
    pub fn message(&self) -> String {
        format!(
            "{}: {}: {} (unknown to teamsync)",
            self.resource, self.member, self.value
        )
    }
}

/// A membership whose `until` date is near: a warning in every view, not a change.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Expiring {
    pub resource: crate::model::ResourceKey,
    pub member: crate::model::MemberRef,
    /// The last day (UTC, `YYYY-MM-DD`) of access.
    pub until: String,
    /// Days from the plan's day to `until` (0: today is the last day).
    pub days: u32,
}

impl Expiring {
    /// `ana@acme.com: access to docs.team["Writers"] expires in 3 days (until 2026-12-04)`.
    pub fn message(&self) -> String {
        let when = match self.days {
            0 => "expires at the end of today".to_string(),
            1 => "expires in 1 day".to_string(),
            n => format!("expires in {n} days"),
        };
        format!(
            "{}: access to {} {when} (until {})",
            self.member, self.resource, self.until
        )
    }
}

/// A member change the plan will not carry out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    pub resource: crate::model::ResourceKey,
    pub change: crate::model::MemberChange,
    /// Why, and what to do instead.
    pub reason: String,
}

/// What a saved plan was made from. Apply recomputes it from the configuration at hand and
/// refuses a plan bound to anything else (another config, organization, endpoint, policy
/// or set of targets).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// `sha256:` over every configuration file: its path relative to the root's folder,
    /// its length and its bytes, in path order.
    pub config_digest: String,
    /// Each configured provider: kind, endpoint and organization.
    pub providers: BTreeMap<String, BoundProvider>,
    pub allowed_email_domains: Vec<String>,
    pub max_removals: Option<u64>,
    #[serde(default)]
    pub allow_no_owner: bool,
    /// `--target` keys, in their textual form; empty for the whole configuration.
    pub targets: Vec<String>,
    /// The day (UTC, `YYYY-MM-DD`) the plan was made for.
    pub planned_for: String,
}

/// One provider as a plan was bound to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundProvider {
    pub kind: crate::model::ProviderKind,
    /// The configured endpoint: the API's URL, or `sandbox:FILE` relative to the root.
    pub endpoint: String,
    pub organization: String,
}

impl Binding {
    /// The fields that differ from `other`, by name (the day is not compared: a plan made
    /// yesterday is still the reviewed one if nothing else moved).
    pub fn differences(&self, other: &Binding) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.config_digest != other.config_digest {
            out.push("the configuration files");
        }
        if self.providers != other.providers {
            out.push("the providers (endpoint or organization)");
        }
        if self.allowed_email_domains != other.allowed_email_domains
            || self.max_removals != other.max_removals
            || self.allow_no_owner != other.allow_no_owner
        {
            out.push("the policy");
        }
        if self.targets != other.targets {
            out.push("the --target keys");
        }
        out
    }
}

/// A live member the plan leaves alone because teamsync cannot tell who it is, or what
/// kind of account it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unresolved {
    pub resource: crate::model::ResourceKey,
    pub member: crate::model::MemberRef,
    pub why: UnresolvedWhy,
    /// The resource's mode would remove the member if it were known not to be declared:
    /// apply cannot make the live state equal the configuration, and exits 1.
    pub blocking: bool,
}

/// Why a member is unresolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnresolvedWhy {
    /// Neither the list nor the second lookup route gave an email.
    NoEmail,
    /// The API did not say whether the account is a person or a service account.
    UnknownAccountKind,
}

impl Unresolved {
    /// One line for every view: who, why, and what to do.
    pub fn message(&self) -> String {
        match self.why {
            UnresolvedWhy::NoEmail => format!(
                "{} has no email in the API's answers (nor through its lookup route), so teamsync \
                 cannot tell whether the configuration declares it and never removes or re-roles it; \
                 check that the token may read members' emails",
                self.member
            ),
            UnresolvedWhy::UnknownAccountKind => format!(
                "{}: the API did not say whether this is a person or a service account, so the \
                 roster never removes it; declare it, or remove it in the admin console",
                self.member
            ),
        }
    }
}

/// A reviewer-facing remark tied to a resource; saved with the key's text form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanNote {
    #[serde(with = "crate::model::key_text")]
    pub resource: ResourceKey,
    pub message: String,
}

/// Notes sort by the text of their key, the order plans have always listed them in.
impl Ord for PlanNote {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.resource.to_string(), &self.message)
            .cmp(&(other.resource.to_string(), &other.message))
    }
}

impl PartialOrd for PlanNote {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Counts for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub add: usize,
    pub remove: usize,
    pub role_changes: usize,
    pub data_changes: usize,
    pub invites: usize,
    /// Pending invitations withdrawn.
    #[serde(default)]
    pub revokes: usize,
    /// Removals because an `until` date passed (also counted in `remove`).
    #[serde(default)]
    pub expiries: usize,
}

impl Summary {
    pub fn of(changes: &[ResourceChange]) -> Summary {
        let mut s = Summary::default();
        for change in changes {
            match change.action {
                ResourceAction::Create => s.create += 1,
                ResourceAction::Rename { .. } | ResourceAction::Update => s.update += 1,
                ResourceAction::Delete => s.delete += 1,
            }
            for m in &change.members {
                match m.action {
                    MemberAction::Add { .. } => s.add += 1,
                    MemberAction::Remove => {
                        s.remove += 1;
                        if m.risks.contains(&Risk::Expired) {
                            s.expiries += 1;
                        }
                    }
                    MemberAction::Revoke => s.revokes += 1,
                    MemberAction::SetRole { .. } => s.role_changes += 1,
                    MemberAction::SetData { .. } => s.data_changes += 1,
                    MemberAction::Invite { .. } => s.invites += 1,
                }
            }
        }
        s
    }

    /// `Plan: 1 to create, 3 to update, 0 to delete; 12 members to add, 4 to remove.`
    pub fn line(&self) -> String {
        let mut extra = Vec::new();
        if self.role_changes > 0 {
            extra.push(plural(self.role_changes, "role change", "role changes"));
        }
        if self.data_changes > 0 {
            extra.push(plural(self.data_changes, "data change", "data changes"));
        }
        if self.invites > 0 {
            extra.push(plural(self.invites, "invitation", "invitations"));
        }
        if self.revokes > 0 {
            extra.push(plural(
                self.revokes,
                "invitation withdrawn",
                "invitations withdrawn",
            ));
        }
        if self.expiries > 0 {
            extra.push(format!(
                "{} expired",
                plural(self.expiries, "removal", "removals")
            ));
        }
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!("; {}", extra.join(", "))
        };
        format!(
            "Plan: {} to create, {} to update, {} to delete; {} to add, {} to remove{extra}.",
            self.create,
            self.update,
            self.delete,
            plural(self.add, "member", "members"),
            self.remove
        )
    }

    pub fn is_empty(&self) -> bool {
        *self == Summary::default()
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Members whose state the configuration would change if teamsync knew who they are.
    pub fn blocking_unresolved(&self) -> impl Iterator<Item = &Unresolved> {
        self.unresolved.iter().filter(|u| u.blocking)
    }

    /// Member removals in the plan (leavers included); what `policy.max_removals` limits.
    pub fn removals(&self) -> usize {
        self.summary.remove
    }

    /// Keeps only the removals whose `until` date has passed (`apply --only expired`):
    /// nothing is created, renamed, deleted, added, invited or re-roled.
    pub fn retain_expired(&mut self) {
        for change in &mut self.changes {
            change
                .members
                .retain(|m| m.action.is_removal() && m.risks.contains(&Risk::Expired));
        }
        self.changes
            .retain(|c| !c.members.is_empty() && c.action == ResourceAction::Update);
        self.blocked.clear();
        self.waiting.clear();
        self.unresolved.clear();
        self.summary = Summary::of(&self.changes);
    }

    /// Keeps only what concerns the given keys (`--target`): their changes, fingerprints
    /// (a rename's old name included), notes, unresolved members, blocked and waiting
    /// changes and expiry warnings.
    pub fn retain_targets(&mut self, targets: &[ResourceKey]) {
        if targets.is_empty() {
            return;
        }
        self.changes.retain(|c| targets.contains(&c.key));
        let kept: Vec<ResourceKey> = self
            .changes
            .iter()
            .flat_map(|c| {
                let mut keys = vec![c.key.clone()];
                if let ResourceAction::Rename { from } = &c.action {
                    let mut old = c.key.clone();
                    old.name = from.clone();
                    keys.push(old);
                }
                keys
            })
            .collect();
        self.fingerprints.retain(|k, _| kept.contains(k));
        self.notes.retain(|n| targets.contains(&n.resource));
        self.unresolved.retain(|u| targets.contains(&u.resource));
        self.blocked.retain(|b| targets.contains(&b.resource));
        self.waiting.retain(|b| targets.contains(&b.resource));
        self.expiring.retain(|e| targets.contains(&e.resource));
        self.attention.retain(|a| targets.contains(&a.resource));
        self.summary = Summary::of(&self.changes);
    }
}
