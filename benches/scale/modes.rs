//! The modes besides the main rounds: far latency, pacing (issue 33), Contentful at its
//! documented 7/s, the diff's CPU, the large plan of a million memberships, and the YAML load.

use super::*;

/// The latency of the second plan run, for information: nearer what a CI runner sees of a
/// SaaS API than the 20 ms of the main rounds.
pub(crate) const FAR_LATENCY_MS: u64 = 100;

/// The plan with no changes once more, against a sandbox answering in 100 ms. What
/// teamsync adds to the latency floor (loading the configuration, its CPU per answer, the
/// emulator's on the same cores) is about fixed, so this shows how much of the main
/// rounds' ratio those fixed costs are. Returns wall / floor of the busiest API.
pub(crate) fn far_run(rt: &tokio::runtime::Runtime, s: &Sizes) -> f64 {
    let handle = start(rt, world(s), not_binding(FAR_LATENCY_MS));
    let dir = tempfile::tempdir().unwrap();
    let (_, wall, _) = clean_plan(&handle, dir.path(), s, "plan at 100 ms", FAR_LATENCY_MS);
    wall
}

/// Dependency depth of issue 33's pacing floor: who-am-I and the directory, then the
/// containers, then their members.
pub(crate) const PACING_DEPTH: u32 = 3;

/// Issue 33 item 5: the 5,000-person no-change plan, `TEAMSYNC_BENCH_PACING_RUNS` times
/// (default 5) at 20 ms and at 100 ms a request, against the busiest provider's floor
/// latency x (3 + its requests / parallelism); with each run's `TEAMSYNC_TIMINGS` line,
/// which says where the time outside requests goes.
pub(crate) fn pacing_run(rt: &tokio::runtime::Runtime) {
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

/// Contentful's documented limit, enforced by the sandbox per second with its headers.
pub(crate) const CONTENTFUL_RPS: u32 = 7;

/// A plan against a Contentful limited to 7/s: 500 teams of 30 need 505 reads, about 72 s
/// at that pace. Returns (wall / (requests / limit), share of requests answered 429).
pub(crate) fn limited_run(rt: &tokio::runtime::Runtime) -> (f64, f64) {
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

pub(crate) fn diff_cpu() -> (usize, Duration) {
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

/// Members per group in the large-plan mode.
pub(crate) const LARGE_GROUP: usize = 1_000;
/// Groups per included file in the large-plan mode (each file about 0.8 MB).
pub(crate) const GROUPS_PER_FILE: usize = 100;

/// The large-plan config: the 20,000-person roster and `groups` groups of 1,000, split
/// into files of 100 groups (as a repository of that size would be).
pub(crate) fn write_large_config(dir: &Path, base: &str, s: &Sizes, drift: bool) {
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
pub(crate) fn memberships_run(rt: &tokio::runtime::Runtime, n: usize) {
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
pub(crate) fn yaml_run(s: &Sizes) {
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
