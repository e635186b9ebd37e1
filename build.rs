//! Stamps the commit into `teamsync --version`, so a bug report names the exact build.
//!
//! `TEAMSYNC_COMMIT` in the build's environment wins (a packager building from a tarball
//! sets it); otherwise `git` is asked; without either (a source archive, a container
//! build without `.git`) the version says `commit unknown`. Only the commit's files are
//! watched, so the crate is not rebuilt on every edit.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=TEAMSYNC_COMMIT");
    let stamp = match std::env::var("TEAMSYNC_COMMIT") {
        Ok(commit) if !commit.trim().is_empty() => format!("commit {}", commit.trim()),
        _ => match (
            git(&["rev-parse", "--short=12", "HEAD"]),
            git(&["log", "-1", "--format=%cs"]),
        ) {
            (Some(commit), Some(date)) => format!("commit {commit}, {date}"),
            (Some(commit), None) => format!("commit {commit}"),
            _ => "commit unknown".to_string(),
        },
    };
    // Rebuild when HEAD moves: HEAD itself, the branch file it names, and packed refs.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) {
        println!("cargo:rerun-if-changed={}", dir.join("HEAD").display());
        println!(
            "cargo:rerun-if-changed={}",
            dir.join("packed-refs").display()
        );
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            let common = git(&["rev-parse", "--git-common-dir"])
                .map(PathBuf::from)
                .unwrap_or(dir);
            println!("cargo:rerun-if-changed={}", common.join(branch).display());
        }
    }
    println!("cargo:rustc-env=TEAMSYNC_BUILD={stamp}");
}
