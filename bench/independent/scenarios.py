"""The lag and unknown scenarios of run.py (`--scenario lag|unknown`): checks of what
docs/trust.md promises, against the independent emulator's --read-lag-ms and
--unknown-values. Each check prints PASS, FAIL or INFO with its reason. The evidence is
the emulator's --effects log (one JSON line per change a write made: api, list, op,
member, and the request that made it) and its request log with --log-bodies.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import run

API_OF = {"pb": "pixiebrix", "docs": "gitbook", "cms": "contentful"}  # provider names in run.write_config


class Checks:
    def __init__(self):
        self.rows = []

    def add(self, name, ok, reason):
        tag = "INFO" if ok is None else "PASS" if ok else "FAIL"
        self.rows.append((tag, name, reason))
        print("  %-4s %s: %s" % (tag, name, reason), flush=True)

    def failed(self):
        return any(t == "FAIL" for t, _, _ in self.rows)


def declared(s, drift):
    """{(api, list): set(emails)} the config of run.write_config(drift) declares."""
    out = {}
    pick = lambda m, c: run.drifted(m, s["users"], c) if drift else m
    for g in range(s["groups"]):
        out[("pixiebrix", "group:Group %04d" % g)] = {
            run.email(i) for i in pick(run.members_of(g, s["group_size"], s["users"], 1), g)}
    for c in range(s["campaigns"]):
        out[("pixiebrix", "campaign:Campaign %03d" % c)] = {
            run.email(i) for i in pick(run.members_of(c, s["campaign_size"], s["users"], 2), c)}
    for t in range(s["teams"]):
        out[("gitbook", "team:Team %03d" % t)] = {
            run.email(i) for i in pick(run.members_of(t, s["team_size"], s["users"], 3), t)}
        out[("contentful", "team:Team %03d" % t)] = {
            run.email(i) for i in pick(run.members_of(t, s["team_size"], s["users"], 4), t)}
    people = {run.email(i) for i in range(s["users"])}
    for api in ("pixiebrix", "gitbook", "contentful"):
        out[(api, "roster")] = people
    return out


def read_effects(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def plan_removals(plan):
    """[(api, list, email)] every member removal (and container delete) a JSON plan proposes."""
    out = []
    for c in plan.get("changes", []):
        k = c.get("key", {})
        api = API_OF.get(k.get("provider"), k.get("provider"))
        lst = "roster" if k.get("kind") in ("organization", "roster") else "%s:%s" % (k.get("kind"), k.get("name"))
        if (c.get("action") or {}).get("type") == "delete":
            out.append((api, lst, "*"))
        for m in c.get("members", []) or []:
            if (m.get("action") or {}).get("type") == "remove":
                out.append((api, lst, ((m.get("member") or {}).get("email") or "?").lower()))
    return out


def plan_member_ops(plan):
    """[(api, list, op, email)] every member change a JSON plan proposes."""
    out = []
    for c in plan.get("changes", []):
        k = c.get("key", {})
        api = API_OF.get(k.get("provider"), k.get("provider"))
        lst = "roster" if k.get("kind") in ("organization", "roster") else "%s:%s" % (k.get("kind"), k.get("name"))
        for m in c.get("members", []) or []:
            out.append((api, lst, (m.get("action") or {}).get("type"),
                        ((m.get("member") or {}).get("email") or "?").lower()))
    return out


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def output(step):
    with open(step["stderr"].replace(".stderr", ".stdout"), errors="replace") as f:
        a = f.read()
    with open(step["stderr"], errors="replace") as f:
        b = f.read()
    return a + b


def log_lines_for(workdir, tag, effect):
    """The request-log line(s) of the request that made an effect (same method+path, same second)."""
    path = os.path.join(workdir, "requests-%s.log" % tag)
    if not os.path.exists(path) or not effect.get("req"):
        return []
    method, p = effect["req"].split(" ", 1)
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            parts = line.split(" ", 5)
            if len(parts) >= 5 and parts[2] == method and parts[3].split("?")[0] == p \
                    and abs(float(parts[0]) - effect["t"]) < 2:
                out.append(line.rstrip()[:600])
    return out


class World:
    """One emulator and one config dir; the steps run the binary against them."""

    def __init__(self, args, workdir, s, tag, extra):
        self.args, self.workdir, self.s, self.tag = args, workdir, s, tag
        self.cfg = os.path.join(workdir, "config-%s" % tag)
        os.makedirs(self.cfg, exist_ok=True)
        self.bases = ["http://127.0.0.1:%d" % (args.port_base + i) for i in range(3)]
        self.effects_path = os.path.join(workdir, "effects-%s.jsonl" % tag)
        extra = ["--effects", self.effects_path, "--log-bodies"] + list(extra)
        self.emu, self.emu_out = run.start_emulator(workdir, os.path.join(workdir, "seed.json"), args, tag, extra)
        self.env = dict(os.environ, BENCH_TOKEN="bench", NO_COLOR="1")
        self.n = 0

    def write_config(self, drift, edit=None):
        run.write_config(self.cfg, self.bases, self.s, drift)
        if edit:
            edit(self.cfg)

    def step(self, name, argv):
        self.n += 1
        common = ["--config", self.cfg, "--parallelism", str(self.args.parallelism)]
        st = run.run_step("%s-%d-%s" % (self.tag, self.n, name), [self.args.bin] + argv + common, self.workdir,
                          self.env)
        print("  step %-28s exit %d  %6.2f s  | %s" % (st["step"], st["exit"], st["wall_s"], st["summary"]),
              flush=True)
        return st

    def plan_json(self, name):
        out = os.path.join(self.workdir, "%s-%s.plan.json" % (self.tag, name))
        st = self.step(name, ["plan", "--detailed-exitcode", "--out", out, "--force"])
        st["plan"] = load_json(out)
        st["plan_path"] = out
        return st

    def effects(self):
        return read_effects(self.effects_path)

    def stop(self):
        text = run.stop_emulator(self.emu, self.emu_out)
        for line in text.splitlines():
            if line.startswith("emulator:") and ("requests" in line or "lag" in line):
                print("  " + line)
        return text


def settle_args(args):
    return [] if args.settle == "default" else ["--settle", str(args.settle)]


def lag_ms(args):
    for a in args.emulator_arg:
        m = re.match(r"--read-lag-ms=?(\d+(\.\d+)?)$", a)
        if m:
            return float(m.group(1)), []
    return 3000.0, ["--read-lag-ms", "3000"]


def removal_violations(effects, decl):
    bad = []
    for e in effects:
        if e["op"] in ("remove", "uninvite") and e["member"] in decl.get((e["api"], e["list"]), set()):
            bad.append(e)
    return bad


def redo_undo(effects):
    """Writes that repeat a change already made in the run, or reverse one."""
    seen, out = {}, []
    opposite = {"add": "remove", "remove": "add"}
    for e in effects:
        k = (e["api"], e["list"], e["member"])
        for prev in seen.get(k, []):
            if prev["op"] == e["op"] and e["op"] in ("add", "remove"):
                out.append(("redo", prev, e))
            elif opposite.get(prev["op"]) == e["op"]:
                out.append(("undo", prev, e))
        seen.setdefault(k, []).append(e)
    return out


def fmt_effect(e):
    return "%s %s %s %s (%s)" % (e["api"], e["list"], e["op"], e["member"], e.get("req"))


def lag_phase(args, workdir, s, chk, reapply):
    ms, extra = lag_ms(args)
    tag = "lag2" if reapply else "lag"
    print("%s: read lag %g ms, apply %s%s" % (tag, ms, " ".join(settle_args(args)) or "(default --settle)",
                                             "; then apply the lagging plan again" if reapply else ""))
    w = World(args, workdir, s, tag, extra)
    decl = declared(s, drift=True)
    pre = "reapply: " if reapply else ""
    try:
        w.write_config(drift=False)
        st = w.step("plan", ["plan", "--detailed-exitcode"])
        if not reapply:
            chk.add("L0 plan of the undrifted config", st["exit"] == 0, "exit %d (expect 0)" % st["exit"])
        w.write_config(drift=True)
        p = w.plan_json("plan-drift")
        if not reapply:
            chk.add("L1 drift plan", p["exit"] == 2 and p["plan"] is not None,
                    "exit %d (expect 2); %s" % (p["exit"], p["summary"]))
        a = w.step("apply", ["apply", p["plan_path"], "--allow-removals"] + settle_args(args))
        out = output(a)
        nyv = len(re.findall(r"not yet visible", out))
        m = re.search(r"^(Apply [^\n]*)$", out, re.M)
        ok = a["exit"] in (0, 3) and (a["exit"] != 3 or nyv > 0)
        chk.add(pre + "L2 apply exits 0 or 3, never 1", ok,
                "exit %d; %s; %d 'not yet visible' lines" % (a["exit"], m.group(1) if m else a["summary"], nyv))
        eff = w.effects()
        n_apply = len(eff)
        bad = removal_violations(eff, decl)
        chk.add(pre + "L3 no removal of a declared member was sent", not bad,
                "%d changes written, %d removals of declared members%s" % (
                    n_apply, len(bad), "".join("\n         " + fmt_effect(e) + "\n           " +
                                               "\n           ".join(log_lines_for(workdir, tag, e))
                                               for e in bad[:10])))
        ru = redo_undo(eff)
        chk.add(pre + "L4 apply wrote each change once (no redo, no undo)", not ru,
                "%d repeated or reversed writes%s" % (len(ru), "".join(
                    "\n         %s: %s then %s" % (k, fmt_effect(a_), fmt_effect(b_)) for k, a_, b_ in ru[:10])))
        t_plan = time.time()
        q = w.plan_json("plan-while-lagging")
        lagging = bool(eff) and (t_plan - max(e["t"] for e in eff)) * 1000 < ms
        if q["plan"] is not None:
            rem = plan_removals(q["plan"])
            bad_rem = [r for r in rem if r[2] == "*" or r[2] in decl.get((r[0], r[1]), set())]
            chk.add(pre + "L5 plan right after proposes no removal of a declared member", not bad_rem,
                    "exit %d; %d removals proposed, %d of declared members %s" % (
                        q["exit"], len(rem), len(bad_rem), bad_rem[:5]))
            done = {(e["api"], e["list"], e["op"], e["member"]) for e in eff}
            ops = plan_member_ops(q["plan"])
            redo = [o for o in ops if o in done]
            undo = [o for o in ops if (o[0], o[1], {"add": "remove", "remove": "add"}.get(o[2]), o[3]) in done]
            chk.add(pre + "L6 what the plan right after proposes", None,
                    "exit %d, %s; %d member changes: %d redo a write apply made (the lagging reads do not "
                    "show it yet), %d undo one; the lag %s running when it started (%s)" % (
                        q["exit"], q["summary"], len(ops), len(redo), len(undo), "was still" if lagging else "was no longer",
                        "%.1f s after apply's last write" % (t_plan - max(e["t"] for e in eff)) if eff else "no writes"))
        else:
            chk.add(pre + "L5 plan right after", False, "exit %d, no plan written (%s)" % (q["exit"], q["summary"]))
        if reapply and q["plan"] is not None and q["exit"] == 2:
            a2 = w.step("apply-while-lagging", ["apply", q["plan_path"], "--allow-removals"] + settle_args(args))
            eff2 = w.effects()[n_apply:]
            bad2 = removal_violations(eff2, decl)
            m2 = re.search(r"^(Apply [^\n]*)$", output(a2), re.M)
            chk.add("reapply: L7 a second apply while lagging exits 0 or 3 and removes no declared member",
                    a2["exit"] in (0, 3) and not bad2,
                    "exit %d; %s; %d changes written, %d removals of declared members%s" % (
                        a2["exit"], m2.group(1) if m2 else a2["summary"], len(eff2), len(bad2),
                        "".join("\n         " + fmt_effect(e) for e in bad2[:10])))
            chk.add("reapply: L8 what the second apply wrote", None,
                    "%s" % dict(sorted(__import__("collections").Counter(
                        "%s %s" % (e["api"], e["op"]) for e in eff2).items())))
        wait = ms / 1000.0 + 1.0
        print("  waiting %.1f s for the lag to pass" % wait)
        time.sleep(wait)
        c = w.step("plan-converged", ["plan", "--detailed-exitcode"])
        chk.add(pre + "L9 after the lag, a plan exits 0 (converged)", c["exit"] == 0,
                "exit %d; %s" % (c["exit"], c["summary"]))
        final = w.effects()
        bad = removal_violations(final, decl)
        if len(final) != n_apply or reapply:
            chk.add(pre + "L10 whole run: no removal of a declared member", not bad,
                    "%d changes written in all, %d removals of declared members" % (len(final), len(bad)))
    finally:
        w.stop()


# --- unknown values

def handle(email):
    return "p%d" % int(email[1:7])


def drop_member(cfg, team_line_prefix, email):
    """Take one handle out of one team line of resources.yaml."""
    path = os.path.join(cfg, "resources.yaml")
    with open(path) as f:
        lines = f.readlines()
    h = handle(email)
    done = False
    for i, l in enumerate(lines):
        if l.startswith(team_line_prefix):
            new = re.sub(r"(?<=[\[ ])%s, " % h, "", l, count=1)
            if new == l:
                new = re.sub(r", %s(?=\])" % h, "", l, count=1)
            done = new != l
            lines[i] = new
            break
    assert done, (team_line_prefix, h)
    with open(path, "w") as f:
        f.writelines(lines)


def state_role(cfg, email, role):
    path = os.path.join(cfg, "people.yaml")
    with open(path) as f:
        text = f.read()
    text = text.replace("  roster: additive\n", "  roster: additive\n  members:\n    - {person: %s, role: %s}\n"
                        % (handle(email), role))
    with open(path, "w") as f:
        f.write(text)


def shown(out, email, value):
    """Is the value shown next to the member (same line), verbatim?"""
    v = str(value)
    return any(email in l and re.search(r"(?<![\w.])%s(?![\w.])" % re.escape(v), l) for l in out.splitlines())


def unknown_picks(workdir, tag):
    with open(os.path.join(workdir, "emulator-%s.out" % tag)) as f:
        for line in f:
            if line.startswith("emulator: unknown-values "):
                return json.loads(line[len("emulator: unknown-values "):])
    raise SystemExit("the emulator did not say which members got unknown values")


def unknown_phase(args, workdir, s, chk):
    print("unknown: --unknown-values")
    w = World(args, workdir, s, "unknown", ["--unknown-values"])
    try:
        picks = unknown_picks(workdir, "unknown")
        vals = [("pixiebrix", picks["pixiebrix_role_9"]["email"], 9),
                ("gitbook", picks["gitbook_team_admin"]["email"], "admin"),
                ("contentful", picks["contentful_suspended"]["email"], "suspended"),
                ("contentful", picks["contentful_billing"]["email"], "billing")]
        print("  seeded: " + "; ".join("%s %s = %s" % v for v in vals))
        unknown_emails = {v[1] for v in vals}

        def touched_unknown(eff, allowed=()):
            return [e for e in eff if e["member"] in unknown_emails and (e["api"], e["list"], e["op"], e["member"])
                    not in allowed]

        # U1: the config declares every one of them (it equals the seed)
        w.write_config(drift=False)
        p = w.plan_json("plan-declared")
        out = output(p)
        missing = [v for v in vals if not shown(out, v[1], v[2])]
        att = [(a.get("member", {}).get("email"), a.get("value")) for a in (p["plan"] or {}).get("attention", [])]
        in_json = [v for v in vals if any(e == v[1] and str(v[2]) in (val or "") for e, val in att)]
        chk.add("U1 plan (text) shows every unknown value verbatim beside its member", not missing,
                "not shown in the text plan: %s; in the JSON plan's attention: %d of %d" % (
                    missing or "none", len(in_json), len(vals)))
        chk.add("U1b plan (text) has a 'Needs attention' heading", None,
                "yes" if "Needs attention" in out else "no: the values are 'note:' lines (apply prints the heading)")
        changes = len((p["plan"] or {}).get("changes", [])) if p["plan"] else None
        chk.add("U2 plan --detailed-exitcode exits 3 (attention), and plans no change", p["exit"] == 3 and changes == 0,
                "exit %d; %s changes; %s" % (p["exit"], changes, p["summary"]))
        n0 = len(w.effects())
        a = w.step("apply-declared", ["apply", p["plan_path"]])
        eff = w.effects()[n0:]
        m = re.search(r"^(Apply [^\n]*)$", output(a), re.M)
        chk.add("U3 apply of that plan exits 3 and writes nothing", a["exit"] == 3 and not eff,
                "exit %d; %s; %d changes written %s" % (a["exit"], m.group(1) if m else a["summary"], len(eff),
                                                        [fmt_effect(e) for e in eff[:5]]))
        # U4: one of them is no longer declared (the GitBook team admin leaves Team 000's list)
        gone = picks["gitbook_team_admin"]
        w.write_config(drift=False, edit=lambda cfg: drop_member(
            cfg, '  - {provider: docs, name: "%s"' % gone["team"], gone["email"]))
        p = w.plan_json("plan-undeclared")
        rem = plan_removals(p["plan"] or {})
        ops = plan_member_ops(p["plan"] or {})
        out = output(p)
        chk.add("U4 plan with %s undeclared from %s" % (gone["email"], gone["team"]),
                p["exit"] == 3 and ops == [("gitbook", "team:" + gone["team"], "remove", gone["email"])],
                "exit %d (expect 3); proposes %s; the removal line shows the role: %s" % (
                    p["exit"], ops, shown(out, gone["email"], "admin")))
        n0 = len(w.effects())
        a = w.step("apply-undeclared", ["apply", p["plan_path"], "--allow-removals"])
        eff = w.effects()[n0:]
        allowed = {("gitbook", "team:" + gone["team"], "remove", gone["email"])}
        other = [e for e in eff if (e["api"], e["list"], e["op"], e["member"]) not in allowed]
        m = re.search(r"^(Apply [^\n]*)$", output(a), re.M)
        chk.add("U5 apply removes that member only, touches no other role or status", a["exit"] == 3 and
                [(e["api"], e["list"], e["op"], e["member"]) for e in eff] == sorted(allowed),
                "exit %d; %s; wrote %s; other changes: %s" % (a["exit"], m.group(1) if m else a["summary"],
                                                             [fmt_effect(e) for e in eff], other))
        # U6: the config states a role for one of them (PixieBrix role 9 -> member)
        r9 = picks["pixiebrix_role_9"]["email"]

        def edit(cfg):
            drop_member(cfg, '  - {provider: docs, name: "%s"' % gone["team"], gone["email"])
            state_role(cfg, r9, "member")
        w.write_config(drift=False, edit=edit)
        p = w.plan_json("plan-role-stated")
        ops = plan_member_ops(p["plan"] or {})
        chk.add("U6 plan with role: member stated for %s" % r9, p["exit"] == 3 and len(ops) == 1,
                "exit %d (expect 3); proposes %s; %s" % (p["exit"], ops, p["summary"]))
        n0 = len(w.effects())
        a = w.step("apply-role-stated", ["apply", p["plan_path"]])
        eff = w.effects()[n0:]
        want = [("pixiebrix", "roster", "role", r9, 9, 1)]
        got = [(e["api"], e["list"], e["op"], e["member"], e.get("old"), e.get("new")) for e in eff]
        m = re.search(r"^(Apply [^\n]*)$", output(a), re.M)
        chk.add("U7 apply changes exactly that stated role (9 -> 1), nothing else", got == want and a["exit"] in (0, 3),
                "exit %d; %s; wrote %s" % (a["exit"], m.group(1) if m else a["summary"], got))
        # U8: afterwards, the remaining unknown values are still there and still shown
        p = w.plan_json("plan-after")
        changes = len((p["plan"] or {}).get("changes", [])) if p["plan"] else None
        out = output(p)
        left = [v for v in vals if v[2] != 9 and v[1] != gone["email"]]
        chk.add("U8 plan after: no changes, exit 3, the other unknown values still shown",
                p["exit"] == 3 and changes == 0 and all(shown(out, v[1], v[2]) for v in left),
                "exit %d; %s changes; shown: %s" % (p["exit"], changes,
                                                    {v[2]: shown(out, v[1], v[2]) for v in left}))
        allw = w.effects()
        stray = [e for e in allw if e["member"] in unknown_emails and e["op"] in ("role", "remove", "status")
                 and not ((e["api"], e["list"], e["op"], e["member"]) in allowed
                          or (e["api"], e["list"], e["op"], e["member"]) == ("pixiebrix", "roster", "role", r9))]
        chk.add("U9 whole run: no write changed or removed an unknown value the config did not ask for", not stray,
                "%d changes written in all; stray: %s" % (len(allw), [fmt_effect(e) for e in stray]))
    finally:
        w.stop()


def main(args):
    s = run.sizes_at(args.scale)
    workdir = tempfile.mkdtemp(prefix="teamsync-indep-%s-" % args.scenario)
    version = subprocess.run([args.bin, "--version"], capture_output=True, text=True).stdout.strip()
    print("dir: %s" % workdir)
    print("binary: %s (%s)" % (args.bin, version))
    print("date: %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    print("sizes: %s" % json.dumps(s))
    with open(os.path.join(workdir, "seed.json"), "w") as f:
        json.dump(run.seed_of(s), f, separators=(",", ":"))
    chk = Checks()
    if args.scenario == "lag":
        lag_phase(args, workdir, s, chk, reapply=False)
        lag_phase(args, workdir, s, chk, reapply=True)
    else:
        unknown_phase(args, workdir, s, chk)
    n = {t: sum(1 for r in chk.rows if r[0] == t) for t in ("PASS", "FAIL", "INFO")}
    print("%s: %d PASS, %d FAIL, %d INFO" % (args.scenario, n["PASS"], n["FAIL"], n["INFO"]))
    with open(os.path.join(workdir, "checks.json"), "w") as f:
        json.dump([{"result": t, "check": c, "reason": r} for t, c, r in chk.rows], f, indent=1)
    keep = args.keep or chk.failed()
    print("dir: %s%s" % (workdir, " (kept)" if keep else " (removed; use --keep)"))
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if chk.failed() else 0
