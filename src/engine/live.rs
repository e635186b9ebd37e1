//! Reading the live state a configuration touches: resolve every provider to a base URL
//! (starting the in-process sandbox for `sandbox:` endpoints), then read each provider's
//! scope concurrently through read-only clients.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use crate::config::Loaded;
use crate::model::{
    DesiredState, Endpoint, LiveResource, LiveState, ProviderKind, ProviderSettings,
};
use crate::providers::{
    self, ClientOptions, Governor, Governors, Output, ProviderError, ReadScope, Reader, ScopeItem,
    Writer,
};
use crate::sandbox;

/// Where working copies of embedded sandbox state live, relative to the config's folder.
pub const WORKDIR: &str = ".teamsync/sandbox";

/// The providers of one configuration, each with the base URL to talk to and its one
/// rate-limit governor for the run (shared by every client built here: reads, writes and
/// apply's fresh reads). Holds the embedded sandboxes alive for as long as it lives.
pub struct Connections {
    pub endpoints: BTreeMap<String, (ProviderSettings, Url)>,
    pub options: ClientOptions,
    governors: Governors,
    output: Output,
    _sandboxes: Vec<sandbox::SandboxHandle>,
}

/// A failure to reach or read a provider.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("cannot start the embedded sandbox for {provider}: {source}")]
    Sandbox {
        provider: String,
        source: EmbedError,
    },
    #[error("internal error while reading {provider}: {message}")]
    Task { provider: String, message: String },
    /// Two live containers answer to one key: teamsync cannot tell which one the
    /// configuration means, so it plans neither (an apply that ran again before the API
    /// listed a container it had just created can make a second one, where names need not
    /// be unique).
    #[error(
        "{key} names {} live containers (ids {}): teamsync cannot tell which one the configuration means, so nothing is planned or applied for {}; delete or rename the extra ones in the provider's UI",
        ids.len(),
        ids.join(", "),
        key.provider
    )]
    Ambiguous {
        key: crate::model::ResourceKey,
        ids: Vec<String>,
    },
}

/// Why an embedded sandbox did not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot copy {} to {}: {source}", from.display(), to.display())]
    Copy {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sandbox(#[from] sandbox::SandboxError),
    #[error("sandbox URL {url:?}: {source}")]
    Url {
        url: String,
        source: url::ParseError,
    },
}

/// The working copy an embedded sandbox seeded from `seed` keeps its state in: beside the
/// config, never the committed seed itself, so trying the example leaves the checkout clean.
pub fn working_copy(base_dir: &Path, seed: &Path) -> PathBuf {
    let name = seed
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "state.json".into());
    base_dir.join(WORKDIR).join(name)
}

impl Connections {
    /// Resolves every configured provider, starting one in-process sandbox per distinct
    /// `sandbox:` state file.
    pub async fn open(loaded: &Loaded, options: ClientOptions) -> Result<Connections, LiveError> {
        let mut endpoints = BTreeMap::new();
        let mut sandboxes: Vec<(PathBuf, sandbox::SandboxHandle)> = Vec::new();
        for (name, settings) in &loaded.providers {
            let url = match &settings.endpoint {
                Endpoint::Default => providers::default_base_url(settings.kind),
                Endpoint::Url(raw) => Url::parse(raw).map_err(|e| {
                    LiveError::Provider(ProviderError::config(
                        settings,
                        format!("endpoint {raw:?} is not a URL: {e}"),
                    ))
                })?,
                Endpoint::Sandbox(seed) => {
                    let root = match sandboxes.iter().find(|(s, _)| s == seed) {
                        Some((_, handle)) => handle.base_url(),
                        None => {
                            let handle =
                                start_embedded(&loaded.base_dir, seed)
                                    .await
                                    .map_err(|source| LiveError::Sandbox {
                                        provider: name.clone(),
                                        source,
                                    })?;
                            let url = handle.base_url();
                            sandboxes.push((seed.clone(), handle));
                            url
                        }
                    };
                    sandbox_api_url(&root, settings.kind).map_err(|source| LiveError::Sandbox {
                        provider: name.clone(),
                        source,
                    })?
                }
            };
            providers::check_base_url(&url)?;
            endpoints.insert(name.clone(), (settings.clone(), url));
        }
        let output = Output::new(options.progress);
        let governors = endpoints
            .iter()
            .map(|(name, (settings, _))| {
                let governor = Governor::new(settings, &options, output.clone());
                (name.clone(), Arc::new(governor))
            })
            .collect();
        Ok(Connections {
            endpoints,
            options,
            governors,
            output,
            _sandboxes: sandboxes.into_iter().map(|(_, h)| h).collect(),
        })
    }

    /// The run's one stderr sink: request log, read progress, and whatever a command
    /// prints while requests run (apply's step bar and lines) go through it.
    pub fn output(&self) -> &Output {
        &self.output
    }

    /// A read-only client for a provider.
    pub fn reader(&self, name: &str) -> Result<Reader, LiveError> {
        let (settings, url) = self.endpoint(name)?;
        let governor = self.governor(name)?;
        Ok(Reader::new(settings, url.clone(), &self.options, governor)?)
    }

    /// A write-capable client for a provider (apply only).
    pub fn writer(&self, name: &str) -> Result<Writer, LiveError> {
        let (settings, url) = self.endpoint(name)?;
        let governor = self.governor(name)?;
        Ok(Writer::new(settings, url.clone(), &self.options, governor)?)
    }

    /// The provider's governor for this run.
    pub fn governor(&self, name: &str) -> Result<Arc<Governor>, LiveError> {
        self.governors
            .get(name)
            .cloned()
            .ok_or_else(|| LiveError::Task {
                provider: name.to_string(),
                message: "provider is not configured".into(),
            })
    }

    fn endpoint(&self, name: &str) -> Result<&(ProviderSettings, Url), LiveError> {
        self.endpoints.get(name).ok_or_else(|| LiveError::Task {
            provider: name.to_string(),
            message: "provider is not configured".into(),
        })
    }
}

async fn start_embedded(
    base_dir: &Path,
    seed: &Path,
) -> Result<sandbox::SandboxHandle, EmbedError> {
    let copy = working_copy(base_dir, seed);
    // A seed written after its working copy was made (a new `sandbox seed`, an edited
    // state) starts over from the seed: the copy holds what was applied to an older one.
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let stale = matches!((modified(seed), modified(&copy)), (Some(s), Some(c)) if s > c);
    if !copy.exists() || stale {
        if let Some(dir) = copy.parent() {
            std::fs::create_dir_all(dir).map_err(|source| EmbedError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        std::fs::copy(seed, &copy).map_err(|source| EmbedError::Copy {
            from: seed.to_path_buf(),
            to: copy.clone(),
            source,
        })?;
    }
    let world = sandbox::load_state(&copy)?;
    Ok(sandbox::Sandbox::start(world, sandbox::Knobs::default(), Some(copy)).await?)
}

/// Each API's base URL on a sandbox root: the root with the path of the API's public base
/// URL (GitBook's `/v1`), which only `providers::default_base_url` knows.
fn sandbox_api_url(root: &str, kind: ProviderKind) -> Result<Url, EmbedError> {
    let mut url = Url::parse(root).map_err(|source| EmbedError::Url {
        url: root.to_string(),
        source,
    })?;
    url.set_path(providers::default_base_url(kind).path());
    Ok(url)
}

/// What the config touches on one provider: its declared resources (with their earlier
/// names) and, where pruning is on, every resource of that kind; with anyone offboarded,
/// every resource of every kind. The organization's directory is read whenever a
/// container is declared there (who may join it) or anyone is offboarded.
pub fn scope_for(provider: &str, kind: ProviderKind, desired: &DesiredState) -> ReadScope {
    let offboarding = !desired.offboarded.is_empty();
    let containers = desired
        .resources
        .keys()
        .any(|k| k.provider == provider && k.kind != crate::model::ResourceKind::Organization);
    let mut list_all: Vec<crate::model::ResourceKind> = desired
        .prune
        .iter()
        .filter(|(p, _)| p == provider)
        .map(|(_, kind)| *kind)
        .collect();
    if offboarding {
        list_all = kind.supported_kinds().to_vec();
    }
    ReadScope {
        directory: containers || offboarding,
        resources: desired
            .resources
            .values()
            .filter(|r| r.key.provider == provider)
            .map(|r| ScopeItem {
                kind: r.key.kind,
                name: r.key.name.clone(),
                previously: r.previously.clone(),
            })
            .collect(),
        list_all,
    }
}

/// Reads every provider the desired state touches, concurrently. All failures are
/// returned, not just the first.
pub async fn read_live(
    conns: &Connections,
    desired: &DesiredState,
) -> Result<LiveState, Vec<LiveError>> {
    let scopes: BTreeMap<String, ReadScope> = conns
        .endpoints
        .iter()
        .map(|(name, (settings, _))| (name.clone(), scope_for(name, settings.kind, desired)))
        .filter(|(_, scope)| {
            !(scope.resources.is_empty() && scope.list_all.is_empty() && !scope.directory)
        })
        .collect();
    let mut live = LiveState::default();
    let mut errors = Vec::new();
    for (_, read) in read_each(conns, scopes, true).await {
        match read {
            Ok(resources) => {
                let mut twice: BTreeMap<crate::model::ResourceKey, Vec<String>> = BTreeMap::new();
                for r in resources {
                    let (key, id) = (r.key.clone(), r.id.clone());
                    if let Some(before) = live.resources.insert(key.clone(), r)
                        && before.id != id
                    {
                        let ids = twice.entry(key).or_insert_with(|| vec![before.id]);
                        ids.push(id);
                    }
                }
                for (key, mut ids) in twice {
                    ids.sort();
                    errors.push(LiveError::Ambiguous { key, ids });
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(live)
    } else {
        errors.sort_by_key(|e| e.to_string());
        Err(errors)
    }
}

/// Reads each provider's scope concurrently, and gives each provider's own result: what
/// `plan` and apply's read-back both read through. `progress`: show the read progress
/// (the plan's reads; a read-back is quiet).
pub async fn read_each(
    conns: &Connections,
    scopes: BTreeMap<String, ReadScope>,
    progress: bool,
) -> BTreeMap<String, Result<Vec<LiveResource>, LiveError>> {
    // Every client first: a missing token (or any other local refusal) for one provider
    // stops the run before the first request to any provider, naming them all.
    let mut out = BTreeMap::new();
    let mut ready = Vec::new();
    for (name, scope) in scopes {
        match conns
            .reader(&name)
            .and_then(|r| Ok((r, conns.governor(&name)?)))
        {
            Ok((reader, governor)) => ready.push((name, scope, reader, governor)),
            Err(e) => {
                out.insert(name, Err(e));
            }
        }
    }
    if !out.is_empty() {
        return out;
    }
    let mut tasks = tokio::task::JoinSet::new();
    let mut running = BTreeMap::new();
    for (name, scope, reader, governor) in ready {
        if progress {
            governor.start_reading();
        }
        let handle = tasks.spawn(async move {
            let read = reader.read(&scope).await;
            if progress {
                governor.finish_reading();
            }
            read
        });
        running.insert(handle.id(), name);
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, read)) => {
                if let Some(name) = running.remove(&id) {
                    out.insert(name, read.map_err(LiveError::from));
                }
            }
            Err(e) => {
                if let Some(name) = running.remove(&e.id()) {
                    let message = e.to_string();
                    out.insert(
                        name.clone(),
                        Err(LiveError::Task {
                            provider: name,
                            message,
                        }),
                    );
                }
            }
        }
    }
    out
}
