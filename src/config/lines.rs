//! Where each declared membership is written: the lines of its entry in a container's
//! `members` list, and, for the PixieBrix organization roster, of the person's entry under
//! `people` (everyone on the roster belongs to the organization) beside any `members`
//! entry that gives them a role. Only `teamsync report` asks (to blame those lines in git),
//! so the loader never records positions for it: the files are read again, with them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Loaded;
use super::load::{self, SourceFile};
use super::types::{Container, MemberEntry};
use super::yaml::escape_pointer;
use crate::diag::Diagnostic;
use crate::model::{Email, MemberKey, ProviderKind, ResourceKey, ResourceKind};

/// Lines `first..=last` (1-based) of one file, as `Loaded::files` names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberLine {
    pub file: PathBuf,
    pub first: usize,
    pub last: usize,
}

/// Every declared membership → the lines that declare it (one entry for a container
/// member; for an organization roster member, the person's `people` entry and any
/// `organization.members` entry). Memberships the desired state does not hold (an
/// offboarded person's entries) are left out.
pub type MemberLines = BTreeMap<ResourceKey, BTreeMap<MemberKey, Vec<MemberLine>>>;

/// Reads the configuration's files again, with positions, and finds the lines of every
/// declared membership of `loaded`. An error only if a file no longer reads (it changed
/// since it was loaded).
pub fn member_lines(loaded: &Loaded) -> Result<MemberLines, Vec<Diagnostic>> {
    let mut files: Vec<SourceFile> = Vec::with_capacity(loaded.files.len());
    let mut errors = Vec::new();
    let mut limit = load::DEFAULT_MAX_FILE_BYTES;
    for (i, path) in loaded.files.iter().enumerate() {
        let read = load::read_file_whole(path, i == 0, limit);
        errors.extend(read.errors);
        if let Some(file) = read.file {
            if i == 0 {
                limit = load::include_limit(&file);
            }
            files.push(file);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = MemberLines::new();
    for file in &files {
        let mut lists = Lists {
            loaded,
            file,
            out: &mut out,
        };
        lists.containers(ResourceKind::Group, file.typed.groups.as_deref(), "groups");
        lists.containers(
            ResourceKind::Campaign,
            file.typed.campaigns.as_deref(),
            "campaigns",
        );
        lists.containers(ResourceKind::Team, file.typed.teams.as_deref(), "teams");
        lists.organization();
    }
    // The roster's own lines: a person under `people` is on every declared organization
    // roster (the semantic stage puts them there).
    let rosters: Vec<ResourceKey> = loaded
        .desired
        .resources
        .keys()
        .filter(|k| k.kind == ResourceKind::Organization)
        .cloned()
        .collect();
    for file in &files {
        let Some(people) = &file.typed.people else {
            continue;
        };
        for (handle, person) in people {
            let Ok(email) = Email::parse_strict(&person.email) else {
                continue;
            };
            let pointer = format!("/people/{}", escape_pointer(handle));
            let mut lines = Vec::new();
            for position in [
                file.parsed.key_position(&pointer).map(|p| p.line),
                file.parsed
                    .lines(&format!("{pointer}/email"))
                    .map(|(first, _)| first),
            ]
            .into_iter()
            .flatten()
            {
                let line = MemberLine {
                    file: file.path.clone(),
                    first: position,
                    last: position,
                };
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
            let key = MemberKey::Email(email);
            for roster in &rosters {
                let declared = loaded
                    .desired
                    .resources
                    .get(roster)
                    .is_some_and(|r| r.members.contains_key(&key));
                if declared {
                    out.entry(roster.clone())
                        .or_default()
                        .entry(key.clone())
                        .or_default()
                        .extend(lines.iter().cloned());
                }
            }
        }
    }
    for members in out.values_mut() {
        for lines in members.values_mut() {
            lines.sort();
            lines.dedup();
        }
    }
    Ok(out)
}

struct Lists<'a> {
    loaded: &'a Loaded,
    file: &'a SourceFile,
    out: &'a mut MemberLines,
}

impl Lists<'_> {
    /// The provider a container of `kind` belongs to, as the semantic stage decided it:
    /// the one named, or the only configured provider that has this kind.
    fn provider(&self, named: Option<&str>, kind: ResourceKind) -> Option<String> {
        if let Some(name) = named {
            return Some(name.to_string());
        }
        let mut candidates = self
            .loaded
            .providers
            .iter()
            .filter(|(_, p)| p.kind.supports(kind));
        match (candidates.next(), candidates.next()) {
            (Some((name, _)), None) => Some(name.clone()),
            _ => None,
        }
    }

    fn containers(&mut self, kind: ResourceKind, items: Option<&[Container]>, field: &str) {
        for (i, item) in items.unwrap_or_default().iter().enumerate() {
            let Some(provider) = self.provider(item.provider.as_deref(), kind) else {
                continue;
            };
            let Ok(name) = super::text::check_free_name(&item.name) else {
                continue;
            };
            let key = ResourceKey::new(provider, kind, name);
            self.members(&key, &format!("/{field}/{i}"), &item.members);
        }
    }

    fn organization(&mut self) {
        let Some(org) = &self.file.typed.organization else {
            return;
        };
        let Some(provider) = self.provider(org.provider.as_deref(), ResourceKind::Organization)
        else {
            return;
        };
        let Some(settings) = self
            .loaded
            .providers
            .get(&provider)
            .filter(|p| p.kind == ProviderKind::Pixiebrix)
        else {
            return;
        };
        let key = ResourceKey::new(
            provider.clone(),
            ResourceKind::Organization,
            settings.organization.clone(),
        );
        self.members(&key, "/organization", &org.members);
    }

    /// The entries of the `members` list under `parent` that the desired state holds.
    fn members(&mut self, key: &ResourceKey, parent: &str, entries: &[MemberEntry]) {
        let Some(declared) = self.loaded.desired.resources.get(key) else {
            return;
        };
        for (j, entry) in entries.iter().enumerate() {
            let Some(member) = self.member_key(entry) else {
                continue;
            };
            if !declared.members.contains_key(&member) {
                continue;
            }
            let Some((first, last)) = self.file.parsed.lines(&format!("{parent}/members/{j}"))
            else {
                continue;
            };
            self.out
                .entry(key.clone())
                .or_default()
                .entry(member)
                .or_default()
                .push(MemberLine {
                    file: self.file.path.clone(),
                    first,
                    last,
                });
        }
    }

    /// Who an entry names, as the semantic stage keys it.
    fn member_key(&self, entry: &MemberEntry) -> Option<MemberKey> {
        let (handle, email, user_id) = match entry {
            MemberEntry::Name(n) if n.contains('@') => (None, Some(n.as_str()), None),
            MemberEntry::Name(n) => (Some(n.as_str()), None, None),
            MemberEntry::Detail(d) => (
                d.person.as_deref(),
                d.email.as_deref(),
                d.user_id.as_deref(),
            ),
        };
        if let Some(h) = handle {
            return self.loaded.people.get(h).cloned().map(MemberKey::Email);
        }
        if let Some(e) = email {
            return Email::parse_strict(e).ok().map(MemberKey::Email);
        }
        user_id.map(|u| MemberKey::UserId(u.into()))
    }
}
