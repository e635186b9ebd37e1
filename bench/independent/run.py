#!/usr/bin/env python3
"""Peak-RSS benchmark of teamsync against the independent emulator.

    python3 bench/independent/run.py [--bin PATH] [--scale F] [--latency-ms N] [--parallelism 16]
                                     [--rounds N] [--keep] [--emulator-arg=--flag ...]

Writes, in a temp dir, the emulator's seed and teamsync's config (the formulas of
benches/scale/world.rs: sizes_at, email, members_of, drifted, roster, write_config), starts the
emulator, and runs: plan (no drift, expect 0), plan --out plan.json on the drift config
(expect 2), apply plan.json --allow-removals (expect 0), plan (expect 0). Each child's peak
RSS is VmHWM from /proc/PID/status, sampled every 2 ms.
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORG = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11"
FIRST = ["Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances",
         "Edsger", "Radia", "Donald", "Sophie", "Tim", "Hedy", "John", "Annie", "Niklaus", "Joan",
         "Guido", "Mary", "Bjarne", "Evelyn", "James", "Carol", "Leslie", "Shafi", "Yukihiro", "Anita"]
LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
        "Allen", "Dijkstra", "Perlman", "Knuth", "Wilson", "Berners-Lee", "Lamarr", "McCarthy", "Easley",
        "Wirth", "Clarke", "van Rossum", "Keller", "Stroustrup", "Boyd", "Gosling", "Shaw", "Lamport",
        "Goldwasser", "Matsumoto", "Borg", "Okafor", "Nakamura", "Fischer", "Silva", "Kowalski", "Haddad"]


# ---- the scenario: same formulas as benches/scale/world.rs -------------------------------------

def rust_round(x):
    return math.floor(x + 0.5)  # f64::round: half away from zero (x >= 0 here)


def sizes_at(f):
    n = lambda x: max(1, rust_round(x * f))
    return dict(users=n(20_000), groups=n(1_000), group_size=40, campaigns=n(100), campaign_size=200,
                teams=n(300), team_size=30)


def email(i):
    return "u%06d@acme.com" % i


def members_of(c, size, users, salt):
    return sorted({(c * 7919 + j * 104_729 + salt) % users for j in range(size)})


def drifted(members, users, c):
    out = {m for j, m in enumerate(members) if j % 20 != 7}
    for k in range(-(-len(members) // 20)):
        out.add((c * 31 + k * 613 + 17) % users)
    return sorted(out)


def roster(s):
    return "people:\n" + "".join("  p%d: {email: %s}\n" % (i, email(i)) for i in range(s["users"]))


def write_config(d, bases, s, drift):
    pb, gb, cf = bases
    root = ("version: 1\nproviders:\n"
            "  pb: {kind: pixiebrix, organization: %s, endpoint: \"%s\", token_env: BENCH_TOKEN}\n"
            "  docs: {kind: gitbook, organization: acme, endpoint: \"%s/v1\", token_env: BENCH_TOKEN}\n"
            "  cms: {kind: contentful, organization: c1, endpoint: \"%s\", token_env: BENCH_TOKEN}\n"
            "include: [people.yaml, resources.yaml]\n") % (ORG, pb, gb, cf)
    with open(os.path.join(d, "teamsync.yaml"), "w") as f:
        f.write(root)
    with open(os.path.join(d, "people.yaml"), "w") as f:
        f.write(roster(s) + "organization:\n  provider: pb\n  roster: additive\n")
    lst = lambda m: ", ".join("p%d" % i for i in m)
    pick = lambda m, c: drifted(m, s["users"], c) if drift else m
    r = ["groups:\n"]
    for g in range(s["groups"]):
        r.append("  - {provider: pb, name: \"Group %04d\", members: [%s]}\n"
                 % (g, lst(pick(members_of(g, s["group_size"], s["users"], 1), g))))
    r.append("campaigns:\n")
    for c in range(s["campaigns"]):
        ms = ["{person: p%d, data: {Unit: U%d}}" % (i, i % 7)
              for i in pick(members_of(c, s["campaign_size"], s["users"], 2), c)]
        r.append("  - provider: pb\n    name: \"Campaign %03d\"\n    members: [%s]\n" % (c, ", ".join(ms)))
    r.append("teams:\n")
    for t in range(s["teams"]):
        r.append("  - {provider: docs, name: \"Team %03d\", members: [%s]}\n"
                 % (t, lst(pick(members_of(t, s["team_size"], s["users"], 3), t))))
        r.append("  - {provider: cms, name: \"Team %03d\", members: [%s]}\n"
                 % (t, lst(pick(members_of(t, s["team_size"], s["users"], 4), t))))
    with open(os.path.join(d, "resources.yaml"), "w") as f:
        f.write("".join(r))


def seed_of(s):
    """The live world equal to the non-drift config, in the emulator's own seed format."""
    users = s["users"]
    people = [{"email": email(i), "first_name": FIRST[i % len(FIRST)],
               "last_name": LAST[(i // len(FIRST)) % len(LAST)]} for i in range(users)]
    gb_role = lambda i: "admin" if i % 997 == 0 else "edit" if i % 5 == 0 else "comment" if i % 11 == 0 else "read"
    cf_role = lambda i: "admin" if i % 1499 == 0 else "developer" if i % 9 == 0 else "member"
    return {
        "format": "teamsync-independent-seed/1",
        "id_seed": 20261207,
        "epoch": "2023-03-01T09:00:00Z",
        "people": people,
        "pixiebrix": {
            "organization": {"id": ORG, "name": "Acme", "scope": "@acme", "default_role": 1,
                             "enable_invitations": True, "is_enterprise": True},
            "self": {"email": "teamsync-svc@acme.com", "name": "teamsync (service account)",
                     "service_account": True, "role": 2},
            "extra_members": [{"email": "deploy-key-7f3a@acme.com", "name": "Deployment key (CRM)",
                               "deployment_key_account": True, "role": 4}],
            "verified_domains": [],
            "members": [{"p": i, "role": 2 if i % 2500 == 0 else 3 if i % 13 == 0 else 1} for i in range(users)],
            "groups": [{"name": "Group %04d" % g, "members": members_of(g, s["group_size"], users, 1)}
                       for g in range(s["groups"])],
            "campaigns": [{"name": "Campaign %03d" % c,
                           "members": [{"p": i, "data": {"Unit": "U%d" % (i % 7)}}
                                       for i in members_of(c, s["campaign_size"], users, 2)]}
                          for c in range(s["campaigns"])],
        },
        "gitbook": {
            "organization": {"id": "acme", "title": "Acme"},
            "self": {"email": "docs-admin@acme.com", "name": "Docs Admin", "role": "admin"},
            "members": [{"p": i, "role": gb_role(i)} for i in range(users)],
            "teams": [{"title": "Team %03d" % t,
                       "members": [{"p": i, "role": "member"} for i in members_of(t, s["team_size"], users, 3)]}
                      for t in range(s["teams"])],
        },
        "contentful": {
            "organization": {"id": "c1", "name": "Acme"},
            "self": {"email": "cms-owner@acme.com", "name": "Cms Owner", "role": "owner"},
            "members": [{"p": i, "role": cf_role(i)} for i in range(users)],
            "teams": [{"name": "Team %03d" % t, "description": "Editors of area %03d" % t,
                       "members": members_of(t, s["team_size"], users, 4)} for t in range(s["teams"])],
        },
    }


# ---- running and measuring --------------------------------------------------------------

def vm_hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def run_step(name, argv, workdir, env):
    out_path = os.path.join(workdir, "%s.stdout" % name)
    err_path = os.path.join(workdir, "%s.stderr" % name)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=workdir)
        peak = 0
        while True:
            v = vm_hwm_kb(p.pid)
            if v is not None and v > peak:
                peak = v
            if p.poll() is not None:
                break
            time.sleep(0.002)
        wall = time.monotonic() - t0
    with open(out_path, errors="replace") as f:
        stdout = f.read()
    with open(err_path, errors="replace") as f:
        stderr = f.read()
    lines = [l.strip() for l in (stdout + "\n" + stderr).splitlines() if l.strip()]
    summary = next((l for l in reversed(lines) if re.match(r"^(Plan:|No changes|Apply complete|Applied)", l)),
                   lines[-1] if lines else "")
    return {"step": name, "wall_s": wall, "peak_rss_mb": peak / 1024.0, "exit": p.returncode,
            "summary": summary, "stderr": err_path}


def start_emulator(workdir, seed_path, args, round_no, extra=()):
    ready = os.path.join(workdir, "emulator.ready")
    if os.path.exists(ready):
        os.remove(ready)
    cmd = [sys.executable, os.path.join(HERE, "emulator.py"), "--seed", seed_path,
           "--port-base", str(args.port_base), "--latency-ms", str(args.latency_ms),
           "--log", os.path.join(workdir, "requests-%s.log" % round_no),
           "--stats", os.path.join(workdir, "emulator-stats-%s.json" % round_no),
           "--ready-file", ready] + list(extra) + args.emulator_arg
    out = open(os.path.join(workdir, "emulator-%s.out" % round_no), "wb")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not os.path.exists(ready):
        if p.poll() is not None:
            raise SystemExit("emulator exited with %s; see %s" % (p.returncode, out.name))
        if time.monotonic() > deadline:
            p.kill()
            raise SystemExit("emulator did not start")
        time.sleep(0.05)
    return p, out


def stop_emulator(p, out):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    out.close()
    with open(out.name) as f:
        return f.read()


def one_round(args, workdir, round_no, s, bases):
    cfg = os.path.join(workdir, "config")
    os.makedirs(cfg, exist_ok=True)
    write_config(cfg, bases, s, drift=False)
    emu, emu_out = start_emulator(workdir, os.path.join(workdir, "seed.json"), args, round_no)
    env = dict(os.environ, BENCH_TOKEN="bench", NO_COLOR="1")
    common = ["--config", cfg, "--parallelism", str(args.parallelism)]
    plan_file = os.path.join(workdir, "plan-%d.json" % round_no)
    steps = []
    try:
        steps.append(run_step("r%d-1-plan" % round_no,
                              [args.bin, "plan", "--detailed-exitcode"] + common, workdir, env) | {"expect": 0})
        write_config(cfg, bases, s, drift=True)
        steps.append(run_step("r%d-2-plan-drift" % round_no,
                              [args.bin, "plan", "--detailed-exitcode", "--out", plan_file, "--force"] + common,
                              workdir, env) | {"expect": 2})
        steps.append(run_step("r%d-3-apply" % round_no,
                              [args.bin, "apply", plan_file, "--allow-removals"] + common, workdir, env)
                     | {"expect": 0})
        steps.append(run_step("r%d-4-plan-converged" % round_no,
                              [args.bin, "plan", "--detailed-exitcode"] + common, workdir, env) | {"expect": 0})
    finally:
        emu_text = stop_emulator(emu, emu_out)
    return steps, emu_text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument(
        "--bin",
        default=os.path.join(repo, "target", "release", "teamsync"),
        help="the teamsync binary (default: this checkout's `cargo build --release`)",
    )
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--parallelism", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--port-base", type=int, default=47100)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--emulator-arg", action="append", default=[],
                    help="pass a flag to emulator.py (repeatable), e.g. --emulator-arg=--contentful-rps=7")
    ap.add_argument("--scenario", choices=("memory", "lag", "unknown"), default="memory",
                    help="memory: the peak-RSS sequence (default); lag: --read-lag-ms checks; "
                         "unknown: --unknown-values checks (README)")
    ap.add_argument("--settle", default="1",
                    help="lag scenario: apply --settle SECS, shorter than the lag so that exit 3 is exercised "
                         "('default' passes none: teamsync's 30 s)")
    args = ap.parse_args()
    if args.scenario != "memory":
        import scenarios
        sys.exit(scenarios.main(args))

    s = sizes_at(args.scale)
    workdir = tempfile.mkdtemp(prefix="teamsync-indep-")
    print("dir: %s" % workdir)
    print("binary: %s (%s)" % (args.bin, subprocess.run([args.bin, "--version"], capture_output=True,
                                                         text=True).stdout.strip()))
    print("sizes: %s" % json.dumps(s))
    with open(os.path.join(workdir, "seed.json"), "w") as f:
        json.dump(seed_of(s), f, separators=(",", ":"))
    bases = ["http://127.0.0.1:%d" % (args.port_base + i) for i in range(3)]

    maxima, ok = [], True
    for r in range(1, args.rounds + 1):
        steps, emu_text = one_round(args, workdir, r, s, bases)
        print("round %d:" % r)
        for st in steps:
            good = st["exit"] == st["expect"]
            ok &= good
            print("  %-22s wall %7.2f s  peak RSS %7.1f MB  exit %d%s  | %s" % (
                st["step"], st["wall_s"], st["peak_rss_mb"], st["exit"],
                "" if good else " (expected %d; stderr: %s)" % (st["expect"], st["stderr"]), st["summary"]))
        for line in emu_text.splitlines():
            if line.startswith("emulator:") and ("requests" in line or "CPU" in line):
                print("  " + line)
        m = max(st["peak_rss_mb"] for st in steps)
        maxima.append(m)
        print("  max peak RSS: %.1f MB" % m)
        with open(os.path.join(workdir, "results-%d.json" % r), "w") as f:
            json.dump(steps, f, indent=1)
    if args.rounds > 1:
        print("max peak RSS over %d rounds: median %.1f MB, range %.1f - %.1f MB" % (
            args.rounds, statistics.median(maxima), min(maxima), max(maxima)))
    keep = args.keep or not ok
    print("dir: %s%s" % (workdir, " (kept)" if keep else " (removed; use --keep)"))
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
