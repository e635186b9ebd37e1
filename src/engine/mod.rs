//! The engine: the one path to the world. It opens the connections ([`live`]), reads the
//! live state a scope touches, diffs, checks the policy on what the live state revealed,
//! binds the plan to what produced it, checks a saved plan by making it again, and carries
//! a plan out ([`execute`]). `plan`, `apply` (fresh or saved), `import`, `report` and the
//! tests all go through it. It prints nothing: errors are values, rendered by `commands`.

pub mod execute;
pub mod live;
pub mod seed;

use std::collections::BTreeMap;

use crate::changeset::{Binding, BoundProvider, DiffInput, Plan, diff};
use crate::config::Loaded;
use crate::model::{
    DesiredState, Endpoint, LiveResource, LiveState, ProviderSettings, ResourceChange, ResourceKey,
    ResourceKind,
};
use crate::providers::{ReadScope, ScopeItem};

pub use crate::providers::{ClientOptions, Timeline};
use execute::{Refusal, check_plan, check_same};
pub use live::{Connections, LiveError, read_live, working_copy};

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// One or more providers could not be read (all of them are listed).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Read(Vec<LiveError>),
    #[error("cannot read the configuration files to bind the plan to them: {0}")]
    Digest(std::io::Error),
    /// What the live state revealed breaks the policy (for example a `user_id` member whose
    /// email is outside `allowed_email_domains`).
    #[error("{}", .0.join("\n"))]
    Policy(Vec<String>),
    /// `--target` keys (or a saved plan's targets) the configuration does not declare: a
    /// typo must not plan nothing.
    #[error("{}", unknown_targets(.0).join("\n"))]
    UnknownTargets(Vec<ResourceKey>),
    /// A saved plan that cannot be applied as it is.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

fn unknown_targets(keys: &[ResourceKey]) -> Vec<String> {
    keys.iter()
        .map(|t| {
            format!(
                "--target {t} is not declared in the configuration; `teamsync plan` lists the keys"
            )
        })
        .collect()
}

impl EngineError {
    /// Each failure on its own line, for printing one `error:` per line.
    pub fn lines(&self) -> Vec<String> {
        match self {
            EngineError::Read(errors) => errors.iter().map(|e| e.to_string()).collect(),
            EngineError::Policy(errors) => errors.clone(),
            EngineError::UnknownTargets(keys) => unknown_targets(keys),
            other => vec![other.to_string()],
        }
    }
}

/// Reads the live state the configuration (or its `targets`) touches and computes the plan
/// for `day` (UTC): `until` dates are compared with it. `plan --at` previews another day;
/// everything that applies uses [`today_date`].
pub async fn plan(
    loaded: &Loaded,
    conns: &Connections,
    targets: &[ResourceKey],
    day: jiff::civil::Date,
) -> Result<Plan, EngineError> {
    plan_reading(loaded, conns, targets, day)
        .await
        .map(|(plan, _)| plan)
}

/// [`plan`], for apply: the plan also keeps the standing of every member it leaves as it
/// is ([`Plan::untouched`]), which apply's read-back checks.
pub async fn plan_to_apply(
    loaded: &Loaded,
    conns: &Connections,
    targets: &[ResourceKey],
    day: jiff::civil::Date,
) -> Result<Plan, EngineError> {
    let (mut plan, live) = plan_reading(loaded, conns, targets, day).await?;
    plan.untouched = untouched(&plan, &live);
    Ok(plan)
}

/// The plan of the whole configuration for `day`, with the live state it was made from:
/// what `import --drift` adopts, and checks its edits against (a plan of the edited
/// configuration against this same live state must have nothing left to adopt).
pub async fn plan_and_live(
    loaded: &Loaded,
    conns: &Connections,
    day: jiff::civil::Date,
) -> Result<(Plan, LiveState), EngineError> {
    plan_reading(loaded, conns, &[], day).await
}

async fn plan_reading(
    loaded: &Loaded,
    conns: &Connections,
    targets: &[ResourceKey],
    day: jiff::civil::Date,
) -> Result<(Plan, LiveState), EngineError> {
    // The whole desired state is borrowed; only `--target`s copy the part they keep (a
    // copy of a million memberships was a fifth of a large plan's memory).
    let narrowed;
    let desired = if targets.is_empty() {
        &loaded.desired
    } else {
        narrowed = crate::model::DesiredState {
            resources: loaded
                .desired
                .resources
                .iter()
                .filter(|(k, _)| targets.contains(k))
                .map(|(k, r)| (k.clone(), r.clone()))
                .collect(),
            prune: Default::default(),
            offboarded: loaded.desired.offboarded.clone(),
        };
        &narrowed
    };
    let live = read_live(conns, desired).await.map_err(EngineError::Read)?;
    let mut plan = diff(DiffInput {
        desired,
        live: &live,
        providers: &loaded.providers,
        policy: &loaded.policy,
        today: day,
    });
    plan.retain_targets(targets);
    plan.read_basis = read_basis(&plan, &live);
    if !plan.violations.is_empty() {
        return Err(EngineError::Policy(plan.violations.clone()));
    }
    plan.binding = binding(loaded, targets, day)?;
    Ok((plan, live))
}

/// What apply needs of the plan's own read to send a list back whole: each campaign the
/// plan removes members from (PixieBrix removes campaign members only by a PUT of the
/// members to keep), found by its live id so that a rename finds it under its old name.
fn read_basis(
    plan: &Plan,
    live: &LiveState,
) -> BTreeMap<ResourceKey, std::sync::Arc<LiveResource>> {
    plan.changes
        .iter()
        .filter(|c| c.key.kind == ResourceKind::Campaign)
        .filter(|c| c.members.iter().any(|m| m.action.is_removal()))
        .filter_map(|c| {
            Some((
                c.key.clone(),
                std::sync::Arc::new(live_of(c, live)?.clone()),
            ))
        })
        .collect()
}

/// The live container a change writes to, found by its live id (so a rename's change,
/// keyed by the new name, finds it under the old one); `None` for a create.
fn live_of<'a>(c: &ResourceChange, live: &'a LiveState) -> Option<&'a LiveResource> {
    let id = c.live_id.as_deref()?;
    live.resources
        .values()
        .find(|r| r.key.provider == c.key.provider && r.key.kind == c.key.kind && r.id == id)
}

/// Per container the plan changes that exists live (found by its id, so a rename finds
/// it), the standing of each live member no change of it names. Someone who leaves the
/// organization of that provider in this plan is left out: leaving ends their containers.
fn untouched(plan: &Plan, live: &LiveState) -> BTreeMap<ResourceKey, Vec<crate::model::Standing>> {
    use std::collections::HashSet;
    /// The names a set of member changes uses: emails, user ids, membership ids.
    #[derive(Default)]
    struct Named<'a>(HashSet<&'a str>, HashSet<&'a str>, HashSet<&'a str>);
    impl<'a> Named<'a> {
        fn add(&mut self, r: &'a crate::model::MemberRef) {
            r.email.as_ref().map(|e| self.0.insert(e.as_str()));
            r.user_id.as_deref().map(|u| self.1.insert(u));
            r.membership_id.as_deref().map(|m| self.2.insert(m));
        }
        fn names(&self, m: &crate::model::LiveMember) -> bool {
            m.email
                .as_ref()
                .is_some_and(|e| self.0.contains(e.as_str()))
                || m.user_id.as_deref().is_some_and(|u| self.1.contains(u))
                || m.membership_id
                    .as_deref()
                    .is_some_and(|i| self.2.contains(i))
        }
    }
    let mut leaving: BTreeMap<&str, Named<'_>> = BTreeMap::new();
    for c in plan
        .changes
        .iter()
        .filter(|c| c.key.kind == ResourceKind::Organization)
    {
        let named = leaving.entry(c.key.provider.as_str()).or_default();
        for m in c.members.iter().filter(|m| m.action.is_removal()) {
            named.add(&m.member);
        }
    }
    plan.changes
        .iter()
        .filter(|c| c.action != crate::model::ResourceAction::Delete)
        .filter_map(|c| {
            let found = live_of(c, live)?;
            let mut changed = Named::default();
            for m in &c.members {
                changed.add(&m.member);
            }
            let leaves = leaving.get(c.key.provider.as_str());
            let mut standings: Vec<crate::model::Standing> = found
                .members
                .iter()
                .filter(|m| m.email.is_some() || m.user_id.is_some())
                .filter(|m| !changed.names(m) && !leaves.is_some_and(|l| l.names(m)))
                .map(crate::model::LiveMember::standing)
                .collect();
            // Held through the whole apply: no room beyond the members themselves.
            standings.shrink_to_fit();
            Some((c.key.clone(), standings))
        })
        .collect()
}

/// Refuses targets the configuration does not declare.
pub fn check_targets(loaded: &Loaded, targets: &[ResourceKey]) -> Result<(), EngineError> {
    let unknown: Vec<ResourceKey> = targets
        .iter()
        .filter(|t| !loaded.desired.resources.contains_key(t))
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(EngineError::UnknownTargets(unknown))
    }
}

/// The plan to apply for a saved one: its safety checks pass, it is bound to this
/// configuration and its targets, and a plan made now through [`plan`] carries exactly
/// its changes. Returns that fresh plan, which is what is applied; `day` is always today
/// (a saved plan's own day is never trusted, so an edited `planned_for` cannot bring back
/// access that has expired).
pub async fn replan(
    loaded: &Loaded,
    conns: &Connections,
    saved: &Plan,
    allow_removals: bool,
    day: jiff::civil::Date,
) -> Result<Plan, EngineError> {
    check_plan(saved, &loaded.policy, allow_removals)?;
    let targets = saved
        .binding
        .targets
        .iter()
        .map(|t| t.parse::<ResourceKey>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(Refusal::Targets)?;
    check_targets(loaded, &targets)?;
    let expected = binding(loaded, &targets, day)?;
    let what = saved.binding.differences(&expected);
    if !what.is_empty() {
        return Err(Refusal::Unbound { what }.into());
    }
    let mut fresh = plan_to_apply(loaded, conns, &targets, day).await?;
    // The budgets are checked again on what a plan made now removes, with the names the
    // reviewed plan was made with.
    fresh.allowed_removals = saved.allowed_removals.clone();
    check_plan(&fresh, &loaded.policy, allow_removals)?;
    Ok(check_same(saved, fresh)?)
}

/// Everything one provider has (every kind it supports, not only what is declared), with
/// its organization: what `import` writes as config.
pub async fn read_whole(
    conns: &Connections,
    settings: &ProviderSettings,
) -> Result<Vec<LiveResource>, LiveError> {
    let reader = conns.reader(&settings.name)?;
    let mut scope = ReadScope {
        resources: Vec::new(),
        list_all: settings
            .kind
            .supported_kinds()
            .iter()
            .copied()
            .filter(|k| *k != ResourceKind::Organization)
            .collect(),
        directory: false,
    };
    if settings.kind.supports(ResourceKind::Organization) {
        scope.resources.push(ScopeItem {
            kind: ResourceKind::Organization,
            name: settings.organization.clone(),
            previously: vec![],
        });
    }
    Ok(reader.read(&scope).await?)
}

/// What the access review reads: everything the config declares, plus every live group,
/// campaign and team of every provider, so that containers nobody declared show up too.
/// Only the read scope grows: the review still compares against the configuration as
/// written. The organization directories the plan reads on GitBook and Contentful (who
/// may join a team) are left out: teamsync manages no roster there.
pub async fn read_for_review(
    loaded: &Loaded,
    conns: &Connections,
) -> Result<LiveState, EngineError> {
    let mut scope: DesiredState = loaded.desired.clone();
    for (name, settings) in &loaded.providers {
        for kind in settings.kind.supported_kinds() {
            if *kind != ResourceKind::Organization {
                scope.prune.insert((name.clone(), *kind));
            }
        }
    }
    let mut live = read_live(conns, &scope).await.map_err(EngineError::Read)?;
    live.resources.retain(|key, _| {
        loaded
            .providers
            .get(&key.provider)
            .is_some_and(|p| p.kind.supports(key.kind))
    });
    Ok(live)
}

/// What a plan of this configuration and these targets is bound to, on `day`.
pub fn binding(
    loaded: &Loaded,
    targets: &[ResourceKey],
    day: jiff::civil::Date,
) -> Result<Binding, EngineError> {
    let providers: BTreeMap<String, BoundProvider> = loaded
        .providers
        .iter()
        .map(|(name, p)| {
            let endpoint = match &p.endpoint {
                Endpoint::Default => crate::providers::default_base_url(p.kind).to_string(),
                Endpoint::Url(raw) => raw.clone(),
                Endpoint::Sandbox(path) => format!(
                    "sandbox:{}",
                    path.strip_prefix(&loaded.base_dir)
                        .unwrap_or(path)
                        .to_string_lossy()
                        .replace('\\', "/")
                ),
            };
            (
                name.clone(),
                BoundProvider {
                    kind: p.kind,
                    endpoint,
                    organization: p.organization.clone(),
                },
            )
        })
        .collect();
    let mut targets: Vec<String> = targets.iter().map(ToString::to_string).collect();
    targets.sort();
    targets.dedup();
    Ok(Binding {
        config_digest: loaded.digest().map_err(EngineError::Digest)?,
        providers,
        allowed_email_domains: loaded
            .policy
            .allowed_email_domains
            .iter()
            .cloned()
            .collect(),
        max_removals: loaded.policy.max_removals,
        allow_no_owner: loaded.policy.allow_no_owner,
        targets,
        planned_for: day.to_string(),
    })
}

/// Today's date, UTC, as `YYYY-MM-DD`.
pub fn today() -> String {
    today_date().to_string()
}

/// Today's date, UTC.
pub fn today_date() -> jiff::civil::Date {
    crate::model::today_utc()
}
