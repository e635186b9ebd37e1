//! The CODEOWNERS file `teamsync codeowners` writes (issue 35): the owners of each team
//! approve changes to their team's file, and the `codeowners.fallback` approves the rest.
//! Pure: a `Loaded` in, the text out. The loader checks the `codeowners:` section
//! (`semantic/codeowners.rs`) and compares the file on disk with this text (a warning).
//!
//! Who is an owner: a member declared with the top role of its kind (`Role::top_for`: a
//! GitBook team's `owner`, the PixieBrix organization's `admin`) whose person has a
//! `github:` username. PixieBrix groups and campaigns and Contentful teams carry no role,
//! so only the fallback approves their files. The root file (providers, policy) and the
//! files that declare `people` (the roster) get only the fallback, whatever else they
//! declare: a team owner must not approve who exists or what the rules are.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::Loaded;
use super::text::shown;
use crate::model::{MemberKey, ResourceKey, Role};

/// How the file starts: what `--out` recognises as written by teamsync.
pub const HEADER: &str = "# This file is written by teamsync";

/// The `codeowners:` section, checked and resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Who approves what no owner may (`@user` or `@org/team`), in the config's order,
    /// each once (compared ignoring case).
    pub fallback: Vec<String>,
    /// Where the file lives, as teamsync opens it (the root file's folder joined with
    /// `codeowners.path`, or `.github/CODEOWNERS` at the repository's root).
    pub path: PathBuf,
    /// The configuration's folder inside the repository (empty: the repository's root).
    /// The repository is the nearest folder at or above the root file's that holds
    /// `.git`, or the root file's folder when there is none.
    pub folder: PathBuf,
    /// The file's own path inside the repository.
    pub file_in_repo: PathBuf,
}

/// The CODEOWNERS text for `loaded`, or why it cannot be written (a folder name GitHub's
/// patterns cannot express).
pub fn render(loaded: &Loaded, settings: &Settings) -> Result<String, String> {
    let folder_pattern = if settings.folder.as_os_str().is_empty() {
        // The configuration is the whole repository.
        "*".to_string()
    } else {
        let named = pattern(&settings.folder).map_err(|why| {
            format!(
                "the configuration's folder `{}` cannot be named in CODEOWNERS ({why}); rename the folder",
                shown(&settings.folder.to_string_lossy())
            )
        })?;
        format!("{named}/")
    };
    let fallback = dedup(settings.fallback.iter().cloned());
    let in_repo = |file: &Path| settings.folder.join(relative_to(file, &loaded.base_dir));

    // Every config file with something to say, by its path in the repository.
    let mut entries: BTreeMap<PathBuf, Entry> = BTreeMap::new();
    entries.insert(in_repo(&loaded.root), Entry::new(FileKind::Policy));
    for file in &loaded.people_files {
        entries
            .entry(in_repo(file))
            .or_insert(Entry::new(FileKind::Roster));
    }
    let github_of = github_by_member(loaded);
    for (key, resource) in &loaded.desired.resources {
        let Some(file) = loaded.declared.get(key).map(|d| &d.file) else {
            continue;
        };
        let entry = entries
            .entry(in_repo(file))
            .or_insert(Entry::new(FileKind::Containers));
        let top = loaded
            .providers
            .get(&key.provider)
            .and_then(|p| Role::top_for(p.kind, key.kind));
        let owners: Vec<String> = resource
            .members
            .iter()
            .filter(|(_, m)| top.is_some() && m.role == top)
            .filter_map(|(k, m)| match &m.handle {
                Some(h) => loaded.github.get(h).cloned(),
                None => github_of.get(k).cloned(),
            })
            .collect();
        if owners.is_empty() {
            let why = match (top, loaded.providers.get(&key.provider)) {
                (None, Some(p)) => format!("{} {}s have no owner role", p.kind, key.kind),
                _ => "no owner has a `github:` username".to_string(),
            };
            entry.unowned.push((key.clone(), why));
        } else {
            entry
                .owners
                .extend(owners.into_iter().map(|o| format!("@{o}")));
            entry.owned.push(key.clone());
        }
    }
    // The file itself: whoever may change it may change every approval.
    entries
        .entry(settings.file_in_repo.clone())
        .or_insert(Entry::new(FileKind::Itself));

    let root_shown = shown(&in_repo(&loaded.root).to_string_lossy());
    let mut out = format!(
        "{HEADER} from /{root_shown}; do not edit it by hand.\n\
         # Owners are changed in the configuration (`github:` on people, owner and admin roles\n\
         # on teams, `codeowners:` in the root file) and this file is regenerated with\n\
         # `teamsync codeowners`. GitHub reads the last line that matches a file, so the\n\
         # configuration's folder comes first: what no line below names, the fallback approves.\n\
         \n{folder_pattern} {}\n",
        fallback.join(" ")
    );
    for (path, entry) in &entries {
        out.push('\n');
        let line = match pattern(path) {
            Ok(p) => p,
            Err(why) => {
                out.push_str(&format!(
                    "# /{} cannot be named in CODEOWNERS ({why}): only the fallback approves it, through the folder's line\n",
                    shown(&path.to_string_lossy())
                ));
                continue;
            }
        };
        let mut owners: Vec<String> = Vec::new();
        match entry.kind {
            FileKind::Policy | FileKind::Roster => {
                out.push_str(if entry.kind == FileKind::Policy {
                    "# The root file (providers, policy, codeowners): only the fallback approves.\n"
                } else {
                    "# The roster: only the fallback approves who exists.\n"
                });
                let declared: Vec<String> = entry
                    .owned
                    .iter()
                    .chain(entry.unowned.iter().map(|(k, _)| k))
                    .map(ResourceKey::to_string)
                    .collect();
                if !declared.is_empty() {
                    out.push_str(&format!(
                        "# Its containers' owners do not approve it: {}\n",
                        declared.join(", ")
                    ));
                }
            }
            FileKind::Itself => out.push_str("# This file: only the fallback approves.\n"),
            FileKind::Containers => {
                if !entry.unowned.is_empty() {
                    let names: Vec<String> = entry
                        .unowned
                        .iter()
                        .map(|(key, why)| format!("{key} ({why})"))
                        .collect();
                    out.push_str(&format!(
                        "# No approver but the fallback for {}\n",
                        names.join("; ")
                    ));
                }
                owners = dedup(sorted_handles(&entry.owners));
            }
        }
        let all = dedup(owners.into_iter().chain(fallback.iter().cloned()));
        out.push_str(&format!("{line} {}\n", all.join(" ")));
    }
    Ok(out)
}

/// Whether two CODEOWNERS texts say the same: line endings aside (a checkout may turn
/// them into CRLF).
pub fn same_text(on_disk: &str, rendered: &str) -> bool {
    on_disk.replace("\r\n", "\n") == rendered
}

/// What a file gives approval on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    /// The root file.
    Policy,
    /// A file declaring `people`.
    Roster,
    /// A file declaring containers only.
    Containers,
    /// The CODEOWNERS file itself.
    Itself,
}

struct Entry {
    kind: FileKind,
    /// `@name` of every owner of a container in the file.
    owners: Vec<String>,
    /// Containers with an owner, and without one (with why).
    owned: Vec<ResourceKey>,
    unowned: Vec<(ResourceKey, String)>,
}

impl Entry {
    fn new(kind: FileKind) -> Entry {
        Entry {
            kind,
            owners: Vec::new(),
            owned: Vec::new(),
            unowned: Vec::new(),
        }
    }
}

/// Each roster email with its person's GitHub username: an owner listed by address is
/// the person who has that address.
fn github_by_member(loaded: &Loaded) -> BTreeMap<MemberKey, String> {
    loaded
        .people
        .iter()
        .filter_map(|(handle, email)| {
            let name = loaded.github.get(handle)?;
            Some((MemberKey::Email(email.clone()), name.clone()))
        })
        .collect()
}

/// Handles sorted as GitHub compares them (ignoring case), then as written.
fn sorted_handles(handles: &[String]) -> Vec<String> {
    let mut v = handles.to_vec();
    v.sort_by(|a, b| {
        a.to_ascii_lowercase()
            .cmp(&b.to_ascii_lowercase())
            .then(a.cmp(b))
    });
    v
}

/// Each handle once, ignoring case, in the order given.
fn dedup(handles: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    handles
        .into_iter()
        .filter(|h| seen.insert(h.to_ascii_lowercase()))
        .collect()
}

/// `file` relative to `base`, comparing them without `.` components (`./people.yaml`
/// under `.`); the file itself when it is not under `base`.
fn relative_to(file: &Path, base: &Path) -> PathBuf {
    let clean = |p: &Path| -> PathBuf {
        p.components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect()
    };
    let (file, base) = (clean(file), clean(base));
    file.strip_prefix(&base)
        .map(Path::to_path_buf)
        .unwrap_or(file)
}

/// A repository path as a CODEOWNERS pattern: `/` and the path, `/`-separated, spaces
/// escaped as `\ `. GitHub's patterns have no escape for `#`, `!`, `[`, `]`, and `*`, `?`,
/// `\` would match other files, so a name holding one of them (or a control or invisible
/// character) is refused with why.
fn pattern(path: &Path) -> Result<String, String> {
    let mut out = String::new();
    for part in path.components() {
        let Component::Normal(part) = part else {
            return Err("it leaves the repository".into());
        };
        let Some(part) = part.to_str() else {
            return Err("it is not UTF-8".into());
        };
        out.push('/');
        for c in part.chars() {
            match c {
                ' ' => out.push_str("\\ "),
                '#' | '!' | '[' | ']' | '*' | '?' | '\\' => {
                    return Err(format!(
                        "it holds `{c}`, which CODEOWNERS cannot match literally"
                    ));
                }
                c if c.is_control() || c.is_whitespace() || crate::model::is_hidden(c) => {
                    return Err(format!(
                        "it holds {}, which a CODEOWNERS line cannot show",
                        crate::model::describe_char(c)
                    ));
                }
                c => out.push(c),
            }
        }
    }
    if out.is_empty() {
        return Err("it is the repository itself".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProviderKind, ResourceKind};

    #[test]
    fn a_path_becomes_a_pattern_with_spaces_escaped_and_unmatchable_names_refused() {
        assert_eq!(
            pattern(Path::new("access/teams/docs writers.yaml")),
            Ok("/access/teams/docs\\ writers.yaml".to_string())
        );
        for bad in [
            "a/#b.yaml",
            "a/b*.yaml",
            "a/[x].yaml",
            "a/b\nc.yaml",
            "a/!b",
        ] {
            assert!(pattern(Path::new(bad)).is_err(), "{bad:?}");
        }
        assert!(pattern(Path::new("../x")).is_err());
        assert!(pattern(Path::new("")).is_err());
    }

    #[test]
    fn relative_paths_ignore_dot_components() {
        assert_eq!(
            relative_to(Path::new("./people.yaml"), Path::new(".")),
            PathBuf::from("people.yaml")
        );
        assert_eq!(
            relative_to(Path::new("teamsync.yaml"), Path::new(".")),
            PathBuf::from("teamsync.yaml")
        );
        assert_eq!(
            relative_to(Path::new("ex/acme/teams/a.yaml"), Path::new("ex/acme")),
            PathBuf::from("teams/a.yaml")
        );
    }

    #[test]
    fn handles_are_sorted_ignoring_case_and_kept_once() {
        let v: Vec<String> = ["@bob", "@Alice", "@alice", "@carol"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            dedup(sorted_handles(&v)),
            vec!["@Alice".to_string(), "@bob".into(), "@carol".into()]
        );
    }

    #[test]
    fn the_top_roles_are_roles_their_kinds_accept() {
        for provider in ProviderKind::ALL {
            for kind in ResourceKind::ALL {
                if let Some(top) = Role::top_for(provider, kind) {
                    assert!(
                        Role::valid_for(provider, kind).contains(&top),
                        "{provider} {kind}: {top}"
                    );
                }
            }
        }
        assert_eq!(
            Role::top_for(ProviderKind::Contentful, ResourceKind::Team),
            None
        );
    }
}
