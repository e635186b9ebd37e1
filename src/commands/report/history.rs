//! The configuration's git history, for `teamsync report`: which commit last changed the
//! lines that declare each access, when, by whom, and who the commit message says
//! approved it. It runs the `git` binary (no git library): one `git rev-parse` for the
//! checkout and whether it is shallow, one `git status` for uncommitted files, one
//! `git blame --porcelain` per configuration file, one `git log` for the messages of
//! every commit that granted something, and, only when an entry's lines come from several
//! commits, one `git rev-list` for the order between them. Spawning processes is the command layer's job, so
//! this lives here and hands `review` plain data (`review::Grants`).
//!
//! `git blame` annotates the file as it is on disk against `HEAD`, so its line numbers are
//! those the configuration was loaded with, and a line `HEAD` does not have (an uncommitted
//! edit) comes back as not committed instead of being misattributed. A shallow clone is
//! not blamed at all: its oldest commit would take the blame for every older line.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use crate::config::{MemberLine, MemberLines};
use crate::model::{MemberKey, ResourceKey};
use crate::review::{Grant, Granted, Grants, HistoryState};

/// What the history gave.
#[derive(Debug, Default)]
pub struct History {
    /// `git rev-parse HEAD`, when the folder is a checkout with a commit.
    pub head: Option<String>,
    /// Whether a configuration file differs from `HEAD` or is untracked (only with `head`).
    pub dirty: Option<bool>,
    pub state: HistoryState,
    /// Why `state` is not `Full`.
    pub reason: Option<String>,
    /// Filled only when `state` is `Full`.
    pub grants: Grants,
}

impl History {
    fn without(
        head: Option<String>,
        dirty: Option<bool>,
        state: HistoryState,
        why: String,
    ) -> History {
        History {
            head,
            dirty,
            state,
            reason: Some(why),
            grants: Grants::new(),
        }
    }
}

/// The output of one git run, or why it did not run.
enum Run {
    Ok(Vec<u8>),
    Failed(String),
    Missing,
    CannotStart(String),
}

fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        // Messages are matched in English; nothing may wait for a terminal.
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Run::Missing,
        Err(e) => return Run::CannotStart(e.to_string()),
    };
    // Fed from a thread so a large input and a large output cannot block each other.
    let feeder = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            Some(std::thread::spawn(move || {
                use std::io::Write as _;
                let _ = pipe.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let out = child.wait_with_output();
    if let Some(f) = feeder {
        let _ = f.join();
    }
    match out {
        Ok(o) if o.status.success() => Run::Ok(o.stdout),
        Ok(o) => Run::Failed(
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| l.trim_start_matches("fatal: ").to_string())
                .unwrap_or_else(|| format!("git {} exited with {}", args[0], o.status)),
        ),
        Err(e) => Run::CannotStart(e.to_string()),
    }
}

const NOT_INSTALLED: &str = "git is not installed (no `git` on PATH)";

/// Reads the history of the configuration in `dir`: `files` are every configuration file
/// (as `review::config_files` gives them: shown relative to `dir`, and the path loaded),
/// `lines` finds where each declared membership is written. It is called only when there
/// is a whole history to blame (a folder outside git or a shallow CI checkout costs no
/// second read of the files); its error (the files changed since they were loaded) is
/// the report's.
pub fn read(
    dir: &Path,
    files: &[(String, PathBuf)],
    lines: impl FnOnce() -> Result<MemberLines, String>,
) -> Result<History, String> {
    let (head, shallow) = match git(dir, &["rev-parse", "--is-shallow-repository", "HEAD"], None) {
        Run::Ok(out) => {
            let out = String::from_utf8_lossy(&out);
            // `--is-shallow-repository` first, then the commit `HEAD` names.
            let mut it = out.lines().map(str::trim);
            let shallow = it.next().unwrap_or("").to_string();
            (it.next().map(str::to_string), shallow)
        }
        Run::Missing => {
            return Ok(History::without(
                None,
                None,
                HistoryState::None,
                NOT_INSTALLED.into(),
            ));
        }
        Run::CannotStart(e) => {
            return Ok(History::without(
                None,
                None,
                HistoryState::None,
                format!("cannot run git: {e}"),
            ));
        }
        Run::Failed(why) => {
            let why = if why.contains("not a git repository") {
                "not a git repository".to_string()
            } else if matches!(git(dir, &["rev-parse", "--git-dir"], None), Run::Ok(_)) {
                "the repository has no commit yet".to_string()
            } else {
                why
            };
            return Ok(History::without(None, None, HistoryState::None, why));
        }
    };
    let Some(head) = head.filter(|h| !h.is_empty()) else {
        return Ok(History::without(
            None,
            None,
            HistoryState::None,
            "HEAD does not resolve".into(),
        ));
    };
    let shown: Vec<&str> = files.iter().map(|(s, _)| s.as_str()).collect();
    let mut status_args = vec!["status", "--porcelain", "--"];
    status_args.extend(&shown);
    let dirty = match git(dir, &status_args, None) {
        Run::Ok(out) => Some(!out.iter().all(u8::is_ascii_whitespace)),
        _ => None,
    };
    let head = Some(head);
    match shallow.as_str() {
        "false" => {}
        "true" => {
            return Ok(History::without(
                head,
                dirty,
                HistoryState::Shallow,
                "a shallow clone: its oldest commit would be blamed for every line older than \
                 it, so no grant is reported; fetch the whole history (`git fetch --unshallow`, \
                 or `fetch-depth: 0` on actions/checkout)"
                    .into(),
            ));
        }
        _ => {
            return Ok(History::without(
                head,
                dirty,
                HistoryState::None,
                "this git cannot tell whether the clone is shallow (git 2.15 or later is needed)"
                    .into(),
            ));
        }
    }
    let lines = lines()?;
    Ok(match grants(dir, files, &lines) {
        Ok(grants) => History {
            head,
            dirty,
            state: HistoryState::Full,
            reason: None,
            grants,
        },
        Err(why) => History::without(head, dirty, HistoryState::None, why),
    })
}

/// One commit as blame describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Commit {
    author: String,
    author_mail: String,
    author_time: i64,
    committer: String,
    committer_mail: String,
    committer_time: i64,
    /// Blame stopped here (with `--root`, only at a shallow or a range's edge).
    boundary: bool,
}

/// What blame says of each line of one file.
#[derive(Debug, Default, PartialEq, Eq)]
struct Blame {
    /// Line `n` (1-based) → the commit at index `lines[n - 1]` of `commits`.
    lines: Vec<Option<usize>>,
    /// Commit ids, in the order first seen.
    shas: Vec<String>,
    commits: Vec<Commit>,
}

fn is_uncommitted(sha: &str) -> bool {
    sha.bytes().all(|b| b == b'0')
}

/// Parses `git blame --porcelain`.
fn parse_blame(out: &str) -> Blame {
    let mut blame = Blame::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut current: Option<(usize, usize)> = None;
    for line in out.split('\n') {
        if let Some(_content) = line.strip_prefix('\t') {
            if let Some((commit, final_line)) = current.take()
                && final_line >= 1
            {
                if blame.lines.len() < final_line {
                    blame.lines.resize(final_line, None);
                }
                blame.lines[final_line - 1] = Some(commit);
            }
            continue;
        }
        let mut words = line.splitn(2, ' ');
        let head = words.next().unwrap_or("");
        let rest = words.next().unwrap_or("");
        let is_sha = matches!(head.len(), 40 | 64) && head.bytes().all(|b| b.is_ascii_hexdigit());
        if is_sha {
            let final_line = rest
                .split(' ')
                .nth(1)
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0);
            let i = *index.entry(head.to_string()).or_insert_with(|| {
                blame.shas.push(head.to_string());
                blame.commits.push(Commit::default());
                blame.shas.len() - 1
            });
            current = Some((i, final_line));
            continue;
        }
        let Some((i, _)) = current else { continue };
        let c = &mut blame.commits[i];
        match head {
            "author" => c.author = rest.to_string(),
            "author-mail" => c.author_mail = rest.to_string(),
            "author-time" => c.author_time = rest.trim().parse().unwrap_or(0),
            "committer" => c.committer = rest.to_string(),
            "committer-mail" => c.committer_mail = rest.to_string(),
            "committer-time" => c.committer_time = rest.trim().parse().unwrap_or(0),
            "boundary" => c.boundary = true,
            _ => {}
        }
    }
    blame
}

/// `None`: the file is not in `HEAD` (untracked, or added but not committed).
fn blame(dir: &Path, shown: &str) -> Result<Option<Blame>, String> {
    match git(
        dir,
        &["blame", "--porcelain", "--root", "-M", "-C", "--", shown],
        None,
    ) {
        Run::Ok(out) => Ok(Some(parse_blame(&String::from_utf8_lossy(&out)))),
        Run::Failed(why) => {
            let in_head = format!("HEAD:./{shown}");
            match git(dir, &["cat-file", "-e", &in_head], None) {
                Run::Failed(_) => Ok(None),
                _ => Err(format!("git blame failed on {shown}: {why}")),
            }
        }
        Run::Missing => Err(NOT_INSTALLED.into()),
        Run::CannotStart(e) => Err(format!("cannot run git: {e}")),
    }
}

/// Blames every file that declares a membership, a few at a time.
fn blame_all(dir: &Path, shown: &[&str]) -> Result<HashMap<String, Option<Blame>>, String> {
    let results = crate::model::parallel::map_in_order(shown, 4, |file| blame(dir, file));
    let mut out = HashMap::new();
    for (file, r) in shown.iter().zip(results) {
        out.insert(file.to_string(), r?);
    }
    Ok(out)
}

/// The commits a membership's lines were last changed in (each once, as its blame and the
/// commit's index there), or why there is none.
type Verdict<'a> = Result<Vec<(&'a Blame, usize)>, Granted>;

/// The one commit granting a membership (its blame and the commit's index there).
type Picked<'a> = Result<(&'a Blame, usize), Granted>;

/// What the blames say about one membership's lines: not committed if any line is not
/// in `HEAD`, unknown if any line has no commit blame can vouch for, else the commits
/// that last changed them (the grant is the newest: see `newest`).
fn judge<'a>(
    spans: &[MemberLine],
    shown_of: &HashMap<&Path, &'a str>,
    blames: &'a HashMap<String, Option<Blame>>,
) -> Verdict<'a> {
    let mut unknown = spans.is_empty();
    let mut found: Vec<(&Blame, usize)> = Vec::new();
    for span in spans {
        let Some(blame) = shown_of
            .get(span.file.as_path())
            .and_then(|s| blames.get(*s))
        else {
            unknown = true;
            continue;
        };
        let Some(blame) = blame else {
            return Err(Granted::NotCommitted);
        };
        for line in span.first..=span.last {
            let Some(i) = line
                .checked_sub(1)
                .and_then(|l| blame.lines.get(l).copied().flatten())
            else {
                unknown = true;
                continue;
            };
            if is_uncommitted(&blame.shas[i]) {
                return Err(Granted::NotCommitted);
            }
            if blame.commits[i].boundary {
                unknown = true;
                continue;
            }
            if !found.iter().any(|(b, j)| b.shas[*j] == blame.shas[i]) {
                found.push((blame, i));
            }
        }
    }
    if unknown || found.is_empty() {
        return Err(Granted::Unknown);
    }
    Ok(found)
}

/// The newest of several commits: the first in `rank` (`git rev-list --topo-order`, the
/// history's own order, which no clock can disturb), then by committer and author time
/// (for a commit `rank` lacks: one blame followed into another file, always older than
/// the commit that moved the line).
fn newest<'a>(
    found: &[(&'a Blame, usize)],
    rank: &HashMap<String, usize>,
) -> Option<(&'a Blame, usize)> {
    found.iter().copied().min_by_key(|(b, i)| {
        let c = &b.commits[*i];
        (
            rank.get(&b.shas[*i]).copied().unwrap_or(usize::MAX),
            std::cmp::Reverse((c.committer_time, c.author_time)),
        )
    })
}

/// Every commit of `HEAD` that touched one of `shown`, newest first (topological), with
/// its place in that order; empty if git cannot say (then time decides).
fn topo_rank(dir: &Path, shown: &[&str]) -> HashMap<String, usize> {
    let mut args = vec!["rev-list", "--topo-order", "HEAD", "--"];
    args.extend(shown);
    match git(dir, &args, None) {
        Run::Ok(out) => String::from_utf8_lossy(&out)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
            .map(|(i, sha)| (sha.to_string(), i))
            .collect(),
        _ => HashMap::new(),
    }
}

fn utc(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn person(name: &str, mail: &str) -> String {
    match (name.trim(), mail.trim()) {
        (n, "" | "<>") => n.to_string(),
        ("", m) => m.to_string(),
        (n, m) => format!("{n} {m}"),
    }
}

/// The `Reviewed-by:` and `Approved-by:` trailers of a commit message: `Key: value` lines
/// of its last paragraph (not the subject), a value continued on indented lines, keys
/// compared ignoring case; each approver once, in order.
pub fn approvers(message: &str) -> Vec<String> {
    let paragraphs: Vec<Vec<&str>> = message
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .collect::<Vec<_>>()
        .split(|l| l.trim().is_empty())
        .filter(|p| !p.is_empty())
        .map(<[&str]>::to_vec)
        .collect();
    if paragraphs.len() < 2 {
        return Vec::new();
    }
    let Some(last) = paragraphs.last() else {
        return Vec::new();
    };
    let mut trailers: Vec<(String, String)> = Vec::new();
    for line in last {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = trailers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            continue;
        }
        trailers.push((key.to_string(), value.trim().to_string()));
    }
    let mut out: Vec<String> = Vec::new();
    for (key, value) in trailers {
        let wanted =
            key.eq_ignore_ascii_case("Reviewed-by") || key.eq_ignore_ascii_case("Approved-by");
        if wanted && !value.is_empty() && !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// Every granting commit's message, in one `git log`: sha → message.
fn messages(dir: &Path, shas: &BTreeSet<&str>) -> Result<HashMap<String, String>, String> {
    if shas.is_empty() {
        return Ok(HashMap::new());
    }
    let mut input = String::new();
    for sha in shas {
        input.push_str(sha);
        input.push('\n');
    }
    let out = match git(
        dir,
        &[
            "log",
            "--no-walk=unsorted",
            "--stdin",
            "-z",
            "--format=%H%n%B",
        ],
        Some(input.as_bytes()),
    ) {
        Run::Ok(out) => out,
        Run::Failed(why) => return Err(format!("git log failed: {why}")),
        Run::Missing => return Err(NOT_INSTALLED.into()),
        Run::CannotStart(e) => return Err(format!("cannot run git: {e}")),
    };
    let text = String::from_utf8_lossy(&out);
    Ok(text
        .split('\0')
        .filter_map(|entry| {
            let (sha, body) = entry.trim_start_matches('\n').split_once('\n')?;
            Some((sha.trim().to_string(), body.to_string()))
        })
        .collect())
}

fn grants(dir: &Path, files: &[(String, PathBuf)], lines: &MemberLines) -> Result<Grants, String> {
    let shown_of: HashMap<&Path, &str> = files
        .iter()
        .map(|(s, p)| (p.as_path(), s.as_str()))
        .collect();
    let needed: BTreeSet<&str> = lines
        .values()
        .flat_map(|m| m.values())
        .flatten()
        .filter_map(|span| shown_of.get(span.file.as_path()).copied())
        .collect();
    let needed: Vec<&str> = needed.into_iter().collect();
    let blames = blame_all(dir, &needed)?;
    let mut judged: Vec<(&ResourceKey, &MemberKey, Verdict)> = Vec::new();
    for (resource, members) in lines {
        for (member, spans) in members {
            judged.push((resource, member, judge(spans, &shown_of, &blames)));
        }
    }
    // Only an entry whose lines come from several commits needs the history's order.
    let rank = if judged
        .iter()
        .any(|(_, _, v)| v.as_ref().is_ok_and(|f| f.len() > 1))
    {
        topo_rank(dir, &needed)
    } else {
        HashMap::new()
    };
    let judged: Vec<(&ResourceKey, &MemberKey, Picked)> = judged
        .into_iter()
        .map(|(r, m, v)| {
            (
                r,
                m,
                v.and_then(|f| newest(&f, &rank).ok_or(Granted::Unknown)),
            )
        })
        .collect();
    let shas: BTreeSet<&str> = judged
        .iter()
        .filter_map(|(_, _, j)| j.as_ref().ok().map(|(b, i)| b.shas[*i].as_str()))
        .collect();
    let messages = messages(dir, &shas)?;
    let mut made: HashMap<&str, Arc<Grant>> = HashMap::new();
    let mut out = Grants::new();
    for (resource, member, verdict) in judged {
        let granted = match verdict {
            Ok((blame, i)) => {
                let sha = blame.shas[i].as_str();
                let grant = made.entry(sha).or_insert_with(|| {
                    let c = &blame.commits[i];
                    Arc::new(Grant {
                        commit: sha.to_string(),
                        date: utc(c.author_time),
                        author: person(&c.author, &c.author_mail),
                        committer: person(&c.committer, &c.committer_mail),
                        committed_at: utc(c.committer_time),
                        approvers: messages.get(sha).map(|m| approvers(m)).unwrap_or_default(),
                    })
                });
                Granted::Commit(Arc::clone(grant))
            }
            Err(g) => g,
        };
        out.entry(resource.clone())
            .or_default()
            .insert(member.clone(), granted);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_of_the_last_paragraph_only() {
        let m = "Add alice to Writers\n\nReviewed-by: nobody, this is prose\n\nWhy: she writes\nReviewed-by: Erin <erin@acme.com>\nApproved-by: Mallory\n  <mallory@acme.com>\nreviewed-by: Erin <erin@acme.com>\nSigned-off-by: Bob <bob@acme.com>\n";
        assert_eq!(
            approvers(m),
            ["Erin <erin@acme.com>", "Mallory <mallory@acme.com>"]
        );
        assert!(
            approvers("Reviewed-by: Erin <erin@acme.com>\n").is_empty(),
            "a subject is no trailer"
        );
        assert!(approvers("Subject\n\nJust a body.\n").is_empty());
    }

    #[test]
    fn porcelain_lines_map_to_their_commits() {
        let a = "a".repeat(40);
        let z = "0".repeat(40);
        let out = format!(
            "{a} 1 1 2\nauthor Al\nauthor-mail <al@x>\nauthor-time 1700000000\nauthor-tz +0000\ncommitter Cy\ncommitter-mail <cy@x>\ncommitter-time 1700000100\ncommitter-tz +0000\nsummary s\nfilename f\n\tline one\n{a} 2 2\n\tline two\n{z} 3 3 1\nauthor Not Committed Yet\nauthor-mail <not.committed.yet>\nauthor-time 1700000200\nfilename f\n\tnew\n"
        );
        let b = parse_blame(&out);
        assert_eq!(b.lines, [Some(0), Some(0), Some(1)]);
        assert_eq!(b.commits[0].author, "Al");
        assert_eq!(b.commits[0].committer_time, 1_700_000_100);
        assert!(is_uncommitted(&b.shas[1]) && !is_uncommitted(&b.shas[0]));
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(person("Al", "<al@x>"), "Al <al@x>");
    }
}
