//! Plan and apply at the scale of a 20,000-person company, against the sandbox with 20 ms
//! of latency per request and a rate limit that does not bind; then a plan against a
//! Contentful limited like the real one (7 requests/second, its own headers and 429s).
//! Run with `cargo bench --bench scale` (see docs/performance.md). Prints ratios measured
//! in this one run; asserts nothing about time.
//!
//! Scale: TEAMSYNC_BENCH_SCALE (default 1.0) multiplies every count, for quick runs.
//! TEAMSYNC_BENCH_MEMBERSHIPS=N runs only the large-plan mode: N PixieBrix group
//! memberships (groups of 1,000), its `validate` and its plans.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use teamsync::changeset::{DiffInput, diff};
use teamsync::model::*;
use teamsync::sandbox::{Knobs, Sandbox, Stats};

/// The emulator runs in this process, on the cores teamsync uses: it gets the binary's
/// allocator (src/main.rs), so it costs what `teamsync sandbox serve` costs per answer
/// rather than what glibc's allocator adds (about two fifths of its CPU in a plan).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";
const LATENCY_MS: u64 = 20;
const PARALLELISM: usize = 16;

struct Sizes {
    users: usize,
    groups: usize,
    group_size: usize,
    campaigns: usize,
    campaign_size: usize,
    teams: usize,
    team_size: usize,
}

fn sizes() -> Sizes {
    sizes_at(1.0)
}

/// The counts times `factor` (and times `TEAMSYNC_BENCH_SCALE`).
fn sizes_at(factor: f64) -> Sizes {
    let f: f64 = factor
        * std::env::var("TEAMSYNC_BENCH_SCALE")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(1.0);
    let n = |x: usize| ((x as f64 * f).round() as usize).max(1);
    Sizes {
        users: n(20_000),
        groups: n(1_000),
        group_size: 40,
        campaigns: n(100),
        campaign_size: 200,
        teams: n(300),
        team_size: 30,
    }
}

fn email(i: usize) -> String {
    format!("u{i:06}@acme.com")
}

/// Members of container `c` (of `size`), spread over the whole organization.
fn members_of(c: usize, size: usize, users: usize, salt: usize) -> Vec<usize> {
    (0..size)
        .map(|j| (c * 7919 + j * 104_729 + salt) % users)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Deterministic 5% drift: drop every 20th member and add one new member per 20.
fn drifted(members: &[usize], users: usize, c: usize) -> Vec<usize> {
    let mut out: BTreeSet<usize> = members
        .iter()
        .enumerate()
        .filter(|(j, _)| j % 20 != 7)
        .map(|(_, m)| *m)
        .collect();
    for k in 0..members.len().div_ceil(20) {
        out.insert((c * 31 + k * 613 + 17) % users);
    }
    out.into_iter().collect()
}

fn world(s: &Sizes) -> Value {
    let uid = |i: usize| format!("00000000-0000-4000-8000-{i:012}");
    let users: Vec<Value> = (0..s.users)
        .map(|i| json!({"id": uid(i), "name": format!("U{i}"), "email": email(i)}))
        .collect();
    let memberships: Vec<Value> = (0..s.users)
        .map(|i| json!({"id": 10 + i, "user": uid(i), "role": 1}))
        .collect();
    let groups: Vec<Value> = (0..s.groups)
        .map(|g| {
            let m: Vec<Value> = members_of(g, s.group_size, s.users, 1).iter().map(|i| json!({"id": format!("10000000-0000-4000-8000-{:012}", g * 100_000 + i), "email": email(*i)})).collect();
            json!({"id": format!("20000000-0000-4000-8000-{g:012}"), "name": format!("Group {g:04}"), "members": m})
        })
        .collect();
    let campaigns: Vec<Value> = (0..s.campaigns)
        .map(|c| {
            let m: Vec<Value> = members_of(c, s.campaign_size, s.users, 2)
                .iter()
                .map(|i| json!({"id": format!("30000000-0000-4000-8000-{:012}", c * 100_000 + i), "email": email(*i), "data": {"Unit": format!("U{}", i % 7)}}))
                .collect();
            json!({"id": format!("40000000-0000-4000-8000-{c:012}"), "name": format!("Campaign {c:03}"), "members": m})
        })
        .collect();
    let gb_members: Vec<Value> = (0..s.users).map(|i| json!({"id": format!("u{i}"), "name": format!("U{i}"), "email": email(i), "role": "read"})).collect();
    let gb_teams: Vec<Value> = (0..s.teams)
        .map(|t| json!({"id": format!("t{t}"), "title": format!("Team {t:03}"), "members": members_of(t, s.team_size, s.users, 3).iter().map(|i| json!({"user": format!("u{i}")})).collect::<Vec<_>>()}))
        .collect();
    let cf_users: Vec<Value> = (0..s.users)
        .map(|i| json!({"id": format!("U{i}"), "email": email(i)}))
        .collect();
    let cf_mems: Vec<Value> = (0..s.users)
        .map(|i| json!({"id": format!("OM{i}"), "user": format!("U{i}")}))
        .collect();
    let cf_teams: Vec<Value> = (0..s.teams)
        .map(|t| json!({"id": format!("T{t}"), "name": format!("Team {t:03}"), "members": members_of(t, s.team_size, s.users, 4).iter().map(|i| json!({"id": format!("TM{t}x{i}"), "membership": format!("OM{i}")})).collect::<Vec<_>>()}))
        .collect();
    json!({
        "pixiebrix": {"organizations": [{"id": ORG, "name": "Acme", "verified_domains": ["acme.com"], "users": users, "memberships": memberships, "groups": groups, "campaigns": campaigns}]},
        "gitbook": {"organizations": {"acme": {"members": gb_members, "teams": gb_teams}}},
        "contentful": {"organizations": {"c1": {"users": cf_users, "memberships": cf_mems, "teams": cf_teams}}}
    })
}

/// The `people:` block of every generated config: the whole 20,000-person roster.
fn roster(s: &Sizes) -> String {
    let mut people = String::from("people:\n");
    for i in 0..s.users {
        people.push_str(&format!("  p{i}: {{email: {}}}\n", email(i)));
    }
    people
}

/// A config of Contentful teams only, equal to the world (a plan with no changes).
fn write_cms_config(dir: &Path, base: &str, s: &Sizes) {
    let root = format!(
        "version: 1\nproviders:\n  cms: {{kind: contentful, organization: c1, endpoint: \"{base}\", token_env: BENCH_TOKEN}}\ninclude: [people.yaml, resources.yaml]\n"
    );
    std::fs::write(dir.join("teamsync.yaml"), root).unwrap();
    std::fs::write(dir.join("people.yaml"), roster(s)).unwrap();
    let mut r = String::from("teams:\n");
    for t in 0..s.teams {
        let members: Vec<String> = members_of(t, s.team_size, s.users, 4)
            .iter()
            .map(|i| format!("p{i}"))
            .collect();
        r.push_str(&format!(
            "  - {{provider: cms, name: \"Team {t:03}\", members: [{}]}}\n",
            members.join(", ")
        ));
    }
    std::fs::write(dir.join("resources.yaml"), r).unwrap();
}

/// The latency of the second plan run, for information: nearer what a CI runner sees of a
/// SaaS API than the 20 ms of the main rounds.
const FAR_LATENCY_MS: u64 = 100;

/// The plan with no changes once more, against a sandbox answering in 100 ms. What
/// teamsync adds to the latency floor (loading the configuration, its CPU per answer, the
/// emulator's on the same cores) is about fixed, so this shows how much of the main
/// rounds' ratio those fixed costs are. Returns wall / floor of the busiest API.
fn far_run(rt: &tokio::runtime::Runtime, s: &Sizes) -> f64 {
    let handle = start(rt, world(s), not_binding(FAR_LATENCY_MS));
    let dir = tempfile::tempdir().unwrap();
    let (_, wall, _) = clean_plan(&handle, dir.path(), s, "plan at 100 ms", FAR_LATENCY_MS);
    wall
}

/// Dependency depth of issue 33's pacing floor: who-am-I and the directory, then the
/// containers, then their members.
const PACING_DEPTH: u32 = 3;

/// Issue 33 item 5: the 5,000-person no-change plan, `TEAMSYNC_BENCH_PACING_RUNS` times
/// (default 5) at 20 ms and at 100 ms a request, against the busiest provider's floor
/// latency x (3 + its requests / parallelism); with each run's `TEAMSYNC_TIMINGS` line,
/// which says where the time outside requests goes.
fn pacing_run(rt: &tokio::runtime::Runtime) {
    let s = sizes_at(0.25);
    let runs: usize = std::env::var("TEAMSYNC_BENCH_PACING_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    println!(
        "pacing (issue 33): {} users; {runs} plans with no changes at each latency; floor = latency x ({PACING_DEPTH} + the busiest API's requests / {PARALLELISM})",
        s.users
    );
    let mut verdicts = Vec::new();
    for (latency_ms, target) in [(LATENCY_MS, 1.5), (FAR_LATENCY_MS, 1.2)] {
        let handle = start(rt, world(&s), not_binding(latency_ms));
        let dir = tempfile::tempdir().unwrap();
        write_config(dir.path(), &handle.base_url(), &s, false);
        let par = PARALLELISM.to_string();
        let mut ratios = Vec::new();
        let mut outside = Vec::new();
        for i in 1..=runs {
            let before = handle.stats();
            let r = run(dir.path(), &plan_args(&par));
            let c = counted(&before, &handle.stats());
            let busiest = c.per_api.values().copied().max().unwrap_or(0);
            let floor = floor(latency_ms, PACING_DEPTH, busiest);
            let ratio = r.wall.as_secs_f64() / floor.as_secs_f64();
            ratios.push(ratio);
            let timings = r.timings().unwrap_or("timings: (none printed)");
            // What is not the requests' own span: before the first, after the last.
            if let Some(span) = requests_span(timings) {
                outside.push(r.wall.as_secs_f64() - span);
            }
            // teamsync and the emulator share this machine's cores: their CPU over the
            // cores bounds the wall as the latency does (for information).
            let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
            println!(
                "  {latency_ms:>3} ms, run {i}: wall {:.2}s / floor {:.2}s = {ratio:.2}x; requests {} (busiest {busiest}); CPU teamsync {:.2}s + sandbox {:.2}s over {cores} cores = {:.2}s; exit {}",
                r.wall.as_secs_f64(),
                floor.as_secs_f64(),
                c.total,
                r.cpu.as_secs_f64(),
                r.sandbox_cpu.as_secs_f64(),
                (r.cpu + r.sandbox_cpu).as_secs_f64() / cores,
                r.code
            );
            println!("          {timings}");
        }
        ratios.sort_by(f64::total_cmp);
        outside.sort_by(f64::total_cmp);
        let mid = ratios[ratios.len() / 2];
        let verdict = if mid <= target { "met" } else { "MISSED" };
        println!(
            "  {latency_ms:>3} ms: median wall / busiest floor {mid:.2}x [{:.2} - {:.2}], target <= {target}x {verdict}; median time outside the requests' span {:.2}s",
            ratios[0],
            ratios[ratios.len() - 1],
            outside.get(outside.len() / 2).copied().unwrap_or(f64::NAN)
        );
        verdicts.push((latency_ms, mid, target, verdict));
    }
    println!(
        "
targets (issue 33 item 5), medians measured in this run:"
    );
    for (latency_ms, mid, target, verdict) in verdicts {
        println!(
            "  no-change plan at {latency_ms:>3} ms / busiest floor {mid:>5.2}x   target <= {target}x   {verdict}"
        );
    }
}

/// The seconds of the `requests …` part of a timings line.
fn requests_span(timings: &str) -> Option<f64> {
    let at = timings.find(" requests ")? + " requests ".len();
    timings[at..].split(' ').next()?.parse().ok()
}

/// The sandbox's knobs for runs whose rate limit never binds: `latency_ms` a request and
/// 10,000 requests a minute per token per API.
fn not_binding(latency_ms: u64) -> Knobs {
    Knobs {
        latency_ms,
        rate_limit: 10_000,
        rate_window_secs: 60,
        ..Knobs::default()
    }
}

/// Starts an emulator of `world` (the bench's JSON) with `knobs`.
fn start(
    rt: &tokio::runtime::Runtime,
    world: Value,
    knobs: Knobs,
) -> teamsync::sandbox::SandboxHandle {
    rt.block_on(Sandbox::start(
        serde_json::from_value(world).unwrap(),
        knobs,
        None,
    ))
    .unwrap()
}

/// The plan with no changes against `handle`: writes the config, runs it and prints its
/// row. Returns (requests / minimum, wall / floor of the busiest API) and the run.
fn clean_plan(
    handle: &teamsync::sandbox::SandboxHandle,
    dir: &Path,
    s: &Sizes,
    name: &str,
    latency_ms: u64,
) -> (f64, f64, Run) {
    write_config(dir, &handle.base_url(), s, false);
    let before = handle.stats();
    let par = PARALLELISM.to_string();
    let clean = run(dir, &plan_args(&par));
    let c = counted(&before, &handle.stats());
    let (requests, wall) = report(Row {
        name,
        latency_ms,
        requests: c.total,
        minimum: min_plan_reads(s),
        depth: 2,
        run: &clean,
        counted: &c,
    });
    (requests, wall, clean)
}

/// A plan's arguments: JSON, the exit code that tells changes apart, `--parallelism`.
fn plan_args(parallelism: &str) -> [&str; 6] {
    [
        "plan",
        "--format",
        "json",
        "--detailed-exitcode",
        "--parallelism",
        parallelism,
    ]
}

/// Contentful's documented limit, enforced by the sandbox per second with its headers.
const CONTENTFUL_RPS: u32 = 7;

/// A plan against a Contentful limited to 7/s: 500 teams of 30 need 505 reads, about 72 s
/// at that pace. Returns (wall / (requests / limit), share of requests answered 429).
fn limited_run(rt: &tokio::runtime::Runtime) -> (f64, f64) {
    let s = Sizes {
        users: 2_000,
        groups: 1,
        group_size: 1,
        campaigns: 1,
        campaign_size: 1,
        teams: std::env::var("TEAMSYNC_BENCH_LIMITED_TEAMS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(500),
        team_size: 30,
    };
    let knobs = Knobs {
        latency_ms: LATENCY_MS,
        rate_limits: [("contentful".to_string(), (CONTENTFUL_RPS, 1))].into(),
        ..Knobs::default()
    };
    let handle = start(rt, world(&s), knobs);
    let dir = tempfile::tempdir().unwrap();
    write_cms_config(dir.path(), &handle.base_url(), &s);
    let par = PARALLELISM.to_string();
    let run = run(
        dir.path(),
        &["plan", "--detailed-exitcode", "--parallelism", &par],
    );
    let stats = handle.stats();
    let requests = stats.total;
    let ideal = requests as f64 / f64::from(CONTENTFUL_RPS);
    let wall = run.wall.as_secs_f64();
    let share = stats.throttled as f64 / requests.max(1) as f64;
    println!(
        "Contentful at {CONTENTFUL_RPS}/s: plan of {} teams x {}: {requests} requests ({} answered 429 = {:.2}%) in {wall:.1}s; requests / limit = {ideal:.1}s; wall / that = {:.3}x; peak RSS {:.1} MB; exit {}",
        s.teams,
        s.team_size,
        stats.throttled,
        share * 100.0,
        wall / ideal.max(1e-9),
        run.max_rss_kb as f64 / 1024.0,
        run.code
    );
    (wall / ideal.max(1e-9), share * 100.0)
}

fn write_config(dir: &Path, base: &str, s: &Sizes, drift: bool) {
    let root = format!(
        "version: 1\nproviders:\n  pb: {{kind: pixiebrix, organization: {ORG}, endpoint: \"{base}\", token_env: BENCH_TOKEN}}\n  docs: {{kind: gitbook, organization: acme, endpoint: \"{base}/v1\", token_env: BENCH_TOKEN}}\n  cms: {{kind: contentful, organization: c1, endpoint: \"{base}\", token_env: BENCH_TOKEN}}\ninclude: [people.yaml, resources.yaml]\n"
    );
    std::fs::write(dir.join("teamsync.yaml"), root).unwrap();
    let mut people = roster(s);
    people.push_str("organization:\n  provider: pb\n  roster: additive\n");
    std::fs::write(dir.join("people.yaml"), people).unwrap();
    let list = |m: &[usize]| {
        m.iter()
            .map(|i| format!("p{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let pick = |m: Vec<usize>, c: usize| if drift { drifted(&m, s.users, c) } else { m };
    let mut r = String::from("groups:\n");
    for g in 0..s.groups {
        r.push_str(&format!(
            "  - {{provider: pb, name: \"Group {g:04}\", members: [{}]}}\n",
            list(&pick(members_of(g, s.group_size, s.users, 1), g))
        ));
    }
    r.push_str("campaigns:\n");
    for c in 0..s.campaigns {
        let members: Vec<String> = pick(members_of(c, s.campaign_size, s.users, 2), c)
            .iter()
            .map(|i| format!("{{person: p{i}, data: {{Unit: U{}}}}}", i % 7))
            .collect();
        r.push_str(&format!(
            "  - provider: pb\n    name: \"Campaign {c:03}\"\n    members: [{}]\n",
            members.join(", ")
        ));
    }
    r.push_str("teams:\n");
    for t in 0..s.teams {
        r.push_str(&format!(
            "  - {{provider: docs, name: \"Team {t:03}\", members: [{}]}}\n",
            list(&pick(members_of(t, s.team_size, s.users, 3), t))
        ));
        r.push_str(&format!(
            "  - {{provider: cms, name: \"Team {t:03}\", members: [{}]}}\n",
            list(&pick(members_of(t, s.team_size, s.users, 4), t))
        ));
    }
    std::fs::write(dir.join("resources.yaml"), r).unwrap();
}

struct Run {
    wall: Duration,
    /// CPU (user + system) of teamsync, as last sampled before it exited.
    cpu: Duration,
    /// CPU of this process meanwhile: the in-process sandbox, on the same two cores.
    sandbox_cpu: Duration,
    max_rss_kb: i64,
    code: i32,
    stdout: String,
    /// teamsync's stderr (shown on the bench's own stderr too), whose last line is its
    /// `TEAMSYNC_TIMINGS` line.
    stderr: String,
}

impl Run {
    /// The `timings:` line teamsync printed, if any.
    fn timings(&self) -> Option<&str> {
        self.stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("timings: "))
    }
}

/// User + system CPU of a process from its `/proc/…/stat` (fields 14 and 15, in ticks).
fn cpu_of(stat_file: &str) -> Option<Duration> {
    let text = std::fs::read_to_string(stat_file).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_millis(ticks * 1000 / hz))
}

/// Runs the binary and samples its peak RSS (`VmHWM`) every 2 ms until it exits. wait4's
/// `ru_maxrss` cannot be used: a child forked from this process (which holds the whole
/// sandbox world) carries this process's high-water mark across `exec`.
fn run(dir: &Path, args: &[&str]) -> Run {
    let out_path = dir.join("stdout.txt");
    let err_path = dir.join("stderr.txt");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_teamsync"))
        .args(args)
        .args(
            std::env::var("TEAMSYNC_BENCH_VERBOSE")
                .is_ok()
                .then_some("-v"),
        )
        .arg("--config")
        .arg(dir)
        .env("BENCH_TOKEN", "bench")
        .env("TEAMSYNC_TIMINGS", "1")
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let stat_file = format!("/proc/{}/stat", child.id());
    let mut max_rss_kb = 0;
    let mut cpu = Duration::ZERO;
    let sandbox_before = cpu_of("/proc/self/stat");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        cpu = cpu_of(&stat_file).unwrap_or(cpu);
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        {
            max_rss_kb = max_rss_kb.max(kb);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    let sandbox_cpu = match (sandbox_before, cpu_of("/proc/self/stat")) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    Run {
        wall,
        cpu,
        sandbox_cpu,
        max_rss_kb,
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(out_path).unwrap_or_default(),
        stderr: {
            let text = std::fs::read_to_string(err_path).unwrap_or_default();
            eprint!("{text}");
            text
        },
    }
}

/// The fewest reads the three APIs allow for what the config touches. Each provider with
/// a declared container also has its organization directory read (who may join, issue
/// 16) and its token's own account asked for (who-am-I, never removed): PixieBrix's
/// directory is its roster plus the open invitations, GitBook's the organization members,
/// Contentful's the organization memberships with their users.
fn min_plan_reads(s: &Sizes) -> u64 {
    let pages = |n: usize, per: usize| n.div_ceil(per).max(1) as u64;
    let who_am_i = 1;
    let pb = pages(s.users, 1000)
        + 1 // open invitations
        + who_am_i
        + pages(s.groups, 1000)
        + s.groups as u64 * pages(s.group_size, 1000)
        + pages(s.campaigns, 1000)
        + s.campaigns as u64 * pages(s.campaign_size, 1000);
    let teams = s.teams > 0;
    let gb = pages(s.teams, 1000)
        + s.teams as u64 * pages(s.team_size, 1000)
        + u64::from(teams) * (pages(s.users, 1000) + who_am_i);
    let cf = pages(s.teams, 100)
        + s.teams as u64 * pages(s.team_size, 100)
        + u64::from(teams) * (pages(s.users, 100) + who_am_i);
    pb + gb + cf
}

/// The fewest writes the APIs allow for a plan, per `docs/providers/API_NOTES.md` (bulk
/// where it exists).
fn min_writes(plan: &Value) -> u64 {
    let mut n = 0;
    for c in plan["changes"].as_array().into_iter().flatten() {
        let provider = c["key"]["provider"].as_str().unwrap_or("");
        let kind = c["key"]["kind"].as_str().unwrap_or("");
        let count = |t: &str| {
            c["members"]
                .as_array()
                .map_or(0, |m| m.iter().filter(|x| x["action"]["type"] == t).count())
                as u64
        };
        let (adds, removes, data) = (count("add"), count("remove"), count("set_data"));
        n += match (provider, kind) {
            ("pb", "group") => u64::from(adds > 0) + removes,
            ("pb", "campaign") => u64::from(adds + data > 0) + u64::from(removes > 0),
            ("docs", _) => u64::from(adds + removes + count("set_role") > 0),
            _ => adds + removes,
        };
    }
    n
}

/// Requests per API between two snapshots of the sandbox's counters, and how many of
/// them were not GETs. Route templates tell the APIs apart: `/api/…` is PixieBrix,
/// `/v1/…` GitBook, `/organizations/…` Contentful.
#[derive(Default)]
struct Counted {
    per_api: BTreeMap<&'static str, u64>,
    writes: u64,
    total: u64,
}

/// The read-back apply makes to verify what it did ("nothing is reported done that was
/// not verified"): each changed container's member list once, one page at these sizes.
/// Contentful adds need no lookup: the plan's directory read gave each organization
/// membership id.
fn min_readback(plan: &Value) -> u64 {
    plan["changes"].as_array().map_or(0, |c| c.len() as u64)
}

fn counted(before: &Stats, after: &Stats) -> Counted {
    let mut c = Counted::default();
    for (route, n) in &after.requests {
        let n = n - before.requests.get(route).copied().unwrap_or(0);
        let path = route.split_once(' ').map_or("", |(_, p)| p);
        let api = if path.starts_with("/api/") {
            "PixieBrix"
        } else if path.starts_with("/v1/") {
            "GitBook"
        } else {
            "Contentful"
        };
        *c.per_api.entry(api).or_default() += n;
        if !route.starts_with("GET ") {
            c.writes += n;
        }
        c.total += n;
    }
    c
}

/// The latency floor of the issue: latency x (dependency depth + requests / concurrency),
/// with `requests` the minimum the APIs allow and concurrency the `--parallelism` of 16.
fn floor(latency_ms: u64, depth: u32, requests: u64) -> Duration {
    Duration::from_millis(latency_ms) * (depth + requests.div_ceil(PARALLELISM as u64) as u32)
}

struct Row<'a> {
    name: &'a str,
    /// The sandbox's latency per request, milliseconds.
    latency_ms: u64,
    requests: u64,
    minimum: u64,
    depth: u32,
    run: &'a Run,
    counted: &'a Counted,
}

/// Prints one row; returns (requests / minimum, wall / floor of the busiest API).
fn report(row: Row) -> (f64, f64) {
    let floor_all = floor(row.latency_ms, row.depth, row.minimum);
    // Each provider has its own 16 requests in flight, so the busiest one bounds the
    // run more tightly than all requests over 16: reported alongside, for information.
    let busiest = row.counted.per_api.iter().max_by_key(|(_, n)| **n);
    let floor_busiest = busiest.map_or(floor_all, |(_, n)| floor(row.latency_ms, row.depth, *n));
    println!(
        "{:<20} requests {:>5} / minimum {:>5} = {:.3}x   wall {:>6.2}s / floor {:>5.2}s = {:.2}x   peak RSS {:>5.1} MB   exit {}",
        row.name,
        row.requests,
        row.minimum,
        row.requests as f64 / row.minimum.max(1) as f64,
        row.run.wall.as_secs_f64(),
        floor_all.as_secs_f64(),
        row.run.wall.as_secs_f64() / floor_all.as_secs_f64(),
        row.run.max_rss_kb as f64 / 1024.0,
        row.run.code
    );
    let per_api: Vec<String> = row
        .counted
        .per_api
        .iter()
        .map(|(api, n)| format!("{api} {n}"))
        .collect();
    println!(
        "{:<20} by API: {}; busiest API alone: floor {:.2}s, wall/that = {:.2}x",
        "",
        per_api.join(", "),
        floor_busiest.as_secs_f64(),
        row.run.wall.as_secs_f64() / floor_busiest.as_secs_f64()
    );
    // teamsync and the emulator share this machine's cores: their CPU over the cores is
    // a floor of its own, which the latency floor does not see (for information).
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let cpu_floor = (row.run.cpu + row.run.sandbox_cpu).as_secs_f64() / cores;
    println!(
        "{:<20} CPU: teamsync {:.2}s, sandbox {:.2}s (both on this machine's cores); CPU floor (both / {cores} cores) {cpu_floor:.2}s, wall/that = {:.2}x",
        "",
        row.run.cpu.as_secs_f64(),
        row.run.sandbox_cpu.as_secs_f64(),
        row.run.wall.as_secs_f64() / cpu_floor.max(f64::EPSILON)
    );
    (
        row.requests as f64 / row.minimum.max(1) as f64,
        row.run.wall.as_secs_f64() / floor_busiest.as_secs_f64(),
    )
}

fn diff_cpu() -> (usize, Duration) {
    let (resources, per) = (1_000, 1_000);
    let mut desired = DesiredState::default();
    let mut live = LiveState::default();
    for r in 0..resources {
        let key = ResourceKey::new("pb", ResourceKind::Group, format!("G{r}"));
        let members: BTreeMap<MemberKey, DesiredMember> = (0..per)
            .map(|m| {
                (
                    MemberKey::Email(
                        Email::parse(&format!("m{}@acme.com", (r + m * 7) % 200_000)).unwrap(),
                    ),
                    DesiredMember::default(),
                )
            })
            .collect();
        let live_members: Vec<LiveMember> = (0..per)
            .filter(|m| m % 20 != 0)
            .map(|m| LiveMember {
                email: Some(
                    Email::parse(&format!(
                        "m{}@acme.com",
                        (r + m * 7 + usize::from(m % 50 == 1)) % 200_000
                    ))
                    .unwrap(),
                ),
                membership_id: Some(m.to_string().into()),
                ..LiveMember::default()
            })
            .collect();
        live.resources.insert(
            key.clone(),
            LiveResource {
                description: None,
                key: key.clone(),
                id: format!("id{r}"),
                members: live_members,
                pending_invites: BTreeSet::new(),
                who_am_i: Default::default(),
                uncounted: false,
            },
        );
        desired.resources.insert(
            key.clone(),
            DesiredResource {
                description: None,
                max_removals: None,
                key,
                previously: vec![],
                mode: Mode::Exact,
                members,
                organization: None,
            },
        );
    }
    let providers: BTreeMap<String, ProviderSettings> = [(
        "pb".to_string(),
        ProviderSettings::new("pb", ProviderKind::Pixiebrix, "o"),
    )]
    .into();
    let cpu = || {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // The process's CPU clock, not the thread's: the diff digests its fingerprints on
        // threads of its own, and their CPU is the diff's too. Nothing else runs in the
        // process meanwhile (the sandboxes are idle).
        // SAFETY: a valid timespec pointer for the process's CPU clock.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    };
    let before = cpu();
    let plan = diff(DiffInput {
        desired: &desired,
        live: &live,
        providers: &providers,
        policy: &Policy::default(),
        today: teamsync::engine::today_date(),
    });
    let spent = cpu() - before;
    std::hint::black_box(&plan);
    (resources * per, spent)
}

fn main() {
    let s = sizes();
    if std::env::var_os("TEAMSYNC_BENCH_YAML").is_some() {
        yaml_run(&s);
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if std::env::var_os("TEAMSYNC_BENCH_PACING").is_some() {
        pacing_run(&rt);
        return;
    }
    if let Some(n) = std::env::var("TEAMSYNC_BENCH_MEMBERSHIPS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        memberships_run(&rt, n);
        return;
    }
    let knobs = not_binding(LATENCY_MS);
    let dir = tempfile::tempdir().unwrap();
    let world = world(&s);
    if std::env::var_os("TEAMSYNC_BENCH_KEEP").is_some() {
        // For profiling by hand: `teamsync sandbox serve --state DIR/world.json`.
        println!(
            "keeping the generated configuration and world.json in {}",
            dir.path().display()
        );
        std::fs::write(dir.path().join("world.json"), world.to_string()).unwrap();
    }
    let handle = start(&rt, world, knobs);
    println!(
        "teamsync scale benchmark: {} users; PixieBrix {} groups x {} and {} campaigns x {} (with data); GitBook and Contentful {} teams x {} each",
        s.users, s.groups, s.group_size, s.campaigns, s.campaign_size, s.teams, s.team_size
    );
    println!(
        "sandbox: {LATENCY_MS} ms per request, rate limit 10,000 requests/min per token per API; client --parallelism {PARALLELISM} per provider\n"
    );
    let rounds: usize = std::env::var("TEAMSYNC_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let mut all: Vec<Round> = Vec::new();
    for r in 1..=rounds {
        if r > 1 {
            // The same starting world for every round.
            handle.reset();
        }
        println!("round {r} of {rounds}");
        all.push(round(&handle, dir.path(), &s));
        println!();
    }

    let far_wall = far_run(&rt, &s);
    println!();

    let (limited_wall, limited_429) = limited_run(&rt);
    println!();

    let (memberships, cpu) = diff_cpu();
    println!("diff alone: {memberships} memberships in {cpu:.2?} of CPU");
    let throttled = handle.stats().throttled;
    println!("throttled requests (429) in the last round: {throttled}");

    let median = |f: &dyn Fn(&Round) -> Vec<f64>| {
        let mut v: Vec<f64> = all.iter().flat_map(f).collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    println!(
        "\ntargets (issue 15): median over {rounds} rounds (both plans of each round for the plan rows) [lowest - highest], measured in this run; floor = max(latency floor, requests / rate limit), latency floor = latency x (depth + the busiest API's requests / parallelism)"
    );
    let one = |x: f64| (x, x, x);
    let rows: [(&str, Spread, f64, &str); 7] = [
        (
            "plan requests / minimum",
            median(&|r| r.plan_requests.to_vec()),
            1.05,
            "x",
        ),
        (
            "plan wall / busiest floor",
            median(&|r| r.plan_wall.to_vec()),
            1.2,
            "x",
        ),
        (
            "apply wall / busiest floor",
            median(&|r| vec![r.apply_wall]),
            1.5,
            "x",
        ),
        ("peak RSS", median(&|r| vec![r.peak_mb]), 100.0, " MB"),
        (
            "7/s: wall / (requests / limit)",
            one(limited_wall),
            1.1,
            "x",
        ),
        ("7/s: requests answered 429", one(limited_429), 1.0, " %"),
        (
            "diff of 1,000,000 memberships",
            (cpu.as_secs_f64(), cpu.as_secs_f64(), cpu.as_secs_f64()),
            1.0,
            " s CPU",
        ),
    ];
    for (what, (mid, low, high), limit, unit) in rows {
        let verdict = if mid <= limit { "met" } else { "MISSED" };
        println!(
            "  {what:<30} {mid:>7.2}{unit:<6} [{low:.2} - {high:.2}]   target <= {limit}{unit:<6} {verdict}"
        );
    }
    println!(
        "  (information) plan wall / busiest floor at {FAR_LATENCY_MS} ms: {far_wall:.2}x (one plan with no changes; the target is judged at {LATENCY_MS} ms above)"
    );
    let converged = all.iter().all(|r| r.converged);
    println!(
        "  every round converged (plan after apply empty): {}",
        if converged { "yes" } else { "NO" }
    );
    if std::env::var_os("TEAMSYNC_BENCH_KEEP").is_some() {
        let _ = dir.keep();
    }
}

/// Median, lowest and highest of a figure over the rounds.
type Spread = (f64, f64, f64);

/// One round's ratios.
struct Round {
    /// The plan with no changes, then the plan with drift.
    plan_requests: [f64; 2],
    plan_wall: [f64; 2],
    apply_wall: f64,
    peak_mb: f64,
    converged: bool,
}

/// Plan with no changes, plan with 5% drift (saved), apply of that plan, plan again.
fn round(handle: &teamsync::sandbox::SandboxHandle, dir: &Path, s: &Sizes) -> Round {
    let par = PARALLELISM.to_string();
    let plan_args = plan_args(&par);
    let (clean_requests, clean_wall, clean) =
        clean_plan(handle, dir, s, "plan, no changes", LATENCY_MS);

    write_config(dir, &handle.base_url(), s, true);
    let plan_file = dir.join("plan.json");
    let plan_file_arg = plan_file.display().to_string();
    let mut drift_args = plan_args.to_vec();
    drift_args.extend(["--out", &plan_file_arg]);
    let before = handle.stats();
    let drift = run(dir, &drift_args);
    let c = counted(&before, &handle.stats());
    let (drift_requests, drift_wall) = report(Row {
        name: "plan, 5% drift",
        latency_ms: LATENCY_MS,
        requests: c.total,
        minimum: min_plan_reads(s),
        depth: 2,
        run: &drift,
        counted: &c,
    });
    let plan: Value = serde_json::from_str(&drift.stdout).unwrap_or(Value::Null);
    println!("{:<20} changes: {}", "", plan["summary"]);

    let before = handle.stats();
    let applied = run(
        dir,
        &[
            "apply",
            &plan_file_arg,
            "--parallelism",
            &par,
            "--allow-removals",
        ],
    );
    let c = counted(&before, &handle.stats());
    let (min_writes, min_readback) = (min_writes(&plan), min_readback(&plan));
    // The stale check re-reads what a plan reads; the writes; the read-back.
    let minimum = min_plan_reads(s) + min_writes + min_readback;
    let (_, apply_wall) = report(Row {
        name: "apply of the drift",
        latency_ms: LATENCY_MS,
        requests: c.total,
        minimum,
        // Stale check (a list, then its members), a lookup or fresh read, then the write.
        depth: 4,
        run: &applied,
        counted: &c,
    });
    let reads = c.total - c.writes;
    println!(
        "{:<20} writes {} / minimum {min_writes} = {:.3}x; reads {reads} / minimum {} (stale check {} + read-back {min_readback})",
        "",
        c.writes,
        c.writes as f64 / min_writes.max(1) as f64,
        min_plan_reads(s) + min_readback,
        min_plan_reads(s),
    );

    let after = run(dir, &plan_args);
    println!(
        "{:<20} plan after apply: exit {} ({})",
        "",
        after.code,
        if after.code == 0 {
            "converged"
        } else {
            "NOT converged"
        }
    );

    Round {
        plan_requests: [clean_requests, drift_requests],
        plan_wall: [clean_wall, drift_wall],
        apply_wall,
        peak_mb: [&clean, &drift, &applied, &after]
            .iter()
            .map(|r| r.max_rss_kb as f64 / 1024.0)
            .fold(0.0, f64::max),
        converged: after.code == 0,
    }
}

/// Members per group in the large-plan mode.
const LARGE_GROUP: usize = 1_000;
/// Groups per included file in the large-plan mode (each file about 0.8 MB).
const GROUPS_PER_FILE: usize = 100;

/// The large-plan config: the 20,000-person roster and `groups` groups of 1,000, split
/// into files of 100 groups (as a repository of that size would be).
fn write_large_config(dir: &Path, base: &str, s: &Sizes, drift: bool) {
    let root = format!(
        "version: 1\nproviders:\n  pb: {{kind: pixiebrix, organization: {ORG}, endpoint: \"{base}\", token_env: BENCH_TOKEN}}\ninclude: [people.yaml, \"groups/*.yaml\"]\n"
    );
    std::fs::write(dir.join("teamsync.yaml"), root).unwrap();
    std::fs::write(dir.join("people.yaml"), roster(s)).unwrap();
    let groups_dir = dir.join("groups");
    let _ = std::fs::remove_dir_all(&groups_dir);
    std::fs::create_dir_all(&groups_dir).unwrap();
    for (f, start) in (0..s.groups).step_by(GROUPS_PER_FILE).enumerate() {
        let mut r = String::from("groups:\n");
        for g in start..(start + GROUPS_PER_FILE).min(s.groups) {
            let members = members_of(g, s.group_size, s.users, 1);
            let members = if drift {
                drifted(&members, s.users, g)
            } else {
                members
            };
            let list: Vec<String> = members.iter().map(|i| format!("p{i}")).collect();
            r.push_str(&format!(
                "  - {{provider: pb, name: \"Group {g:04}\", members: [{}]}}\n",
                list.join(", ")
            ));
        }
        std::fs::write(groups_dir.join(format!("g{f:03}.yaml")), r).unwrap();
    }
}

/// TEAMSYNC_BENCH_MEMBERSHIPS=N: `validate`, a plan with no changes and a plan with 5%
/// drift (saved with `--out`) of N group memberships, each timed with its peak RSS.
fn memberships_run(rt: &tokio::runtime::Runtime, n: usize) {
    let s = Sizes {
        users: 20_000,
        groups: n.div_ceil(LARGE_GROUP).max(1),
        group_size: LARGE_GROUP,
        campaigns: 0,
        campaign_size: 1,
        teams: 0,
        team_size: 1,
    };
    let knobs = Knobs {
        latency_ms: LATENCY_MS,
        rate_limit: 100_000,
        rate_window_secs: 60,
        ..Knobs::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let world = world(&s);
    if std::env::var_os("TEAMSYNC_BENCH_KEEP").is_some() {
        std::fs::write(dir.path().join("world.json"), world.to_string()).unwrap();
    }
    let handle = start(rt, world, knobs);
    let memberships = s.groups * s.group_size;
    println!(
        "large plan: {} people, {} PixieBrix groups x {} = {memberships} memberships, in {} files",
        s.users,
        s.groups,
        s.group_size,
        s.groups.div_ceil(GROUPS_PER_FILE) + 2
    );
    let par = PARALLELISM.to_string();
    let plan_args = plan_args(&par);
    let line = |what: &str, r: &Run| {
        println!(
            "  {what:<24} wall {:>6.2}s   CPU {:>5.2}s   peak RSS {:>6.1} MB   exit {}",
            r.wall.as_secs_f64(),
            r.cpu.as_secs_f64(),
            r.max_rss_kb as f64 / 1024.0,
            r.code
        );
    };
    write_large_config(dir.path(), &handle.base_url(), &s, false);
    let validate = run(dir.path(), &["validate"]);
    line("validate", &validate);
    let clean = run(dir.path(), &plan_args);
    line("plan, no changes", &clean);
    write_large_config(dir.path(), &handle.base_url(), &s, true);
    let plan_file = dir.path().join("plan.json").display().to_string();
    let mut drift_args = plan_args.to_vec();
    drift_args.extend(["--out", &plan_file]);
    let drift = run(dir.path(), &drift_args);
    line("plan, 5% drift (--out)", &drift);
    let peak = [&clean, &drift]
        .iter()
        .map(|r| r.max_rss_kb as f64 / 1024.0)
        .fold(0.0, f64::max);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("\ntargets (issue 15), measured in this run:");
    println!(
        "  plan peak RSS            {peak:>7.1} MB   target <= 400 MB   {}",
        verdict(peak <= 400.0)
    );
    let v = validate.wall.as_secs_f64();
    println!(
        "  validate wall            {v:>7.2} s    target <= 2 s      {}",
        verdict(v <= 2.0)
    );
    if std::env::var_os("TEAMSYNC_BENCH_KEEP").is_some() {
        println!("keeping the configuration in {}", dir.path().display());
        let _ = dir.keep();
    }
}

/// `TEAMSYNC_BENCH_YAML=1`: how much of loading the rounds' configuration is the YAML crate
/// itself. The same files the rounds write (before drift); each figure is the median of
/// seven runs in this process, one after another, so all three share one allocator (the
/// bench's, not the binary's: `validate` of the binary is faster).
fn yaml_run(s: &Sizes) {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "http://127.0.0.1:8787", s, false);
    let text = std::fs::read_to_string(dir.path().join("resources.yaml")).unwrap();
    let median = |f: &mut dyn FnMut()| {
        let mut times: Vec<Duration> = (0..7)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        times.sort();
        times[times.len() / 2]
    };
    let events = median(&mut || {
        for event in serde_saphyr::granit_parser::Parser::new_from_str(&text) {
            assert!(event.is_ok());
        }
    });
    let plain = median(&mut || {
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert!(value.is_object());
    });
    let load = median(&mut || {
        assert!(teamsync::config::load(dir.path()).is_ok());
    });
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "YAML: resources.yaml ({} KB), the largest of the 3 files the 20,000-person plan loads",
        text.len() / 1024
    );
    println!(
        "  parser events only (granit-parser)                 {:>7.1} ms",
        ms(events)
    );
    println!(
        "  serde-saphyr into serde_json::Value, no positions  {:>7.1} ms",
        ms(plain)
    );
    println!(
        "  teamsync's whole load of the 3 files               {:>7.1} ms = {:.2}x the plain parse of the largest",
        ms(load),
        ms(load) / ms(plain)
    );
}
