//! Live state → YAML: what a provider has today, written as config, so adoption starts
//! from a plan with no changes. People are reused from the existing roster by email
//! (case-insensitively); new people get handles made from their address. Output is sorted
//! and stable; existing files are never overwritten unless asked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::model::{
    AccountKind, Email, LiveMember, LiveResource, ProviderKind, ResourceKind, Role,
};

/// The files an import writes: path relative to the output folder → contents.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Files {
    pub files: BTreeMap<PathBuf, String>,
    /// People with no usable email, written as `{user_id: …}`.
    pub without_email: usize,
}

/// Builds handles for emails: the roster's own where the email is known, otherwise one
/// made from the local part, unique among all handles.
struct Handles {
    by_email: BTreeMap<Email, String>,
    taken: BTreeSet<String>,
    new: BTreeMap<String, Email>,
    /// Handles used, with their emails (existing and new): the roster an `--all` import
    /// writes.
    used: BTreeMap<String, Email>,
    /// Only these emails get a handle (the others are written as emails): the people in
    /// every imported organization, since each organization's roster is all of `people`.
    only: Option<BTreeSet<Email>>,
}

impl Handles {
    fn new(roster: &BTreeMap<String, Email>) -> Self {
        Handles {
            by_email: roster.iter().map(|(h, e)| (e.clone(), h.clone())).collect(),
            taken: roster.keys().cloned().collect(),
            new: BTreeMap::new(),
            used: BTreeMap::new(),
            only: None,
        }
    }

    /// The handle for `email`, or `None` when it is to be written as an email.
    fn handle(&mut self, email: &Email) -> Option<String> {
        if self.only.as_ref().is_some_and(|only| !only.contains(email)) {
            return None;
        }
        let h = self.assign(email);
        self.used.insert(h.clone(), email.clone());
        Some(h)
    }

    fn assign(&mut self, email: &Email) -> String {
        if let Some(h) = self.by_email.get(email) {
            return h.clone();
        }
        let candidate = new_handle(email, &self.taken);
        self.taken.insert(candidate.clone());
        self.by_email.insert(email.clone(), candidate.clone());
        self.new.insert(candidate.clone(), email.clone());
        candidate
    }
}

/// A handle for a person known only by `email`: its local part in the handle alphabet
/// (anything else becomes `-`), `person` if nothing is left, with `-2`, `-3`, … until it
/// is none of `taken`.
pub fn new_handle(email: &Email, taken: &BTreeSet<String>) -> String {
    let local = email.as_str().split('@').next().unwrap_or("person");
    let base: String = local
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    let base = if base.is_empty() {
        "person".to_string()
    } else {
        base
    };
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    candidate
}

fn member_entry(
    handles: &mut Handles,
    m: &LiveMember,
    role: Option<Role>,
    data: Option<&crate::model::Data>,
    without_email: &mut usize,
) -> Value {
    let mut entry = Map::new();
    match (&m.email, &m.user_id) {
        (Some(email), _) => {
            let (key, name) = match handles.handle(email) {
                Some(h) => ("person", h),
                None => ("email", email.as_str().to_string()),
            };
            if role.is_none() && data.is_none_or(|d| d.is_empty()) {
                return Value::String(name);
            }
            entry.insert(key.into(), Value::String(name));
        }
        (None, Some(id)) => {
            *without_email += 1;
            entry.insert("user_id".into(), Value::String(id.to_string()));
        }
        (None, None) => return Value::Null,
    }
    if let Some(r) = role {
        entry.insert("role".into(), Value::String(r.as_str().into()));
    }
    if let Some(d) = data.filter(|d| !d.is_empty()) {
        entry.insert(
            "data".into(),
            serde_json::to_value(d).unwrap_or(Value::Null),
        );
    }
    Value::Object(entry)
}

fn members(
    handles: &mut Handles,
    r: &LiveResource,
    kind: ProviderKind,
    without_email: &mut usize,
) -> Vec<Value> {
    let mut out: Vec<Value> = r
        .members
        .iter()
        .map(|m| {
            // Where membership always has a role (GitBook teams), the default one needs
            // no saying; elsewhere roles are not written.
            let role = kind
                .spec()
                .default_role(r.key.kind)
                .and_then(|default| m.role.filter(|r| *r != default));
            let data = (r.key.kind == ResourceKind::Campaign).then_some(&m.data);
            member_entry(handles, m, role, data, without_email)
        })
        .filter(|v| !v.is_null())
        .collect();
    out.sort_by_key(sort_key);
    out
}

fn sort_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other
            .get("person")
            .or(other.get("email"))
            .or(other.get("user_id"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    }
}

fn yaml(modeline: &str, header: &str, value: &Value) -> String {
    let body = serde_saphyr::to_string(value).unwrap_or_default();
    format!("# yaml-language-server: $schema={modeline}\n# {header}\n{body}")
}

/// `{provider}.yaml`, made safe as a file name, and never `people.yaml` or
/// `teamsync.yaml` (which an import writes too).
pub fn file_name(provider: &str) -> PathBuf {
    let safe: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    let safe = if safe.is_empty() { "provider" } else { safe };
    if matches!(safe, "people" | "teamsync") || safe.starts_with("people.") {
        PathBuf::from(format!("{safe}.provider.yaml"))
    } else {
        PathBuf::from(format!("{safe}.yaml"))
    }
}

/// One provider's live state as a config document.
fn document(
    provider: &str,
    kind: ProviderKind,
    live: &[LiveResource],
    handles: &mut Handles,
    without_email: &mut usize,
) -> Value {
    let mut doc = Map::new();
    let mut by_kind: BTreeMap<ResourceKind, Vec<&LiveResource>> = BTreeMap::new();
    for r in live {
        by_kind.entry(r.key.kind).or_default().push(r);
    }
    for list in by_kind.values_mut() {
        list.sort_by(|a, b| a.key.name.cmp(&b.key.name));
    }
    if let Some(org) = by_kind
        .get(&ResourceKind::Organization)
        .and_then(|v| v.first())
    {
        let humans: Vec<&LiveMember> = org
            .members
            .iter()
            .filter(|m| m.account == AccountKind::Human)
            .collect();
        for m in &humans {
            if let Some(e) = &m.email {
                handles.handle(e);
            }
        }
        let mut with_roles: Vec<Value> = humans
            .iter()
            .filter(|m| m.role.is_some_and(|r| r != Role::Member) || m.email.is_none())
            .map(|m| {
                member_entry(
                    handles,
                    m,
                    m.role.filter(|r| *r != Role::Member),
                    None,
                    without_email,
                )
            })
            .filter(|v| !v.is_null())
            .collect();
        with_roles.sort_by_key(sort_key);
        let mut o = Map::new();
        o.insert("provider".into(), json!(provider));
        // Additive: an import never turns on leaver removal by itself; `roster: exact` is
        // a decision for the admin to make.
        o.insert("roster".into(), json!("additive"));
        o.insert(
            "keep".into(),
            json!(["service_accounts", "deployment_keys"]),
        );
        if !with_roles.is_empty() {
            o.insert("members".into(), Value::Array(with_roles));
        }
        doc.insert("organization".into(), Value::Object(o));
    }
    for (kind_key, field) in [
        (ResourceKind::Group, "groups"),
        (ResourceKind::Campaign, "campaigns"),
        (ResourceKind::Team, "teams"),
    ] {
        let Some(list) = by_kind.get(&kind_key) else {
            continue;
        };
        let items: Vec<Value> = list
            .iter()
            .map(|r| {
                let mut item = Map::new();
                item.insert("provider".into(), json!(provider));
                item.insert("name".into(), json!(r.key.name));
                item.insert(
                    "members".into(),
                    Value::Array(members(handles, r, kind, without_email)),
                );
                Value::Object(item)
            })
            .collect();
        doc.insert(field.into(), Value::Array(items));
    }
    Value::Object(doc)
}

fn provider_file(provider: &str, kind: ProviderKind, modeline: &str, doc: &Value) -> String {
    yaml(
        modeline,
        &format!("Imported from {provider} ({kind}) by `teamsync import`."),
        doc,
    )
}

fn people_file(modeline: &str, header: &str, people: &BTreeMap<String, Email>) -> String {
    let people: Map<String, Value> = people
        .iter()
        .map(|(h, e)| (h.clone(), json!({"email": e.as_str()})))
        .collect();
    yaml(modeline, header, &json!({"people": people}))
}

/// The YAML for one provider's live state.
pub fn render(
    provider: &str,
    kind: ProviderKind,
    live: &[LiveResource],
    roster: &BTreeMap<String, Email>,
    modeline: &str,
) -> Files {
    let mut handles = Handles::new(roster);
    let mut without_email = 0;
    let doc = document(provider, kind, live, &mut handles, &mut without_email);
    let mut files = BTreeMap::new();
    files.insert(
        file_name(provider),
        provider_file(provider, kind, modeline, &doc),
    );
    if !handles.new.is_empty() {
        let name = if roster.is_empty() {
            "people.yaml".to_string()
        } else {
            format!("people.{provider}.yaml")
        };
        files.insert(
            PathBuf::from(name),
            people_file(
                modeline,
                &format!("People found in {provider} and not yet in the roster."),
                &handles.new,
            ),
        );
    }
    Files {
        files,
        without_email,
    }
}

/// One provider to import with `--all`: its name, kind and live state.
pub struct Source<'a> {
    pub provider: &'a str,
    pub kind: ProviderKind,
    pub live: &'a [LiveResource],
}

/// Every provider at once, for a repository of its own: `{provider}.yaml` each and one
/// `people.yaml` holding every handle used (the existing roster's where an email is
/// known). When organizations are imported, only the people in every one of them get a
/// handle (an organization's roster is all of `people`); everyone else is written by
/// email, so the plan stays empty.
pub fn render_all(sources: &[Source], roster: &BTreeMap<String, Email>, modeline: &str) -> Files {
    let mut handles = Handles::new(roster);
    let orgs: Vec<BTreeSet<Email>> = sources
        .iter()
        .flat_map(|s| s.live.iter())
        .filter(|r| r.key.kind == ResourceKind::Organization)
        .map(|r| {
            r.members
                .iter()
                .filter(|m| m.account == AccountKind::Human)
                .filter_map(|m| m.email.clone())
                .collect()
        })
        .collect();
    handles.only = orgs
        .into_iter()
        .reduce(|a, b| a.intersection(&b).cloned().collect());
    let mut without_email = 0;
    let mut files = BTreeMap::new();
    for s in sources {
        let doc = document(s.provider, s.kind, s.live, &mut handles, &mut without_email);
        files.insert(
            file_name(s.provider),
            provider_file(s.provider, s.kind, modeline, &doc),
        );
    }
    files.insert(
        PathBuf::from("people.yaml"),
        people_file(
            modeline,
            "Everyone the imported files refer to by handle.",
            &handles.used,
        ),
    );
    Files {
        files,
        without_email,
    }
}

/// Why `import` wrote nothing, or not everything.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "{} already exist{}; nothing was written. Choose another --out, or pass --force to overwrite",
        .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        if .0.len() == 1 { "s" } else { "" }
    )]
    Exists(Vec<PathBuf>),
    #[error("cannot create {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes the files under `out`, refusing to replace any existing one unless `force`.
pub fn files(out: &Path, files: &Files, force: bool) -> Result<Vec<PathBuf>, WriteError> {
    let existing: Vec<PathBuf> = files
        .files
        .keys()
        .map(|p| out.join(p))
        .filter(|p| p.exists())
        .collect();
    if !existing.is_empty() && !force {
        return Err(WriteError::Exists(existing));
    }
    std::fs::create_dir_all(out).map_err(|source| WriteError::CreateDir {
        path: out.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, text) in &files.files {
        let path = out.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| WriteError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        if let Err(source) = replace(&path, text) {
            return Err(WriteError::Write { path, source });
        }
        written.push(path);
    }
    Ok(written)
}

/// `path` written as `text` (created, or replaced whole) through a temporary file in the same folder (a rename within
/// one file system is atomic), keeping the file's permissions.
pub fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".into());
    // A reader (or a crash) sees the old file or the new one, never half of either.
    let temp: PathBuf = dir.join(format!(".{name}.teamsync-{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}
