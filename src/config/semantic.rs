//! The rules of `docs/design.md` that a schema cannot express: references resolve, emails are
//! valid and allowed, roles and kinds fit their provider, providers are inferred, nothing is
//! declared twice. Produces the desired state, or every problem found.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::closest;
use super::load::SourceFile;
use super::schema::describe;
use super::text::{self, NameKind, shown};
use super::types::{Container, MemberDetail, MemberEntry};
use super::yaml::escape_pointer;
use crate::diag::{Diagnostic, Location};
use crate::model::{
    Data, DesiredMember, DesiredResource, DesiredState, Email, Endpoint, MemberKey, OrgOptions,
    Policy, ProviderKind, ProviderSettings, ResourceKey, ResourceKind, Role, StrictEmailError,
};

/// The checked result of all files.
pub struct Checked {
    pub people: BTreeMap<String, Email>,
    pub providers: BTreeMap<String, ProviderSettings>,
    pub policy: Policy,
    pub desired: DesiredState,
    /// Problems that do not stop a plan (a name trimmed of its surrounding spaces).
    pub warnings: Vec<Diagnostic>,
}

struct Person {
    email: Email,
    data: Data,
    /// The index of the file that declares the person, in `Checker::files`. Where in it
    /// the person stands only ever serves an error, so it is looked up then.
    file: usize,
    until: Option<jiff::civil::Date>,
    offboarded: bool,
}

struct Checker<'a> {
    files: &'a [SourceFile],
    base_dir: &'a Path,
    errors: Vec<Diagnostic>,
    providers: BTreeMap<String, ProviderSettings>,
    policy: Policy,
    /// By handle; hashed (foldhash, seeded per process), since every member of every
    /// container looks its handle up.
    people: HashMap<String, Person, foldhash::fast::RandomState>,
    /// Handles whose own entry is broken: references to them are not errors twice.
    broken_people: Vec<String>,
    /// Providers whose entry in the root is broken (an unknown kind, say): resources that
    /// name them, or could be theirs, are not errors twice.
    broken_providers: Vec<String>,
    desired: DesiredState,
    declared_at: BTreeMap<ResourceKey, Location>,
    /// Each container by (provider, kind, name lower-cased): names that differ only in
    /// case are one name to a reader, and to some providers.
    folded: BTreeMap<(String, ResourceKind, String), (String, Location)>,
    warnings: Vec<Diagnostic>,
    /// An `allowed_email_domains` entry is refused: addresses are not checked against
    /// the rest (the error is the entry, not every address).
    policy_broken: bool,
}

/// Runs every semantic rule over the files (the root first).
pub fn check(files: &[SourceFile], base_dir: &Path) -> Result<Checked, Vec<Diagnostic>> {
    let mut c = Checker {
        files,
        base_dir,
        errors: Vec::new(),
        providers: BTreeMap::new(),
        policy: Policy::default(),
        people: HashMap::default(),
        broken_people: files
            .iter()
            .flat_map(|f| f.broken_people.iter().cloned())
            .collect(),
        broken_providers: files
            .iter()
            .flat_map(|f| f.broken_providers.iter().cloned())
            .collect(),
        desired: DesiredState::default(),
        declared_at: BTreeMap::new(),
        folded: BTreeMap::new(),
        warnings: Vec::new(),
        policy_broken: false,
    };
    c.root_only_keys();
    c.root();
    c.people();
    for file in files {
        c.containers(
            file,
            ResourceKind::Group,
            file.typed.groups.as_deref(),
            "groups",
        );
        c.containers(
            file,
            ResourceKind::Campaign,
            file.typed.campaigns.as_deref(),
            "campaigns",
        );
        c.containers(
            file,
            ResourceKind::Team,
            file.typed.teams.as_deref(),
            "teams",
        );
        c.organization(file);
    }
    if c.errors.is_empty() {
        let people = c
            .people
            .iter()
            .map(|(h, p)| (h.clone(), p.email.clone()))
            .collect();
        Ok(Checked {
            people,
            providers: c.providers,
            policy: c.policy,
            desired: c.desired,
            warnings: c.warnings,
        })
    } else {
        let mut all = c.errors;
        all.extend(c.warnings);
        Err(all)
    }
}

impl Checker<'_> {
    fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn root_only_keys(&mut self) {
        for file in self.files.iter().filter(|f| !f.is_root) {
            let t = &file.typed;
            let present = [
                ("version", t.version.is_some()),
                ("providers", t.providers.is_some()),
                ("policy", t.policy.is_some()),
                ("include", t.include.is_some()),
                ("limits", t.limits.is_some()),
            ];
            for (key, _) in present.into_iter().filter(|(_, p)| *p) {
                let hint = if key == "include" {
                    "list every file in the root file's `include`; included files cannot include others".to_string()
                } else {
                    format!("move `{key}` to teamsync.yaml")
                };
                self.error(
                    Diagnostic::error(format!("`{key}` is only allowed in the root file"))
                        .at(file.key_at(&format!("/{key}")))
                        .with_hint(hint),
                );
            }
        }
    }

    fn root(&mut self) {
        let Some(root) = self.files.iter().find(|f| f.is_root) else {
            return;
        };
        match root.typed.version {
            Some(1) => {}
            Some(v) => self.error(
                Diagnostic::error(format!("unsupported version {v}"))
                    .at(root.at("/version"))
                    .with_hint("this teamsync reads `version: 1`"),
            ),
            None => self.error(
                Diagnostic::error("the root file has no `version`")
                    .at(root.at(""))
                    .with_hint("add `version: 1` at the top"),
            ),
        }
        if let Some(policy) = &root.typed.policy {
            for (i, d) in policy.allowed_email_domains.iter().enumerate() {
                let at = root.at(&format!("/policy/allowed_email_domains/{i}"));
                match allowed_domain(d) {
                    Ok(domain) => {
                        self.policy.allowed_email_domains.insert(domain);
                    }
                    Err((message, hint)) => {
                        self.error(Diagnostic::error(message).at(at).with_hint(hint));
                        // The load fails; an address is not reported against a broken list.
                        self.policy_broken = true;
                    }
                }
            }
            self.policy.max_removals = policy.max_removals;
            self.policy.allow_no_owner = policy.allow_no_owner;
            self.policy.expiry_warning_days = policy.expiry_warning_days;
        }
        let Some(providers) = &root.typed.providers else {
            self.error(
                Diagnostic::error("the root file configures no `providers`")
                    .at(root.at(""))
                    .with_hint("add a `providers:` mapping with at least one provider (kind, organization, token_env)"),
            );
            return;
        };
        for (name, p) in providers {
            let at = |field: &str| root.at(&format!("/providers/{}/{field}", escape_pointer(name)));
            if !text::valid_name(NameKind::Provider, name) {
                let (message, hint) = text::explain_name(NameKind::Provider, name);
                self.error(
                    Diagnostic::error(message)
                        .at(root.key_at(&format!("/providers/{}", escape_pointer(name))))
                        .with_hint(hint),
                );
            }
            if !text::valid_organization(&p.organization) {
                let (message, hint) = text::explain_organization(&p.organization);
                self.error(
                    Diagnostic::error(message)
                        .at(at("organization"))
                        .with_hint(hint),
                );
            } else if p.kind == ProviderKind::Pixiebrix && !text::is_uuid(&p.organization) {
                self.error(
                    Diagnostic::error(format!(
                        "PixieBrix organization id `{}` is not a UUID",
                        shown(&p.organization)
                    ))
                    .at(at("organization"))
                    .with_hint("copy the organization's UUID (like 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11) from the PixieBrix admin console"),
                );
            }
            if let Some(var) = p.token_env.as_deref() {
                if !text::valid_token_env(var) {
                    let (message, hint) = text::explain_token_env(var);
                    self.error(
                        Diagnostic::error(message)
                            .at(at("token_env"))
                            .with_hint(hint),
                    );
                } else if text::non_secret_env(var) {
                    self.error(
                        Diagnostic::error(format!(
                            "`token_env: {var}` names a well-known variable that holds no token"
                        ))
                        .at(at("token_env"))
                        .with_hint("name the variable that holds this provider's API token, for example PIXIEBRIX_TOKEN; PATH, HOME, USER, SHELL, CI, LANG, GITHUB_* and RUNNER_* are never tokens, and their value would be sent as one"),
                    );
                }
            }
            let endpoint = match p.endpoint.as_deref() {
                None => Endpoint::Default,
                Some(raw) => match self.endpoint(raw, at("endpoint")) {
                    Some(e) => e,
                    None => {
                        self.broken_providers.push(name.clone());
                        continue;
                    }
                },
            };
            let sandbox = matches!(endpoint, Endpoint::Sandbox(_));
            if p.token_env.is_none() && !sandbox {
                self.error(
                    Diagnostic::error(format!("provider `{name}` has no `token_env`"))
                        .at(root.key_at(&format!("/providers/{}", escape_pointer(name))))
                        .with_hint("add `token_env: NAME_OF_ENV_VAR`; the token itself never goes in a file"),
                );
            }
            for (i, kind) in p.prune.iter().enumerate() {
                if !p.kind.supports(*kind) {
                    self.error(
                        Diagnostic::error(format!(
                            "{} does not manage {kind}s, so they cannot be pruned",
                            p.kind
                        ))
                        .at(at(&format!("prune/{i}")))
                        .with_hint(format!(
                            "{} manages: {}",
                            p.kind,
                            p.kind
                                .supported_kinds()
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    );
                } else {
                    self.desired.prune.insert((name.clone(), *kind));
                }
            }
            if let Some(role) = p.invite_role
                && !crate::model::InviteRole::valid_for(p.kind).contains(&role)
            {
                self.error(
                    Diagnostic::error(format!(
                        "`invite_role: {role}` is not an organization role of {}",
                        p.kind
                    ))
                    .at(at("invite_role"))
                    .with_hint(format!(
                        "use one of: {}",
                        crate::model::InviteRole::valid_for(p.kind)
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
            let mut verified = std::collections::BTreeSet::new();
            for (i, d) in p.verified_domains.iter().enumerate() {
                let at = at(&format!("verified_domains/{i}"));
                if p.kind != ProviderKind::Pixiebrix {
                    self.error(
                        Diagnostic::error(format!(
                            "`verified_domains` is a PixieBrix setting; {} has no such thing",
                            p.kind
                        ))
                        .at(at)
                        .with_hint("remove `verified_domains` from this provider"),
                    );
                    break;
                }
                match allowed_domain(d) {
                    Ok(domain) => {
                        verified.insert(domain);
                    }
                    Err((message, hint)) => {
                        self.error(Diagnostic::error(message).at(at).with_hint(hint));
                    }
                }
            }
            self.providers.insert(
                name.clone(),
                ProviderSettings {
                    name: name.clone(),
                    kind: p.kind,
                    organization: p.organization.clone(),
                    endpoint,
                    token_env: p.token_env.clone(),
                    rate_limit: p.rate_limit.and_then(crate::model::RequestsPerSecond::new),
                    invite: p.invite,
                    invite_role: p.invite_role,
                    verified_domains: verified,
                },
            );
        }
    }

    fn endpoint(&mut self, raw: &str, at: Location) -> Option<Endpoint> {
        if let Some(c) = raw
            .chars()
            .find(|c| c.is_whitespace() || crate::model::is_hidden(*c))
        {
            self.error(
                Diagnostic::error(format!(
                    "endpoint `{}` contains {}",
                    shown(raw),
                    crate::model::describe_char(c)
                ))
                .at(at)
                .with_hint("write the URL on one line, without spaces or invisible characters"),
            );
            return None;
        }
        if let Some(file) = raw.strip_prefix("sandbox:") {
            return match self.sandbox_path(file) {
                Ok(path) => Some(Endpoint::Sandbox(path)),
                Err((message, hint)) => {
                    self.error(Diagnostic::error(message).at(at).with_hint(hint));
                    None
                }
            };
        }
        let url = match url::Url::parse(raw) {
            Ok(u) if u.scheme() == "https" || u.scheme() == "http" => u,
            _ => {
                self.error(
                    Diagnostic::error(format!(
                        "endpoint `{}` is not an https:// URL or sandbox:FILE",
                        shown(raw)
                    ))
                    .at(at)
                    .with_hint("for example https://app.pixiebrix.com, or sandbox:live-state.json"),
                );
                return None;
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            let mut bare = url.clone();
            let _ = bare.set_username("");
            let _ = bare.set_password(None);
            self.error(
                Diagnostic::error(format!(
                    "endpoint `{}://…@{}` carries a user name or password",
                    url.scheme(),
                    url.host_str().unwrap_or_default()
                ))
                .at(at)
                .with_hint(format!(
                    "write `{bare}`; the credential goes in the environment variable named by `token_env`, never in the URL (and rotate a password that was committed)"
                )),
            );
            return None;
        }
        if url.query().is_some() || url.fragment().is_some() {
            let mut bare = url.clone();
            bare.set_query(None);
            bare.set_fragment(None);
            let what = match (url.query().is_some(), url.fragment().is_some()) {
                (true, true) => "a query (`?…`) and a fragment (`#…`)",
                (true, false) => "a query (`?…`)",
                _ => "a fragment (`#…`)",
            };
            self.error(
                Diagnostic::error(format!("endpoint `{}` has {what}", shown(raw)))
                    .at(at)
                    .with_hint(format!(
                        "write `{bare}`: teamsync appends the API's paths to the endpoint, and a query or fragment would swallow them"
                    )),
            );
            return None;
        }
        // The scheme is https or http here: only plain http to another host is refused.
        if crate::model::check_transport(&url).is_err() {
            self.error(
                Diagnostic::error(format!(
                    "endpoint `{}` uses plain http to a host that is not loopback",
                    shown(raw)
                ))
                .at(at)
                .with_hint(
                    "use https://; plain http is allowed only for 127.0.0.1, localhost and [::1]",
                ),
            );
            return None;
        }
        Some(Endpoint::Url(raw.to_string()))
    }

    /// A `sandbox:FILE` path: relative, without `..`, and (followed through links) inside
    /// the root file's folder, so a config cannot make teamsync copy `/etc/passwd` or a
    /// file next to the repository.
    fn sandbox_path(&self, file: &str) -> Result<std::path::PathBuf, (String, String)> {
        use std::path::Component;
        let hint = "give a path relative to the root file's folder, inside it, for example sandbox:live-state.json";
        let relative = Path::new(file);
        if file.is_empty() {
            return Err(("`sandbox:` names no file".into(), hint.into()));
        }
        let escapes = relative.is_absolute()
            || file.starts_with('/')
            || file.starts_with('\\')
            || relative.components().any(|c| {
                matches!(
                    c,
                    Component::ParentDir | Component::RootDir | Component::Prefix(_)
                )
            });
        if escapes {
            return Err((
                format!(
                    "sandbox state file `{}` is outside the repository",
                    shown(file)
                ),
                hint.into(),
            ));
        }
        let path = self.base_dir.join(relative);
        if !path.is_file() {
            return Err((
                format!("sandbox state file `{}` does not exist", shown(file)),
                "the path is relative to the root file's folder".into(),
            ));
        }
        let inside = match (path.canonicalize(), self.base_dir.canonicalize()) {
            (Ok(real), Ok(base)) => real.starts_with(base),
            _ => false,
        };
        if !inside {
            return Err((
                format!(
                    "sandbox state file `{}` resolves outside the repository",
                    shown(file)
                ),
                "a symbolic link points outside the root file's folder: copy the file in instead"
                    .into(),
            ));
        }
        Ok(path)
    }

    /// An `until` date: `YYYY-MM-DD`, a real day.
    /// `at` is only called for an error.
    fn parse_day(&mut self, raw: &str, at: impl FnOnce() -> Location) -> Option<jiff::civil::Date> {
        let well_formed = raw.len() == 10
            && raw.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        match raw.parse::<jiff::civil::Date>() {
            Ok(day) if well_formed => Some(day),
            _ => {
                self.error(
                    Diagnostic::error(format!("`until: {}` is not a date", shown(raw)))
                        .at(at())
                        .with_hint("write the last day of access as YYYY-MM-DD, for example 2026-12-31 (a UTC day; access ends when it ends)"),
                );
                None
            }
        }
    }

    /// `at` is only called for an error.
    fn parse_email(&mut self, raw: &str, at: impl FnOnce() -> Location) -> Option<Email> {
        match Email::parse_strict(raw) {
            Ok(e) => {
                let allowed = &self.policy.allowed_email_domains;
                if !allowed.is_empty() && !self.policy_broken && !allowed.contains(e.domain()) {
                    let list = allowed.iter().cloned().collect::<Vec<_>>().join(", ");
                    self.error(
                        Diagnostic::error(format!("{e} is outside the allowed email domains ({list})"))
                            .at(at())
                            .with_hint("use an address in an allowed domain, or add the domain to policy.allowed_email_domains"),
                    );
                    return None;
                }
                Some(e)
            }
            Err(err) => {
                let hint = match &err {
                    StrictEmailError::Basic(_) => "write it as name@example.com".to_string(),
                    StrictEmailError::Hidden { .. } => "delete the invisible character: retype the address rather than pasting it".to_string(),
                    StrictEmailError::NonAsciiLocal { looks_like: Some(_), .. } => "retype the address in ASCII: a lookalike letter makes it another person's address".to_string(),
                    StrictEmailError::NonAsciiLocal { .. } => "teamsync accepts only ASCII before '@' (see docs/config.md); use the person's ASCII address".to_string(),
                    StrictEmailError::Domain(crate::model::DomainError::Idna(_)) => "check the domain: it must be a valid domain name".to_string(),
                    StrictEmailError::Domain(_) => "retype the domain in ASCII (or its real script alone): a lookalike letter makes it another domain".to_string(),
                };
                self.error(
                    Diagnostic::error(format!(
                        "`{}` is not a valid email address: {err}",
                        shown(raw)
                    ))
                    .at(at())
                    .with_hint(hint),
                );
                None
            }
        }
    }

    /// Every person of every file, in file order. Locations are only looked up for an
    /// error: looking up and keeping one per person was two thirds of this check's time
    /// for a roster of 20,000.
    fn people(&mut self) {
        // Email → the handle first given it and its file, borrowed from the files.
        let mut by_email: HashMap<Email, (&str, usize), foldhash::fast::RandomState> =
            HashMap::default();
        let files = self.files;
        for (f, file) in files.iter().enumerate() {
            let Some(people) = &file.typed.people else {
                continue;
            };
            by_email.reserve(people.len());
            self.people.reserve(people.len());
            for (handle, person) in people {
                if !text::valid_name(NameKind::Handle, handle) {
                    let (message, hint) = text::explain_name(NameKind::Handle, handle);
                    let at = person_at(files, f, handle);
                    self.error(Diagnostic::error(message).at(at).with_hint(hint));
                    self.broken_people.push(handle.clone());
                    continue;
                }
                if let Some(first) = self.people.get(handle) {
                    let first_at = person_at(files, first.file, handle);
                    let at = person_at(files, f, handle);
                    self.error(
                        Diagnostic::error(format!("person `{handle}` is declared twice"))
                            .at(at)
                            .with_related(first_at, "first declared here")
                            .with_hint("keep one entry per handle"),
                    );
                    continue;
                }
                let Some(email) =
                    self.parse_email(&person.email, || person_field_at(files, f, handle, "email"))
                else {
                    self.broken_people.push(handle.clone());
                    continue;
                };
                if let Some(&(other, other_file)) = by_email.get(&email) {
                    let other_at = person_at(files, other_file, other);
                    let at = person_field_at(files, f, handle, "email");
                    self.error(
                        Diagnostic::error(format!(
                            "`{handle}` and `{other}` have the same email {email}"
                        ))
                        .at(at)
                        .with_related(other_at, format!("`{other}` declared here"))
                        .with_hint("emails compare case-insensitively; one person, one handle"),
                    );
                    continue;
                }
                let until = person.until.as_deref().and_then(|raw| {
                    self.parse_day(raw, || person_field_at(files, f, handle, "until"))
                });
                by_email.insert(email.clone(), (handle.as_str(), f));
                if person.offboarded {
                    self.desired
                        .offboarded
                        .insert(email.clone(), handle.clone());
                }
                self.people.insert(
                    handle.clone(),
                    Person {
                        email,
                        data: person.data.clone(),
                        file: f,
                        until,
                        offboarded: person.offboarded,
                    },
                );
            }
        }
    }

    /// The provider a resource belongs to: named, or inferred when exactly one configured
    /// provider supports the kind.
    fn provider_for(
        &mut self,
        named: Option<&str>,
        kind: ResourceKind,
        at: Location,
    ) -> Option<(String, ProviderKind)> {
        if let Some(name) = named {
            let Some(p) = self.providers.get(name) else {
                if self.broken_providers.iter().any(|b| b == name) {
                    return None;
                }
                let hint = match closest(name, &self.providers.keys().cloned().collect::<Vec<_>>())
                {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "configured providers: {}",
                        self.providers
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.error(
                    Diagnostic::error(format!("unknown provider `{}`", shown(name)))
                        .at(at)
                        .with_hint(hint),
                );
                return None;
            };
            if !p.kind.supports(kind) {
                let kind_name = p.kind;
                self.error(
                    Diagnostic::error(format!(
                        "provider `{name}` is {kind_name}, which has no {kind}s"
                    ))
                    .at(at)
                    .with_hint(self.who_supports(kind)),
                );
                return None;
            }
            return Some((name.to_string(), p.kind));
        }
        let candidates: Vec<(&String, &ProviderSettings)> = self
            .providers
            .iter()
            .filter(|(_, p)| p.kind.supports(kind))
            .collect();
        match candidates.as_slice() {
            [(name, p)] => Some(((*name).clone(), p.kind)),
            [] if !self.broken_providers.is_empty() => None,
            [] => {
                let hint = self.who_supports(kind);
                self.error(
                    Diagnostic::error(format!("no configured provider manages {kind}s"))
                        .at(at)
                        .with_hint(hint),
                );
                None
            }
            many => {
                let names: Vec<String> = many.iter().map(|(n, _)| format!("`{n}`")).collect();
                self.error(
                    Diagnostic::error(format!(
                        "more than one provider manages {kind}s ({})",
                        names.join(", ")
                    ))
                    .at(at)
                    .with_hint(format!(
                        "add `provider: {}` (or another of them)",
                        many[0].0
                    )),
                );
                None
            }
        }
    }

    fn who_supports(&self, kind: ResourceKind) -> String {
        let kinds: Vec<&str> = ProviderKind::ALL
            .iter()
            .filter(|k| k.supports(kind))
            .map(|k| k.as_str())
            .collect();
        format!(
            "{kind}s are managed by providers of kind {}",
            kinds.join(" or ")
        )
    }

    fn declare(&mut self, resource: DesiredResource, at: Location) {
        if let Some(first) = self.declared_at.get(&resource.key) {
            let first = first.clone();
            self.error(
                Diagnostic::error(format!("{} is declared twice", resource.key))
                    .at(at)
                    .with_related(first, "first declared here")
                    .with_hint(
                        "a resource is keyed by (provider, kind, name): keep one declaration",
                    ),
            );
            return;
        }
        self.declared_at.insert(resource.key.clone(), at);
        self.desired
            .resources
            .insert(resource.key.clone(), resource);
    }

    fn containers(
        &mut self,
        file: &SourceFile,
        kind: ResourceKind,
        items: Option<&[Container]>,
        field: &str,
    ) {
        for (i, item) in items.unwrap_or_default().iter().enumerate() {
            let pointer = format!("/{field}/{i}");
            let provider_at = if item.provider.is_some() {
                file.at(&format!("{pointer}/provider"))
            } else {
                file.at(&pointer)
            };
            let Some((provider, provider_kind)) =
                self.provider_for(item.provider.as_deref(), kind, provider_at)
            else {
                continue;
            };
            let name_at = file.at(&format!("{pointer}/name"));
            let Some(name) = self.container_name(&item.name, name_at.clone()) else {
                continue;
            };
            let mut previously = Vec::new();
            for (k, earlier) in item.previously.iter().enumerate() {
                let at = file.at(&format!("{pointer}/previously/{k}"));
                previously.extend(self.container_name(earlier, at));
            }
            if !self.same_but_case(&provider, kind, &name, &name_at) {
                continue;
            }
            if item.description.is_some()
                && !(provider_kind == ProviderKind::Contentful && kind == ResourceKind::Team)
            {
                self.error(
                    Diagnostic::error(format!(
                        "`description` is for Contentful teams; {provider_kind} {kind}s have none teamsync manages"
                    ))
                    .at(file.at(&format!("{pointer}/description")))
                    .with_hint("remove `description`"),
                );
            }
            let key = ResourceKey::new(provider, kind, name);
            let members = self.members(file, &pointer, &item.members, provider_kind, kind);
            self.declare(
                DesiredResource {
                    description: item.description.clone(),
                    key,
                    previously,
                    mode: item.mode,
                    members,
                    organization: None,
                },
                file.at(&format!("{pointer}/name")),
            );
        }
    }

    /// A group, campaign or team name checked (see `text::check_free_name`): trimmed with
    /// a warning, or refused.
    fn container_name(&mut self, raw: &str, at: Location) -> Option<String> {
        match text::check_free_name(raw) {
            Ok(name) => {
                if name != raw {
                    self.warnings.push(
                        Diagnostic::warning(format!(
                            "name `{}` has spaces around it; using `{name}`",
                            shown(raw).replace(' ', "␠")
                        ))
                        .at(at)
                        .with_hint(format!("write `{name}`")),
                    );
                }
                Some(name.to_string())
            }
            Err((message, hint)) => {
                self.error(Diagnostic::error(message).at(at).with_hint(hint));
                None
            }
        }
    }

    /// False (and an error naming both places) when another container of this provider
    /// and kind has the same name but for case: `Writers` next to `writers`.
    fn same_but_case(
        &mut self,
        provider: &str,
        kind: ResourceKind,
        name: &str,
        at: &Location,
    ) -> bool {
        let folded = (provider.to_string(), kind, name.to_lowercase());
        match self.folded.get(&folded) {
            Some((first, first_at)) if first != name => {
                let (first, first_at) = (first.clone(), first_at.clone());
                self.error(
                    Diagnostic::error(format!(
                        "{kind} `{}` and `{}` on provider `{provider}` differ only in case",
                        shown(name),
                        shown(&first)
                    ))
                    .at(at.clone())
                    .with_related(first_at, format!("`{}` declared here", shown(&first)))
                    .with_hint("names are compared ignoring case: keep one declaration, or rename one of them"),
                );
                false
            }
            Some(_) => true,
            None => {
                self.folded.insert(folded, (name.to_string(), at.clone()));
                true
            }
        }
    }

    fn organization(&mut self, file: &SourceFile) {
        let Some(org) = &file.typed.organization else {
            return;
        };
        let at = file.key_at("/organization");
        let named_at = if org.provider.is_some() {
            file.at("/organization/provider")
        } else {
            at.clone()
        };
        let Some((provider, provider_kind)) = self.provider_for(
            org.provider.as_deref(),
            ResourceKind::Organization,
            named_at,
        ) else {
            return;
        };
        // `organization.invite` is PixieBrix's older spelling of the provider's `invite`.
        if org.invite
            && let Some(p) = self.providers.get_mut(&provider)
        {
            p.invite = true;
        }
        let org_id = self
            .providers
            .get(&provider)
            .map(|p| p.organization.clone())
            .unwrap_or_default();
        let mut members: BTreeMap<MemberKey, DesiredMember> = self
            .people
            .iter()
            .filter(|(_, p)| !p.offboarded)
            .map(|(handle, p)| {
                (
                    MemberKey::Email(p.email.clone()),
                    DesiredMember {
                        handle: Some(handle.clone()),
                        role: None,
                        data: Data::new(),
                        until: p.until,
                    },
                )
            })
            .collect();
        for (key, member) in self.members(
            file,
            "/organization",
            &org.members,
            provider_kind,
            ResourceKind::Organization,
        ) {
            let entry = members.entry(key).or_default();
            entry.role = member.role.or(entry.role);
            entry.handle = member.handle.or(entry.handle.take());
            entry.until = earliest(entry.until, member.until);
        }
        self.declare(
            DesiredResource {
                description: None,
                key: ResourceKey::new(provider, ResourceKind::Organization, org_id),
                previously: vec![],
                mode: org.roster,
                members,
                organization: Some(OrgOptions {
                    keep: org.keep.iter().copied().collect(),
                    invite: org.invite,
                }),
            },
            at,
        );
    }

    fn members(
        &mut self,
        file: &SourceFile,
        parent: &str,
        entries: &[MemberEntry],
        provider: ProviderKind,
        kind: ResourceKind,
    ) -> BTreeMap<MemberKey, DesiredMember> {
        // Each member with the index of its entry; locations are only looked up for errors
        // (a roster of 20,000 made that lookup a good part of loading). Sorted once (stable,
        // so the first entry of a key stays first) and built into the map in one pass: a
        // million members inserted one by one was most of `validate`'s time.
        let mut listed: Vec<(MemberKey, usize, DesiredMember)> = Vec::with_capacity(entries.len());
        for (j, entry) in entries.iter().enumerate() {
            if let Some((key, member)) = self.member(file, parent, j, entry, provider, kind) {
                listed.push((key, j, member));
            }
        }
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut twice: Vec<(MemberKey, usize, usize)> = Vec::new();
        listed.dedup_by(|again, first| {
            let same = again.0 == first.0;
            if same {
                twice.push((again.0.clone(), first.1, again.1));
            }
            same
        });
        for (key, first, again) in twice {
            self.error(
                Diagnostic::error(format!("{key} is listed twice in {}", describe(parent)))
                    .at(file.at(&format!("{parent}/members/{again}")))
                    .with_related(
                        file.at(&format!("{parent}/members/{first}")),
                        "first listed here",
                    )
                    .with_hint("list each member once"),
            );
        }
        listed.into_iter().map(|(k, _, m)| (k, m)).collect()
    }

    /// Entry `j` of the `members` list under `parent`.
    fn member(
        &mut self,
        file: &SourceFile,
        parent: &str,
        j: usize,
        entry: &MemberEntry,
        provider: ProviderKind,
        kind: ResourceKind,
    ) -> Option<(MemberKey, DesiredMember)> {
        // Only an error needs the entry's location.
        let pointer = || format!("{parent}/members/{j}");
        let default = MemberDetail::default();
        let (detail, name) = match entry {
            MemberEntry::Name(n) => (&default, Some(n.as_str())),
            MemberEntry::Detail(d) => (d.as_ref(), None),
        };
        let at = |field: &str| {
            if name.is_some() {
                file.at(&pointer())
            } else {
                file.at(&format!("{}/{field}", pointer()))
            }
        };
        let given = [
            ("person", detail.person.is_some()),
            ("email", detail.email.is_some()),
            ("user_id", detail.user_id.is_some()),
        ];
        if name.is_none() && given.iter().filter(|(_, g)| *g).count() != 1 {
            let given: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(k, _)| *k).collect();
            self.error(
                Diagnostic::error(if given.is_empty() {
                    "a member mapping needs `person`, `email` or `user_id`".to_string()
                } else {
                    format!(
                        "a member mapping takes exactly one of person, email, user_id (found {})",
                        given.join(", ")
                    )
                })
                .at(file.at(&pointer()))
                .with_hint("for example `{ person: alice, role: owner }`"),
            );
            return None;
        }
        if let Some(role) = detail.role {
            let valid = Role::valid_for(provider, kind);
            if !valid.contains(&role) {
                let hint = if valid.is_empty() {
                    format!("{provider} {kind}s have no roles: remove `role`")
                } else {
                    format!(
                        "use one of: {}",
                        valid
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                self.error(
                    Diagnostic::error(format!(
                        "role `{role}` is not valid for a {provider} {kind}"
                    ))
                    .at(at("role"))
                    .with_hint(hint),
                );
                return None;
            }
        }
        if detail.data.is_some() && kind != ResourceKind::Campaign {
            self.error(
                Diagnostic::error(format!(
                    "`data` is only for campaign members, not {kind} members"
                ))
                .at(at("data"))
                .with_hint("remove `data`, or put it on the person in `people`"),
            );
            return None;
        }
        let handle = name
            .filter(|n| !n.contains('@'))
            .or(detail.person.as_deref());
        let email = name.filter(|n| n.contains('@')).or(detail.email.as_deref());
        let entry_until = detail
            .until
            .as_deref()
            .and_then(|raw| self.parse_day(raw, || at("until")));
        let (key, mut data, handle) = if let Some(h) = handle {
            let Some(person) = self.people.get(h) else {
                if self.broken_people.iter().any(|b| b == h) {
                    return None;
                }
                let mut handles: Vec<String> = self.people.keys().cloned().collect();
                handles.sort();
                let hint = match closest(h, &handles) {
                    Some(best) => {
                        format!("did you mean `{best}`? people are declared under `people:`")
                    }
                    None => format!(
                        "add `{}` under `people:` with an email, or write the email itself",
                        shown(h)
                    ),
                };
                self.error(
                    Diagnostic::error(format!("unknown person `{}`", shown(h)))
                        .at(at("person"))
                        .with_hint(hint),
                );
                return None;
            };
            if person.offboarded {
                // An offboarded person is declared nowhere: the plan removes them.
                return None;
            }
            let until = person.until;
            // Only a campaign member carries the person's data.
            let data = if kind == ResourceKind::Campaign {
                person.data.clone()
            } else {
                Data::new()
            };
            (
                MemberKey::Email(person.email.clone()),
                data,
                Some((h.to_string(), until)),
            )
        } else if let Some(raw) = email {
            let e = self.parse_email(raw, || at("email"))?;
            if self.desired.offboarded.contains_key(&e) {
                return None;
            }
            (MemberKey::Email(e), Data::new(), None)
        } else {
            let id = detail.user_id.clone().unwrap_or_default();
            if !text::valid_organization(&id) {
                let (message, _) = text::explain_organization(&id);
                self.error(
                    Diagnostic::error(message.replacen("organization id", "user id", 1))
                        .at(at("user_id"))
                        .with_hint("write the provider's user id as its API shows it: ASCII letters, digits, `_` and `-`; it is never a path"),
                );
                return None;
            }
            (MemberKey::UserId(id.into()), Data::new(), None)
        };
        if kind == ResourceKind::Campaign {
            data.extend(detail.data.clone().unwrap_or_default());
            data.shrink_to_fit();
        }
        let (handle, person_until) = match handle {
            Some((h, until)) => (Some(h), until),
            None => (None, None),
        };
        Some((
            key,
            DesiredMember {
                handle,
                role: detail.role,
                data,
                until: earliest(person_until, entry_until),
            },
        ))
    }
}

/// The JSON pointer of person `handle`'s entry.
fn person_pointer(handle: &str) -> String {
    format!("/people/{}", escape_pointer(handle))
}

/// Where person `handle` of `files[file]` stands (its key), for an error.
fn person_at(files: &[SourceFile], file: usize, handle: &str) -> Location {
    files[file].key_at(&person_pointer(handle))
}

/// Where `field` of person `handle` of `files[file]` stands, for an error.
fn person_field_at(files: &[SourceFile], file: usize, handle: &str, field: &str) -> Location {
    files[file].at(&format!("{}/{field}", person_pointer(handle)))
}

/// The earlier of two optional last days.
fn earliest(
    a: Option<jiff::civil::Date>,
    b: Option<jiff::civil::Date>,
) -> Option<jiff::civil::Date> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An `allowed_email_domains` entry, normalised (A-label form), or why it is refused:
/// (message, hint). Subdomains are not matched, so a wildcard is refused rather than kept
/// as an entry that would refuse everyone.
fn allowed_domain(raw: &str) -> Result<String, (String, String)> {
    let s = shown(raw);
    let example = |d: &str| {
        let d = d.trim().trim_end_matches('.').to_lowercase();
        if d.is_empty() || !d.contains('.') {
            "acme.com".to_string()
        } else {
            d
        }
    };
    if raw.trim().is_empty() {
        return Err((
            "an allowed email domain is empty".into(),
            "write a domain such as `acme.com`, or remove the entry".into(),
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_whitespace() || crate::model::is_hidden(c))
    {
        return Err((
            format!("allowed email domain `{s}` contains white space or an invisible character"),
            format!("write `{}`", example(raw)),
        ));
    }
    if let Some((scheme, rest)) = raw.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let host = host.rsplit('@').next().unwrap_or(host);
        return Err((
            format!(
                "allowed email domain `{s}` is a URL (`{}://`), not a domain",
                shown(scheme)
            ),
            format!("write `{}`", example(host)),
        ));
    }
    if raw.contains('*') {
        let rest = raw.trim_start_matches("*.").trim_start_matches('*');
        return Err((
            format!("allowed email domain `{s}` is a wildcard, which teamsync does not read"),
            format!(
                "write `{}`; subdomains are not matched — list each one (for example `eu.{}`)",
                example(rest),
                example(rest)
            ),
        ));
    }
    if raw.contains('@') {
        let rest = raw.rsplit('@').next().unwrap_or(raw);
        return Err((
            format!("`{s}` is not a domain: it contains `@`"),
            format!("write the domain alone: `{}`", example(rest)),
        ));
    }
    if raw.ends_with('.') {
        return Err((
            format!("allowed email domain `{s}` ends with a dot"),
            format!("write `{}`", example(raw)),
        ));
    }
    if raw.chars().any(char::is_uppercase) {
        return Err((
            format!("allowed email domain `{s}` has upper-case letters"),
            format!(
                "write `{}`; domains are compared in lower case",
                raw.to_lowercase()
            ),
        ));
    }
    let labels_ok = raw
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if !raw.contains('.') || !labels_ok || raw.contains(['/', ':', '?', '#']) {
        return Err((
            format!("`{s}` is not a domain"),
            "write the domain alone, for example `acme.com`".into(),
        ));
    }
    crate::model::normalise_domain(raw).map_err(|e| {
        (
            format!("allowed email domain `{s}` is refused: {e}"),
            "retype the domain in ASCII, or its real script alone".into(),
        )
    })
}
