//! Executes a plan through providers: safety checks first (format, stale fingerprints,
//! removal limit, never removing a declared member), then containers before members with
//! bounded concurrency, and a per-change report of what was applied, failed or skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::live::{Connections, LiveError};
use crate::model::{
    DesiredState, LiveState, MemberAction, MemberChange, MemberKey, Policy, ResourceAction,
    ResourceChange, ResourceKey,
};
use crate::plan::{ABSENT, FORMAT_VERSION, Plan, fingerprint};
use crate::providers::{ReadScope, ScopeItem, Writer};

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
        "the live state changed since the plan was made, so it was not applied: {}; run `teamsync plan` again",
        moved.join(", ")
    )]
    Stale { moved: Vec<String> },
    #[error("cannot read the live state to check the plan: {0}")]
    Read(String),
}

/// What happened to one member change (or to a container, with `member: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Failed(String),
    /// Not attempted, with the reason (its container failed, or a safety check).
    Skipped(String),
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
    pub fn is_success(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0
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
    ReadScope {
        resources,
        list_all: vec![],
    }
}

/// Re-reads everything a saved plan touches and refuses if any fingerprint moved.
pub async fn check_fresh(plan: &Plan, conns: &Connections) -> Result<(), Refusal> {
    let providers: BTreeSet<&str> = plan
        .changes
        .iter()
        .map(|c| c.key.provider.as_str())
        .collect();
    // The providers are re-read concurrently, as `plan` reads them.
    let mut reads = tokio::task::JoinSet::new();
    for provider in providers {
        let reader = conns
            .reader(provider)
            .map_err(|e| Refusal::Read(e.to_string()))?;
        let scope = scope_of(plan, provider);
        reads.spawn(async move { reader.read(&scope).await });
    }
    let mut live = LiveState::default();
    while let Some(joined) = reads.join_next().await {
        let read = joined.map_err(|e| Refusal::Read(format!("a read task failed: {e}")))?;
        for r in read.map_err(|e| Refusal::Read(e.to_string()))? {
            live.resources.insert(r.key.clone(), r);
        }
    }
    let seen: BTreeMap<String, String> = live
        .resources
        .values()
        .map(|r| (r.key.to_string(), fingerprint(r)))
        .collect();
    let moved: Vec<String> = plan
        .fingerprints
        .iter()
        .filter(|(key, expected)| {
            seen.get(*key).map(String::as_str).unwrap_or(ABSENT) != expected.as_str()
        })
        .map(|(key, _)| key.clone())
        .collect();
    if moved.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Stale { moved })
    }
}

/// Whether the configuration declares this member on this resource. A removal of a
/// declared member is never sent, whatever the plan says.
fn is_declared(desired: &DesiredState, key: &ResourceKey, change: &MemberChange) -> bool {
    let Some(resource) = desired.resources.get(key) else {
        return false;
    };
    let by_email = change
        .member
        .email
        .as_ref()
        .map(|e| MemberKey::Email(e.clone()));
    let by_id = change
        .member
        .user_id
        .as_ref()
        .map(|u| MemberKey::UserId(u.clone()));
    [by_email, by_id]
        .into_iter()
        .flatten()
        .any(|k| resource.members.contains_key(&k))
}

/// Order of execution: containers that must exist first, deletions last.
fn phase(change: &ResourceChange) -> u8 {
    match change.action {
        ResourceAction::Create | ResourceAction::Rename { .. } => 0,
        ResourceAction::Update => 1,
        ResourceAction::Delete => 2,
    }
}

/// Applies every change of a phase (containers created, then members, then deletions)
/// concurrently; each provider's client keeps at most `--parallelism` requests in flight.
/// Independent changes still run after a failure; the report says what happened to each.
pub async fn execute(
    plan: &Plan,
    conns: &Connections,
    desired: &DesiredState,
    progress: &(dyn Fn(&Step) + Sync),
) -> Report {
    let mut report = Report::default();
    // One writer per provider: one connection pool, one `--parallelism` budget of requests
    // in flight (which bounds this whole phase), and one cache of resolved ids.
    let mut writers: BTreeMap<String, Arc<Writer>> = BTreeMap::new();
    for current in 0..=2u8 {
        let mut tasks = tokio::task::JoinSet::new();
        for change in plan.changes.iter().filter(|c| phase(c) == current) {
            let (guarded, blocked) = guard_removals(change, desired);
            for m in blocked {
                let step = Step {
                    key: change.key.clone(),
                    member: Some(m),
                    action: None,
                    outcome: Outcome::Skipped(
                        "the configuration declares this member; it is never removed".into(),
                    ),
                };
                progress(&step);
                report.steps.push(step);
            }
            let provider = &change.key.provider;
            let writer = match writers.get(provider) {
                Some(w) => Ok(w.clone()),
                None => conns.writer(provider).map(|w| {
                    let mine: Vec<ResourceChange> = plan
                        .changes
                        .iter()
                        .filter(|c| &c.key.provider == provider)
                        .cloned()
                        .collect();
                    w.prepare(&mine);
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
            tasks.spawn(async move {
                let result = writer.apply(&guarded).await;
                (guarded, result)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let Ok((change, result)) = joined else {
                continue;
            };
            for step in steps_of(&change, result) {
                progress(&step);
                report.steps.push(step);
            }
        }
    }
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

/// Splits off member removals the config declares: they are reported, never sent.
fn guard_removals(
    change: &ResourceChange,
    desired: &DesiredState,
) -> (ResourceChange, Vec<MemberChange>) {
    let mut guarded = change.clone();
    let (blocked, kept): (Vec<MemberChange>, Vec<MemberChange>) =
        change.members.iter().cloned().partition(|m| {
            matches!(m.action, MemberAction::Remove) && is_declared(desired, &change.key, m)
        });
    guarded.members = kept;
    (guarded, blocked)
}

fn all_skipped(change: &ResourceChange, error: &LiveError) -> Vec<Step> {
    let mut steps = vec![Step {
        key: change.key.clone(),
        member: None,
        action: Some(change.action.clone()),
        outcome: Outcome::Failed(error.to_string()),
    }];
    steps.extend(change.members.iter().map(|m| Step {
        key: change.key.clone(),
        member: Some(m.clone()),
        action: None,
        outcome: Outcome::Skipped("the provider could not be reached".into()),
    }));
    steps
}

fn steps_of(change: &ResourceChange, result: crate::providers::ApplyReport) -> Vec<Step> {
    let mut steps = Vec::new();
    let container_failed = match &result.container {
        Some(Err(e)) => {
            steps.push(Step {
                key: change.key.clone(),
                member: None,
                action: Some(change.action.clone()),
                outcome: Outcome::Failed(e.to_string()),
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
                Err(e) => Outcome::Failed(e.to_string()),
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
