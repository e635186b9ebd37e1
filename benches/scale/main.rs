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

mod measure;
mod modes;
mod world;

use measure::*;
use modes::*;
use world::*;

/// The emulator runs in this process, on the cores teamsync uses: it gets the binary's
/// allocator (src/main.rs), so it costs what `teamsync sandbox serve` costs per answer
/// rather than what glibc's allocator adds (about two fifths of its CPU in a plan).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";
const LATENCY_MS: u64 = 20;
const PARALLELISM: usize = 16;

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
