//! The rules of DESIGN.md that a schema cannot express: references resolve, emails are
//! valid and allowed, roles and kinds fit their provider, providers are inferred, nothing is
//! declared twice. Produces the desired state, or every problem found.

use std::collections::BTreeMap;
use std::path::Path;

use super::closest;
use super::load::SourceFile;
use super::schema::describe;
use super::types::{Container, MemberDetail, MemberEntry};
use super::yaml::escape_pointer;
use crate::diag::{Diagnostic, Location};
use crate::model::{
    Data, DesiredMember, DesiredResource, DesiredState, Email, Endpoint, MemberKey, OrgOptions,
    Policy, ProviderKind, ProviderSettings, ResourceKey, ResourceKind, Role,
};

/// The checked result of all files.
pub struct Checked {
    pub people: BTreeMap<String, Email>,
    pub providers: BTreeMap<String, ProviderSettings>,
    pub policy: Policy,
    pub desired: DesiredState,
}

struct Person {
    email: Email,
    data: Data,
    at: Location,
}

struct Checker<'a> {
    files: &'a [SourceFile],
    base_dir: &'a Path,
    errors: Vec<Diagnostic>,
    providers: BTreeMap<String, ProviderSettings>,
    policy: Policy,
    people: BTreeMap<String, Person>,
    /// Handles whose own entry is broken: references to them are not errors twice.
    broken_people: Vec<String>,
    /// Providers whose entry in the root is broken (an unknown kind, say): resources that
    /// name them, or could be theirs, are not errors twice.
    broken_providers: Vec<String>,
    desired: DesiredState,
    declared_at: BTreeMap<ResourceKey, Location>,
}

/// Runs every semantic rule over the files (the root first).
pub fn check(files: &[SourceFile], base_dir: &Path) -> Result<Checked, Vec<Diagnostic>> {
    let mut c = Checker {
        files,
        base_dir,
        errors: Vec::new(),
        providers: BTreeMap::new(),
        policy: Policy::default(),
        people: BTreeMap::new(),
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
        })
    } else {
        Err(c.errors)
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
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
                let domain = d.trim().to_lowercase();
                if domain.is_empty() || domain.contains('@') || !domain.contains('.') {
                    self.error(
                        Diagnostic::error(format!("`{d}` is not a domain"))
                            .at(root.at(&format!("/policy/allowed_email_domains/{i}")))
                            .with_hint("write the domain alone, for example acme.com"),
                    );
                }
                self.policy.allowed_email_domains.insert(domain);
            }
            self.policy.max_removals = policy.max_removals;
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
            let endpoint = match p.endpoint.as_deref() {
                None => Endpoint::Default,
                Some(raw) => match self.endpoint(raw, at("endpoint")) {
                    Some(e) => e,
                    None => continue,
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
            self.providers.insert(
                name.clone(),
                ProviderSettings {
                    name: name.clone(),
                    kind: p.kind,
                    organization: p.organization.clone(),
                    endpoint,
                    token_env: p.token_env.clone(),
                    rate_limit: p.rate_limit.and_then(crate::model::RequestsPerSecond::new),
                },
            );
        }
    }

    fn endpoint(&mut self, raw: &str, at: Location) -> Option<Endpoint> {
        if let Some(file) = raw.strip_prefix("sandbox:") {
            let path = self.base_dir.join(file);
            if !path.is_file() {
                self.error(
                    Diagnostic::error(format!("sandbox state file `{file}` does not exist"))
                        .at(at)
                        .with_hint("the path is relative to the root file's folder"),
                );
                return None;
            }
            return Some(Endpoint::Sandbox(path));
        }
        match url::Url::parse(raw) {
            Ok(u) if u.scheme() == "https" => Some(Endpoint::Url(raw.to_string())),
            Ok(u) if u.scheme() == "http" && u.host().as_ref().is_some_and(is_loopback) => {
                Some(Endpoint::Url(raw.to_string()))
            }
            Ok(u) if u.scheme() == "http" => {
                self.error(
                    Diagnostic::error(format!("endpoint `{raw}` uses plain http to a host that is not loopback"))
                        .at(at)
                        .with_hint("use https://; plain http is allowed only for 127.0.0.1, localhost and [::1]"),
                );
                None
            }
            _ => {
                self.error(
                    Diagnostic::error(format!(
                        "endpoint `{raw}` is not an https:// URL or sandbox:FILE"
                    ))
                    .at(at)
                    .with_hint("for example https://app.pixiebrix.com, or sandbox:live-state.json"),
                );
                None
            }
        }
    }

    fn parse_email(&mut self, raw: &str, at: Location) -> Option<Email> {
        match Email::parse(raw) {
            Ok(e) => {
                let allowed = &self.policy.allowed_email_domains;
                if !allowed.is_empty() && !allowed.contains(e.domain()) {
                    let list = allowed.iter().cloned().collect::<Vec<_>>().join(", ");
                    self.error(
                        Diagnostic::error(format!("{e} is outside the allowed email domains ({list})"))
                            .at(at)
                            .with_hint("use an address in an allowed domain, or add the domain to policy.allowed_email_domains"),
                    );
                    return None;
                }
                Some(e)
            }
            Err(err) => {
                self.error(
                    Diagnostic::error(format!("`{raw}` is not a valid email address: {err}"))
                        .at(at)
                        .with_hint("write it as name@example.com"),
                );
                None
            }
        }
    }

    fn people(&mut self) {
        let mut by_email: BTreeMap<Email, (String, Location)> = BTreeMap::new();
        for file in self.files {
            let Some(people) = &file.typed.people else {
                continue;
            };
            for (handle, person) in people {
                let pointer = format!("/people/{}", escape_pointer(handle));
                let at = file.key_at(&pointer);
                if let Some(first) = self.people.get(handle) {
                    let first_at = first.at.clone();
                    self.error(
                        Diagnostic::error(format!("person `{handle}` is declared twice"))
                            .at(at)
                            .with_related(first_at, "first declared here")
                            .with_hint("keep one entry per handle"),
                    );
                    continue;
                }
                let Some(email) =
                    self.parse_email(&person.email, file.at(&format!("{pointer}/email")))
                else {
                    self.broken_people.push(handle.clone());
                    continue;
                };
                if let Some((other, other_at)) = by_email.get(&email) {
                    let (other, other_at) = (other.clone(), other_at.clone());
                    self.error(
                        Diagnostic::error(format!(
                            "`{handle}` and `{other}` have the same email {email}"
                        ))
                        .at(file.at(&format!("{pointer}/email")))
                        .with_related(other_at, format!("`{other}` declared here"))
                        .with_hint("emails compare case-insensitively; one person, one handle"),
                    );
                    continue;
                }
                by_email.insert(email.clone(), (handle.clone(), at.clone()));
                self.people.insert(
                    handle.clone(),
                    Person {
                        email,
                        data: person.data.clone(),
                        at,
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
                    Diagnostic::error(format!("unknown provider `{name}`"))
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
            let key = ResourceKey::new(provider, kind, item.name.clone());
            let members = self.members(file, &pointer, &item.members, provider_kind, kind);
            self.declare(
                DesiredResource {
                    key,
                    previously: item.previously.clone(),
                    mode: item.mode,
                    members,
                    organization: None,
                },
                file.at(&format!("{pointer}/name")),
            );
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
        let org_id = self
            .providers
            .get(&provider)
            .map(|p| p.organization.clone())
            .unwrap_or_default();
        let mut members: BTreeMap<MemberKey, DesiredMember> = self
            .people
            .iter()
            .map(|(handle, p)| {
                (
                    MemberKey::Email(p.email.clone()),
                    DesiredMember {
                        handle: Some(handle.clone()),
                        role: None,
                        data: Data::new(),
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
        }
        self.declare(
            DesiredResource {
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
        // (a roster of 20,000 made that lookup a good part of loading).
        let mut out: BTreeMap<MemberKey, (usize, DesiredMember)> = BTreeMap::new();
        for (j, entry) in entries.iter().enumerate() {
            let pointer = format!("{parent}/members/{j}");
            let Some((key, member)) = self.member(file, &pointer, entry, provider, kind) else {
                continue;
            };
            if let Some((first, _)) = out.get(&key) {
                let first = file.at(&format!("{parent}/members/{first}"));
                self.error(
                    Diagnostic::error(format!("{key} is listed twice in {}", describe(parent)))
                        .at(file.at(&pointer))
                        .with_related(first, "first listed here")
                        .with_hint("list each member once"),
                );
                continue;
            }
            out.insert(key, (j, member));
        }
        out.into_iter().map(|(k, (_, m))| (k, m)).collect()
    }

    fn member(
        &mut self,
        file: &SourceFile,
        pointer: &str,
        entry: &MemberEntry,
        provider: ProviderKind,
        kind: ResourceKind,
    ) -> Option<(MemberKey, DesiredMember)> {
        let default = MemberDetail::default();
        let (detail, name) = match entry {
            MemberEntry::Name(n) => (&default, Some(n.as_str())),
            MemberEntry::Detail(d) => (d, None),
        };
        let at = |field: &str| {
            if name.is_some() {
                file.at(pointer)
            } else {
                file.at(&format!("{pointer}/{field}"))
            }
        };
        let given: Vec<&str> = [
            ("person", detail.person.is_some()),
            ("email", detail.email.is_some()),
            ("user_id", detail.user_id.is_some()),
        ]
        .into_iter()
        .filter(|(_, p)| *p)
        .map(|(k, _)| k)
        .collect();
        if name.is_none() && given.len() != 1 {
            self.error(
                Diagnostic::error(if given.is_empty() {
                    "a member mapping needs `person`, `email` or `user_id`".to_string()
                } else {
                    format!(
                        "a member mapping takes exactly one of person, email, user_id (found {})",
                        given.join(", ")
                    )
                })
                .at(file.at(pointer))
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
        let (key, mut data, handle) = if let Some(h) = handle {
            let Some(person) = self.people.get(h) else {
                if self.broken_people.iter().any(|b| b == h) {
                    return None;
                }
                let hint = match closest(h, &self.people.keys().cloned().collect::<Vec<_>>()) {
                    Some(best) => {
                        format!("did you mean `{best}`? people are declared under `people:`")
                    }
                    None => format!(
                        "add `{h}` under `people:` with an email, or write the email itself"
                    ),
                };
                self.error(
                    Diagnostic::error(format!("unknown person `{h}`"))
                        .at(at("person"))
                        .with_hint(hint),
                );
                return None;
            };
            (
                MemberKey::Email(person.email.clone()),
                person.data.clone(),
                Some(h.to_string()),
            )
        } else if let Some(raw) = email {
            let e = self.parse_email(raw, at("email"))?;
            (MemberKey::Email(e), Data::new(), None)
        } else {
            let id = detail.user_id.clone().unwrap_or_default();
            (MemberKey::UserId(id), Data::new(), None)
        };
        if kind == ResourceKind::Campaign {
            data.extend(detail.data.clone().unwrap_or_default());
        } else {
            data.clear();
        }
        Some((
            key,
            DesiredMember {
                handle,
                role: detail.role,
                data,
            },
        ))
    }
}
