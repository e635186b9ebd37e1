//! Provider clients: one module per API over one shared HTTP layer. Wire types and URL
//! paths stay private to each module; everything crossing this boundary is `model`.
//!
//! Plan cannot write: [`Reader`] holds a [`http::ReadClient`], a type with no write methods
//! at all, so nothing on the plan path can change a live organization whatever bug sits
//! above it. Only [`Writer`] (built by `apply`) holds a [`http::WriteClient`].

mod contentful;
mod error;
mod gitbook;
mod governor;
mod http;
mod identity;
mod paging;
mod pixiebrix;

use std::time::Duration;

use url::Url;

use crate::model::{
    LiveResource, MemberChange, ProviderKind, ProviderSettings, ResourceAction, ResourceChange,
    ResourceKind,
};

pub use error::ProviderError;
pub use governor::{Governor, Governors, Output, Timeline};

use std::sync::Arc;

/// What a plan needs read: the resources the config touches, found by name or by one of
/// their earlier names, and every resource of the kinds being pruned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadScope {
    pub resources: Vec<ScopeItem>,
    /// Kinds whose every live resource must be listed (pruning is on for them, or an
    /// offboarded person must leave all of them).
    pub list_all: Vec<ResourceKind>,
    /// Read the organization's own member list (with pending memberships and invitations
    /// where the API lists them), even where the config does not manage the roster: the
    /// plan checks who may join a container, invites who may not yet, and offboards.
    pub directory: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeItem {
    pub kind: ResourceKind,
    pub name: String,
    pub previously: Vec<String>,
}

impl ReadScope {
    /// Whether a live resource of `kind` named `name` is wanted.
    /// Names are compared ignoring case and surrounding spaces, so that a live `Writers`
    /// is read for a declared `writers` and the plan can refuse to create a second one.
    fn wants(&self, kind: ResourceKind, name: &str) -> bool {
        let fold = crate::model::ResourceKey::folded_name;
        let name = fold(name);
        (self.directory && kind == ResourceKind::Organization)
            || self.list_all.contains(&kind)
            || self.resources.iter().any(|i| {
                i.kind == kind
                    && (fold(&i.name) == name || i.previously.iter().any(|p| fold(p) == name))
            })
    }

    /// Whether anything of `kind` is wanted at all (so its list must be read).
    fn touches(&self, kind: ResourceKind) -> bool {
        (self.directory && kind == ResourceKind::Organization)
            || self.list_all.contains(&kind)
            || self.resources.iter().any(|i| i.kind == kind)
    }
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
    /// First backoff step; doubles per attempt, with jitter.
    pub backoff: Duration,
    /// 0: quiet; 1: one stderr line per request (method, URL, status, time; never a
    /// header); 2: also every wait before a retry.
    pub log_requests: u8,
    /// Largest decoded answer accepted, in bytes; beyond it the read fails clearly.
    pub max_body_bytes: usize,
    /// Most time one run spends waiting because APIs answered 429, over all requests of a
    /// provider; past it the request fails with the API's wait in the message. 429 waits
    /// are not counted as failed attempts.
    pub rate_wait_budget: Duration,
    /// Show read progress on stderr (bars on a terminal, a line per provider elsewhere).
    pub progress: bool,
    /// How long apply waits, re-reading with backoff, for a write the API accepted to show
    /// in its reads (APIs are eventually consistent: a read right after a write may still
    /// answer the old list). Past it the write is reported "written, not yet visible".
    pub settle: Duration,
}

/// The default `--settle`: long enough for a cache or a replica to catch up, short enough
/// that an apply whose write really did not land still ends soon.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(30);

/// The waits between reads of something not yet visible: 0.25 s doubling to at most 4 s,
/// until `settle` has passed since `start`. `None` once it has.
pub fn settle_wait(start: std::time::Instant, settle: Duration, attempt: u32) -> Option<Duration> {
    let step = Duration::from_millis(250).saturating_mul(1 << attempt.min(4));
    let left = settle.checked_sub(start.elapsed())?;
    (!left.is_zero()).then(|| step.min(left))
}

/// The default cap on one decoded answer: a 1,000-item page of the largest items teamsync
/// reads is under 2 MiB.
pub const DEFAULT_MAX_BODY_MIB: usize = 32;

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            parallelism: 8,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 5,
            backoff: Duration::from_millis(200),
            log_requests: 0,
            max_body_bytes: DEFAULT_MAX_BODY_MIB << 20,
            rate_wait_budget: Duration::from_secs(15 * 60),
            progress: false,
            settle: DEFAULT_SETTLE,
        }
    }
}

/// The outcome of applying one `ResourceChange`.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// The id of a container this change created.
    pub created_id: Option<String>,
    /// Outcome of the container action (create, rename, delete); `None` for updates.
    pub container: Option<Result<(), ProviderError>>,
    /// One result per member change attempted.
    pub members: Vec<(MemberChange, Result<(), ProviderError>)>,
}

/// The public base URL of each API.
pub fn default_base_url(kind: ProviderKind) -> Url {
    let raw = kind.spec().base_url;
    // These literals are valid URLs; a failure would be caught by every test.
    Url::parse(raw).unwrap_or_else(|_| Url::parse("https://invalid.invalid").expect("static URL"))
}

/// HTTPS anywhere; plain HTTP only to loopback (the sandbox), so tokens never cross a
/// network in clear text.
pub fn check_base_url(url: &Url) -> Result<(), ProviderError> {
    match crate::model::check_transport(url) {
        Ok(()) => Ok(()),
        Err(crate::model::InsecureUrl::PlainHttp) => Err(ProviderError::Insecure {
            url: url.to_string(),
        }),
        Err(crate::model::InsecureUrl::Scheme(other)) => Err(ProviderError::Insecure {
            url: format!("{other}: URL {url}"),
        }),
    }
}

/// Registers the API clients, one line each (`Variant => client type`, the variant being
/// the client's [`ProviderKind`]): it makes [`AnyProvider`], an enum with a variant per
/// client, and its methods, each a `match` routing to the client's inherent method of the
/// same name. Every client has the same inherent methods (`new`, `read`, `create`,
/// `rename`, `delete`, `apply_members`), so a provider is plain `async fn`s with no boxed
/// futures; a [`ProviderKind`] with no line here is a `match` the compiler refuses.
macro_rules! clients {
    ($($kind:ident => $client:ty),* $(,)?) => {
        /// One provider client, chosen by the config's `kind`. Reads get a read-only client
        /// at construction; the write methods are handed the write-capable client by the
        /// [`Writer`] that owns it.
        pub(crate) enum AnyProvider {
            $($kind($client),)*
        }

        impl AnyProvider {
            fn new(settings: &ProviderSettings, client: http::ReadClient) -> AnyProvider {
                match settings.kind {
                    $(ProviderKind::$kind => AnyProvider::$kind(<$client>::new(settings, client)),)*
                }
            }

            fn kind(&self) -> ProviderKind {
                match self {
                    $(AnyProvider::$kind(_) => ProviderKind::$kind,)*
                }
            }

            /// The live resources a scope touches, members included.
            async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
                match self {
                    $(AnyProvider::$kind(p) => p.read(scope).await,)*
                }
            }

            /// Creates the container a change names; returns its id.
            async fn create(
                &self,
                w: &http::WriteClient,
                change: &ResourceChange,
            ) -> Result<String, ProviderError> {
                match self {
                    $(AnyProvider::$kind(p) => p.create(w, change).await,)*
                }
            }

            async fn rename(
                &self,
                w: &http::WriteClient,
                change: &ResourceChange,
            ) -> Result<(), ProviderError> {
                match self {
                    $(AnyProvider::$kind(p) => p.rename(w, change).await,)*
                }
            }

            async fn delete(
                &self,
                w: &http::WriteClient,
                change: &ResourceChange,
            ) -> Result<(), ProviderError> {
                match self {
                    $(AnyProvider::$kind(p) => p.delete(w, change).await,)*
                }
            }

            /// Applies the member changes of a container that exists, known by its id, in
            /// as few requests as the API allows; one result per member change.
            /// `basis`: what the plan read of this container, for an API that removes
            /// members only by sending back the whole list (PixieBrix campaigns).
            async fn apply_members(
                &self,
                w: &http::WriteClient,
                container: &str,
                change: &ResourceChange,
                basis: Option<&LiveResource>,
            ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
                match self {
                    $(AnyProvider::$kind(p) => p.apply_members(w, container, change, basis).await,)*
                }
            }
        }
    };
}

clients! {
    Pixiebrix => pixiebrix::Pixiebrix,
    Gitbook => gitbook::Gitbook,
    Contentful => contentful::Contentful,
}

impl AnyProvider {
    fn supports(&self) -> &'static [ResourceKind] {
        self.kind().supported_kinds()
    }

    /// Sees every change of this provider before any is applied (to plan lookups).
    fn prepare(&self, changes: &[&ResourceChange]) {
        if let AnyProvider::Contentful(p) = self {
            p.prepare(changes);
        }
    }
}

/// The answers of a read's spawned tasks (one container's members each), in the order
/// they finish; the first that failed, or whose task died, ends the read, and the set's
/// drop stops the rest.
async fn each_read<T: 'static>(
    client: &http::ReadClient,
    mut tasks: tokio::task::JoinSet<Result<T, ProviderError>>,
) -> Result<Vec<T>, ProviderError> {
    let mut out = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        out.push(joined.map_err(|e| client.protocol("read", format!("task failed: {e}")))??);
    }
    Ok(out)
}

/// Creates a container with `req` (a POST, or GitBook's PUT on the collection) and returns
/// the id `created` reads from its answer. A create that got a 5xx or lost its answer may
/// have taken effect, and repeating it could make a second container: the container is
/// looked for by `name` in the live list `find` reads instead, and only when it is not
/// there does the create fail, with the create's own error. A create refused because the
/// name is taken (PixieBrix 400 `…already exists…`, GitBook 400/409, Contentful 422
/// `taken`: see [`says_exists`]) is a container made meanwhile, by an earlier run whose
/// plan read a list that lagged, or in the UI: it is found by name and used. An API that
/// answers late may not list it yet, so the look-up is repeated with backoff for up to
/// `--settle`.
pub(crate) async fn create_or_find<Fut>(
    w: &http::WriteClient,
    req: &http::Req,
    name: &str,
    created: impl FnOnce(&http::Resp) -> Option<String>,
    find: impl Fn() -> Fut,
) -> Result<String, ProviderError>
where
    Fut: std::future::Future<Output = Result<Vec<(String, String)>, ProviderError>>,
{
    let outcome = w.send(req).await;
    let exists = match &outcome {
        Ok(resp) if (200..300).contains(&resp.status) => {
            return created(resp)
                .ok_or_else(|| w.protocol(&req.what, "created, but the answer has no id"));
        }
        Ok(resp) if says_exists(resp) => true,
        Ok(resp) if resp.status < 500 => return Err(w.error(req, resp)),
        _ => false,
    };
    // Only a refusal that says the name is taken is worth waiting for; after a lost answer
    // one look is enough (the create either landed or it did not: nothing says it did).
    let start = std::time::Instant::now();
    let mut attempt = 0;
    loop {
        let listed = find().await?;
        if let Some((_, id)) = listed.into_iter().find(|(n, _)| n == name) {
            return Ok(id);
        }
        match settle_wait(start, w.settle(), attempt).filter(|_| exists) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => break,
        }
        attempt += 1;
    }
    Err(match outcome {
        Ok(resp) if exists => w.protocol(
            &req.what,
            format!(
                "the API answered that {name:?} exists already ({}), but no container of that name is listed (waited {} s, --settle); the next plan shows it once the API lists it",
                resp.status,
                w.settle().as_secs()
            ),
        ),
        Ok(resp) => w.error(req, &resp),
        Err(e) => e,
    })
}

/// A value an API gave that teamsync does not know, as it came: a string as itself,
/// anything else as its JSON text.
pub(crate) fn verbatim(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a refused create says the name is taken: 400, 409 or 422 whose body says
/// "exist", "taken", "duplicate" or "unique" (PixieBrix/DRF `{"name": ["… already exists."]}`,
/// Contentful `422 ValidationFailed … taken`, GitBook's `409`/`400` messages). The wording is
/// inferred for all three (API_NOTES), so any of these words in any of these statuses counts.
pub(crate) fn says_exists(resp: &http::Resp) -> bool {
    if !matches!(resp.status, 400 | 409 | 422) {
        return false;
    }
    let body = resp.text().to_ascii_lowercase();
    ["exist", "taken", "duplicate", "unique"]
        .iter()
        .any(|w| body.contains(w))
}

/// A team provider's read (GitBook, Contentful): its organization directory, when `scope`
/// asks for it, beside its teams, when `scope` touches any; neither needs the other (a
/// future that is not wanted is never polled, so never sends). The flag says whether
/// teams were read, so their members without an email can be resolved.
pub(crate) async fn directory_beside_teams(
    scope: &ReadScope,
    directory: impl std::future::Future<Output = Result<LiveResource, ProviderError>>,
    teams: impl std::future::Future<Output = Result<Vec<LiveResource>, ProviderError>>,
) -> Result<(Vec<LiveResource>, bool), ProviderError> {
    let read_teams = scope.touches(ResourceKind::Team);
    let directory = async {
        match scope.directory {
            true => directory.await.map(Some),
            false => Ok(None),
        }
    };
    let teams = async {
        match read_teams {
            true => teams.await,
            false => Ok(Vec::new()),
        }
    };
    let (directory, teams) = tokio::try_join!(directory, teams)?;
    let mut out: Vec<LiveResource> = directory.into_iter().collect();
    out.extend(teams);
    Ok((out, read_teams))
}

/// Sends one request per member change, all at once (for what an API has no bulk
/// endpoint for), and gathers each change with its result. The client's semaphore bounds
/// how many are in flight.
pub(crate) async fn each_member<Fut>(
    members: impl IntoIterator<Item = MemberChange>,
    one: impl Fn(&MemberChange) -> Fut,
) -> Vec<(MemberChange, Result<(), ProviderError>)>
where
    Fut: std::future::Future<Output = Result<(), ProviderError>> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    let mut running = std::collections::HashMap::new();
    for m in members {
        let request = one(&m);
        let mine = m.clone();
        let handle = tasks.spawn(async move { (m, request.await) });
        running.insert(handle.id(), mine);
    }
    let mut out = Vec::new();
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, pair)) => {
                running.remove(&id);
                out.push(pair);
            }
            // A crashed request is a failed change, never a missing one.
            Err(e) => {
                if let Some(m) = running.remove(&e.id()) {
                    out.push((
                        m,
                        Err(ProviderError::Crashed {
                            message: e.to_string(),
                        }),
                    ));
                }
            }
        }
    }
    out
}

/// A read-only view of one provider.
pub struct Reader {
    provider: AnyProvider,
}

impl Reader {
    /// `governor`: the provider's one governor for this run (see [`Governor`]).
    pub fn new(
        settings: &ProviderSettings,
        base_url: Url,
        options: &ClientOptions,
        governor: Arc<Governor>,
    ) -> Result<Reader, ProviderError> {
        let client = http::ReadClient::new(settings, base_url, options, governor)?;
        Ok(Reader {
            provider: AnyProvider::new(settings, client),
        })
    }

    pub fn supports(&self) -> &'static [ResourceKind] {
        self.provider.supports()
    }

    /// Reads the live resources in scope, members included.
    pub async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let mut out = self.provider.read(scope).await?;
        for r in &mut out {
            r.members.sort_by_key(|m| m.key());
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}

/// A write-capable view of one provider (apply only).
pub struct Writer {
    reader: Reader,
    client: http::WriteClient,
    /// The plan's own read of each container whose list may be sent back whole.
    basis: std::collections::BTreeMap<crate::model::ResourceKey, Arc<LiveResource>>,
}

impl Writer {
    pub fn new(
        settings: &ProviderSettings,
        base_url: Url,
        options: &ClientOptions,
        governor: Arc<Governor>,
    ) -> Result<Writer, ProviderError> {
        // One connection pool and one in-flight budget for the writes and fresh reads.
        let client = http::WriteClient::new(settings, base_url, options, governor)?;
        let reader = Reader {
            provider: AnyProvider::new(settings, client.reader()),
        };
        Ok(Writer {
            reader,
            client,
            basis: Default::default(),
        })
    }

    /// Fresh reads: stale checks and replace-style requests built from live state.
    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    /// Shows the provider every change it is about to apply, before the first, with what
    /// the plan read of each list that apply may have to send back whole (the plan's
    /// `read_basis`).
    pub fn prepare(
        &mut self,
        changes: &[&ResourceChange],
        basis: &std::collections::BTreeMap<crate::model::ResourceKey, Arc<LiveResource>>,
    ) {
        self.reader.provider.prepare(changes);
        self.basis = changes
            .iter()
            .filter_map(|c| basis.get_key_value(&c.key))
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect();
    }

    /// Applies one resource's change: the container first, then its members, in as few
    /// requests as the API allows. Each member change gets its own result.
    pub async fn apply(&self, change: &ResourceChange) -> ApplyReport {
        let (provider, client) = (&self.reader.provider, &self.client);
        let mut report = ApplyReport::default();
        let container = match &change.action {
            ResourceAction::Create => match provider.create(client, change).await {
                Ok(id) => {
                    report.created_id = Some(id.clone());
                    report.container = Some(Ok(()));
                    Some(id)
                }
                Err(e) => {
                    report.container = Some(Err(e));
                    None
                }
            },
            ResourceAction::Rename { .. } => {
                let result = provider.rename(client, change).await;
                let renamed = result.is_ok();
                report.container = Some(result);
                change.live_id.clone().filter(|_| renamed)
            }
            ResourceAction::Delete => {
                // Deleting the container is what removes its members: each removal shares
                // the container's result (and apply's read-back checks it is gone).
                let result = provider.delete(client, change).await;
                report.members = change
                    .members
                    .iter()
                    .map(|m| (m.clone(), result.clone()))
                    .collect();
                report.container = Some(result);
                return report;
            }
            // A description is the one container field an update may change (Contentful
            // teams: the whole body is PUT, as for a rename).
            ResourceAction::Update if change.description.is_some() => {
                let result = provider.rename(client, change).await;
                let done = result.is_ok();
                report.container = Some(result);
                change.live_id.clone().filter(|_| done)
            }
            ResourceAction::Update => change.live_id.clone(),
        };
        // Members are only touched once their container exists under its new name.
        if let Some(id) = container {
            let basis = self.basis.get(&change.key).map(|b| &**b);
            report.members = provider.apply_members(client, &id, change, basis).await;
        }
        report
    }
}
