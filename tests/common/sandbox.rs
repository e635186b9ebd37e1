//! `sandbox()`: an in-process sandbox from what a test means (its world and the few knobs
//! it turns), instead of a `Knobs { … }` literal and a `Sandbox::start` at the top of
//! every file.
//!
//! ```ignore
//! let handle = sandbox().world(world()).page_size(4).lagging("2").start().await;
//! ```

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;
use teamsync::sandbox::lag::{Lag, StaleCache};
use teamsync::sandbox::{Faults, Knobs, Sandbox, SandboxHandle, Variant, World};

/// A sandbox with an empty world and knobs that disturb nothing, on a random loopback
/// port once started.
pub fn sandbox() -> SandboxBuilder {
    SandboxBuilder {
        world: World::default(),
        knobs: Knobs::default(),
        persist: None,
    }
}

/// What [`sandbox`] starts; each method sets one knob (or the world) and returns it.
#[derive(Clone, Debug)]
pub struct SandboxBuilder {
    world: World,
    knobs: Knobs,
    persist: Option<PathBuf>,
}

/// A world as a test writes it: the state file's JSON, or the typed [`World`].
pub trait IntoWorld {
    fn into_world(self) -> World;
}

impl IntoWorld for World {
    fn into_world(self) -> World {
        self
    }
}

impl IntoWorld for Value {
    fn into_world(self) -> World {
        serde_json::from_value(self).expect("the world is a sandbox state")
    }
}

impl SandboxBuilder {
    /// The emulated world the sandbox starts from (and `reset` returns to).
    pub fn world(mut self, world: impl IntoWorld) -> Self {
        self.world = world.into_world();
        self
    }

    /// Reads lag writes, as `sandbox serve --lag` takes it: `2`, `pixiebrix=400ms`,
    /// `pixiebrix:/api/groups/{group}/memberships/=3`. Each call adds a rule.
    pub fn lagging(mut self, spec: &str) -> Self {
        let lag: Lag = spec
            .parse()
            .unwrap_or_else(|e| panic!("lag spec {spec:?}: {e}"));
        self.knobs.lag.push(lag);
        self
    }

    /// Answers come from a cache whose entries live this long, as `--stale-cache` takes
    /// it: `300ms`, `pixiebrix:/api/…=200ms`. Each call adds a rule.
    pub fn stale(mut self, spec: &str) -> Self {
        let cache: StaleCache = spec
            .parse()
            .unwrap_or_else(|e| panic!("stale-cache spec {spec:?}: {e}"));
        self.knobs.stale_cache.push(cache);
        self
    }

    /// Answers the way `variant` says a real API might.
    pub fn variant(mut self, variant: Variant) -> Self {
        self.knobs.variants.insert(variant);
        self
    }

    /// [`Self::variant`] for each of them.
    pub fn variants(mut self, variants: impl IntoIterator<Item = Variant>) -> Self {
        self.knobs.variants.extend(variants);
        self
    }

    /// Every API serves at most `n` items a page.
    pub fn page_size(mut self, n: usize) -> Self {
        self.knobs.max_page_size = Some(n);
        self
    }

    /// Every answer takes this long, counted from when the request is handled.
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.knobs.latency_ms = ms;
        self
    }

    /// Injected faults, each a probability per request.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.knobs.faults = faults;
        self
    }

    /// The seed of jitter, faults, shuffles and generated ids.
    pub fn seed(mut self, seed: u64) -> Self {
        self.knobs.seed = seed;
        self
    }

    /// Requests allowed per token per API in each window, for every API.
    pub fn rate_limit(mut self, requests: u32) -> Self {
        self.knobs.rate_limit = requests;
        self
    }

    /// `api` (`pixiebrix`, `gitbook`, `contentful`) allows `requests` per token every
    /// `per_secs` seconds, like the real one.
    pub fn api_rate_limit(mut self, api: &str, requests: u32, per_secs: u64) -> Self {
        self.knobs
            .rate_limits
            .insert(api.to_string(), (requests, per_secs));
        self
    }

    /// Any other knob.
    pub fn knobs(mut self, change: impl FnOnce(&mut Knobs)) -> Self {
        change(&mut self.knobs);
        self
    }

    /// Writes the world back to this file after every change.
    pub fn persist(mut self, path: impl Into<PathBuf>) -> Self {
        self.persist = Some(path.into());
        self
    }

    /// Starts it; panics if it cannot.
    pub async fn start(self) -> SandboxHandle {
        Sandbox::start(self.world, self.knobs, self.persist)
            .await
            .expect("the sandbox starts")
    }
}
