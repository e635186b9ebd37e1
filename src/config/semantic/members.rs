//! Members of a container: who (a person, an address or a user id), their role,
//! campaign data and `until`.

use super::*;

impl Checker<'_> {
    pub(super) fn members(
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
        for (key, j, member) in &listed {
            self.member_rules(key, member, provider, kind, || {
                file.at(&format!("{parent}/members/{j}"))
            });
        }
        listed.into_iter().map(|(k, _, m)| (k, m)).collect()
    }

    /// Entry `j` of the `members` list under `parent`.
    pub(super) fn member(
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
