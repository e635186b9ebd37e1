//! Where each declared membership is written: the lines of its entry in a container's
//! `members` list, and, for the PixieBrix organization roster, of the person's entry under
//! `people` (everyone on the roster belongs to the organization) beside any `members`
//! entry that gives them a role. Only `teamsync report` asks (to blame those lines in git),
//! so the loader never records positions for it: the files are read again, with them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Loaded;
use super::load::{self, SourceFile};
use super::types::{self, MemberEntry};
use super::yaml::escape_pointer;
use crate::diag::Diagnostic;
use crate::model::{Email, MemberKey, ResourceKey, ResourceKind};

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
    // Each container's `members` list, where the semantic stage recorded its declaration.
    for (key, at) in &loaded.declared {
        let (Some(declared), Some(file)) = (
            loaded.desired.resources.get(key),
            files.iter().find(|f| f.path == at.file),
        ) else {
            continue;
        };
        let pointer = format!("{}/members", at.pointer);
        let entries = file
            .parsed
            .value
            .pointer(&pointer)
            .and_then(|v| v.as_array())
            .map_or(&[][..], |v| v.as_slice());
        for (j, entry) in entries.iter().enumerate() {
            let Some(member) = <MemberEntry as serde::Deserialize>::deserialize(entry)
                .ok()
                .and_then(|e| member_key(loaded, &e))
                .filter(|m| declared.members.contains_key(m))
            else {
                continue;
            };
            let Some((first, last)) = file.parsed.lines(&format!("{pointer}/{j}")) else {
                continue;
            };
            out.entry(key.clone())
                .or_default()
                .entry(member)
                .or_default()
                .push(MemberLine {
                    file: file.path.clone(),
                    first,
                    last,
                });
        }
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

/// Who an entry names ([`types::member_key`]).
fn member_key(loaded: &Loaded, entry: &MemberEntry) -> Option<MemberKey> {
    match entry {
        MemberEntry::Name(n) => types::name_key(&loaded.people, n),
        MemberEntry::Detail(d) => types::member_key(
            &loaded.people,
            d.person.as_deref(),
            d.email.as_deref(),
            d.user_id.as_deref(),
        ),
    }
}
