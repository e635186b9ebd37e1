#!/usr/bin/env python3
"""Independent emulator of the PixieBrix, GitBook and Contentful membership APIs.

Written from shared/providers/API_NOTES.md, API_NOTES_ADDENDUM.md and GitBook's vendor
OpenAPI extract only -- never from teamsync's own code or sandbox. Every choice the notes
leave open is listed in bench/independent/README.md ("Inferred choices").

    python3 emulator.py --seed seed.json [--port-base 47100] [--latency-ms 20] [--log FILE]

Three HTTP/1.1 keep-alive servers on 127.0.0.1: PixieBrix on port-base, GitBook on
port-base+1 (paths under /v1), Contentful on port-base+2. Python 3.11 standard library only.
"""

import argparse
import base64
import hashlib
import json
import random
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections import Counter, OrderedDict
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, parse_qs

# ---------------------------------------------------------------------------------------
# shared helpers


class Req:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.raw_target = target
        parts = urlsplit(target)
        self.path = parts.path
        self.raw_query = parts.query
        self.qlist = parse_qsl(parts.query, keep_blank_values=True)
        self.query = {}
        for k, v in self.qlist:
            self.query.setdefault(k, v)
        self.headers = headers
        self.body = body
        self.host = headers.get("Host") or "127.0.0.1"

    def json(self):
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


class Reply(Exception):
    """Raised (or returned) to answer a request."""

    def __init__(self, status, body=None, headers=None, raw=None, ctype=None):
        self.status = status
        self.body = body
        self.headers = headers or []
        self.raw = raw
        self.ctype = ctype


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Clock:
    """Deterministic timestamps spread back from 'now'."""

    def __init__(self, epoch):
        self.epoch = datetime.strptime(epoch, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    def at(self, minutes):
        return self.epoch + timedelta(minutes=minutes)

    @staticmethod
    def now():
        return datetime.now(timezone.utc)


def iso_s(dt):  # 2024-01-02T03:04:05Z (DRF default for DateTimeField with USE_TZ, UTC)
    if dt is None:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%06dZ" % dt.microsecond


def iso_ms(dt):  # 2024-01-02T03:04:05.123Z (GitBook, Contentful)
    if dt is None:
        return None
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Ids:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    def uuid4(self):
        with self.lock:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def b62(self, n):
        with self.lock:
            return "".join(self.rng.choice(B62) for _ in range(n))

    def hex(self, n):
        with self.lock:
            return "%0*x" % (n, self.rng.getrandbits(4 * n))

    def randint(self, a, b):
        with self.lock:
            return self.rng.randint(a, b)


def gravatar(email, default="identicon"):
    return "https://www.gravatar.com/avatar/%s?s=80&d=%s" % (
        hashlib.md5(email.strip().lower().encode()).hexdigest(), default)


class Lag:
    """--read-lag-ms: per list, reads answer the list as it was before its first unsettled write
    until the window has passed since the list's last write (each write restarts the clock)."""

    def __init__(self, ms):
        self.window = max(0.0, ms) / 1000.0
        self.pending = {}   # key -> [snapshot, monotonic time of the last write]
        self.served = 0     # reads answered from a snapshot

    def touch(self, key, snap):
        if self.window <= 0:
            return
        now = time.monotonic()
        e = self.pending.get(key)
        if e is not None and now - e[1] < self.window:
            e[1] = now
        else:
            self.pending[key] = [snap(), now]

    def view(self, key):
        e = self.pending.get(key)
        if e is None:
            return None
        if time.monotonic() - e[1] < self.window:
            self.served += 1
            return e[0]
        del self.pending[key]
        return None


# ---------------------------------------------------------------------------------------
# base API: routing, auth, counting


class Api:
    name = "api"

    def __init__(self, opts, ids, clock):
        self.opts = opts
        self.ids = ids
        self.clock = clock
        self.lock = threading.RLock()
        self.routes = []  # (regex, {method: handler})
        self.counts = Counter()
        self.count_lock = threading.Lock()
        self.lag = Lag(getattr(opts, "read_lag_ms", 0))
        self.live = False       # set once seeding is over: seeding is not a write
        self.effects = None     # (file, lock) for --effects
        self.cur = None         # the request being handled (under self.lock)

    def touch(self, key, snap):
        """A list is about to change: start or restart its lag window."""
        if self.live:
            self.lag.touch(key, snap)

    def view(self, key, current):
        """What a read of this list answers: the pre-write snapshot while lagging, else current."""
        v = self.lag.view(key)
        return current if v is None else v

    def effect(self, lst, op, member, **kw):
        """--effects: one JSON line per change a write made (list, op, member)."""
        if not self.live or self.effects is None:
            return
        r = self.cur
        rec = {"t": round(time.time(), 3), "api": self.name,
               "req": "%s %s" % (r.method, r.path) if r is not None else None,
               "list": lst, "op": op, "member": member}
        rec.update(kw)
        f, lock = self.effects
        with lock:
            f.write(json.dumps(rec, sort_keys=True) + "\n")

    def route(self, pattern, **methods):
        self.routes.append((re.compile("^" + pattern + "$"), {m.upper(): h for m, h in methods.items()}))

    def match(self, req):
        path_matched = None
        for rx, methods in self.routes:
            m = rx.match(req.path)
            if m:
                path_matched = methods
                h = methods.get(req.method)
                if h:
                    req._allow = sorted(methods)
                    return h, m.groupdict(), methods
        return None, None, path_matched

    def dispatch(self, req):
        try:
            self.authenticate(req)
            self.throttle(req)
            h, params, methods = self.match(req)
            if h is None:
                if methods is not None:
                    raise self.error(405, method=req.method, allow=sorted(methods))
                self.not_routed(req)
                raise self.error(404)
            with self.lock:
                self.cur = req
                try:
                    out = h(req, **params)
                finally:
                    self.cur = None
            if isinstance(out, Reply):
                return out
            return Reply(200, out)
        except Reply as r:
            return r
        except (ValueError, json.JSONDecodeError, UnicodeDecodeError) as e:
            return self.bad_json(e)

    def not_routed(self, req):
        pass

    def extra_headers(self, req, reply):
        return []

    def finish(self, req, reply):
        """-> (status, headers list, body bytes or None)"""
        headers = list(reply.headers) + self.extra_headers(req, reply)
        if reply.raw is not None:
            body = reply.raw
        elif reply.body is None:
            body = b""
        else:
            body = dumps(reply.body)
        if reply.body is not None or reply.raw is not None:
            headers.append(("Content-Type", reply.ctype or self.content_type(req)))
        return reply.status, headers, body

    def count(self, status):
        with self.count_lock:
            self.counts[status] += 1


# ---------------------------------------------------------------------------------------
# PixieBrix


PB_LIST_VERSIONS = {"1.0", "2.0"}
PB_V1_ONLY = {"1.0"}
PB_ME_VERSIONS = {"1.0", "1.1"}


class PixieBrix(Api):
    name = "pixiebrix"

    def __init__(self, seed, people, opts, ids, clock):
        super().__init__(opts, ids, clock)
        pb = seed["pixiebrix"]
        o = pb["organization"]
        self.org = {"id": o["id"], "name": o.get("name", "Acme"), "scope": o.get("scope", "@acme"),
                    "default_role": o.get("default_role", 1),
                    "enable_invitations": o.get("enable_invitations", True),
                    "is_enterprise": o.get("is_enterprise", True)}
        self.verified_domains = [d.lower() for d in pb.get("verified_domains", [])]
        self.users = {}          # uuid -> user dict (User shape, internal extras prefixed _)
        self.by_email = {}       # lower email -> uuid
        self.memberships = OrderedDict()  # int id -> {id, user, role, last_active_at, last_login_at}
        self.mem_by_user = {}    # uuid -> membership id
        self.next_mem_id = 4000 + ids.randint(1, 700)
        self.groups = OrderedDict()     # gid -> group
        self.user_groups = {}    # uuid -> OrderedDict gid->True
        self.campaigns = OrderedDict()  # cid -> campaign
        self.email_campaigns = {}  # email -> OrderedDict cid->True
        self.invitations = OrderedDict()
        self.deployments = [{"id": ids.uuid4(), "name": n} for n in
                            ("CRM helper", "Ticket triage", "Sales insights", "Onboarding tour")]
        minute = [0]

        def tick(step=7):
            minute[0] += step
            return clock.at(minute[0])

        # accounts
        s = pb["self"]
        self.self_id = self._add_user(s["email"], s.get("name", "teamsync"), tick(),
                                      service_account=s.get("service_account", True),
                                      deployment_key_account=False)
        self._add_membership(self.self_id, s.get("role", 2), None, None)
        for x in pb.get("extra_members", []):
            u = self._add_user(x["email"], x.get("name", x["email"].split("@")[0]), tick(),
                               service_account=x.get("service_account", False),
                               deployment_key_account=x.get("deployment_key_account", False))
            self._add_membership(u, x.get("role", 1), None, None)
        for i, m in enumerate(pb.get("members", [])):
            p = people[m["p"]]
            joined = tick(3)
            u = self._add_user(p["email"], "%s %s" % (p["first_name"], p["last_name"]), joined)
            login = joined + timedelta(days=1 + (i % 200)) if i % 9 else None
            active = login + timedelta(hours=3) if login and i % 4 else None
            self._add_membership(u, m.get("role", 1), active, login)
        for g in pb.get("groups", []):
            gid = self._add_group(g["name"], tick(11))
            for k, p in enumerate(g.get("members", [])):
                self._add_gm(gid, people[p]["email"], tick(0) + timedelta(seconds=k))
        for c in pb.get("campaigns", []):
            cid = self._add_campaign(c["name"], tick(13))
            for k, m in enumerate(c.get("members", [])):
                self._put_cm(cid, people[m["p"]]["email"], m.get("data", {}), tick(0) + timedelta(seconds=k))
        self.me_self = self.users[self.self_id]

        P = r"/api"
        U = r"(?P<%s>[0-9a-fA-F-]{1,64})"
        self.route(P + r"/me/", get=self.get_me, delete=self.delete_me)
        self.route(P + r"/organizations/", get=self.list_orgs)
        self.route(P + r"/organizations/" + U % "org" + "/", get=self.get_org)
        self.route(P + r"/organizations/" + U % "org" + r"/memberships/", get=self.list_memberships)
        self.route(P + r"/memberships/(?P<mid>[^/]+)/", get=self.get_membership, put=self.patch_membership,
                   patch=self.patch_membership, delete=self.delete_membership)
        self.route(P + r"/organizations/" + U % "org" + r"/members/(?P<uid>[^/]+)/", get=self.get_user_detail)
        self.route(P + r"/organizations/" + U % "org" + r"/groups/", get=self.list_groups, post=self.create_group)
        self.route(P + r"/groups/(?P<gid>[^/]+)/", get=self.get_group, put=self.patch_group,
                   patch=self.patch_group, delete=self.delete_group)
        self.route(P + r"/groups/(?P<gid>[^/]+)/memberships/", get=self.list_gms, post=self.post_gms,
                   put=self.put_gms)
        self.route(P + r"/groups/(?P<gid>[^/]+)/memberships/(?P<gmid>[^/]+)/", get=self.get_gm,
                   delete=self.delete_gm)
        self.route(P + r"/organizations/" + U % "org" + r"/campaigns/", get=self.list_campaigns,
                   post=self.create_campaign)
        self.route(P + r"/organizations/" + U % "org" + r"/campaigns/(?P<cid>[^/]+)/", get=self.get_campaign,
                   patch=self.patch_campaign, put=self.patch_campaign, delete=self.delete_campaign)
        self.route(P + r"/organizations/" + U % "org" + r"/campaigns/(?P<cid>[^/]+)/members/",
                   get=self.list_cms, post=self.post_cms, put=self.put_cms)
        self.route(P + r"/organizations/" + U % "org" + r"/invitations/", get=self.list_invitations,
                   post=self.create_invitation)
        self.route(P + r"/organizations/" + U % "org" + r"/invitations/(?P<iid>[^/]+)/",
                   delete=self.delete_invitation)
        self.throttle_window = []
        self.throttle_lock = threading.Lock()

    # --- state helpers
    def _add_user(self, email, name, joined, service_account=False, deployment_key_account=False):
        uid = self.ids.uuid4()
        self.users[uid] = {"id": uid, "name": name, "email": email,
                           "service_account": service_account,
                           "deployment_key_account": deployment_key_account,
                           "date_joined": iso_s(joined)}
        self.by_email[email.lower()] = uid
        return uid

    def _add_membership(self, uid, role, active, login):
        mid = self.next_mem_id
        self.next_mem_id += 1 + (mid % 3 == 0)  # ids with gaps, as a real table has
        self.memberships[mid] = {"id": mid, "user": uid, "role": role,
                                 "last_active_at": iso_s(active), "last_login_at": iso_s(login)}
        self.mem_by_user[uid] = mid
        return mid

    def _add_group(self, name, created):
        gid = self.ids.uuid4()
        dep = [self.deployments[len(self.groups) % len(self.deployments)]] if len(self.groups) % 3 == 0 else []
        self.groups[gid] = {"id": gid, "name": name, "created_at": iso_s(created), "members": OrderedDict(),
                            "deployments": dep}
        return gid

    def _add_gm(self, gid, email, created):
        g = self.groups[gid]
        key = email.lower()
        if key in g["members"]:
            return g["members"][key], False
        uid = self.by_email.get(key)
        gm = {"id": self.ids.uuid4(), "email": email, "user": uid, "created_at": iso_s(created),
              "last_active_at": None}
        self.touch(("group", gid), lambda: OrderedDict(g["members"]))
        g["members"][key] = gm
        self.effect("group:" + g["name"], "add", key)
        self.user_groups.setdefault(key, OrderedDict())[gid] = True
        return gm, True

    def _remove_gm(self, gid, key):
        g = self.groups[gid]
        if key in g["members"]:
            self.touch(("group", gid), lambda: OrderedDict(g["members"]))
            self.effect("group:" + g["name"], "remove", key)
        g["members"].pop(key, None)
        ug = self.user_groups.get(key)
        if ug:
            ug.pop(gid, None)

    def _add_campaign(self, name, created):
        cid = self.ids.uuid4()
        self.campaigns[cid] = {"id": cid, "name": name, "created_at": iso_s(created),
                               "updated_at": iso_s(created), "members": OrderedDict()}
        return cid

    def _cm_snap(self, c):
        return lambda: OrderedDict((k, dict(v)) for k, v in c["members"].items())

    def _put_cm(self, cid, email, data, when):
        c = self.campaigns[cid]
        key = email.lower()
        cm = c["members"].get(key)
        if cm is None:
            self.touch(("campaign", cid), self._cm_snap(c))
            self.effect("campaign:" + c["name"], "add", key, data=data)
            n = len(c["members"])
            cm = {"id": self.ids.uuid4(), "email": email, "data": dict(data), "created_at": iso_s(when),
                  "updated_at": iso_s(when), "last_active_at": None,
                  "client": None if n % 3 == 0 else {
                      "extension_version": "2.%d.%d" % (1 + n % 3, n % 9),
                      "created_at": iso_s(when + timedelta(days=2)),
                      "updated_at": iso_s(when + timedelta(days=30)),
                      "active_deployments": []}}
            c["members"][key] = cm
            self.email_campaigns.setdefault(key, OrderedDict())[cid] = True
            return cm, True
        if cm["data"] != data:
            self.touch(("campaign", cid), self._cm_snap(c))
            self.effect("campaign:" + c["name"], "data", key, old=cm["data"], data=data)
            cm["data"] = dict(data)
            cm["updated_at"] = iso_s(when)
        return cm, False

    def _remove_cm(self, cid, key):
        c = self.campaigns[cid]
        if key in c["members"]:
            self.touch(("campaign", cid), self._cm_snap(c))
            self.effect("campaign:" + c["name"], "remove", key)
        c["members"].pop(key, None)
        ec = self.email_campaigns.get(key)
        if ec:
            ec.pop(cid, None)

    # --- serializers (shapes: API_NOTES 1.6, ADDENDUM 1.1-1.3)
    def ser_user(self, uid):
        return dict(self.users[uid]) if uid else None

    def ser_membership(self, m):
        uid = m["user"]
        key = self.users[uid]["email"].lower()
        groups = [{"id": gid, "name": self.groups[gid]["name"]} for gid in self.user_groups.get(key, ())]
        return {"id": m["id"], "user": self.ser_user(uid), "role": m["role"], "groups": groups,
                "last_active_at": m["last_active_at"], "last_login_at": m["last_login_at"]}

    def ser_group(self, g):
        return {"id": g["id"], "name": g["name"], "num_members": len(g["members"]), "created_at": g["created_at"]}

    def ser_group_detail(self, g):
        return {"id": g["id"], "name": g["name"], "created_at": g["created_at"],
                "deployments": [dict(d) for d in g["deployments"]]}

    def ser_campaign(self, c):
        return {"id": c["id"], "name": c["name"], "created_at": c["created_at"], "updated_at": c["updated_at"]}

    def ser_gm(self, gm, v1=False):
        key = gm["email"].lower()
        camps = [self.ser_campaign(self.campaigns[cid]) for cid in self.email_campaigns.get(key, ())]
        if v1:  # GroupMembershipActivity [H]
            u = self.users.get(gm["user"]) if gm["user"] else None
            first, _, last = (u["name"] if u else "").partition(" ")
            return {"first_name": first, "last_name": last, "email": gm["email"], "created_at": gm["created_at"],
                    "last_active_at": gm["last_active_at"], "campaigns": camps}
        return {"id": gm["id"], "user": self.ser_user(gm["user"] or self.by_email.get(key)), "email": gm["email"],
                "created_at": gm["created_at"], "campaigns": camps, "last_active_at": gm["last_active_at"]}

    def ser_cm(self, cm):
        key = cm["email"].lower()
        uid = self.by_email.get(key)
        groups = list(self.user_groups.get(key, ()))
        deps = []
        for gid in groups:
            for d in self.groups[gid]["deployments"]:
                if d not in deps:
                    deps.append(d)
        client = cm["client"]
        if client is not None:
            client = dict(client)
            client["active_deployments"] = [d["id"] for d in deps]
        return {"id": cm["id"], "email": cm["email"], "data": dict(cm["data"]), "account": self.ser_user(uid),
                "latest_client": client, "groups": groups,
                "assigned_deployments": [dict(d) for d in deps], "created_at": cm["created_at"],
                "updated_at": cm["updated_at"], "last_active_at": cm["last_active_at"]}

    def _roster_snap(self):
        return OrderedDict((k, dict(v)) for k, v in self.memberships.items())

    def _roster_touch(self, op, m, **kw):
        self.touch(("roster",), self._roster_snap)
        self.effect("roster", op, self.users[m["user"]]["email"].lower(), **kw)

    def ser_org(self):
        o = dict(self.org)
        o["members"] = [{"id": m["id"], "user": self.ser_user(m["user"]), "role": m["role"]}
                        for m in self.view(("roster",), self.memberships).values()] \
            if self.opts.pixiebrix_org_members else []
        return o

    def ser_invitation(self, inv):
        return {"id": inv["id"], "email": inv["email"], "inviter": self.ser_user(inv["inviter"]),
                "organization": {"id": self.org["id"], "name": self.org["name"]}, "role": inv["role"]}

    # --- protocol
    def content_type(self, req):
        v = getattr(req, "_pb_version", None)
        return "application/json; version=%s" % v if v else "application/json"

    def extra_headers(self, req, reply):
        h = [("Vary", "Accept"), ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
             ("Referrer-Policy", "same-origin")]
        allow = getattr(req, "_allow", None)
        if allow and reply.status != 405:
            h.append(("Allow", ", ".join(allow + ["HEAD", "OPTIONS"])))
        return h

    def error(self, status, detail=None, method=None, allow=None, headers=None):
        texts = {401: "Authentication credentials were not provided.", 403:
                 "You do not have permission to perform this action.", 404: "Not found.",
                 406: "Invalid version in \"Accept\" header."}
        if status == 405:
            detail = "Method \"%s\" not allowed." % method
            headers = (headers or []) + [("Allow", ", ".join(allow + ["HEAD", "OPTIONS"]))]
        return Reply(status, {"detail": detail or texts.get(status, "Error.")}, headers)

    def bad_json(self, e):
        return Reply(400, {"detail": "JSON parse error - %s" % e})

    def authenticate(self, req):
        auth = req.headers.get("Authorization", "")
        parts = auth.split()
        hdr = [("WWW-Authenticate", "Token")]
        if not parts or parts[0].lower() != "token":
            raise self.error(401, "Authentication credentials were not provided.", headers=hdr)
        if len(parts) == 1:
            raise self.error(401, "Invalid token header. No credentials provided.", headers=hdr)
        if len(parts) > 2:
            raise self.error(401, "Invalid token header. Token string should not contain spaces.", headers=hdr)

    def throttle(self, req):
        lim = self.opts.pixiebrix_rpm
        if lim <= 0:
            return
        now = time.monotonic()
        with self.throttle_lock:
            w = self.throttle_window
            while w and w[0] <= now - 60:
                w.pop(0)
            if len(w) >= lim:
                wait = max(1, int(60 - (now - w[0])) + 1)
                raise Reply(429, {"detail": "Request was throttled. Expected available in %d seconds." % wait},
                            [("Retry-After", str(wait))])
            w.append(now)

    def not_routed(self, req):
        # Django APPEND_SLASH: a slashless path that would match with the slash [I]
        if not req.path.endswith("/"):
            fake = Req(req.method, req.path + "/" + ("?" + req.raw_query if req.raw_query else ""), req.headers, b"")
            h, _, methods = self.match(fake)
            if methods is not None and req.method in ("GET", "HEAD"):
                raise Reply(301, None, [("Location", fake.raw_target)], raw=b"", ctype="text/html; charset=utf-8")

    def version(self, req, allowed):
        acc = req.headers.get("Accept", "")
        m = re.search(r"version\s*=\s*([0-9][0-9.]*)", acc)
        if not m:
            req._pb_version = None
            return None
        v = m.group(1)
        if v not in allowed:
            raise self.error(406)
        req._pb_version = v
        return v

    def check_org(self, org):
        if org.lower() != self.org["id"].lower():
            raise self.error(404)

    def paginate(self, req, items, ser):
        """DRF LinkHeaderPagination (API_NOTES 1.2) when version 2.0, else the whole list."""
        if req._pb_version != "2.0":
            return Reply(200, [ser(x) for x in items])
        total = len(items)
        size = 100
        ps = req.query.get("page_size")
        if ps is not None:
            try:
                n = int(ps)
                if n > 0:
                    size = min(n, 1000)
            except ValueError:
                pass
        pages = max(1, -(-total // size))
        p = req.query.get("page", "1")
        if p == "last":
            page = pages
        else:
            try:
                page = int(p)
            except ValueError:
                raise self.error(404, "Invalid page.")
            if page < 1 or page > pages:
                raise self.error(404, "Invalid page.")
        chunk = items[(page - 1) * size: page * size]
        base = "http://%s%s" % (req.host, req.path)
        q = parse_qs(req.raw_query, keep_blank_values=True)

        def url(pg):
            qq = dict(q)
            if pg is None:
                qq.pop("page", None)
            else:
                qq["page"] = [str(pg)]
            s = urlencode(sorted(qq.items()), doseq=True)
            return base + ("?" + s if s else "")

        links = []
        if page > 1:
            links.append('<%s>; rel="prev"' % url(None if page == 2 else page - 1))
        if page < pages:
            links.append('<%s>; rel="next"' % url(page + 1))
        if page > 1:
            links.append('<%s>; rel="first"' % url(None))
        if page < pages:
            links.append('<%s>; rel="last"' % url(pages))
        headers = [("X-Total-Count", str(total))]
        if links:
            headers.append(("Link", ", ".join(links)))
        return Reply(200, [ser(x) for x in chunk], headers)

    def body_list(self, req):
        data = req.json()
        if data is None:
            raise Reply(400, {"non_field_errors": ["No data provided"]})
        single = isinstance(data, dict)
        if single:
            data = [data]
        if not isinstance(data, list):
            raise Reply(400, {"non_field_errors": ["Expected a list of items but got type \"%s\"." %
                                                   type(data).__name__]})
        return data, single

    def eligible(self, email):
        key = email.lower()
        if key in self.by_email and self.by_email[key] in self.mem_by_user:
            return True
        return key.rpartition("@")[2] in self.verified_domains

    # --- routes: who am I
    def get_me(self, req):
        self.version(req, PB_ME_VERSIONS)
        u = self.me_self
        key = u["email"].lower()
        m = self.memberships[self.mem_by_user[self.self_id]]
        org = {"id": self.org["id"], "name": self.org["name"], "scope": self.org["scope"],
               "is_enterprise": self.org["is_enterprise"]}
        return {"id": u["id"], "email": u["email"], "name": u["name"], "scope": None,
                "service_account": u["service_account"], "deployment_key_account": False,
                "test_account": False, "is_onboarded": True, "organization": org,
                "organization_memberships": [{"organization": self.org["id"], "organization_name": self.org["name"],
                                              "role": m["role"], "scope": self.org["scope"],
                                              "is_deployment_manager": False,
                                              "control_room": None}],
                "group_memberships": [{"id": gid, "name": self.groups[gid]["name"]}
                                      for gid in self.user_groups.get(key, ())],
                "partner": None, "enforce_update_millis": 0, "flags": ["teams-management", "campaigns"]}

    def delete_me(self, req):
        raise self.error(403, "Deleting this account is disabled in the emulator.")

    # --- organizations
    def list_orgs(self, req):
        self.version(req, PB_LIST_VERSIONS)
        return self.paginate(req, [self.org], lambda o: self.ser_org())

    def get_org(self, req, org):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        return self.ser_org()

    # --- team memberships
    def list_memberships(self, req, org):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        items = list(self.view(("roster",), self.memberships).values())
        q = req.query

        def boolf(name, field):
            nonlocal items
            if name in q:
                want = q[name].lower() in ("true", "1", "yes")
                items = [m for m in items if self.users[m["user"]][field] == want]
        boolf("user__service_account", "service_account")
        boolf("user__deployment_key_account", "deployment_key_account")
        if q.get("role"):
            try:
                r = int(q["role"])
            except ValueError:
                raise Reply(400, {"role": ["Select a valid choice. That choice is not one of the available choices."]})
            items = [m for m in items if m["role"] == r]
        if q.get("role__in"):
            rs = {int(x) for x in q["role__in"].split(",") if x.strip().isdigit()}
            items = [m for m in items if m["role"] in rs]
        if q.get("user__id"):
            items = [m for m in items if m["user"] == q["user__id"]]
        if q.get("groups"):
            gs = set(q["groups"].split(","))
            items = [m for m in items
                     if gs & set(self.user_groups.get(self.users[m["user"]]["email"].lower(), ()))]
        if q.get("q"):
            t = q["q"].lower()
            items = [m for m in items if t in self.users[m["user"]]["email"].lower()
                     or t in self.users[m["user"]]["name"].lower()]
        return self.paginate(req, items, self.ser_membership)

    def _membership(self, mid):
        try:
            return self.memberships[int(mid)]
        except (ValueError, KeyError):
            raise self.error(404)

    def get_membership(self, req, mid):
        self.version(req, PB_V1_ONLY)
        return self.ser_membership(self._membership(mid))

    def patch_membership(self, req, mid):
        self.version(req, PB_V1_ONLY)
        m = self._membership(mid)
        body = req.json() or {}
        if "role" not in body:
            if req.method == "PUT":
                raise Reply(400, {"role": ["This field is required."]})
        else:
            if body["role"] not in (1, 2, 3, 4, 5):
                raise Reply(400, {"role": ["\"%s\" is not a valid choice." % body["role"]]})
            if m["role"] != body["role"]:
                self._roster_touch("role", m, old=m["role"], new=body["role"])
            m["role"] = body["role"]
        return self.ser_membership(m)

    def delete_membership(self, req, mid):
        self.version(req, PB_V1_ONLY | ({"2.0"} if not self.opts.pixiebrix_strict_delete_version else set()))
        m = self._membership(mid)
        key = self.users[m["user"]]["email"].lower()
        for gid in list(self.user_groups.get(key, ())):
            self._remove_gm(gid, key)
        self._roster_touch("remove", m, role=m["role"])
        del self.memberships[m["id"]]
        del self.mem_by_user[m["user"]]
        return Reply(204)

    def get_user_detail(self, req, org, uid):
        self.version(req, PB_V1_ONLY)
        self.check_org(org)
        if uid not in self.users or uid not in self.mem_by_user:
            raise self.error(404)
        u = self.users[uid]
        m = self.memberships[self.mem_by_user[uid]]
        key = u["email"].lower()
        return {"id": uid, "name": u["name"], "email": u["email"],
                "groups": [{"id": self.groups[g]["members"][key]["id"], "group_id": g,
                            "group_name": self.groups[g]["name"],
                            "created_at": self.groups[g]["members"][key]["created_at"]}
                           for g in self.user_groups.get(key, ())],
                "last_used_mod_at": None, "last_login": m["last_login_at"], "date_joined": u["date_joined"],
                "membership": {"id": m["id"], "role": m["role"]}}

    # --- groups
    def _group(self, gid):
        g = self.groups.get(gid)
        if g is None:
            raise self.error(404)
        return g

    def list_groups(self, req, org):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        return self.paginate(req, list(self.groups.values()), self.ser_group)

    def _check_name(self, body, taken, limit=256):
        name = body.get("name") if isinstance(body, dict) else None
        if name is None:
            raise Reply(400, {"name": ["This field is required."]})
        if not isinstance(name, str) or not name.strip():
            raise Reply(400, {"name": ["This field may not be blank."]})
        if len(name) > limit:
            raise Reply(400, {"name": ["Ensure this field has no more than %d characters." % limit]})
        if name in taken:
            raise Reply(400, {"name": ["A group with this name already exists."]})
        return name

    def create_group(self, req, org):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        name = self._check_name(req.json(), {g["name"] for g in self.groups.values()})
        gid = self._add_group(name, Clock.now())
        return Reply(201, self.ser_group(self.groups[gid]))

    def get_group(self, req, gid):
        self.version(req, PB_V1_ONLY)
        return self.ser_group_detail(self._group(gid))

    def patch_group(self, req, gid):
        self.version(req, PB_V1_ONLY)
        g = self._group(gid)
        body = req.json() or {}
        if "name" in body or req.method == "PUT":
            g["name"] = self._check_name(body, {x["name"] for x in self.groups.values() if x is not g})
        return self.ser_group_detail(g)

    def delete_group(self, req, gid):
        self.version(req, PB_V1_ONLY | ({"2.0"} if not self.opts.pixiebrix_strict_delete_version else set()))
        g = self._group(gid)
        for key in list(g["members"]):
            self._remove_gm(gid, key)
        del self.groups[gid]
        return Reply(204)

    # --- group memberships
    def list_gms(self, req, gid):
        v = self.version(req, PB_LIST_VERSIONS)
        g = self._group(gid)
        members = self.view(("group", gid), g["members"])
        return self.paginate(req, list(members.values()), lambda gm: self.ser_gm(gm, v1=(v == "1.0")))

    def _resolve_gm_items(self, data):
        errors, emails = [], []
        for item in data:
            err = {}
            email = None
            if not isinstance(item, dict):
                err = {"non_field_errors": ["Invalid data. Expected a dictionary, but got %s." % type(item).__name__]}
            elif item.get("user_id"):
                uid = str(item["user_id"])
                if uid not in self.users or uid not in self.mem_by_user:
                    err = {"user_id": ["Invalid pk \"%s\" - object does not exist." % uid]}
                else:
                    email = self.users[uid]["email"]
            elif item.get("email"):
                e = str(item["email"]).strip()
                if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", e):
                    err = {"email": ["Enter a valid email address."]}
                elif not self.eligible(e):
                    err = {"email": ["User with email %s is not a member of the team and the email domain is "
                                     "not verified for the team." % e]}
                else:
                    uid = self.by_email.get(e.lower())
                    email = self.users[uid]["email"] if uid else e
            else:
                err = {"non_field_errors": ["Either user_id or email is required."]}
            errors.append(err)
            emails.append(email)
        if any(errors):
            raise Reply(400, errors)
        return emails

    def post_gms(self, req, gid):
        v = self.version(req, PB_LIST_VERSIONS)
        g = self._group(gid)
        data, single = self.body_list(req)
        emails = self._resolve_gm_items(data)
        now = Clock.now()
        out = [self._add_gm(gid, e, now)[0] for e in emails]
        body = [self.ser_gm(gm, v1=(v == "1.0")) for gm in out]
        return Reply(201, body[0] if single else body)

    def put_gms(self, req, gid):
        v = self.version(req, PB_LIST_VERSIONS)
        g = self._group(gid)
        data, single = self.body_list(req)
        emails = self._resolve_gm_items(data)
        if req.query.get("require_campaign", "false").lower() in ("true", "1"):
            emails = [e for e in emails if self.email_campaigns.get(e.lower())]
        keep = {e.lower() for e in emails}
        for key in list(g["members"]):
            if key not in keep:
                self._remove_gm(gid, key)
        now = Clock.now()
        for e in emails:
            self._add_gm(gid, e, now)
        body = [self.ser_gm(gm, v1=(v == "1.0")) for gm in g["members"].values()]
        return Reply(200, body[0] if single and body else body)

    def _find_gm(self, g, gmid):
        for key, gm in g["members"].items():
            if gm["id"] == gmid:
                return key, gm
        raise self.error(404)

    def get_gm(self, req, gid, gmid):
        self.version(req, PB_LIST_VERSIONS)
        _, gm = self._find_gm(self._group(gid), gmid)
        return self.ser_gm(gm)

    def delete_gm(self, req, gid, gmid):
        self.version(req, PB_LIST_VERSIONS)
        key, _ = self._find_gm(self._group(gid), gmid)
        self._remove_gm(gid, key)
        return Reply(204)

    # --- campaigns
    def _campaign(self, cid):
        c = self.campaigns.get(cid)
        if c is None:
            raise self.error(404)
        return c

    def list_campaigns(self, req, org):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        return self.paginate(req, list(self.campaigns.values()), self.ser_campaign)

    def create_campaign(self, req, org):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        body = req.json()
        name = self._check_name(body, set())
        cid = self._add_campaign(name, Clock.now())
        return Reply(201, self.ser_campaign(self.campaigns[cid]))

    def get_campaign(self, req, org, cid):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        return self.ser_campaign(self._campaign(cid))

    def patch_campaign(self, req, org, cid):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        c = self._campaign(cid)
        body = req.json() or {}
        if "name" in body or req.method == "PUT":
            c["name"] = self._check_name(body, set())
            c["updated_at"] = iso_s(Clock.now())
        return self.ser_campaign(c)

    def delete_campaign(self, req, org, cid):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        c = self._campaign(cid)
        for key in list(c["members"]):
            self._remove_cm(cid, key)
        del self.campaigns[cid]
        return Reply(204)

    def list_cms(self, req, org, cid):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        c = self._campaign(cid)
        return self.paginate(req, list(self.view(("campaign", cid), c["members"]).values()), self.ser_cm)

    def _resolve_cm_items(self, data):
        errors, out = [], []
        for item in data:
            err = {}
            if not isinstance(item, dict):
                err = {"non_field_errors": ["Invalid data. Expected a dictionary, but got %s." % type(item).__name__]}
            else:
                e = item.get("email")
                if not e:
                    err["email"] = ["This field is required."]
                elif len(e) > 128:
                    err["email"] = ["Ensure this field has no more than 128 characters."]
                elif not self.eligible(e):
                    err["email"] = ["User with email %s is not a member of the team and the email domain is "
                                    "not verified for the team." % e]
                if "data" not in item:
                    err["data"] = ["This field is required."]
                elif not isinstance(item["data"], dict):
                    err["data"] = ["Expected a dictionary of items but got type \"%s\"." % type(item["data"]).__name__]
            errors.append(err)
            if not err:
                out.append((item["email"].strip(), item["data"]))
        if any(errors):
            raise Reply(400, errors)
        return out

    def post_cms(self, req, org, cid):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        self._campaign(cid)
        data, single = self.body_list(req)
        items = self._resolve_cm_items(data)
        now = Clock.now()
        out = [self._put_cm(cid, e, d, now)[0] for e, d in items]
        body = [self.ser_cm(cm) for cm in out]
        return Reply(201, body[0] if single else body)

    def put_cms(self, req, org, cid):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        c = self._campaign(cid)
        data, single = self.body_list(req)
        items = self._resolve_cm_items(data)
        keep = {e.lower() for e, _ in items}
        for key in list(c["members"]):
            if key not in keep:
                self._remove_cm(cid, key)
        now = Clock.now()
        for e, d in items:
            self._put_cm(cid, e, d, now)
        body = [self.ser_cm(cm) for cm in c["members"].values()]
        return Reply(200, body[0] if single and body else body)

    # --- invitations (ADDENDUM 1.1)
    def list_invitations(self, req, org):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        return self.paginate(req, list(self.view(("invitations",), self.invitations).values()), self.ser_invitation)

    def create_invitation(self, req, org):
        self.version(req, PB_LIST_VERSIONS)
        self.check_org(org)
        if not self.org["enable_invitations"]:
            raise self.error(403)
        body = req.json()
        if not isinstance(body, dict):
            raise Reply(400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
        e = (body.get("email") or "").strip()
        if not e:
            raise Reply(400, {"email": ["This field is required."]})
        if len(e) > 254 or not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", e):
            raise Reply(400, {"email": ["Enter a valid email address."]})
        if e.lower() in self.by_email and self.by_email[e.lower()] in self.mem_by_user:
            raise Reply(400, {"email": ["User is already a member of the team."]})
        if any(i["email"].lower() == e.lower() for i in self.invitations.values()):
            raise Reply(400, {"email": ["An invitation for this email is already pending."]})
        role = body.get("role", self.org["default_role"])
        if role not in (1, 2, 3, 4, 5):
            raise Reply(400, {"role": ["\"%s\" is not a valid choice." % role]})
        iid = self.ids.uuid4()
        self.touch(("invitations",), lambda: OrderedDict(self.invitations))
        self.effect("invitations", "invite", e.lower(), role=role)
        self.invitations[iid] = {"id": iid, "email": e, "inviter": self.self_id, "role": role}
        return Reply(201, self.ser_invitation(self.invitations[iid]))

    def delete_invitation(self, req, org, iid):
        self.version(req, PB_LIST_VERSIONS | {"1.0"})
        self.check_org(org)
        if iid not in self.invitations:
            raise self.error(404)
        self.touch(("invitations",), lambda: OrderedDict(self.invitations))
        self.effect("invitations", "uninvite", self.invitations[iid]["email"].lower())
        del self.invitations[iid]
        return Reply(204)


# ---------------------------------------------------------------------------------------
# GitBook


class GitBook(Api):
    name = "gitbook"

    def __init__(self, seed, people, opts, ids, clock):
        super().__init__(opts, ids, clock)
        gb = seed["gitbook"]
        self.org_id = gb["organization"]["id"]
        self.users = {}         # uid -> {id, displayName, email, photoURL}
        self.by_email = {}
        self.members = OrderedDict()  # uid -> member record
        self.teams = OrderedDict()    # tid -> team
        self.user_teams = {}    # uid -> OrderedDict tid->True
        self.gone = {}          # uid -> member record of someone removed (a lagging read may still list them)
        minute = [0]

        def tick(step=5):
            minute[0] += step
            return clock.at(minute[0])
        s = gb["self"]
        self.self_id = self._add_member(s["email"], s.get("name", "Docs Admin"), s.get("role", "admin"), tick(), 0)
        for i, m in enumerate(gb.get("members", [])):
            p = people[m["p"]]
            self._add_member(p["email"], "%s %s" % (p["first_name"], p["last_name"]), m.get("role", "read"),
                             tick(2), i + 1)
        for t in gb.get("teams", []):
            tid = self._add_team(t["title"], tick(9))
            for m in t.get("members", []):
                uid = self.by_email[people[m["p"]]["email"].lower()]
                self._team_add(tid, uid, m.get("role", "member"))
        V = "/v1"
        O = V + r"/orgs/(?P<org>[a-zA-Z0-9_-]+)"
        self.route(V + "/user", get=self.get_me)
        self.route(V + r"/users/(?P<uid>[^/]+)", get=self.get_user)
        self.route(O + "/members", get=self.list_members)
        self.route(O + r"/members/(?P<uid>[^/]+)", get=self.get_member, patch=self.patch_member,
                   delete=self.delete_member)
        self.route(O + r"/members/(?P<uid>[^/]+)/teams", get=self.list_member_teams)
        self.route(O + "/teams", get=self.list_teams, put=self.create_team)
        self.route(O + r"/teams/(?P<tid>[a-zA-Z0-9_-]+)", get=self.get_team, patch=self.patch_team,
                   delete=self.delete_team)
        self.route(O + r"/teams/(?P<tid>[a-zA-Z0-9_-]+)/members", get=self.list_team_members,
                   put=self.bulk_team_members)
        self.route(O + r"/teams/(?P<tid>[a-zA-Z0-9_-]+)/members/(?P<uid>[^/]+)", put=self.put_team_member,
                   delete=self.delete_team_member)
        self.route(O + "/invites", post=self.invite)
        self.rl_lock = threading.Lock()
        self.rl_window_start = int(time.time())
        self.rl_used = 0

    def _add_member(self, email, name, role, joined, i):
        uid = self.ids.b62(28)
        self.users[uid] = {"id": uid, "displayName": name, "email": email,
                           "photoURL": gravatar(email) if i % 4 else None}
        self.by_email[email.lower()] = uid
        self._roster_touch("add", uid, role=role)
        self.members[uid] = {"role": role, "disabled": False, "joinedAt": iso_ms(joined),
                             "lastSeenAt": iso_ms(joined + timedelta(days=3 + i % 90)) if i % 6 else None,
                             "sso": i % 10 != 3, "spaces": i % 7, "sites": i % 3}
        return uid

    def _add_team(self, title, created):
        tid = self.ids.b62(20)
        self.teams[tid] = {"id": tid, "title": title, "createdAt": iso_ms(created), "spaces": len(self.teams) % 5,
                           "members": OrderedDict()}
        return tid

    def _roster_touch(self, op, uid, **kw):
        self.touch(("roster",), lambda: OrderedDict((k, dict(v)) for k, v in self.members.items()))
        self.effect("roster", op, self.users[uid]["email"].lower(), **kw)

    def _team_touch(self, t, op, uid, **kw):
        self.touch(("team", t["id"]), lambda: OrderedDict((k, dict(v)) for k, v in t["members"].items()))
        self.effect("team:" + t["title"], op, self.users[uid]["email"].lower(), **kw)

    def _team_add(self, tid, uid, role):
        t = self.teams[tid]
        if uid in t["members"]:
            if role and t["members"][uid]["role"] != role:
                self._team_touch(t, "role", uid, old=t["members"][uid]["role"], new=role)
                t["members"][uid]["role"] = role
            return
        self._team_touch(t, "add", uid, role=role or "member")
        t["members"][uid] = {"role": role or "member"}
        self.user_teams.setdefault(uid, OrderedDict())[tid] = True

    def _team_remove(self, tid, uid):
        t = self.teams[tid]
        if uid not in t["members"]:
            return False
        self._team_touch(t, "remove", uid, role=t["members"][uid]["role"])
        del t["members"][uid]
        self.user_teams.get(uid, {}).pop(tid, None)
        return True

    # --- serializers (vendor OpenAPI wins)
    def ser_user(self, uid, req):
        u = self.users[uid]
        out = {"object": "user", "id": uid, "displayName": u["displayName"]}
        if u["email"] is not None:
            out["email"] = u["email"]
        if u["photoURL"]:
            out["photoURL"] = u["photoURL"]
        out["urls"] = {"location": "http://%s/v1/users/%s" % (req.host, uid)}
        return out

    def ser_member(self, uid, req, m=None):
        if m is None:
            m = self.members.get(uid) or self.view(("roster",), self.members).get(uid) or self.gone[uid]
        out = {"object": "member", "id": uid, "role": m["role"], "user": self.ser_user(uid, req),
               "disabled": m["disabled"], "joinedAt": m["joinedAt"]}
        if m["lastSeenAt"]:
            out["lastSeenAt"] = m["lastSeenAt"]
        out.update({"sso": m["sso"], "spaces": m["spaces"], "teams": len(self.user_teams.get(uid, ())),
                    "sites": m["sites"]})
        return out

    def ser_team(self, t):
        return {"object": "team", "id": t["id"], "title": t["title"], "members": len(t["members"]),
                "spaces": t["spaces"], "createdAt": t["createdAt"], "permissions": {"admin": True, "view": True}}

    def ser_team_member(self, members, uid, req):
        return {"organization": self.ser_member(uid, req), "team": {"role": members[uid]["role"]},
                "permissions": {"view": True}}

    # --- protocol
    def content_type(self, req):
        return "application/json; charset=utf-8"

    def error(self, status, message=None, method=None, allow=None, headers=None):
        texts = {400: "Bad request", 401: "You must be authenticated", 403: "You do not have permission",
                 404: "Not found", 405: "Method not allowed"}
        return Reply(status, {"error": {"code": status, "message": message or texts.get(status, "Error")}}, headers)

    def bad_json(self, e):
        return self.error(400, "Invalid JSON body: %s" % e)

    def authenticate(self, req):
        parts = req.headers.get("Authorization", "").split()
        if len(parts) != 2 or parts[0].lower() != "bearer":
            raise self.error(401, "You must be authenticated to access this endpoint")

    def rate_headers(self):
        with self.rl_lock:
            now = int(time.time())
            if now >= self.rl_window_start + 60:
                self.rl_window_start = now
                self.rl_used = 0
            self.rl_used += 1
            lim = self.opts.gitbook_limit
            return lim, max(0, lim - self.rl_used), self.rl_window_start + 60, self.rl_used > lim

    def throttle(self, req):
        lim, rem, reset, over = self.rate_headers()
        req._rl = (lim, rem, reset)
        if over:
            raise self.error(429, "API rate limit exceeded. Please try again in %d seconds" %
                             max(1, reset - int(time.time())))

    def extra_headers(self, req, reply):
        rl = getattr(req, "_rl", None)
        if rl is None:
            lim, rem, reset, _ = self.rate_headers()
        else:
            lim, rem, reset = rl
        return [("X-RateLimit-Limit", str(lim)), ("X-RateLimit-Remaining", str(rem)),
                ("X-RateLimit-Reset", str(reset)), ("Cache-Control", "no-cache")]

    def check_org(self, org):
        if org != self.org_id:
            raise self.error(404, "Organization not found")

    def _team(self, tid):
        t = self.teams.get(tid)
        if t is None:
            raise self.error(404, "Team not found")
        return t

    def paginate(self, req, items, ser):
        q = req.query
        limit = 50
        if "limit" in q:
            try:
                limit = float(q["limit"])
            except ValueError:
                raise self.error(400, "Invalid query parameter \"limit\": must be a number")
            if limit < 0 or limit > 1000:
                raise self.error(400, "Invalid query parameter \"limit\": must be between 0 and 1000")
            limit = int(limit) or 50
        offset = 0
        if q.get("page"):
            try:
                tok = json.loads(base64.urlsafe_b64decode(q["page"] + "=" * (-len(q["page"]) % 4)))
                offset = int(tok["o"])
                if offset < 0:
                    raise ValueError
            except Exception:
                raise self.error(400, "Invalid page cursor")
        chunk = items[offset: offset + limit]
        out = {"items": [ser(x) for x in chunk], "count": len(items)}
        if offset + limit < len(items):
            tok = base64.urlsafe_b64encode(dumps({"o": offset + limit, "n": self.ids.hex(6)})).rstrip(b"=").decode()
            out["next"] = {"page": tok}
        return out

    def _order(self, req, items):
        o = req.query.get("order", "desc")
        if o not in ("asc", "desc"):
            raise self.error(400, "Invalid query parameter \"order\"")
        return items if o == "asc" else list(reversed(items))

    # --- routes
    def get_me(self, req):
        return self.ser_user(self.self_id, req)

    def get_user(self, req, uid):
        if uid not in self.users:
            raise self.error(404, "User not found")
        u = self.ser_user(uid, req)
        if uid != self.self_id:
            u.pop("email", None)  # public profile [I]
        return u

    def list_members(self, req, org):
        self.check_org(org)
        q = req.query
        members = self.view(("roster",), self.members)
        uids = list(members)
        role = q.get("role")
        if role:
            if role not in ("admin", "create", "edit", "review", "comment", "read", "guest"):
                raise self.error(400, "Invalid query parameter \"role\"")
            want = None if role == "guest" else role
            uids = [u for u in uids if members[u]["role"] == want]
        if q.get("search"):
            s = q["search"].lower()
            uids = [u for u in uids if s in (self.users[u]["email"] or "").lower()
                    or s in self.users[u]["displayName"].lower()]
        sort = q.get("sort", "joinedAt")
        if sort == "joinedAt":
            uids.sort(key=lambda u: members[u]["joinedAt"])
        elif sort == "lastSeenAt":
            uids.sort(key=lambda u: members[u]["lastSeenAt"] or "")
        elif sort == "name":
            uids.sort(key=lambda u: self.users[u]["displayName"].lower())
        else:
            raise self.error(400, "Invalid query parameter \"sort\"")
        uids = self._order(req, uids)
        return self.paginate(req, uids, lambda u: self.ser_member(u, req, members[u]))

    def _member(self, uid):
        if uid not in self.members:
            raise self.error(404, "Member not found")
        return self.members[uid]

    def get_member(self, req, org, uid):
        self.check_org(org)
        self._member(uid)
        return self.ser_member(uid, req)

    def patch_member(self, req, org, uid):
        self.check_org(org)
        m = self._member(uid)
        body = req.json()
        if not isinstance(body, dict):
            raise self.error(400, "Invalid request body")
        if "role" in body:
            if body["role"] not in ("admin", "create", "edit", "review", "comment", "read", None):
                raise self.error(400, "Invalid role")
            if m["role"] != body["role"]:
                self._roster_touch("role", uid, old=m["role"], new=body["role"])
            m["role"] = body["role"]
        return self.ser_member(uid, req)

    def delete_member(self, req, org, uid):
        self.check_org(org)
        if uid not in self.members:
            return Reply(204)
        for tid in list(self.user_teams.get(uid, ())):
            self._team_remove(tid, uid)
        self._roster_touch("remove", uid, role=self.members[uid]["role"])
        self.gone[uid] = self.members.pop(uid)
        return Reply(205)

    def list_member_teams(self, req, org, uid):
        self.check_org(org)
        self._member(uid)
        tids = list(self.user_teams.get(uid, ()))
        if req.query.get("title"):
            s = req.query["title"].lower()
            tids = [t for t in tids if s in self.teams[t]["title"].lower()]
        return self.paginate(req, tids, lambda t: {"team": self.ser_team(self.teams[t]),
                                                   "member": {"role": self.teams[t]["members"][uid]["role"]}})

    def list_teams(self, req, org):
        self.check_org(org)
        teams = list(self.teams.values())
        if req.query.get("title"):
            s = req.query["title"].lower()
            teams = [t for t in teams if s in t["title"].lower()]
        if req.query.get("owner"):
            o = req.query["owner"]
            if o == self.self_id or (o in self.members and self.members[o]["role"] == "admin"):
                pass
            else:
                teams = [t for t in teams if t["members"].get(o, {}).get("role") == "owner"]
        return self.paginate(req, teams, self.ser_team)

    def _title(self, body):
        if not isinstance(body, dict) or "title" not in body:
            raise self.error(400, "Missing required property \"title\"")
        t = body["title"]
        if not isinstance(t, str) or not (1 <= len(t) <= 64):
            raise self.error(400, "\"title\" must be a string of 1 to 64 characters")
        return t

    def _resolve(self, ident):
        if not isinstance(ident, str):
            return None
        if ident in self.members:
            return ident
        uid = self.by_email.get(ident.strip().lower())
        return uid if uid in self.members else None

    def create_team(self, req, org):
        self.check_org(org)
        body = req.json()
        title = self._title(body)
        members = body.get("members", [])
        if not isinstance(members, list):
            raise self.error(400, "\"members\" must be an array")
        uids = []
        for x in members:
            u = x if isinstance(x, str) and x in self.members else None
            if u is None:
                raise self.error(400, "\"%s\" is not a member of the organization" % x)
            uids.append(u)
        tid = self._add_team(title, Clock.now())
        for u in uids:
            self._team_add(tid, u, "member")
        return Reply(201, self.ser_team(self.teams[tid]))

    def get_team(self, req, org, tid):
        self.check_org(org)
        return self.ser_team(self._team(tid))

    def patch_team(self, req, org, tid):
        self.check_org(org)
        t = self._team(tid)
        t["title"] = self._title(req.json())
        return self.ser_team(t)

    def delete_team(self, req, org, tid):
        self.check_org(org)
        if tid not in self.teams:
            return Reply(204)
        for uid in list(self.teams[tid]["members"]):
            self._team_remove(tid, uid)
        del self.teams[tid]
        return Reply(205)

    def list_team_members(self, req, org, tid):
        self.check_org(org)
        t = self._team(tid)
        members = self.view(("team", tid), t["members"])
        return self.paginate(req, list(members), lambda u: self.ser_team_member(members, u, req))

    def bulk_team_members(self, req, org, tid):
        self.check_org(org)
        t = self._team(tid)
        body = req.json()
        if not isinstance(body, dict):
            raise self.error(400, "Invalid request body")
        unknown = set(body) - {"add", "remove", "memberships"}
        if unknown:
            raise self.error(400, "Unknown property \"%s\"" % sorted(unknown)[0])
        adds, removes = [], []
        for key, out in (("add", adds), ("remove", removes)):
            lst = body.get(key, [])
            if not isinstance(lst, list):
                raise self.error(400, "\"%s\" must be an array" % key)
            for x in lst:
                u = self._resolve(x)
                if u is None:
                    raise self.error(400, "\"%s\" is not a member of the organization" % x)
                out.append(u)
        roles = body.get("memberships", {}) or {}
        if not isinstance(roles, dict):
            raise self.error(400, "\"memberships\" must be an object")
        for k, v in roles.items():
            if k not in self.members:
                raise self.error(400, "\"%s\" is not a member of the organization" % k)
            if not isinstance(v, dict) or v.get("role") not in ("owner", "member"):
                raise self.error(400, "Invalid role for \"%s\"" % k)
        rm = set(removes)
        for u in adds:
            if u not in rm:
                self._team_add(tid, u, None)
        for u in removes:
            self._team_remove(tid, u)
        for k, v in roles.items():
            if k in t["members"]:
                t["members"][k]["role"] = v["role"]
        return Reply(204)

    def put_team_member(self, req, org, tid, uid):
        self.check_org(org)
        self._team(tid)
        if uid not in self.members:
            raise self.error(400, "\"%s\" is not a member of the organization" % uid)
        body = req.json() if req.body else {}
        role = None
        if body:
            role = body.get("role")
            if role is not None and role not in ("owner", "member"):
                raise self.error(400, "Invalid role")
        self._team_add(tid, uid, role)
        return Reply(204)

    def delete_team_member(self, req, org, tid, uid):
        self.check_org(org)
        self._team(tid)
        return Reply(205 if self._team_remove(tid, uid) else 204)

    def invite(self, req, org):
        self.check_org(org)
        if self.opts.gitbook_invites_forbidden:
            raise self.error(403, "You do not have permission to invite members")
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("emails"), list):
            raise self.error(400, "Missing required property \"emails\"")
        default_role = body.get("role", "read")
        users = []
        for e in body["emails"]:
            email, role = (e, default_role) if isinstance(e, str) else (e.get("email"), e.get("role"))
            if not email or "@" not in email:
                raise self.error(400, "Invalid email")
            if email.lower() in self.by_email and self.by_email[email.lower()] in self.members:
                continue
            name = email.split("@")[0]
            uid = self._add_member(email, name, role, Clock.now(), len(self.members))
            users.append(uid)
        return {"users": users, "invited": len(users)}


# ---------------------------------------------------------------------------------------
# Contentful


class Contentful(Api):
    name = "contentful"

    def __init__(self, seed, people, opts, ids, clock):
        super().__init__(opts, ids, clock)
        cf = seed["contentful"]
        self.org_id = cf["organization"]["id"]
        self.users = OrderedDict()
        self.by_email = {}
        self.oms = OrderedDict()       # om id -> record
        self.om_by_user = {}
        self.teams = OrderedDict()
        self.tms = OrderedDict()       # tm id -> record
        self.om_tms = {}               # om id -> OrderedDict tmid->True
        minute = [0]

        def tick(step=4):
            minute[0] += step
            return clock.at(minute[0])
        s = cf["self"]
        first, _, last = s.get("name", "Org Owner").partition(" ")
        self.self_uid = self._add_user(s["email"], first, last, tick(), 0)
        self.self_om = self._add_om(self.self_uid, s.get("role", "owner"), tick(), None, 0)
        for i, m in enumerate(cf.get("members", [])):
            p = people[m["p"]]
            t = tick(2)
            uid = self._add_user(p["email"], p["first_name"], p["last_name"], t, i + 1)
            self._add_om(uid, m.get("role", "member"), t + timedelta(minutes=1), self.self_uid, i + 1,
                         status=m.get("status", "active"))
        for team in cf.get("teams", []):
            tid = self._add_team(team["name"], team.get("description", ""), tick(7))
            for k, p in enumerate(team.get("members", [])):
                uid = self.by_email[people[p]["email"].lower()]
                self._add_tm(tid, self.om_by_user[uid], tick(0) + timedelta(seconds=k))
        O = r"/organizations/(?P<org>[a-zA-Z0-9_-]+)"
        self.route("/users/me", get=self.get_me)
        self.route(O + "/organization_memberships", get=self.list_oms)
        self.route(O + r"/organization_memberships/(?P<omid>[^/]+)", get=self.get_om, put=self.put_om,
                   delete=self.delete_om)
        self.route(O + "/teams", get=self.list_teams, post=self.create_team)
        self.route(O + r"/teams/(?P<tid>[^/]+)", get=self.get_team, put=self.put_team, delete=self.delete_team)
        self.route(O + r"/teams/(?P<tid>[^/]+)/team_memberships", get=self.list_team_tms, post=self.create_tm)
        self.route(O + r"/teams/(?P<tid>[^/]+)/team_memberships/(?P<tmid>[^/]+)", get=self.get_tm,
                   delete=self.delete_tm)
        self.route(O + "/team_memberships", get=self.list_org_tms)
        self.route(O + "/users", get=self.list_users)
        self.route(O + r"/users/(?P<uid>[^/]+)", get=self.get_user)
        self.route(O + "/invitations", post=self.create_invitation)
        self.route(O + r"/invitations/(?P<iid>[^/]+)", get=self.get_invitation)
        self.invitations = OrderedDict()
        self.rl_lock = threading.Lock()
        self.rl_sec = 0
        self.rl_used = 0

    # --- state
    def _add_user(self, email, first, last, created, i):
        uid = self.ids.b62(22)
        self.users[uid] = {"firstName": first, "lastName": last, "email": email,
                           "avatarUrl": gravatar(email, "404"), "activated": True, "confirmed": True,
                           "2faEnabled": i % 5 == 0, "signInCount": 1 + (i * 37) % 400,
                           "sys": {"type": "User", "id": uid, "version": 1 + i % 17,
                                   "createdAt": iso_ms(created),
                                   "updatedAt": iso_ms(created + timedelta(days=i % 300))}}
        self.by_email[email.lower()] = uid
        return uid

    def link(self, kind, id_):
        return {"sys": {"type": "Link", "linkType": kind, "id": id_}}

    def _add_om(self, uid, role, created, by, i, status="active"):
        omid = self.ids.b62(22)
        last = created + timedelta(days=1 + i % 120) if i % 7 else None
        self._roster_touch("add", uid, role=role, status=status)
        self.oms[omid] = {"id": omid, "role": role, "user": uid, "version": 0 if i % 3 else 1,
                          "createdAt": iso_ms(created), "createdBy": by or uid, "updatedAt": iso_ms(created),
                          "updatedBy": by or uid, "lastActiveAt": iso_ms(last), "status": status,
                          "ssoLast": iso_ms(last) if i % 2 else None}
        self.om_by_user[uid] = omid
        return omid

    def _roster_touch(self, op, uid, **kw):
        self.touch(("roster",), lambda: OrderedDict((k, dict(v)) for k, v in self.oms.items()))
        self.effect("roster", op, self.users[uid]["email"].lower(), **kw)

    def _team_touch(self, tid, op, omid, **kw):
        t = self.teams[tid]
        self.touch(("team", tid), lambda: [dict(self.tms[x]) for x in t["tms"]])
        self.effect("team:" + t["name"], op, self.users[self.oms[omid]["user"]]["email"].lower(), **kw)

    def _team_view(self, tid):
        """The team's memberships as a read answers them (a snapshot while lagging)."""
        v = self.view(("team", tid), None)
        return v if v is not None else [self.tms[x] for x in self.teams[tid]["tms"]]

    def _add_team(self, name, description, created):
        tid = self.ids.b62(22)
        self.teams[tid] = {"id": tid, "name": name, "description": description, "version": 0,
                           "createdAt": iso_ms(created), "createdBy": self.self_uid, "updatedAt": iso_ms(created),
                           "updatedBy": self.self_uid, "tms": OrderedDict()}
        return tid

    def _add_tm(self, tid, omid, created):
        tmid = self.ids.b62(22)
        self._team_touch(tid, "add", omid)
        self.tms[tmid] = {"id": tmid, "team": tid, "om": omid, "user": self.oms[omid]["user"], "version": 0,
                          "createdAt": iso_ms(created),
                          "createdBy": self.self_uid, "updatedAt": iso_ms(created), "updatedBy": self.self_uid}
        self.teams[tid]["tms"][tmid] = True
        self.om_tms.setdefault(omid, OrderedDict())[tmid] = True
        return tmid

    def _del_tm(self, tmid):
        tm = self.tms[tmid]
        self._team_touch(tm["team"], "remove", tm["om"])
        self.tms.pop(tmid)
        self.teams[tm["team"]]["tms"].pop(tmid, None)
        self.om_tms.get(tm["om"], {}).pop(tmid, None)

    # --- serializers (API_NOTES 3.6)
    def ser_user(self, uid):
        u = self.users[uid]
        out = dict(u)
        out["sys"] = dict(u["sys"])
        return out

    def ser_om(self, om):
        return {"role": om["role"],
                "sys": {"type": "OrganizationMembership", "id": om["id"], "version": om["version"],
                        "user": self.link("User", om["user"]), "createdAt": om["createdAt"],
                        "createdBy": self.link("User", om["createdBy"]), "updatedAt": om["updatedAt"],
                        "updatedBy": self.link("User", om["updatedBy"]), "lastActiveAt": om["lastActiveAt"],
                        "status": om["status"],
                        "sso": {"exemptionReasons": [], "lastSignInAt": om["ssoLast"]}}}

    def ser_team(self, t):
        return {"name": t["name"], "description": t["description"],
                "sys": {"type": "Team", "id": t["id"], "version": t["version"], "memberCount": len(t["tms"]),
                        "organization": self.link("Organization", self.org_id), "createdAt": t["createdAt"],
                        "createdBy": self.link("User", t["createdBy"]), "updatedAt": t["updatedAt"],
                        "updatedBy": self.link("User", t["updatedBy"])}}

    def ser_tm(self, tm):
        om = {"user": tm["user"]}
        out = {"sys": {"type": "TeamMembership", "id": tm["id"], "version": tm["version"],
                       "organization": self.link("Organization", self.org_id),
                       "team": self.link("Team", tm["team"]),
                       "organizationMembership": self.link("OrganizationMembership", tm["om"]),
                       "user": self.link("User", om["user"]), "createdAt": tm["createdAt"],
                       "createdBy": self.link("User", tm["createdBy"]), "updatedAt": tm["updatedAt"],
                       "updatedBy": self.link("User", tm["updatedBy"])}}
        if self.opts.contentful_tm_admin_field:
            out["admin"] = False
            out["organizationMembershipId"] = tm["om"]
        return out

    # --- protocol
    def content_type(self, req):
        return "application/vnd.contentful.management.v1+json"

    def error(self, status, message=None, method=None, allow=None, headers=None, sys_id=None, details=None):
        ids = {400: "BadRequest", 401: "AccessTokenInvalid", 403: "AccessDenied", 404: "NotFound",
               405: "MethodNotAllowed", 409: "VersionMismatch", 422: "ValidationFailed", 429: "RateLimitExceeded"}
        texts = {400: "Bad request.", 401: "The access token you sent could not be found or is invalid.",
                 403: "You do not have permission to access this resource.",
                 404: "The resource could not be found.", 405: "Method not allowed.",
                 409: "Version mismatch error. The version you specified was incorrect. This may be due to "
                      "someone else editing the content.", 422: "Validation error",
                 429: "You have exceeded the rate limit of the Organization this resource belongs to."}
        body = {"sys": {"type": "Error", "id": sys_id or ids.get(status, "ServerError")},
                "message": message or texts.get(status, "Server error.")}
        if details is not None:
            body["details"] = details
        body["requestId"] = self.ids.hex(32)
        return Reply(status, body, headers)

    def bad_json(self, e):
        return self.error(400, "The body you sent is not valid JSON.", sys_id="BadRequest")

    def authenticate(self, req):
        parts = req.headers.get("Authorization", "").split()
        if len(parts) == 2 and parts[0].lower() == "bearer":
            return
        if not parts and req.query.get("access_token"):
            return
        raise self.error(401)

    def throttle(self, req):
        with self.rl_lock:
            now = int(time.monotonic())
            if now != self.rl_sec:
                self.rl_sec, self.rl_used = now, 0
            self.rl_used += 1
            lim = self.opts.contentful_rps
            rem = max(0, lim - self.rl_used)
            over = self.rl_used > lim
        req._rl = (lim, rem, 1 if over else 0)
        if over:
            raise self.error(429)

    def extra_headers(self, req, reply):
        lim, rem, reset = getattr(req, "_rl", (self.opts.contentful_rps, self.opts.contentful_rps, 0))
        return [("X-Contentful-RateLimit-Second-Limit", str(lim)),
                ("X-Contentful-RateLimit-Second-Remaining", str(rem)),
                ("X-Contentful-RateLimit-Reset", str(reset)),
                ("X-Contentful-Request-Id", self.ids.hex(32)),
                ("Cache-Control", "no-cache")]

    def check_org(self, org):
        if org != self.org_id:
            raise self.error(404, details={"type": "Organization", "id": org})

    def check_params(self, req, allowed):
        """Unknown query parameters or operators -> 400 InvalidQuery [I]."""
        for k, _ in req.qlist:
            base = k.split("[", 1)[0]
            op = k[len(base):]
            if base in ("skip", "limit", "order", "include", "query", "access_token") and not op:
                continue
            ops = allowed.get(base)
            if ops is None or (op and op.strip("[]") not in ops) or (not op and "eq" not in ops):
                if self.opts.contentful_lenient_query:
                    continue
                raise self.error(400, "The query you sent was invalid. Probably a filter or ordering "
                                 "specification is not applicable to the type of a field.",
                                 sys_id="InvalidQuery",
                                 details={"errors": [{"name": "unknown", "path": [k],
                                                      "details": "The path \"%s\" is not recognized" % k}]})

    def filter(self, req, items, getters):
        for k, v in req.qlist:
            base = k.split("[", 1)[0]
            op = k[len(base):].strip("[]") or "eq"
            g = getters.get(base)
            if g is None:
                continue
            if op == "eq":
                items = [x for x in items if str(g(x)) == v]
            elif op == "ne":
                items = [x for x in items if str(g(x)) != v]
            elif op == "in":
                s = set(v.split(","))
                items = [x for x in items if str(g(x)) in s]
            elif op == "nin":
                s = set(v.split(","))
                items = [x for x in items if str(g(x)) not in s]
            elif op == "exists":
                want = v.lower() == "true"
                items = [x for x in items if (g(x) not in (None, "")) == want]
            elif op in ("lt", "lte", "gt", "gte"):
                f = {"lt": lambda a: a < v, "lte": lambda a: a <= v, "gt": lambda a: a > v,
                     "gte": lambda a: a >= v}[op]
                items = [x for x in items if g(x) is not None and f(g(x))]
        return items

    def order(self, req, items, keys):
        o = req.query.get("order")
        if not o:
            return items
        for part in reversed(o.split(",")):
            desc = part.startswith("-")
            attr = part.lstrip("-")
            if attr not in keys:
                raise self.error(400, "Invalid order attribute \"%s\"" % attr, sys_id="InvalidQuery")
            items = sorted(items, key=lambda x: (keys[attr](x) is None, keys[attr](x) or ""), reverse=desc)
        return items

    def collection(self, req, items, ser, includes=None):
        q = req.query
        try:
            skip = int(q.get("skip", 0))
            limit = int(q.get("limit", 25))
        except ValueError:
            raise self.error(400, "skip and limit must be integers", sys_id="BadRequest")
        if limit > 100:
            raise self.error(400, "The limit parameter is too large. The maximum allowed limit is 100.",
                             sys_id="BadRequest", details={"errors": [{"name": "max", "max": 100, "path": ["limit"],
                                                                      "value": limit}]})
        if skip < 0 or limit < 0:
            raise self.error(400, "skip and limit must not be negative", sys_id="BadRequest")
        chunk = items[skip: skip + limit]
        out = {"sys": {"type": "Array"}, "total": len(items), "skip": skip, "limit": limit,
               "items": [ser(x) for x in chunk]}
        if includes:
            inc = includes(chunk)
            if inc:
                out["includes"] = inc
        return out

    def parse_include(self, req, allowed):
        inc = [x.strip() for x in req.query.get("include", "").split(",") if x.strip()]
        for x in inc:
            if x not in allowed:
                raise self.error(400, "Invalid include \"%s\"" % x, sys_id="InvalidQuery")
        return inc

    def users_for(self, uids):
        seen, out = set(), []
        for u in uids:
            if u not in seen and u in self.users:
                seen.add(u)
                out.append(self.ser_user(u))
        return out

    def body(self, req, allowed, required):
        b = req.json()
        if not isinstance(b, dict):
            raise self.error(400, "The body must be a JSON object.", sys_id="BadRequest")
        unknown = [k for k in b if k not in allowed and k != "sys"]
        if unknown:
            raise self.error(400, "The body you sent contains an unknown key.", sys_id="UnknownKey",
                             details={"errors": [{"keys": unknown}]})
        missing = [k for k in required if k not in b]
        if missing:
            raise self.error(422, "Validation error", sys_id="ValidationFailed",
                             details={"errors": [{"name": "required", "path": [k], "details": "The property \"%s\" "
                                                  "is required here" % k} for k in missing]})
        return b

    # --- routes
    def get_me(self, req):
        u = self.ser_user(self.self_uid)
        u["cookieConsentData"] = None
        u["preferredLanguage"] = "en-US"
        return u

    OM_FILTERS = {"role": ("eq", "ne", "in", "nin"), "sys.status": ("eq", "ne", "in", "nin"),
                  "sys.user.sys.id": ("eq", "ne", "in", "nin"), "sys.user.firstName": ("eq", "ne", "exists"),
                  "sys.user.lastName": ("eq", "ne", "exists"), "sys.lastActiveAt": ("lt", "lte", "gt", "gte"),
                  "sys.sso.lastSignInAt": ("lt", "lte", "gt", "gte"), "sys.createdAt": ("lt", "lte", "gt", "gte"),
                  "sys.updatedAt": ("lt", "lte", "gt", "gte")}

    def list_oms(self, req, org):
        self.check_org(org)
        self.check_params(req, self.OM_FILTERS)
        inc = self.parse_include(req, ("sys.user", "sys.createdBy", "sys.updatedBy"))
        items = list(self.view(("roster",), self.oms).values())
        U = self.users
        items = self.filter(req, items, {
            "role": lambda o: o["role"], "sys.status": lambda o: o["status"], "sys.user.sys.id": lambda o: o["user"],
            "sys.user.firstName": lambda o: U[o["user"]]["firstName"],
            "sys.user.lastName": lambda o: U[o["user"]]["lastName"],
            "sys.lastActiveAt": lambda o: o["lastActiveAt"], "sys.sso.lastSignInAt": lambda o: o["ssoLast"],
            "sys.createdAt": lambda o: o["createdAt"], "sys.updatedAt": lambda o: o["updatedAt"]})
        if req.query.get("query"):
            t = req.query["query"].lower()
            items = [o for o in items if t in o["user"].lower() or t in U[o["user"]]["email"].lower()
                     or t in U[o["user"]]["firstName"].lower() or t in U[o["user"]]["lastName"].lower()]
        items = self.order(req, items, {
            "role": lambda o: o["role"], "sys.createdAt": lambda o: o["createdAt"],
            "sys.lastActiveAt": lambda o: o["lastActiveAt"],
            "sys.user.firstName": lambda o: U[o["user"]]["firstName"],
            "sys.user.lastName": lambda o: U[o["user"]]["lastName"],
            "sys.user.email": lambda o: U[o["user"]]["email"]})

        def includes(chunk):
            uids = []
            for o in chunk:
                if "sys.user" in inc:
                    uids.append(o["user"])
                if "sys.createdBy" in inc:
                    uids.append(o["createdBy"])
                if "sys.updatedBy" in inc:
                    uids.append(o["updatedBy"])
            return {"User": self.users_for(uids)} if inc else None
        return self.collection(req, items, self.ser_om, includes)

    def _om(self, omid):
        om = self.oms.get(omid)
        if om is None:
            raise self.error(404, details={"type": "OrganizationMembership", "id": omid})
        return om

    def get_om(self, req, org, omid):
        self.check_org(org)
        return self.ser_om(self._om(omid))

    def _check_version(self, req, current, kind, id_):
        v = req.headers.get("X-Contentful-Version")
        if v is None or not v.strip().isdigit() or int(v) != current:
            raise self.error(409, details={"type": kind, "id": id_})

    def put_om(self, req, org, omid):
        self.check_org(org)
        om = self._om(omid)
        self._check_version(req, om["version"], "OrganizationMembership", omid)
        b = self.body(req, ("role",), ("role",))
        if b["role"] not in ("owner", "admin", "developer", "member"):
            raise self.error(422, details={"errors": [{"name": "in", "path": ["role"], "value": b["role"]}]})
        if om["role"] != b["role"]:
            self._roster_touch("role", om["user"], old=om["role"], new=b["role"])
        om["role"] = b["role"]
        om["version"] += 1
        om["updatedAt"] = iso_ms(Clock.now())
        om["updatedBy"] = self.self_uid
        return self.ser_om(om)

    def delete_om(self, req, org, omid):
        self.check_org(org)
        om = self._om(omid)
        if om["role"] == "owner" and sum(1 for o in self.oms.values() if o["role"] == "owner") == 1:
            raise self.error(403, "The last owner of an organization cannot be removed.")
        for tmid in list(self.om_tms.get(omid, ())):
            self._del_tm(tmid)
        self._roster_touch("remove", om["user"], role=om["role"], status=om["status"])
        del self.oms[omid]
        self.om_by_user.pop(om["user"], None)
        return Reply(204)

    def list_teams(self, req, org):
        self.check_org(org)
        self.check_params(req, {})
        items = self.order(req, list(self.teams.values()), {"sys.createdAt": lambda t: t["createdAt"],
                                                             "sys.updatedAt": lambda t: t["updatedAt"],
                                                             "name": lambda t: t["name"]})
        return self.collection(req, items, self.ser_team)

    def _team(self, tid):
        t = self.teams.get(tid)
        if t is None:
            raise self.error(404, details={"type": "Team", "id": tid})
        return t

    def create_team(self, req, org):
        self.check_org(org)
        b = self.body(req, ("name", "description"), ("name",))
        if not isinstance(b["name"], str) or not b["name"].strip():
            raise self.error(422, details={"errors": [{"name": "size", "path": ["name"], "min": 1}]})
        tid = self._add_team(b["name"], b.get("description") or "", Clock.now())
        return Reply(201, self.ser_team(self.teams[tid]))

    def get_team(self, req, org, tid):
        self.check_org(org)
        return self.ser_team(self._team(tid))

    def put_team(self, req, org, tid):
        self.check_org(org)
        t = self._team(tid)
        self._check_version(req, t["version"], "Team", tid)
        b = self.body(req, ("name", "description"), ("name",))
        t["name"] = b["name"]
        t["description"] = b.get("description") or ""
        t["version"] += 1
        t["updatedAt"] = iso_ms(Clock.now())
        return self.ser_team(t)

    def delete_team(self, req, org, tid):
        self.check_org(org)
        t = self._team(tid)
        for tmid in list(t["tms"]):
            self._del_tm(tmid)
        del self.teams[tid]
        return Reply(204)

    def _tm_includes(self, inc):
        def f(chunk):
            if not inc:
                return None
            out = {}
            uids = []
            for tm in chunk:
                if "sys.user" in inc:
                    uids.append(tm["user"])
                if "sys.createdBy" in inc:
                    uids.append(tm["createdBy"])
                if "sys.updatedBy" in inc:
                    uids.append(tm["updatedBy"])
            if uids:
                out["User"] = self.users_for(uids)
            if "sys.organizationMembership" in inc:
                seen = OrderedDict((tm["om"], True) for tm in chunk)
                roster = self.view(("roster",), self.oms)
                out["OrganizationMembership"] = [self.ser_om(roster.get(o) or self.oms[o]) for o in seen
                                                 if o in roster or o in self.oms]
            if "sys.team" in inc:
                seen = OrderedDict((tm["team"], True) for tm in chunk)
                out["Team"] = [self.ser_team(self.teams[t]) for t in seen]
            return out
        return f

    TM_ORDER = {"sys.createdAt": lambda tm: tm["createdAt"], "sys.updatedAt": lambda tm: tm["updatedAt"]}

    def list_team_tms(self, req, org, tid):
        self.check_org(org)
        t = self._team(tid)
        self.check_params(req, {})
        inc = self.parse_include(req, ("sys.createdBy", "sys.updatedBy", "sys.organizationMembership", "sys.user"))
        items = self.order(req, self._team_view(tid), self.TM_ORDER)
        return self.collection(req, items, self.ser_tm, self._tm_includes(inc))

    def list_org_tms(self, req, org):
        self.check_org(org)
        self.check_params(req, {"sys.organizationMembership.sys.id": ("eq", "in"), "sys.team.sys.id": ("eq", "in")})
        inc = self.parse_include(req, ("sys.team", "sys.user", "sys.organizationMembership",
                                       "sys.createdBy", "sys.updatedBy"))
        if any(k[0] == "team" for k in self.lag.pending):
            items = [tm for tid in self.teams for tm in self._team_view(tid)]
        else:
            items = list(self.tms.values())
        items = self.filter(req, items, {
            "sys.organizationMembership.sys.id": lambda tm: tm["om"], "sys.team.sys.id": lambda tm: tm["team"]})
        items = self.order(req, items, self.TM_ORDER)
        return self.collection(req, items, self.ser_tm, self._tm_includes(inc))

    def get_tm(self, req, org, tid, tmid):
        self.check_org(org)
        self._team(tid)
        tm = self.tms.get(tmid)
        if tm is None or tm["team"] != tid:
            raise self.error(404, details={"type": "TeamMembership", "id": tmid})
        return self.ser_tm(tm)

    def create_tm(self, req, org, tid):
        self.check_org(org)
        t = self._team(tid)
        b = self.body(req, ("organizationMembershipId", "admin"), ("organizationMembershipId",))
        omid = b["organizationMembershipId"]
        if omid not in self.oms:
            raise self.error(404, details={"type": "OrganizationMembership", "id": omid})
        if any(self.tms[x]["om"] == omid for x in t["tms"]):
            raise self.error(422, details={"errors": [{"name": "taken", "path": ["organizationMembershipId"],
                                                       "value": omid,
                                                       "details": "User is already a member of this team"}]})
        tmid = self._add_tm(tid, omid, Clock.now())
        return Reply(201, self.ser_tm(self.tms[tmid]))

    def delete_tm(self, req, org, tid, tmid):
        self.check_org(org)
        self._team(tid)
        tm = self.tms.get(tmid)
        if tm is None or tm["team"] != tid:
            raise self.error(404, details={"type": "TeamMembership", "id": tmid})
        self._del_tm(tmid)
        return Reply(204)

    def list_users(self, req, org):
        self.check_org(org)
        self.check_params(req, {"sys.id": ("eq", "in", "nin", "ne")})
        items = [u for u in self.users if u in self.om_by_user]
        if req.query.get("sys.id") and "," in req.query["sys.id"]:  # web-app batch form
            s = set(req.query["sys.id"].split(","))
            items = [u for u in items if u in s]
        else:
            items = self.filter(req, items, {"sys.id": lambda u: u})
        if req.query.get("query"):
            t = req.query["query"].lower()
            items = [u for u in items if t in self.users[u]["email"].lower() or t in self.users[u]["firstName"].lower()
                     or t in self.users[u]["lastName"].lower()]
        return self.collection(req, items, self.ser_user)

    def get_user(self, req, org, uid):
        self.check_org(org)
        if uid not in self.users or uid not in self.om_by_user:
            raise self.error(404, details={"type": "User", "id": uid})
        return self.ser_user(uid)

    def create_invitation(self, req, org):
        self.check_org(org)
        b = self.body(req, ("email", "firstName", "lastName", "role"), ("email",))
        role = b.get("role", "member")
        if role not in ("owner", "admin", "developer", "member"):
            raise self.error(422, details={"errors": [{"name": "in", "path": ["role"], "value": role}]})
        email = b["email"]
        if email.lower() in self.by_email and self.by_email[email.lower()] in self.om_by_user:
            raise self.error(422, details={"errors": [{"name": "taken", "path": ["email"], "value": email}]})
        now = Clock.now()
        uid = self._add_user(email, b.get("firstName", ""), b.get("lastName", ""), now, len(self.users))
        self.users[uid]["activated"] = False
        self.users[uid]["confirmed"] = False
        omid = self._add_om(uid, role, now, self.self_uid, len(self.oms), status="pending")
        iid = self.ids.b62(22)
        self.invitations[iid] = {"id": iid, "om": omid, "email": email, "firstName": b.get("firstName"),
                                 "lastName": b.get("lastName"), "role": role, "createdAt": iso_ms(now)}
        return Reply(201, self.ser_invitation(self.invitations[iid], with_url=True))

    def ser_invitation(self, inv, with_url=False):
        return {"email": inv["email"], "firstName": inv["firstName"], "lastName": inv["lastName"],
                "role": inv["role"],
                "sys": {"id": inv["id"], "type": "Invitation", "status": "open",
                        "organizationMembership": self.link("OrganizationMembership", inv["om"]),
                        "createdAt": inv["createdAt"], "updatedAt": inv["createdAt"],
                        "createdBy": self.link("User", self.self_uid), "user": None,
                        "invitationUrl": ("https://be.contentful.com/invitations/%s?token=%s" %
                                          (inv["id"], self.ids.hex(24))) if with_url else ""}}

    def get_invitation(self, req, org, iid):
        self.check_org(org)
        inv = self.invitations.get(iid)
        if inv is None or inv["om"] not in self.oms:
            raise self.error(404, details={"type": "Invitation", "id": iid})
        return self.ser_invitation(inv)


# ---------------------------------------------------------------------------------------
# HTTP plumbing


def seed_unknown_values(seed):
    """--unknown-values: give members of declared containers values the notes never name.
    Returns who got what (emails), so a harness can build its config around them."""
    people = seed["people"]
    out = {}
    pb = seed.get("pixiebrix", {})
    if pb.get("groups") and pb["groups"][0].get("members"):
        p = pb["groups"][0]["members"][0]           # a roster role number past 1-5
        for m in pb.get("members", []):
            if m["p"] == p:
                m["role"] = 9
        out["pixiebrix_role_9"] = {"email": people[p]["email"], "group": pb["groups"][0]["name"]}
    gb = seed.get("gitbook", {})
    if gb.get("teams") and gb["teams"][0].get("members"):
        m = gb["teams"][0]["members"][0]            # a team role past owner/member
        m["role"] = "admin"
        out["gitbook_team_admin"] = {"email": people[m["p"]]["email"], "team": gb["teams"][0]["title"]}
    cf = seed.get("contentful", {})
    if cf.get("teams") and len(cf["teams"][0].get("members", [])) >= 2:
        t = cf["teams"][0]
        ps, pr = t["members"][0], t["members"][1]   # sys.status past active/pending; a role past the four
        for m in cf.get("members", []):
            if m["p"] == ps:
                m["status"] = "suspended"
            if m["p"] == pr:
                m["role"] = "billing"
        out["contentful_suspended"] = {"email": people[ps]["email"], "team": t["name"]}
        out["contentful_billing"] = {"email": people[pr]["email"], "team": t["name"]}
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "emulator"
    sys_version = ""

    def log_message(self, *a):
        pass

    def _go(self):
        t0 = time.monotonic()
        srv = self.server
        api = srv.api
        n = self.headers.get("Content-Length")
        if n:
            body = self.rfile.read(int(n))
        elif "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = b""
        req = Req(self.command, self.path, self.headers, body)
        try:
            reply = api.dispatch(req)
            status, headers, payload = api.finish(req, reply)
        except Exception:
            traceback.print_exc()
            status, headers, payload = 500, [("Content-Type", "text/plain")], b"emulator error\n"
        wait = t0 + srv.latency - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status == 204:
            payload = b""  # RFC 9110: no Content-Length and no body on 204
        else:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        api.count(status)
        if srv.log is not None:
            line = "%.3f %s %s %s %d %d" % (time.time(), api.name, self.command, self.path, status, len(payload))
            if srv.log_headers:
                line += " accept=%r content-type=%r" % (self.headers.get("Accept"), self.headers.get("Content-Type"))
            if srv.log_bodies and body and self.command != "GET":
                line += " body=%s" % body[:4000].decode("utf-8", "replace")
            line += "\n"
            with srv.log_lock:
                srv.log.write(line)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _go


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", required=True, help="seed file (format: bench/independent/README.md)")
    ap.add_argument("--port-base", type=int, default=47100)
    ap.add_argument("--latency-ms", type=float, default=20.0,
                    help="every answer is held until this long after its request arrived")
    ap.add_argument("--log", help="append one line per request: time api method path status bytes")
    ap.add_argument("--log-headers", action="store_true", help="add Accept and Content-Type to each log line")
    ap.add_argument("--stats", help="write the request counts as JSON here on exit")
    ap.add_argument("--ready-file", help="write this file once all three servers listen")
    ap.add_argument("--pixiebrix-rpm", type=int, default=0, help="requests/minute per token; 0 = unlimited")
    ap.add_argument("--gitbook-limit", type=int, default=1_000_000, help="requests per 60 s window")
    ap.add_argument("--contentful-rps", type=int, default=100_000, help="requests per second (real: 7)")
    ap.add_argument("--pixiebrix-org-members", action=argparse.BooleanOptionalAction, default=True,
                    help="embed every membership in Organization.members (GET /api/organizations/)")
    ap.add_argument("--pixiebrix-strict-delete-version", action="store_true",
                    help="406 on DELETE of 1.0-only detail routes sent with version=2.0 (A5)")
    ap.add_argument("--contentful-lenient-query", action="store_true",
                    help="ignore unknown query parameters instead of 400 InvalidQuery")
    ap.add_argument("--contentful-tm-admin-field", action=argparse.BooleanOptionalAction, default=True,
                    help="team memberships carry top-level admin/organizationMembershipId (C3)")
    ap.add_argument("--gitbook-invites-forbidden", action="store_true",
                    help="POST /orgs/{org}/invites answers 403")
    ap.add_argument("--read-lag-ms", type=float, default=0,
                    help="after a write to a list, its reads answer the list as before the write until this "
                         "long after the list's last write (0 = read-after-write)")
    ap.add_argument("--unknown-values", action="store_true",
                    help="seed a few members with roles and statuses the notes never name (README)")
    ap.add_argument("--effects", help="append one JSON line per change a write made (list, op, member)")
    ap.add_argument("--log-bodies", action="store_true", help="add the body of each write to its log line")
    opts = ap.parse_args()

    with open(opts.seed) as f:
        seed = json.load(f)
    people = seed["people"]
    if opts.unknown_values:
        picked = seed_unknown_values(seed)
        print("emulator: unknown-values %s" % json.dumps(picked, sort_keys=True), flush=True)
    ids = Ids(seed.get("id_seed", 1))
    clock = Clock(seed.get("epoch", "2023-03-01T09:00:00Z"))
    t = time.monotonic()
    apis = [PixieBrix(seed, people, opts, ids, clock), GitBook(seed, people, opts, ids, clock),
            Contentful(seed, people, opts, ids, clock)]
    del seed, people
    log = open(opts.log, "a", buffering=1) if opts.log else None
    log_lock = threading.Lock()
    effects = (open(opts.effects, "a", buffering=1), threading.Lock()) if opts.effects else None
    for api in apis:
        api.effects = effects
        api.live = True
    servers = []
    for i, api in enumerate(apis):
        s = Server(("127.0.0.1", opts.port_base + i), Handler)
        s.api = api
        s.latency = opts.latency_ms / 1000.0
        s.log = log
        s.log_lock = log_lock
        s.log_headers = opts.log_headers
        s.log_bodies = opts.log_bodies
        servers.append(s)
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    print("emulator: seeded in %.1f s; pixiebrix :%d, gitbook :%d/v1, contentful :%d; latency %g ms%s" %
          (time.monotonic() - t, opts.port_base, opts.port_base + 1, opts.port_base + 2, opts.latency_ms,
           "; read lag %g ms" % opts.read_lag_ms if opts.read_lag_ms > 0 else ""), flush=True)
    if opts.ready_file:
        with open(opts.ready_file, "w") as f:
            f.write("ready\n")
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop.wait(0.5):
        pass
    for s in servers:
        s.shutdown()
    stats = {"cpu_s": round(time.process_time(), 2)}
    print("emulator: %.1f CPU s used (a busy emulator lengthens teamsync's wall time, not its RSS)" %
          stats["cpu_s"], flush=True)
    for api in apis:
        c = dict(sorted(api.counts.items()))
        stats[api.name] = {str(k): v for k, v in c.items()}
        if opts.read_lag_ms > 0:
            stats[api.name]["lagged_reads"] = api.lag.served
            print("emulator: %-10s %6d list reads answered from before a write (read lag)" %
                  (api.name, api.lag.served), flush=True)
        print("emulator: %-10s %6d requests  %s" % (api.name, sum(c.values()),
                                                   "  ".join("%d: %d" % kv for kv in c.items())), flush=True)
    if opts.stats:
        with open(opts.stats, "w") as f:
            json.dump(stats, f, indent=1)
    if log:
        log.close()


if __name__ == "__main__":
    main()
