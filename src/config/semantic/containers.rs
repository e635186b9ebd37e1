//! Groups, campaigns, teams and the organization roster: which provider each belongs
//! to, its name, duplicates, and its declaration.

use super::*;

impl Checker<'_> {
    /// The provider a resource belongs to: named, or inferred when exactly one configured
    /// provider supports the kind.
    pub(super) fn provider_for(
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

    pub(super) fn who_supports(&self, kind: ResourceKind) -> String {
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

    /// Declares a resource; `false` (and an error) when it is declared already.
    pub(super) fn declare(
        &mut self,
        resource: DesiredResource,
        at: Location,
        declared: Declared,
    ) -> bool {
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
            return false;
        }
        self.container_rules(&resource, &at);
        self.declared_at.insert(resource.key.clone(), at);
        self.declared.insert(resource.key.clone(), declared);
        self.desired
            .resources
            .insert(resource.key.clone(), resource);
        true
    }

    pub(super) fn containers(
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
            if item.description.is_some() && !provider_kind.spec().described.contains(&kind) {
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
            let declared = super::Declared {
                file: file.path.clone(),
                pointer: pointer.clone(),
            };
            let _ = self.declare(
                DesiredResource {
                    description: item.description.clone(),
                    key: key.clone(),
                    previously,
                    mode: item.mode,
                    members,
                    organization: None,
                    max_removals: item.max_removals,
                },
                file.at(&format!("{pointer}/name")),
                declared,
            );
        }
    }

    /// A warning at each group, campaign or team that lists someone an `exact` roster of
    /// the same provider does not hold (not in `people`, not in `organization.members`):
    /// the roster would have them leave, which would end this access, so the plan blocks
    /// that removal instead (`changeset::diff`); the warning says so before any plan.
    pub(super) fn members_beyond_exact_rosters(&mut self) {
        let rosters: Vec<&DesiredResource> = self
            .desired
            .resources
            .values()
            .filter(|r| {
                r.key.kind == ResourceKind::Organization && r.mode == crate::model::Mode::Exact
            })
            .collect();
        let mut warnings = Vec::new();
        for roster in rosters {
            for r in self.desired.resources.values().filter(|r| {
                r.key.provider == roster.key.provider && r.key.kind != ResourceKind::Organization
            }) {
                let beyond: Vec<String> = r
                    .members
                    .iter()
                    .filter(|(k, m)| {
                        !roster.members.contains_key(*k) && m.until.is_none_or(|u| u >= self.today)
                    })
                    .map(|(k, _)| k.to_string())
                    .collect();
                let Some(at) = self.declared_at.get(&r.key).filter(|_| !beyond.is_empty()) else {
                    continue;
                };
                let shown = if beyond.len() > 3 {
                    format!("{} and {} more", beyond[..3].join(", "), beyond.len() - 3)
                } else {
                    beyond.join(", ")
                };
                warnings.push(
                    Diagnostic::warning(format!(
                        "{} lists {shown}, whom the exact roster of `{}` does not hold; teamsync keeps them in the organization (leaving it would end this access) and the plan lists that removal as blocked",
                        r.key, r.key.provider
                    ))
                    .at(at.clone())
                    .with_hint("add them to `people` (or to `organization.members`), or take them out of this list"),
                );
            }
        }
        self.warnings.extend(warnings);
    }

    /// A group, campaign or team name checked (see `text::check_free_name`): trimmed with
    /// a warning, or refused.
    pub(super) fn container_name(&mut self, raw: &str, at: Location) -> Option<String> {
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
    pub(super) fn same_but_case(
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

    pub(super) fn organization(&mut self, file: &SourceFile) {
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
        let _ = self.declare(
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
                max_removals: org.max_removals,
            },
            at,
            Declared {
                file: file.path.clone(),
                pointer: "/organization".to_string(),
            },
        );
    }
}
