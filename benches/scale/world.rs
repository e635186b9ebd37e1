//! The scenario: a 20,000-person company's sizes, its live world for the sandbox, its
//! configuration (with and without drift), and the Contentful-only configuration.

use super::*;

pub(crate) struct Sizes {
    pub(crate) users: usize,
    pub(crate) groups: usize,
    pub(crate) group_size: usize,
    pub(crate) campaigns: usize,
    pub(crate) campaign_size: usize,
    pub(crate) teams: usize,
    pub(crate) team_size: usize,
}

pub(crate) fn sizes() -> Sizes {
    sizes_at(1.0)
}

/// The counts times `factor` (and times `TEAMSYNC_BENCH_SCALE`).
pub(crate) fn sizes_at(factor: f64) -> Sizes {
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

pub(crate) fn email(i: usize) -> String {
    format!("u{i:06}@acme.com")
}

/// Members of container `c` (of `size`), spread over the whole organization.
pub(crate) fn members_of(c: usize, size: usize, users: usize, salt: usize) -> Vec<usize> {
    (0..size)
        .map(|j| (c * 7919 + j * 104_729 + salt) % users)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Deterministic 5% drift: drop every 20th member and add one new member per 20.
pub(crate) fn drifted(members: &[usize], users: usize, c: usize) -> Vec<usize> {
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

pub(crate) fn world(s: &Sizes) -> Value {
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
pub(crate) fn roster(s: &Sizes) -> String {
    let mut people = String::from("people:\n");
    for i in 0..s.users {
        people.push_str(&format!("  p{i}: {{email: {}}}\n", email(i)));
    }
    people
}

/// A config of Contentful teams only, equal to the world (a plan with no changes).
pub(crate) fn write_cms_config(dir: &Path, base: &str, s: &Sizes) {
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

pub(crate) fn write_config(dir: &Path, base: &str, s: &Sizes, drift: bool) {
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
