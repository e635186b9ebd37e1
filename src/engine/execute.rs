//! Executes a plan through providers: safety checks first (format, stale fingerprints,
//! removal limit, never removing a declared member), then containers before members with
//! bounded concurrency, and a per-change report of what was applied, failed or skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::live::{Connections, LiveError, read_each};
use crate::changeset::{ABSENT, FORMAT_VERSION, Plan};
use crate::model::{
    DesiredState, LiveState, MemberAction, MemberChange, MemberKey, Policy, ResourceAction,
    ResourceChange, ResourceKey,
};
use crate::providers::{ReadScope, ScopeItem, Writer};

mod verify;
use verify::verify;

/// Why apply refused to start. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the plan has format_version {found:?}; this teamsync reads {FORMAT_VERSION:?}: make the plan again with this version"
    )]
    FormatVersion { found: String },
    #[error(
        "the plan removes {removals} members, more than policy.max_removals ({max}); \
         review the plan and rerun with --allow-removals if it is right"
    )]
    TooManyRemovals { removals: usize, max: u64 },
    #[error(
        "the plan removes {removals} members at {scope}, more than its max_removals ({max}); \
         review them and make the plan with --allow-removals={scope} (or name each person) if it is right"
    )]
    OverBudget {
        scope: String,
        removals: usize,
        max: u64,
    },
    #[error(
        "--allow-removals names `{0}`, which is no provider, container or person of this plan; \
         name a provider, a container key such as docs.team[\"Writers\"], or a person's email or handle"
    )]
    UnknownAllowance(String),
    #[error(
        "the plan was made from other {}, so nothing was applied; run `teamsync plan` again with this configuration",
        what.join(" and ")
    )]
    Unbound { what: Vec<&'static str> },
    #[error(
        "the plan's targets are not keys of this configuration ({0}); run `teamsync plan` again"
    )]
    Targets(crate::model::ParseKeyError),
    #[error(
        "the saved plan is not what a plan made now would do, so nothing was applied (the file was edited, or the live state moved{moved}); \
         run `teamsync plan` again and review it. Saved (-) against now (+):\n{diff}"
    )]
    Differs { diff: String, moved: String },
}

/// What happened to one member change (or to a container, with `member: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Sent, answered with success, and seen in the live state read back afterwards.
    Applied,
    Failed(Failure),
    /// Not attempted, with the reason (its container failed, or a safety check).
    Skipped(String),
    /// The API does not offer it to this token (GitBook invitations): listed with what a
    /// person must do instead, but not a failure of the run.
    Blocked(String),
    /// Sent and answered with success, but the reads did not show it within `--settle`
    /// (an eventually consistent API answering late): not reported done, not a failure
    /// either, and nothing is sent to undo or redo it. The next plan settles it.
    NotYetVisible(String),
}

/// Why a change did not take effect, and whether running apply again may help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    /// A lost answer, a throttle or a server error: a re-run may succeed. Anything else
    /// (a refused request, an unresolved member) needs a person first.
    pub transient: bool,
    /// A write sent whose answer does not say whether it took effect (a lost answer, a
    /// server error): the read-back decides. Shown done only if the read-back shows it.
    pub unsure: bool,
}

impl Failure {
    pub fn permanent(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            transient: false,
            unsure: false,
        }
    }

    /// A write's error answer, which may not say whether it took effect.
    fn of_write(e: &crate::providers::ProviderError) -> Failure {
        Failure {
            message: e.to_string(),
            transient: e.is_transient(),
            unsure: e.may_have_applied(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One line of the final report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub key: ResourceKey,
    /// `None` for the container action itself.
    pub member: Option<MemberChange>,
    pub action: Option<ResourceAction>,
    pub outcome: Outcome,
}

/// The result of an apply run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub steps: Vec<Step>,
    /// What the plan lists but does not carry out (blocked, waiting, unresolved), one line
    /// each with its reason: shown, and not failures.
    pub held: Vec<String>,
    /// Live values teamsync does not know, kept as they are ([`Plan::attention`]), one
    /// line each: the run needs a person's look even when everything applied.
    pub attention: Vec<String>,
    /// Members apply did not change that its read-back shows gone or re-roled, one line
    /// per container: the run needs a person's look (`verify`).
    pub collateral: Vec<String>,
}

impl Report {
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.steps.iter().filter(|s| f(&s.outcome)).count()
    }
    pub fn applied(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Applied))
    }
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }
    pub fn blocked(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Blocked(_)))
    }
    pub fn not_yet_visible(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotYetVisible(_)))
    }
    /// Every change applied and verified (blocked and held ones are listed, not failures).
    pub fn is_success(&self) -> bool {
        self.failed() == 0
            && self.skipped() == 0
            && self.not_yet_visible() == 0
            && self.attention.is_empty()
            && self.collateral.is_empty()
    }

    /// Whether running apply again can help with everything that did not apply.
    pub fn retry_helps(&self) -> bool {
        self.steps.iter().all(|s| match &s.outcome {
            Outcome::Failed(f) => f.transient,
            _ => true,
        })
    }
}

/// Checks that can refuse a plan before any request is sent.
pub fn check_plan(plan: &Plan, policy: &Policy, allow_removals: bool) -> Result<(), Refusal> {
    if plan.format_version != FORMAT_VERSION {
        return Err(Refusal::FormatVersion {
            found: plan.format_version.clone(),
        });
    }
    if let Some(max) = policy.max_removals {
        let removals = plan
            .changes
            .iter()
            .flat_map(|c| &c.members)
            .filter(|m| m.action.is_removal())
            .count();
        if removals as u64 > max && !allow_removals {
            return Err(Refusal::TooManyRemovals { removals, max });
        }
    }
    check_budgets(plan)
}

/// The roster handles a plan's member changes carry, to their member's text.
fn handles_of(plan: &Plan) -> std::collections::BTreeMap<String, String> {
    plan.changes
        .iter()
        .flat_map(|c| &c.members)
        .filter_map(|m| Some((m.member.handle.clone()?, m.member.to_string())))
        .collect()
}

/// Every name of `--allow-removals=NAME,…` is one of this plan's providers, containers or
/// people: a typo never passes silently.
pub fn check_allowances(plan: &Plan) -> Result<(), Refusal> {
    let handles = handles_of(plan);
    let known = |name: &str| {
        plan.binding.providers.contains_key(name)
            || plan.changes.iter().any(|c| c.key.to_string() == name)
            || plan.over_budget.iter().any(|b| b.scope == name)
            || handles.contains_key(name)
            || plan
                .changes
                .iter()
                .flat_map(|c| &c.members)
                .any(|m| m.member.to_string() == name)
    };
    match plan.allowed_removals.iter().find(|n| !known(n)) {
        Some(unknown) => Err(Refusal::UnknownAllowance(unknown.clone())),
        None => Ok(()),
    }
}

/// Each provider or container budget the plan exceeds is named in its
/// `allowed_removals`, or enough of the people removed there are.
fn check_budgets(plan: &Plan) -> Result<(), Refusal> {
    check_allowances(plan)?;
    let handles = handles_of(plan);
    let allowed: std::collections::BTreeSet<String> = plan
        .allowed_removals
        .iter()
        .map(|n| handles.get(n).cloned().unwrap_or_else(|| n.clone()))
        .collect();
    for b in &plan.over_budget {
        if allowed.contains(&b.scope) {
            continue;
        }
        let left = b.people.iter().filter(|p| !allowed.contains(*p)).count();
        if left as u64 > b.max {
            return Err(Refusal::OverBudget {
                scope: b.scope.clone(),
                removals: b.removals,
                max: b.max,
            });
        }
    }
    Ok(())
}

/// The read scope that covers every resource a plan touches (old names of renames too).
fn scope_of(plan: &Plan, provider: &str) -> ReadScope {
    let resources = plan
        .changes
        .iter()
        .filter(|c| c.key.provider == provider)
        .map(|c| ScopeItem {
            kind: c.key.kind,
            name: c.key.name.clone(),
            previously: match &c.action {
                ResourceAction::Rename { from } => vec![from.clone()],
                _ => vec![],
            },
        })
        .collect();
    let directory = plan.changes.iter().any(|c| {
        c.key.provider == provider && c.key.kind == crate::model::ResourceKind::Organization
    });
    ReadScope {
        resources,
        list_all: vec![],
        directory,
    }
}

/// Refuses a saved plan unless a plan made now, from this configuration, through the same
/// engine, would carry exactly the same changes. Notes and warnings are not compared; the
/// fingerprints only explain what moved. Returns the fresh plan, which is what is applied.
pub fn check_same(saved: &Plan, fresh: Plan) -> Result<Plan, Refusal> {
    if saved.changes == fresh.changes {
        return Ok(fresh);
    }
    let lines = |p: &Plan| -> String {
        p.changes
            .iter()
            .flat_map(|c| {
                let head = format!(
                    "{} {} live_id={}",
                    c.key,
                    compact(&c.action),
                    c.live_id.as_deref().unwrap_or("-")
                );
                std::iter::once(head).chain(c.members.iter().map(move |m| {
                    format!("{}   {} {}", c.key, compact(&m.member), compact(&m.action))
                }))
            })
            .map(|l| l + "\n")
            .collect()
    };
    let (old, new) = (lines(saved), lines(&fresh));
    let diff = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(1)
        .to_string();
    let moved: Vec<&crate::model::ResourceKey> = saved
        .fingerprints
        .iter()
        .filter(|(k, v)| fresh.fingerprints.get(*k).unwrap_or(&ABSENT.to_string()) != *v)
        .map(|(k, _)| k)
        .collect();
    let moved = if moved.is_empty() {
        String::new()
    } else {
        format!(
            ": {}",
            moved
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(Refusal::Differs { diff, moved })
}

/// Whether the configuration declares this member on this resource on `day` (a member
/// whose `until` has passed is declared no longer). A removal of a declared member is
/// never sent, whatever the plan says.
fn is_declared(
    desired: &DesiredState,
    key: &ResourceKey,
    change: &MemberChange,
    day: Option<jiff::civil::Date>,
) -> bool {
    let Some(resource) = desired.resources.get(key) else {
        return false;
    };
    change
        .member
        .keys()
        .filter_map(|k| resource.members.get(&k))
        .any(|m| match (m.until, day) {
            (Some(until), Some(day)) => until >= day,
            // Without a day to compare with, an `until` protects as if it were far off.
            _ => true,
        })
}

/// Order of execution: containers that must exist first; then what lets people into an
/// organization (invitations, so that a Contentful invitee's pending membership can join
/// teams in the same run); then member changes; then deletions; and last whatever takes
/// people out of an organization (offboarding), after their containers let them go.
fn phase(change: &ResourceChange) -> u8 {
    let organization = change.key.kind == crate::model::ResourceKind::Organization;
    match change.action {
        ResourceAction::Create | ResourceAction::Rename { .. } => 0,
        ResourceAction::Update if organization => {
            if change.members.iter().all(leaves_organization) {
                4
            } else {
                1
            }
        }
        ResourceAction::Update => 2,
        ResourceAction::Delete => 3,
    }
}

fn leaves_organization(m: &MemberChange) -> bool {
    matches!(m.action, MemberAction::Remove | MemberAction::Revoke)
}

/// The units apply carries out, each with its phase: an organization's change is split so
/// that its invitations come first and its removals last.
fn units(plan: &Plan) -> Vec<ResourceChange> {
    let mut out = Vec::new();
    for change in &plan.changes {
        let organization = change.key.kind == crate::model::ResourceKind::Organization;
        if organization && change.action == ResourceAction::Update {
            let (leaving, staying): (Vec<MemberChange>, Vec<MemberChange>) = change
                .members
                .iter()
                .cloned()
                .partition(leaves_organization);
            for members in [staying, leaving] {
                if !members.is_empty() {
                    out.push(ResourceChange {
                        members,
                        ..change.clone()
                    });
                }
            }
        } else {
            out.push(change.clone());
        }
    }
    out
}

/// Changes of one provider at work at once, per request `--parallelism` allows in flight.
const UNITS_PER_REQUEST: usize = 4;

/// Applies every change of a phase (containers created, then members, then deletions)
/// concurrently; each provider's client keeps at most `--parallelism` requests in flight.
/// Independent changes still run after a failure; the report says what happened to each.
pub async fn execute(
    plan: &Plan,
    conns: &Connections,
    desired: &DesiredState,
    policy: &Policy,
    progress: &(dyn Fn(&Step) + Sync),
) -> Report {
    let mut report = Report::default();
    // One writer per provider: one connection pool, one `--parallelism` budget of requests
    // in flight (which bounds this whole phase), and one cache of resolved ids.
    let mut writers: BTreeMap<String, Arc<Writer>> = BTreeMap::new();
    // Per provider, at most this many changes at work at once: each builds its requests
    // (a campaign's whole list to keep, a group's adds) only once it holds a place, so
    // 1,700 changes no longer hold 1,700 sets of request bodies while they queue for the
    // client's `--parallelism` (a 20,000-person apply's heap peak: PixieBrix campaign
    // bodies, 15.7 MB, and queued member writes, 11.8 MB). Four changes per request in
    // flight keep the client busy when a change sends its requests one after another.
    let per_provider = conns.options.parallelism.max(1) * UNITS_PER_REQUEST;
    let mut at_work: BTreeMap<String, Arc<tokio::sync::Semaphore>> = BTreeMap::new();
    let units = units(plan);
    // The day the plan is for: apply always plans for today (see `commands::apply`).
    let day: Option<jiff::civil::Date> = plan.binding.planned_for.parse().ok();
    for current in 0..=4u8 {
        let mut tasks = tokio::task::JoinSet::new();
        // Each change is shared with its task, not copied: 1,700 copies of every member
        // change were a fifth of a 20,000-person apply's heap.
        let mut running: BTreeMap<tokio::task::Id, Arc<ResourceChange>> = BTreeMap::new();
        for change in units.iter().filter(|c| phase(c) == current) {
            let (guarded, outside) = guard_domains(change, policy);
            for m in outside {
                let step = Step {
                    key: change.key.clone(),
                    member: Some(m),
                    action: None,
                    outcome: Outcome::Failed(Failure::permanent(
                        "refused: the address is unknown or outside policy.allowed_email_domains, and apply lets nobody outside them in",
                    )),
                };
                progress(&step);
                report.steps.push(step);
            }
            let (guarded, blocked) = guard_removals(guarded, desired, day);
            for m in blocked {
                let step = Step {
                    key: change.key.clone(),
                    member: Some(m),
                    action: None,
                    outcome: Outcome::Skipped(
                        "the configuration declares this member (or the same change adds it); it is never removed".into(),
                    ),
                };
                progress(&step);
                report.steps.push(step);
            }
            let provider = &change.key.provider;
            let writer = match writers.get(provider) {
                Some(w) => Ok(w.clone()),
                None => conns.writer(provider).map(|mut w| {
                    let mine: Vec<&ResourceChange> = plan
                        .changes
                        .iter()
                        .filter(|c| &c.key.provider == provider)
                        .collect();
                    w.prepare(&mine, &plan.read_basis);
                    let w = Arc::new(w);
                    writers.insert(provider.clone(), w.clone());
                    w
                }),
            };
            let writer = match writer {
                Ok(w) => w,
                Err(e) => {
                    for step in all_skipped(&guarded, &e) {
                        progress(&step);
                        report.steps.push(step);
                    }
                    continue;
                }
            };
            let guarded = Arc::new(guarded);
            let mine = guarded.clone();
            let place = at_work
                .entry(provider.clone())
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(per_provider)))
                .clone();
            let handle = tasks.spawn(async move {
                // Never closed, so the place always comes; without one the change runs.
                let _place = place.acquire_owned().await.ok();
                let result = writer.apply(&guarded).await;
                (guarded, result)
            });
            running.insert(handle.id(), mine);
        }
        while let Some(joined) = tasks.join_next_with_id().await {
            let steps = match joined {
                Ok((id, (change, result))) => {
                    running.remove(&id);
                    steps_of(&change, result)
                }
                // A crashed task is a failed change, never a missing line in the report.
                Err(e) => match running.remove(&e.id()) {
                    Some(change) => crashed(&change, &e.to_string()),
                    None => Vec::new(),
                },
            };
            for step in steps {
                progress(&step);
                report.steps.push(step);
            }
        }
    }
    report.held = held(plan);
    report.attention = plan.attention.iter().map(|a| a.message()).collect();
    verify(plan, conns, desired, &mut report).await;
    report.steps.sort_by(|a, b| {
        a.key.cmp(&b.key).then_with(|| {
            a.member
                .as_ref()
                .map(|m| &m.member)
                .cmp(&b.member.as_ref().map(|m| &m.member))
        })
    });
    report
}

/// Splits off every change that would let someone in (add, invite, role, data) whose email
/// is unknown or outside `allowed_email_domains`: the diff never plans one, so this only
/// matters for a plan that did not come from the diff; it is checked again here anyway.
fn guard_domains(change: &ResourceChange, policy: &Policy) -> (ResourceChange, Vec<MemberChange>) {
    let mut guarded = change.clone();
    if policy.allowed_email_domains.is_empty() {
        return (guarded, Vec::new());
    }
    let (outside, kept): (Vec<MemberChange>, Vec<MemberChange>) =
        change.members.iter().cloned().partition(|m| {
            !m.action.is_removal() && !m.member.email.as_ref().is_some_and(|e| policy.allows(e))
        });
    guarded.members = kept;
    (guarded, outside)
}

/// Splits off member removals the config declares: they are reported, never sent.
fn guard_removals(
    mut change: ResourceChange,
    desired: &DesiredState,
    day: Option<jiff::civil::Date>,
) -> (ResourceChange, Vec<MemberChange>) {
    let blocked_at: Vec<bool> = change
        .members
        .iter()
        .map(|m| {
            matches!(m.action, MemberAction::Remove)
                && (is_declared(desired, &change.key, m, day) || also_kept(&change, m))
        })
        .collect();
    let mut at = blocked_at.into_iter();
    let (blocked, kept): (Vec<MemberChange>, Vec<MemberChange>) =
        std::mem::take(&mut change.members)
            .into_iter()
            .partition(|_| at.next().unwrap_or(false));
    change.members = kept;
    (change, blocked)
}

/// Whether another change of the same resource names this member with another intent
/// (add, role, data): one request must never name a person twice with opposite intents.
fn also_kept(change: &ResourceChange, removal: &MemberChange) -> bool {
    let r = &removal.member;
    change
        .members
        .iter()
        .filter(|m| !m.action.is_removal())
        .any(|m| {
            let o = &m.member;
            (r.email.is_some() && r.email == o.email)
                || (r.user_id.is_some() && r.user_id == o.user_id)
                || (r.membership_id.is_some() && r.membership_id == o.membership_id)
        })
}

fn all_skipped(change: &ResourceChange, error: &LiveError) -> Vec<Step> {
    let mut steps = vec![Step {
        key: change.key.clone(),
        member: None,
        action: Some(change.action.clone()),
        outcome: Outcome::Failed(Failure::permanent(error.to_string())),
    }];
    steps.extend(change.members.iter().map(|m| Step {
        key: change.key.clone(),
        member: Some(m.clone()),
        action: None,
        outcome: Outcome::Skipped("the provider could not be reached".into()),
    }));
    steps
}

/// Every change the plan lists but does not carry out, with its reason.
fn held(plan: &Plan) -> Vec<String> {
    let line = |b: &crate::changeset::Blocked, what: &str| {
        format!(
            "{what}: {} {}: {}",
            b.resource,
            crate::render::member_line(&b.change),
            b.reason
        )
    };
    let mut out: Vec<String> = plan.blocked.iter().map(|b| line(b, "blocked")).collect();
    out.extend(plan.waiting.iter().map(|b| line(b, "waiting")));
    out.extend(
        plan.unresolved
            .iter()
            .map(|u| format!("unresolved: {}: {}", u.resource, u.message())),
    );
    out
}

fn steps_of(change: &ResourceChange, result: crate::providers::ApplyReport) -> Vec<Step> {
    let mut steps = Vec::new();
    let container_failed = match &result.container {
        Some(Err(e)) => {
            steps.push(Step {
                key: change.key.clone(),
                member: None,
                action: Some(change.action.clone()),
                outcome: Outcome::Failed(Failure::of_write(e)),
            });
            true
        }
        Some(Ok(())) => {
            steps.push(Step {
                key: change.key.clone(),
                member: None,
                action: Some(change.action.clone()),
                outcome: Outcome::Applied,
            });
            false
        }
        None => false,
    };
    let mut reported: Vec<MemberChange> = Vec::new();
    for (member, outcome) in result.members {
        reported.push(member.clone());
        steps.push(Step {
            key: change.key.clone(),
            member: Some(member),
            action: None,
            outcome: match outcome {
                Ok(()) => Outcome::Applied,
                Err(e @ crate::providers::ProviderError::Unavailable { .. }) => {
                    Outcome::Blocked(e.to_string())
                }
                Err(e) => Outcome::Failed(Failure::of_write(&e)),
            },
        });
    }
    // Anything the provider did not report on was not attempted.
    for m in &change.members {
        if !reported.contains(m) {
            steps.push(Step {
                key: change.key.clone(),
                member: Some(m.clone()),
                action: None,
                outcome: Outcome::Skipped(if container_failed {
                    "its resource could not be created or changed".into()
                } else {
                    "not attempted".into()
                }),
            });
        }
    }
    steps
}

/// Every step of a change whose task crashed: failed, and said so.
fn crashed(change: &ResourceChange, why: &str) -> Vec<Step> {
    let failure = Failure {
        message: format!(
            "teamsync's task for this change crashed ({why}); it may be partly applied, and the next plan shows what is left"
        ),
        transient: true,
        unsure: true,
    };
    let mut steps = vec![Step {
        key: change.key.clone(),
        member: None,
        action: Some(change.action.clone()),
        outcome: Outcome::Failed(failure.clone()),
    }];
    steps.extend(change.members.iter().map(|m| Step {
        key: change.key.clone(),
        member: Some(m.clone()),
        action: None,
        outcome: Outcome::Failed(failure.clone()),
    }));
    steps
}

/// Compact JSON of the plan's own types, for showing what differs between two plans.
fn compact<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
