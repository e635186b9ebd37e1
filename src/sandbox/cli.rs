//! `teamsync sandbox serve`: the emulator's flags (kept beside the knobs they set, so
//! `cli.rs` only names the subcommand).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{
    Faults, GitbookInvitees, GitbookInvites, GitbookMemberships, Knobs, Variant, serve_blocking,
};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// JSON state file (see docs/sandbox.md).
    #[arg(long)]
    pub state: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,
    /// Write the world back to --state after every change.
    #[arg(long)]
    pub persist: bool,
    /// The time each API request takes to answer, milliseconds (the emulator's own work
    /// happens inside it).
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Random extra latency, 0..=N milliseconds.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Maximum page size served by every API.
    #[arg(long)]
    pub page_size: Option<usize>,
    /// At most N API requests at once; the rest wait.
    #[arg(long)]
    pub max_concurrency: Option<usize>,
    /// Requests per token per API per window.
    #[arg(long, default_value_t = 1_000_000)]
    pub rate_limit: u32,
    /// Rate-limit window, seconds.
    #[arg(long, default_value_t = 60)]
    pub rate_window: u64,
    /// Injected fault probability, KIND=P, repeatable; KIND is 500, 502, 503, 429, reset, slow or lost (a write carried out, its answer a 502).
    #[arg(long = "fault-rate", value_parser = parse_fault)]
    pub fault_rate: Vec<(String, f64)>,
    /// Seed for jitter, faults and ids.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Answer like a real API might where the notes only infer (repeatable); see
    /// docs/sandbox.md, "Variants".
    #[arg(long = "variant", value_enum, value_name = "VARIANT")]
    pub variants: Vec<Variant>,
    /// How GitBook's invite route (`POST …/invites`) answers.
    #[arg(long, value_enum, default_value_t = GitbookInvites::Available)]
    pub gitbook_invites: GitbookInvites,
    /// Whether a GitBook invitee stays pending until accepted or is a member at once.
    #[arg(long, value_enum, default_value_t = GitbookInvitees::Pending)]
    pub gitbook_invitees: GitbookInvitees,
    /// What `memberships` in GitBook's bulk team update means: the roles it names
    /// (`merge`, as the notes infer), or the team's whole role map (`replace`).
    #[arg(long, value_enum, default_value_t = GitbookMemberships::Merge)]
    pub gitbook_memberships: GitbookMemberships,
    /// Every who-am-I route answers 403 (a token that may not read its own account).
    #[arg(long)]
    pub who_am_i_forbidden: bool,
    /// Contentful invitation creates need `x-contentful-enable-alpha-feature:
    /// pending-org-membership` (else 400).
    #[arg(long)]
    pub contentful_strict_alpha_header: bool,
    /// Reads lag writes, `[API[:ROUTE]=]N` reads or `…=Tms` (repeatable): after each write
    /// to an API, reads of its lists answer as before the write (e.g. `pixiebrix=2`,
    /// `gitbook=500ms`, `pixiebrix:/api/groups/{group}/memberships/=3`).
    #[arg(long = "lag", value_name = "SPEC")]
    pub lag: Vec<super::lag::Lag>,
    /// Answers come from a cache whose entries live T ms, `[API[:ROUTE]=]Tms` (repeatable).
    #[arg(long = "stale-cache", value_name = "SPEC")]
    pub stale_cache: Vec<super::lag::StaleCache>,
}

fn parse_fault(s: &str) -> Result<(String, f64), String> {
    let (k, p) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KIND=P, got {s:?}"))?;
    let p: f64 = p.parse().map_err(|_| format!("bad probability {p:?}"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(format!("probability {p} is not within 0..=1"));
    }
    match k {
        "500" | "502" | "503" | "429" | "reset" | "slow" | "lost" => Ok((k.to_string(), p)),
        _ => Err(format!(
            "unknown fault kind {k:?} (expected 500, 502, 503, 429, reset, slow or lost)"
        )),
    }
}

impl ServeArgs {
    pub fn knobs(&self) -> Knobs {
        let mut faults = Faults::default();
        for (k, p) in &self.fault_rate {
            match k.as_str() {
                "500" => faults.status_500 = *p,
                "502" => faults.status_502 = *p,
                "503" => faults.status_503 = *p,
                "429" => faults.status_429 = *p,
                "reset" => faults.reset = *p,
                "lost" => faults.lost_answer = *p,
                _ => faults.slow_body = *p,
            }
        }
        Knobs {
            latency_ms: self.latency_ms,
            jitter_ms: self.jitter_ms,
            max_page_size: self.page_size,
            max_concurrency: self.max_concurrency,
            rate_limit: self.rate_limit,
            rate_window_secs: self.rate_window,
            faults,
            seed: self.seed,
            variants: self.variants.iter().copied().collect(),
            gitbook_invites: self.gitbook_invites,
            gitbook_invitees: self.gitbook_invitees,
            gitbook_memberships: self.gitbook_memberships,
            who_am_i_forbidden: self.who_am_i_forbidden,
            contentful_strict_alpha_header: self.contentful_strict_alpha_header,
            lag: self.lag.clone(),
            stale_cache: self.stale_cache.clone(),
            ..Knobs::default()
        }
    }
}

/// `teamsync sandbox serve`: runs until Ctrl-C.
pub fn serve(args: ServeArgs) -> ExitCode {
    match serve_blocking(&args.state, args.addr, args.knobs(), args.persist) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
