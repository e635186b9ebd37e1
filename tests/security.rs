//! Secrets and hostile servers: a canary token never appears in any output or plan file;
//! a redirect is never followed (so the token cannot travel to another host); a server
//! that accepts and then hangs makes teamsync fail with a clear message.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;

const CANARY: &str = "tok-c4n4ry-5ecret-77";

fn copy_example() -> Repo {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme");
    let repo = Repo::new(&[]);
    for rel in [
        "teamsync.yaml",
        "people.yaml",
        "live-state.json",
        "pixiebrix/organization.yaml",
        "pixiebrix/sales-ops.yaml",
        "pixiebrix/support.yaml",
        "pixiebrix/everyone.yaml",
        "pixiebrix/q3-rollout.yaml",
        "pixiebrix/support-pilot.yaml",
        "teams/docs-writers.yaml",
        "teams/docs-api-reviewers.yaml",
        "teams/cms-editors.yaml",
        "teams/cms-marketing.yaml",
    ] {
        let to = repo.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(src.join(rel), to).unwrap();
    }
    repo
}

fn run_with_canary(repo: &Repo, args: &[&str]) -> (i32, String) {
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(args)
        .arg("--config")
        .arg(repo.path())
        .env("PIXIEBRIX_TOKEN", CANARY)
        .env("GITBOOK_TOKEN", CANARY)
        .env("CONTENTFUL_TOKEN", CANARY)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_token_never_appears_in_output_or_plan_files() {
    let repo = copy_example();
    let plan_file = repo.path().join("plan.json");
    let p = plan_file.to_str().unwrap();
    let mut all = String::new();
    for args in [
        vec!["validate"],
        vec!["plan"],
        vec!["plan", "-vv"],
        vec!["plan", "--format", "json", "--out", p],
        vec!["plan", "--format", "markdown"],
        vec!["apply", p],
        vec!["apply", "--auto-approve"],
        vec![
            "import",
            "--provider",
            "docs",
            "--out",
            repo.path().join("imp").to_str().unwrap(),
        ],
    ] {
        let (code, text) = run_with_canary(&repo, &args);
        assert!(code == 0 || code == 1, "{args:?}: {code}\n{text}");
        all.push_str(&text);
    }
    all.push_str(&std::fs::read_to_string(&plan_file).unwrap());
    for entry in std::fs::read_dir(repo.path().join("imp"))
        .unwrap()
        .flatten()
    {
        all.push_str(&std::fs::read_to_string(entry.path()).unwrap());
    }
    assert!(!all.contains(CANARY), "the token leaked");
    assert!(all.contains("Plan:"), "the commands really ran");
    assert!(
        all.contains("teamsync: GET http://127.0.0.1:"),
        "-vv logs every request"
    );
}

/// A server that answers every request with a redirect to `target`, and one that counts
/// the requests it gets.
fn spawn(listener: TcpListener, reply: String, hits: Arc<AtomicUsize>) {
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            hits.fetch_add(1, Ordering::SeqCst);
            let _ = std::io::Write::write_all(&mut stream, reply.as_bytes());
        }
    });
}

#[test]
fn a_redirect_is_not_followed_so_the_token_stays_home() {
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let other_addr = other.local_addr().unwrap();
    let other_hits = Arc::new(AtomicUsize::new(0));
    spawn(
        other,
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]".into(),
        other_hits.clone(),
    );
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    let first_addr = first.local_addr().unwrap();
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nlocation: http://{other_addr}/api/stolen/\r\ncontent-length: 0\r\n\r\n"
    );
    spawn(first, redirect, Arc::new(AtomicUsize::new(0)));

    let root = root_config(
        &format!(
            "  pb:\n    kind: pixiebrix\n    organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11\n    endpoint: http://{first_addr}\n    token_env: PIXIEBRIX_TOKEN\n"
        ),
        "g.yaml",
    );
    let repo = Repo::new(&[
        ("teamsync.yaml", &root),
        ("g.yaml", "groups:\n  - name: G\n"),
    ]);
    let (code, text) = run_with_canary(&repo, &["plan"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("failed with 302") && text.contains("not followed"),
        "{text}"
    );
    assert_eq!(
        other_hits.load(Ordering::SeqCst),
        0,
        "nothing reached the other host"
    );
    assert!(!text.contains(CANARY));
}

#[test]
fn a_server_that_accepts_and_hangs_fails_with_a_clear_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(500) {
            held.push(stream); // accept, read nothing, answer nothing
        }
    });
    let root = root_config(
        &format!(
            "  pb:\n    kind: pixiebrix\n    organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11\n    endpoint: http://{addr}\n    token_env: PIXIEBRIX_TOKEN\n"
        ),
        "g.yaml",
    );
    let repo = Repo::new(&[
        ("teamsync.yaml", &root),
        ("g.yaml", "groups:\n  - name: G\n"),
    ]);
    let started = std::time::Instant::now();
    let (code, text) = run_with_canary(&repo, &["plan", "--timeout", "1"]);
    let elapsed = started.elapsed();
    assert_eq!(code, 1, "{text}");
    assert!(
        // The roster (who may join the group) and the groups are read side by side;
        // whichever gives up first is reported.
        text.contains("pb (pixiebrix): GET /api/")
            && text.contains(&format!(
                " failed: {addr} sent no answer within 1 s (--timeout)"
            ))
            && text.contains("(tried 6 times over"),
        "{text}"
    );
    // Six attempts of one second each, plus backoff between them.
    assert!(
        elapsed < std::time::Duration::from_secs(25),
        "gave up in {elapsed:?}"
    );
}
