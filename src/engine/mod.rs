//! The engine: from a loaded configuration and its connections to a plan, through one
//! path that `plan`, `apply` (fresh or saved) and the tests share. It reads the live state
//! a scope touches, diffs, checks the policy on what the live state revealed, and binds
//! the plan to what produced it. It prints nothing: errors are values.

pub mod execute;
pub mod live;

use std::collections::BTreeMap;

use crate::config::Loaded;
use crate::model::{Endpoint, ResourceKey};
use crate::plan::{Binding, BoundProvider, DiffInput, Plan, diff};

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
}

impl EngineError {
    /// Each failure on its own line, for printing one `error:` per line.
    pub fn lines(&self) -> Vec<String> {
        match self {
            EngineError::Read(errors) => errors.iter().map(|e| e.to_string()).collect(),
            EngineError::Policy(errors) => errors.clone(),
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
    let mut desired = loaded.desired.clone();
    if !targets.is_empty() {
        desired.resources.retain(|k, _| targets.contains(k));
        desired.prune.clear();
    }
    let live = read_live(conns, &desired)
        .await
        .map_err(EngineError::Read)?;
    let mut plan = diff(DiffInput {
        desired: &desired,
        live: &live,
        providers: &loaded.providers,
        policy: &loaded.policy,
        today: day,
    });
    plan.retain_targets(targets);
    if !plan.violations.is_empty() {
        return Err(EngineError::Policy(plan.violations.clone()));
    }
    plan.binding = binding(loaded, targets, day)?;
    Ok(plan)
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
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}
