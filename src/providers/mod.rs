//! Provider clients: one module per API over one shared HTTP client. Wire types and URL
//! paths stay private to each module; everything crossing this boundary is `model`.
//!
//! Plan cannot write: [`Reader`] wraps a client type that has no write methods at all, so
//! nothing on the plan path can change a live organization whatever bug sits above it.

use std::time::Duration;

use crate::model::ResourceKind;

/// What a plan needs read: the resources the config touches, found by name or by one of
/// their earlier names, and every resource of the kinds being pruned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadScope {
    pub resources: Vec<ScopeItem>,
    /// Kinds whose every live resource must be listed (pruning is on for them).
    pub list_all: Vec<ResourceKind>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeItem {
    pub kind: ResourceKind,
    pub name: String,
    pub previously: Vec<String>,
}

/// Knobs shared by every client.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Requests in flight at once, per provider.
    pub parallelism: usize,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt for 429, 5xx and connection errors.
    pub max_retries: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            parallelism: 8,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 5,
        }
    }
}
