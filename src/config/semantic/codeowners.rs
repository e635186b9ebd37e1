//! The root file's `codeowners:` section: the fallback approvers (`@user`, `@org/team`)
//! and where the file lives, resolved against the git repository the configuration is
//! in (what the CODEOWNERS patterns are relative to).

use std::path::{Component, PathBuf};

use super::*;
use crate::config::codeowners::Settings;

/// The file name GitHub reads, in `.github/`, the repository's root or `docs/`.
const FILE_NAME: &str = "CODEOWNERS";

impl Checker<'_> {
    pub(super) fn codeowners(&mut self) -> Option<Settings> {
        let root = self.files.iter().find(|f| f.is_root)?;
        let section = root.typed.codeowners.as_ref()?;
        let mut ok = true;
        if section.fallback.is_empty() {
            self.error(
                Diagnostic::error("`codeowners.fallback` is empty")
                    .at(root.at("/codeowners/fallback"))
                    .with_hint("name who approves roster and policy changes and every team without an owner, for example `fallback: [\"@acme/access-admins\"]`"),
            );
            ok = false;
        }
        let mut fallback: Vec<String> = Vec::new();
        for (i, entry) in section.fallback.iter().enumerate() {
            let at = || root.at(&format!("/codeowners/fallback/{i}"));
            if let Some((message, hint)) = fallback_problem(entry) {
                self.error(Diagnostic::error(message).at(at()).with_hint(hint));
                ok = false;
                continue;
            }
            if let Some(first) = fallback.iter().position(|f| f.eq_ignore_ascii_case(entry)) {
                self.error(
                    Diagnostic::error(format!(
                        "`{entry}` is listed twice in `codeowners.fallback`"
                    ))
                    .at(at())
                    .with_related(
                        root.at(&format!("/codeowners/fallback/{first}")),
                        "first listed here",
                    )
                    .with_hint("list each user or team once (GitHub ignores case)"),
                );
                ok = false;
                continue;
            }
            fallback.push(entry.clone());
        }
        let located = self.codeowners_path(section.path.as_deref(), root);
        let (path, folder, file_in_repo) = located?;
        ok.then_some(Settings {
            fallback,
            path,
            folder,
            file_in_repo,
        })
    }

    /// Where the file lives: (the path teamsync opens, the configuration's folder in the
    /// repository, the file's path in the repository); `None` after an error.
    fn codeowners_path(
        &mut self,
        raw: Option<&str>,
        root: &SourceFile,
    ) -> Option<(PathBuf, PathBuf, PathBuf)> {
        let at = || root.at("/codeowners/path");
        let base = self
            .base_dir
            .canonicalize()
            .unwrap_or_else(|_| self.base_dir.to_path_buf());
        let repo = base
            .ancestors()
            .find(|dir| dir.join(".git").exists())
            .unwrap_or(&base)
            .to_path_buf();
        let folder = base.strip_prefix(&repo).map(Path::to_path_buf).ok()?;
        let Some(raw) = raw else {
            let in_repo = PathBuf::from(".github").join(FILE_NAME);
            let path = if folder.as_os_str().is_empty() {
                self.base_dir.join(&in_repo)
            } else {
                repo.join(&in_repo)
            };
            return Some((path, folder, in_repo));
        };
        let relative = Path::new(raw);
        if raw.is_empty() || relative.is_absolute() || raw.starts_with(['/', '\\']) {
            self.error(
                Diagnostic::error(format!(
                    "`codeowners.path: {}` is not a path relative to the root file's folder",
                    shown(raw)
                ))
                .at(at())
                .with_hint("write it relative to the root file's folder, for example `../.github/CODEOWNERS`, or leave `path` out for `.github/CODEOWNERS` at the repository's root"),
            );
            return None;
        }
        // Lexically, inside the repository: `..` may leave the configuration's folder
        // (to reach `.github/`), never the repository.
        let mut in_repo = folder.clone();
        for part in relative.components() {
            match part {
                Component::CurDir => {}
                Component::ParentDir if in_repo.pop() => {}
                Component::Normal(p) => in_repo.push(p),
                _ => {
                    self.error(
                        Diagnostic::error(format!(
                            "`codeowners.path: {}` leaves the repository ({})",
                            shown(raw),
                            shown(&repo.to_string_lossy())
                        ))
                        .at(at())
                        .with_hint("CODEOWNERS patterns are relative to the repository's root: keep the file inside it, for example `../.github/CODEOWNERS`"),
                    );
                    return None;
                }
            }
        }
        let path = self.base_dir.join(relative);
        if path.is_dir() {
            self.error(
                Diagnostic::error(format!("`codeowners.path: {}` is a folder", shown(raw)))
                    .at(at())
                    .with_hint(format!(
                        "name the file itself: `path: {}`",
                        shown(&relative.join(FILE_NAME).to_string_lossy())
                    )),
            );
            return None;
        }
        if in_repo.file_name().and_then(|n| n.to_str()) != Some(FILE_NAME) {
            let fixed = relative.parent().unwrap_or(Path::new("")).join(FILE_NAME);
            self.error(
                Diagnostic::error(format!(
                    "`codeowners.path: {}` does not name a file called {FILE_NAME}",
                    shown(raw)
                ))
                .at(at())
                .with_hint(format!(
                    "GitHub reads only a file named {FILE_NAME} (in .github/, the repository's root or docs/): write `path: {}`",
                    shown(&fixed.to_string_lossy())
                )),
            );
            return None;
        }
        Some((path, folder, in_repo))
    }
}

/// Why a `codeowners.fallback` entry is no GitHub user or team: (message, hint).
fn fallback_problem(entry: &str) -> Option<(String, String)> {
    let s = shown(entry);
    let Some(name) = entry.strip_prefix('@') else {
        let hint = if entry.contains('@') {
            "CODEOWNERS approvers here are GitHub accounts: write `@user` or `@org/team`, not an email".to_string()
        } else {
            format!(
                "write `@{}`: a user is `@name`, a team `@org/team`",
                s.trim_start_matches('@')
            )
        };
        return Some((
            format!("fallback `{s}` is not a GitHub user or team: it does not start with `@`"),
            hint,
        ));
    };
    match name.split_once('/') {
        None => text::explain_github_name("GitHub username", name).map(|(m, h)| {
            (
                format!("fallback `{s}`: {m}"),
                format!("{h}; a team is written `@org/team`"),
            )
        }),
        Some((org, team)) => text::explain_github_name("GitHub organization", org)
            .or_else(|| text::explain_team_slug(team))
            .map(|(m, h)| (format!("fallback `{s}`: {m}"), h)),
    }
}

#[cfg(test)]
mod tests {
    use super::fallback_problem;

    #[test]
    fn fallback_entries_are_users_or_teams() {
        for ok in ["@alice", "@acme/access-admins", "@Acme/ops_team"] {
            assert_eq!(fallback_problem(ok), None, "{ok}");
        }
        let refused = |e: &str| fallback_problem(e).expect(e);
        assert!(refused("alice").1.contains("`@alice`"));
        assert!(refused("alice@acme.com").1.contains("not an email"));
        assert!(refused("@@alice").0.contains("starts with `@`"));
        assert!(refused("@-alice").0.contains("hyphen"));
        assert!(refused("@acme/").0.contains("empty"));
        assert!(refused("@acme/a/b").0.contains("`/`"));
        assert!(refused("@a b").0.contains("` `"));
    }
}
