//! Running teamsync and reading what it cost: a child process's wall, CPU and peak RSS,
//! the requests the sandbox counted, the floors a run is held against, and the report rows.

use super::*;

/// The seconds of the `requests …` part of a timings line.
pub(crate) fn requests_span(timings: &str) -> Option<f64> {
    let at = timings.find(" requests ")? + " requests ".len();
    timings[at..].split(' ').next()?.parse().ok()
}

/// The sandbox's knobs for runs whose rate limit never binds: `latency_ms` a request and
/// 10,000 requests a minute per token per API.
pub(crate) fn not_binding(latency_ms: u64) -> Knobs {
    Knobs {
        latency_ms,
        rate_limit: 10_000,
        rate_window_secs: 60,
        ..Knobs::default()
    }
}

/// Starts an emulator of `world` (the bench's JSON) with `knobs`.
pub(crate) fn start(
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
pub(crate) fn clean_plan(
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
pub(crate) fn plan_args(parallelism: &str) -> [&str; 6] {
    [
        "plan",
        "--format",
        "json",
        "--detailed-exitcode",
        "--parallelism",
        parallelism,
    ]
}

pub(crate) struct Run {
    pub(crate) wall: Duration,
    /// CPU (user + system) of teamsync, as last sampled before it exited.
    pub(crate) cpu: Duration,
    /// CPU of this process meanwhile: the in-process sandbox, on the same two cores.
    pub(crate) sandbox_cpu: Duration,
    pub(crate) max_rss_kb: i64,
    pub(crate) code: i32,
    pub(crate) stdout: String,
    /// teamsync's stderr (shown on the bench's own stderr too), whose last line is its
    /// `TEAMSYNC_TIMINGS` line.
    pub(crate) stderr: String,
}

impl Run {
    /// The `timings:` line teamsync printed, if any.
    pub(crate) fn timings(&self) -> Option<&str> {
        self.stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("timings: "))
    }
}

/// User + system CPU of a process from its `/proc/…/stat` (fields 14 and 15, in ticks).
pub(crate) fn cpu_of(stat_file: &str) -> Option<Duration> {
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
pub(crate) fn run(dir: &Path, args: &[&str]) -> Run {
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
pub(crate) fn min_plan_reads(s: &Sizes) -> u64 {
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
pub(crate) fn min_writes(plan: &Value) -> u64 {
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
pub(crate) struct Counted {
    pub(crate) per_api: BTreeMap<&'static str, u64>,
    pub(crate) writes: u64,
    pub(crate) total: u64,
}

/// The read-back apply makes to verify what it did ("nothing is reported done that was
/// not verified"): each changed container's member list once, one page at these sizes.
/// Contentful adds need no lookup: the plan's directory read gave each organization
/// membership id.
pub(crate) fn min_readback(plan: &Value) -> u64 {
    plan["changes"].as_array().map_or(0, |c| c.len() as u64)
}

pub(crate) fn counted(before: &Stats, after: &Stats) -> Counted {
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
pub(crate) fn floor(latency_ms: u64, depth: u32, requests: u64) -> Duration {
    Duration::from_millis(latency_ms) * (depth + requests.div_ceil(PARALLELISM as u64) as u32)
}

pub(crate) struct Row<'a> {
    pub(crate) name: &'a str,
    /// The sandbox's latency per request, milliseconds.
    pub(crate) latency_ms: u64,
    pub(crate) requests: u64,
    pub(crate) minimum: u64,
    pub(crate) depth: u32,
    pub(crate) run: &'a Run,
    pub(crate) counted: &'a Counted,
}

/// Prints one row; returns (requests / minimum, wall / floor of the busiest API).
pub(crate) fn report(row: Row) -> (f64, f64) {
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
