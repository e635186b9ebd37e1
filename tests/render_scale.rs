//! Review at any size. A deterministic generator makes the plan of a 5,000-person
//! organization with 10% drift over 300 containers in the three providers (removals,
//! leavers, offboarding, expiries, role raises and lowerings, invitations, withdrawn
//! invitations, data, a created, a renamed and a pruned container, blocked, waiting and
//! expiring entries), and a 100,000-change one. The comment must stay within its budget,
//! show every removed person of the 5,000 drift, and say exactly what it leaves out: the
//! counts are checked by parsing what the comment shows, not by trusting its footer.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::render::*;
use teamsync::changeset::Plan;
use teamsync::model::*;
use teamsync::render;

/// xorshift64*: the same numbers on every machine, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// 300 containers: the PixieBrix organization, 119 groups and 60 campaigns, 60 GitBook
/// teams (`docs`) and 60 Contentful teams (`cms`).
fn containers() -> Vec<ResourceKey> {
    use ResourceKind::*;
    let mut out = vec![key("pixiebrix", Organization, "acme")];
    out.extend((0..119).map(|i| key("pixiebrix", Group, &format!("Group {i:03}"))));
    out.extend((0..60).map(|i| key("pixiebrix", Campaign, &format!("Campaign {i:02}"))));
    out.extend((0..60).map(|i| key("docs", Team, &format!("Docs {i:02}"))));
    out.extend((0..60).map(|i| key("cms", Team, &format!("Content {i:02}"))));
    out
}

fn address(i: usize) -> String {
    format!("person{i:05}@acme.com")
}

/// The plan for `people` people of whom `drift_percent` drifted, each `events` times in
/// one of eight ways (a removal and an add twice as likely as the others).
fn drift(people: usize, drift_percent: usize, events: usize, seed: u64) -> Plan {
    let all = containers();
    let org = all[0].clone();
    let teams: Vec<&ResourceKey> = all.iter().filter(|k| k.provider == "docs").collect();
    let mut rng = Rng(seed);
    let mut by_key: BTreeMap<ResourceKey, BTreeMap<String, MemberChange>> = BTreeMap::new();
    let mut put = |k: &ResourceKey, m: MemberChange| {
        by_key
            .entry(k.clone())
            .or_default()
            .entry(m.member.to_string())
            .or_insert(m);
    };
    let mut blocked = Vec::new();
    let mut waiting = Vec::new();
    let mut expiring_soon = Vec::new();
    for i in 0..people {
        if rng.below(100) >= drift_percent {
            continue;
        }
        let who = address(i);
        let handle = format!("p{i:05}");
        let some = |rng: &mut Rng| &all[1 + rng.below(all.len() - 1)];
        for _ in 0..events {
            match rng.below(10) {
                // Removed from one container.
                0 | 1 => {
                    let removal = member(&who, MemberAction::Remove, vec![Risk::Removal]);
                    put(some(&mut rng), removal);
                }
                // Added to one to three.
                2 | 3 => {
                    for _ in 0..1 + rng.below(3) {
                        let k = some(&mut rng);
                        let data = if k.kind == ResourceKind::Campaign {
                            serde_json::from_value(serde_json::json!({"Unit": "Sales"})).unwrap()
                        } else {
                            Data::new()
                        };
                        let role = (k.provider == "docs").then_some(Role::Member);
                        let add = MemberAction::Add { role, data };
                        put(k, handled(&who, &handle, add, vec![]));
                    }
                }
                4 => {
                    let (k, from, to) = if rng.below(2) == 0 {
                        (teams[rng.below(teams.len())], Role::Member, Role::Owner)
                    } else {
                        (&org, Role::Member, Role::Admin)
                    };
                    let set = MemberAction::SetRole {
                        from: Some(from),
                        to,
                    };
                    put(k, handled(&who, &handle, set, vec![Risk::PrivilegeRaised]));
                }
                5 => {
                    let k = teams[rng.below(teams.len())];
                    let set = MemberAction::SetRole {
                        from: Some(Role::Owner),
                        to: Role::Member,
                    };
                    put(k, handled(&who, &handle, set, vec![Risk::PrivilegeLowered]));
                }
                6 => {
                    let invite = MemberAction::Invite {
                        role: teamsync::model::InviteRole::Member,
                    };
                    put(&org, handled(&who, &handle, invite, vec![]));
                    let k = teams[rng.below(teams.len())];
                    waiting.push(held(
                        k.clone(),
                        handled(&who, &handle, add(Some(Role::Member)), vec![]),
                        &format!("{who} has not accepted the invitation to the organization yet"),
                    ));
                }
                // Offboarded: a pending invitation withdrawn, or a leaver who also
                // leaves one or two containers.
                7 if rng.below(4) == 0 => {
                    let revoke = member(&who, MemberAction::Revoke, vec![Risk::Offboarded]);
                    put(&org, revoke);
                }
                7 => {
                    let risks = vec![Risk::Leaver, Risk::Offboarded];
                    put(&org, member(&who, MemberAction::Remove, risks));
                    for _ in 0..1 + rng.below(2) {
                        let risks = vec![Risk::Removal, Risk::Offboarded];
                        put(some(&mut rng), member(&who, MemberAction::Remove, risks));
                    }
                }
                // An `until` passed here, and another one is near.
                8 => {
                    let risks = vec![Risk::Removal, Risk::Expired];
                    put(some(&mut rng), member(&who, MemberAction::Remove, risks));
                    let k = some(&mut rng).clone();
                    let days = rng.below(14) as u32;
                    let until = format!("2026-12-{:02}", 1 + days);
                    expiring_soon.push(expiring(k, &who, &until, days));
                }
                _ => {
                    let k = &all[120 + rng.below(60)];
                    let set = MemberAction::SetData {
                        data: serde_json::from_value(serde_json::json!({"Unit": "Support"}))
                            .unwrap(),
                        fields: vec![FieldChange {
                            field: "Unit".into(),
                            before: Some("Sales".into()),
                            after: Some("Support".into()),
                        }],
                    };
                    put(k, handled(&who, &handle, set, vec![]));
                }
            }
        }
        if i % 997 == 0 {
            let k = teams[rng.below(teams.len())].clone();
            blocked.push(held(
                k,
                member(&who, MemberAction::Remove, vec![Risk::Removal]),
                &format!("{who} is the team's last owner; make someone else owner first"),
            ));
        }
    }
    // A container the config adds, one it renames, and one nothing declares any more.
    put(
        &key("cms", ResourceKind::Team, "Content New"),
        member(&address(1), add(None), vec![]),
    );
    let pruned = key("pixiebrix", ResourceKind::Group, "Zz Old Project");
    for i in 0..5 {
        put(
            &pruned,
            member(&address(i * 7), MemberAction::Remove, vec![Risk::Removal]),
        );
    }
    let changes = by_key
        .into_iter()
        .map(|(k, members)| {
            let action = if k.name == "Content New" {
                ResourceAction::Create
            } else if k == pruned {
                ResourceAction::Delete
            } else if k.name == "Group 007" {
                ResourceAction::Rename {
                    from: "Group Seven".into(),
                }
            } else {
                ResourceAction::Update
            };
            resource(k, action, members.into_values().collect())
        })
        .collect();
    let mut plan = plan(changes);
    plan.blocked = blocked;
    plan.waiting = waiting;
    expiring_soon.sort();
    plan.expiring = expiring_soon;
    plan
}

fn member_changes(plan: &Plan) -> usize {
    plan.changes.iter().map(|c| c.members.len()).sum()
}

/// What a comment shows, read back from its own structure.
#[derive(Debug, Default)]
struct Shown {
    /// `<details>` sections.
    resources: usize,
    /// Lines inside the sections' diff fences.
    member_lines: usize,
    /// Per people section (title → (people lines, items on them)).
    people: BTreeMap<String, (usize, usize)>,
    /// The numbers of each people section's cut note: (people, changes).
    people_cut: BTreeMap<String, (usize, usize)>,
}

fn read_back(md: &str) -> Shown {
    let mut shown = Shown::default();
    let mut fence: Option<&str> = None;
    let mut section: Option<String> = None;
    // Folded by container (`- Group 004 (pixiebrix group): a@x, b@x`): people are the
    // distinct addresses on its lines.
    let mut folded: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in md.lines() {
        if let Some(f) = fence {
            if line == f {
                fence = None;
            } else {
                shown.member_lines += 1;
            }
            continue;
        }
        if let Some(f) = line
            .strip_suffix("diff")
            .filter(|f| f.chars().all(|c| c == '`'))
        {
            fence = Some(f);
            continue;
        }
        if line.starts_with("<details>") {
            shown.resources += 1;
        }
        if let Some(title) = line.strip_prefix("#### Access") {
            section = Some(title.split(':').next().unwrap().trim().to_string());
            continue;
        }
        if line.starts_with('#') || line.starts_with("**") || line == "---" {
            section = None;
        }
        let Some(title) = &section else { continue };
        if line.starts_with("_One line per container") {
            folded.entry(title.clone()).or_default();
            continue;
        }
        if let Some(note) = line.strip_prefix("- _… and ") {
            let numbers: Vec<usize> = note
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            shown
                .people_cut
                .insert(title.clone(), (numbers[0], numbers[1]));
        } else if let Some(people) = folded.get_mut(title)
            && line.starts_with("- ")
        {
            let (_, names) = line.rsplit_once("): ").expect("a folded line");
            let entry = shown.people.entry(title.clone()).or_default();
            for name in names.split(", ") {
                people.insert(name.to_string());
                entry.1 += 1;
            }
            entry.0 = people.len();
        } else if line.starts_with("- ") {
            let items = names_on(line);
            let entry = shown.people.entry(title.clone()).or_default();
            entry.0 += 1;
            entry.1 += items;
        }
    }
    shown
}

/// How many containers a people line names: `- a@x — loses: G1, G2 (pixiebrix groups),
/// W (docs team, expired)` names three (the parentheses label them, and may hold commas).
fn names_on(line: &str) -> usize {
    let (_, items) = line.split_once(": ").expect("a people line");
    let mut depth = 0;
    let outside: String = items
        .chars()
        .filter(|c| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => return depth == 0,
            }
            false
        })
        .collect();
    outside.split(", ").filter(|s| !s.trim().is_empty()).count()
}

/// `the detail of X of N resources and Y of M member changes` → (X, N, Y, M).
fn footer_counts(md: &str) -> (usize, usize, usize, usize) {
    let at = md.find("the detail of ").expect("a footer");
    let numbers: Vec<usize> = md[at..]
        .split(';')
        .next()
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2], numbers[3])
}

fn removed_people(plan: &Plan) -> BTreeSet<String> {
    plan.changes
        .iter()
        .flat_map(|c| &c.members)
        .filter(|m| matches!(m.action, MemberAction::Remove | MemberAction::Revoke))
        .map(|m| m.member.to_string())
        .collect()
}

/// The 5,000-person drift, built once for the tests that only read it (a plan of that
/// size takes a while in a debug build). `the_same_plan_renders_the_same_bytes` builds
/// its own two.
static DRIFT_5000: std::sync::LazyLock<Plan> = std::sync::LazyLock::new(|| drift(5_000, 10, 3, 17));

/// The comment made of `md` fits GitHub's limit, and its footer counts exactly what the
/// comment leaves out, checked against what it shows. Returns what it shows.
fn fits_and_counts_what_it_hides(plan: &Plan, md: &str) -> Shown {
    let comment = format!("{}\n{md}", render::COMMENT_MARKER);
    assert!(
        comment.len() <= render::COMMENT_LIMIT,
        "{} bytes",
        comment.len()
    );
    let shown = read_back(md);
    let (hidden_resources, resources, hidden_members, members) = footer_counts(md);
    assert_eq!(
        (resources, members),
        (plan.changes.len(), member_changes(plan))
    );
    assert_eq!(hidden_resources, resources - shown.resources);
    assert_eq!(hidden_members, members - shown.member_lines);
    shown
}

#[test]
fn the_5000_person_drift_fits_and_shows_every_removed_person() {
    let plan = &*DRIFT_5000;
    assert!(
        plan.changes.len() > 290,
        "{} containers",
        plan.changes.len()
    );
    let md = render::markdown(plan);
    eprintln!(
        "5,000-person drift: {} member changes, Markdown {} bytes, {} characters",
        member_changes(plan),
        md.len(),
        md.chars().count()
    );
    let shown = fits_and_counts_what_it_hides(plan, &md);
    let removed = removed_people(plan);
    assert!(removed.len() > 150, "{}", removed.len());
    for address in &removed {
        assert!(
            md.contains(&format!("- {address} ")),
            "{address} is not in the comment"
        );
    }
    assert_eq!(shown.people["removed"].0, removed.len());
    assert!(shown.people_cut.is_empty(), "nobody is cut at this size");
    insta::assert_snapshot!("drift_5000_markdown", md);
}

#[test]
fn the_5000_person_drift_in_the_terminal() {
    // The whole text view is one line per member change, over 2,000 lines: the snapshot
    // keeps its head and its tail (the warnings and the summary), which is where its
    // layout shows; the middle is the same line shape repeated.
    let plan = &*DRIFT_5000;
    let excerpt = |out: &str| {
        let lines: Vec<&str> = out.lines().collect();
        format!(
            "{}\n[… {} lines …]\n{}",
            lines[..60].join("\n"),
            lines.len() - 100,
            lines[lines.len() - 40..].join("\n")
        )
    };
    let text = render::text(plan, false);
    assert!(text.lines().count() > 2_000);
    insta::assert_snapshot!("drift_5000_text_excerpt", excerpt(&text));
    let by_person = render::text_by_person(plan, false);
    for address in removed_people(plan) {
        assert!(by_person.contains(&format!("\n  {address}")), "{address}");
    }
    insta::assert_snapshot!("drift_5000_by_person_excerpt", excerpt(&by_person));
}

#[test]
fn at_100000_member_changes_the_comment_stays_within_budget_and_counts_what_it_hides() {
    let plan = drift(80_000, 100, 1, 5);
    let total = member_changes(&plan);
    assert!(total >= 100_000, "{total} member changes");
    let started = std::time::Instant::now();
    let md = render::markdown(&plan);
    let elapsed = started.elapsed();
    eprintln!(
        "{total} member changes: Markdown {} bytes, {} characters, in {elapsed:?}",
        md.len(),
        md.chars().count()
    );
    let shown = fits_and_counts_what_it_hides(&plan, &md);

    // The people sections are cut here, and their notes add up to the whole.
    let removed = removed_people(&plan);
    let losses: usize = plan
        .changes
        .iter()
        .flat_map(|c| &c.members)
        .filter(|m| matches!(m.action, MemberAction::Remove | MemberAction::Revoke))
        .count();
    let (people, items) = shown.people["removed"];
    let (cut_people, cut_items) = shown.people_cut["removed"];
    assert!(
        cut_people > 0,
        "at this size the removals alone exceed the budget"
    );
    assert_eq!(people + cut_people, removed.len());
    assert_eq!(items + cut_items, losses);
    assert!(
        md.contains(&format!(
            "{cut_people} people who lose access ({cut_items} changes)"
        )),
        "the footer repeats the cut"
    );

    // A job summary's budget shows far more of the same plan.
    let summary = render::markdown_with_budget(&plan, render::SUMMARY_BUDGET);
    assert!(summary.len() <= render::SUMMARY_BUDGET);
    assert!(read_back(&summary).people["removed"].0 > people);
}

#[test]
fn the_same_plan_renders_the_same_bytes() {
    let a = drift(5_000, 10, 3, 17);
    let b = drift(5_000, 10, 3, 17);
    assert_eq!(render::markdown(&a), render::markdown(&b));
}

/// A 5,000-person organization where 1,031 people lose access through 1,150 removals
/// (the independent check of issue 33), among 10% drift of adds: the per-person lines do
/// not fit, so the listing folds by container, and the comment names every one of them.
#[test]
fn every_person_who_loses_access_is_named_when_a_thousand_do() {
    let all = containers();
    let mut by_key: BTreeMap<ResourceKey, Vec<MemberChange>> = BTreeMap::new();
    let mut losers = BTreeSet::new();
    let mut removals = 0;
    for i in (0..5_000).filter(|i| i % 97 < 20) {
        let who = address(i);
        let risks = |i: usize| {
            let mut r = vec![Risk::Removal];
            if i.is_multiple_of(7) {
                r.push(Risk::Expired);
            }
            if i.is_multiple_of(11) {
                r.push(Risk::Offboarded);
            }
            r
        };
        let first = &all[1 + i % (all.len() - 1)];
        by_key
            .entry(first.clone())
            .or_default()
            .push(member(&who, MemberAction::Remove, risks(i)));
        removals += 1;
        if i.is_multiple_of(9) && removals < 1_150 {
            let second = &all[1 + (i / 3) % (all.len() - 1)];
            if second != first {
                by_key.entry(second.clone()).or_default().push(member(
                    &who,
                    MemberAction::Remove,
                    risks(i),
                ));
                removals += 1;
            }
        }
        losers.insert(who);
    }
    for i in (0..5_000).filter(|i| i % 10 == 3) {
        let k = all[1 + i % (all.len() - 1)].clone();
        if k.kind == ResourceKind::Campaign {
            continue;
        }
        let role = (k.provider == "docs").then_some(Role::Member);
        by_key
            .entry(k)
            .or_default()
            .push(member(&address(i), add(role), vec![]));
    }
    let changes = by_key
        .into_iter()
        .map(|(k, mut members)| {
            members.sort_by_key(|m| m.member.to_string());
            members.dedup_by_key(|m| m.member.to_string());
            resource(k, ResourceAction::Update, members)
        })
        .collect();
    let plan = plan(changes);
    let losers: BTreeSet<String> = removed_people(&plan);
    assert!(losers.len() > 1_000, "{} people lose access", losers.len());
    let md = render::markdown(&plan);
    eprintln!(
        "{} people lose access through {} removals: comment {} characters",
        losers.len(),
        plan.changes
            .iter()
            .flat_map(|c| &c.members)
            .filter(|m| m.action == MemberAction::Remove)
            .count(),
        md.chars().count()
    );
    let shown = fits_and_counts_what_it_hides(&plan, &md);
    assert!(md.contains("_One line per container"), "folded");
    for who in &losers {
        assert!(md.contains(who.as_str()), "{who} is named");
    }
    assert_eq!(shown.people["removed"].0, losers.len());
    assert!(shown.people_cut.is_empty(), "nobody is cut");
    assert!(!md.contains("who lose access"), "the footer hides nobody");
}
