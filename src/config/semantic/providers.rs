//! The root file's own keys: providers (kind, organization, token variable, endpoint,
//! sandbox file, rate limit, invitations) and policy.

use super::*;

impl Checker<'_> {
    pub(super) fn root(&mut self) {
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
            self.policy.min_owners = policy.min_owners;
            self.policy.max_until_days = policy.max_until_days;
            self.policy.allow_temporary_owners = policy.allow_temporary_owners;
            for (i, d) in policy.require_until.iter().enumerate() {
                let at = root.at(&format!("/policy/require_until/{i}"));
                match allowed_domain(d) {
                    Ok(domain) => {
                        self.policy.require_until.insert(domain);
                    }
                    Err((message, hint)) => {
                        let message = message
                            .replacen("an allowed email domain", "a `require_until` domain", 1)
                            .replacen("allowed email domain", "`require_until` domain", 1);
                        self.error(Diagnostic::error(message).at(at).with_hint(hint));
                    }
                }
            }
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
            } else if p.kind.spec().uuid_organizations && !text::is_uuid(&p.organization) {
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
                if !p.kind.spec().verified_domains {
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
                    max_removals: p.max_removals,
                },
            );
        }
    }

    pub(super) fn endpoint(&mut self, raw: &str, at: Location) -> Option<Endpoint> {
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
    pub(super) fn sandbox_path(&self, file: &str) -> Result<std::path::PathBuf, (String, String)> {
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
}
