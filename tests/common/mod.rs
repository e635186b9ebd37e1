//! The tests' support, in one place: a temporary repository with a config and a sandbox
//! state file ([`Repo`]), and running the binary on it; the builders that write a config
//! ([`a_config`], and [`provider_settings`] for the library) and start a sandbox
//! ([`sandbox()`]); hand-made plans for the views ([`render`]); and what the diff's
//! property tests draw from ([`plan`]). Each test crate declares `mod common;` and uses
//! the parts it needs.

#![allow(dead_code)]

pub mod config;
pub mod plan;
pub mod render;
pub mod sandbox;

// The builders at the top, where `use common::*` finds them; a crate that uses none of
// them would otherwise warn of the re-export.
#[allow(unused_imports)]
pub use config::{ConfigBuilder, NOBODY, a_config, provider_settings};
#[allow(unused_imports)]
pub use sandbox::{SandboxBuilder, sandbox};

use std::path::Path;

use assert_cmd::Command;
use serde_json::{Value, json};

/// A throwaway config repository.
pub struct Repo {
    pub dir: tempfile::TempDir,
    /// The configuration's folder: `dir`, or a folder inside it.
    root: std::path::PathBuf,
}

impl Repo {
    pub fn new(files: &[(&str, &str)]) -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let root = dir.path().to_path_buf();
        Repo { dir, root }
    }

    /// The configuration's folder.
    pub fn path(&self) -> &Path {
        &self.root
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write");
    }

    /// Replaces the first `from` in the file `name` with `to`; `from` must be there.
    pub fn edit(&self, name: &str, from: &str, to: &str) {
        let path = self.path().join(name);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(from), "{name} holds {from:?}");
        std::fs::write(path, text.replacen(from, to, 1)).expect("write");
    }

    pub fn write_json(&self, name: &str, value: &Value) {
        self.write(name, &serde_json::to_string_pretty(value).expect("json"));
    }

    /// `teamsync ARGS --config REPO`, to add environment to before running.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("teamsync").expect("binary");
        cmd.args(args)
            .arg("--config")
            .arg(self.path())
            .env_remove("GITHUB_ACTIONS")
            .env("NO_COLOR", "1");
        cmd
    }

    /// `teamsync ARGS --config REPO`.
    pub fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.command(args).assert()
    }

    /// The JSON plan, asserting the exit code.
    pub fn plan_json(&self, code: i32) -> Value {
        let out = self
            .run(&["plan", "--format", "json", "--detailed-exitcode"])
            .code(code);
        serde_json::from_slice(&out.get_output().stdout).expect("plan is JSON")
    }

    /// The working copy of the embedded sandbox state.
    pub fn working_state(&self, seed: &str) -> Value {
        let text = std::fs::read_to_string(self.path().join(".teamsync/sandbox").join(seed))
            .expect("working copy");
        serde_json::from_str(&text).expect("state JSON")
    }
}

pub fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

pub fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Member changes of a plan as `(resource key, member email, action type)`, sorted.
pub fn member_changes(plan: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for change in plan["changes"].as_array().into_iter().flatten() {
        let key = format!(
            "{}.{}[{}]",
            change["key"]["provider"].as_str().unwrap_or(""),
            change["key"]["kind"].as_str().unwrap_or(""),
            change["key"]["name"].as_str().unwrap_or("")
        );
        for m in change["members"].as_array().into_iter().flatten() {
            out.push((
                key.clone(),
                m["member"]["email"]
                    .as_str()
                    .or(m["member"]["user_id"].as_str())
                    .unwrap_or("")
                    .to_string(),
                m["action"]["type"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out.sort();
    out
}

/// Container actions of a plan as `(resource key, action type)`.
pub fn resource_actions(plan: &Value) -> Vec<(String, String)> {
    plan["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                format!(
                    "{}.{}[{}]",
                    c["key"]["provider"].as_str().unwrap_or(""),
                    c["key"]["kind"].as_str().unwrap_or(""),
                    c["key"]["name"].as_str().unwrap_or("")
                ),
                c["action"]["type"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

pub fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A PixieBrix organization with the given (email, role, kind) members.
pub fn pixiebrix_org(id: &str, members: &[(&str, u8, &str)]) -> Value {
    let users: Vec<Value> = members
        .iter()
        .enumerate()
        .map(|(i, (email, _, kind))| {
            json!({"id": uuid(i as u32 + 1), "name": email.split('@').next(), "email": email,
                   "service_account": *kind == "service", "deployment_key_account": *kind == "deploy"})
        })
        .collect();
    let memberships: Vec<Value> = members
        .iter()
        .enumerate()
        .map(|(i, (_, role, _))| json!({"id": 100 + i, "user": uuid(i as u32 + 1), "role": role}))
        .collect();
    json!({"id": id, "name": "Acme", "verified_domains": ["acme.com"], "users": users,
           "memberships": memberships, "groups": [], "campaigns": [], "invitations": []})
}

pub fn root_config(providers: &str, include: &str) -> String {
    format!(
        "version: 1\nproviders:\n{providers}policy:\n  allowed_email_domains: [acme.com]\ninclude: [{include}]\n"
    )
}

/// `(api, email)` of every member removed from a container, per the sandbox's event log,
/// for worlds whose ids follow the `p{i}@acme.com` scheme: GitBook user `u{i}`, Contentful
/// organization membership `OM{i}`.
pub fn removed_emails(events: &[teamsync::sandbox::Event]) -> Vec<(String, String)> {
    let email = |i: usize| format!("p{i}@acme.com");
    events
        .iter()
        .filter(|e| e.action.ends_with(".remove"))
        .filter_map(|e| {
            let d = &e.detail;
            let who = if let Some(em) = d["email"].as_str() {
                em.to_string()
            } else if let Some(u) = d["user"].as_str() {
                email(u.trim_start_matches('u').parse().ok()?)
            } else {
                email(
                    d["membership"]
                        .as_str()?
                        .trim_start_matches("OM")
                        .parse()
                        .ok()?,
                )
            };
            Some((e.api.clone(), who))
        })
        .collect()
}

/// A copy of `examples/acme` (without its `.teamsync/` working copies), so the checkout
/// stays clean. It sits where it sits in this repository, `examples/acme` under a folder
/// holding `.git`, so its committed CODEOWNERS (whose paths are relative to the
/// repository's root) is as current in the copy as in the checkout.
pub fn copy_example() -> Repo {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme");
    let mut repo = Repo::new(&[]);
    std::fs::create_dir_all(repo.dir.path().join(".git")).expect("mkdir .git");
    repo.root = repo.dir.path().join("examples/acme");
    std::fs::create_dir_all(repo.path()).expect("mkdir");
    copy_tree(&src, repo.path());
    repo
}

/// Copies a folder recursively, leaving out `.teamsync/`.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let name = entry.file_name();
        if name == ".teamsync" {
            continue;
        }
        let target = to.join(&name);
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Runs the binary on `repo` from an async test (off the runtime's threads, so an
/// in-process sandbox keeps answering), with the token variable `token` set: (exit code,
/// stdout, stderr).
pub async fn run_async(
    repo: &Repo,
    token: (&str, &str),
    args: &[&str],
) -> (Option<i32>, String, String) {
    run_async_with(repo, &[token], args).await
}

/// [`run_async`] with several variables set (one token per provider, say).
pub async fn run_async_with(
    repo: &Repo,
    vars: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, String, String) {
    let dir = repo.path().to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::cargo_bin("teamsync")
            .expect("binary")
            .args(&args)
            .arg("--config")
            .arg(dir)
            .envs(vars)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .timeout(std::time::Duration::from_secs(240))
            .output()
            .expect("run")
    })
    .await
    .expect("join");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
