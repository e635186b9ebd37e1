//! The Markdown rendering for a pull-request comment and the job summary, laid out around
//! risk and people, always within a budget:
//!
//! 1. the summary line and a table per provider and kind (always);
//! 2. **Access removed** and **Access raised**, by person, in full: cut only when they
//!    alone exceed the budget, saying exactly how many people and changes were cut;
//! 3. blocked, waiting, unresolved, expiring and notes;
//! 4. per-resource detail, folded, most risky first, dropped from the least risky end;
//! 5. a footer saying exactly what is not shown and where the full plan is.
//!
//! Every block is rendered once and measured; what fits is chosen from those lengths, so
//! the work is linear in the plan whatever the budget. Lengths are UTF-8 bytes: a byte
//! budget also bounds the characters GitHub counts and the UTF-16 length JavaScript sees.

use std::fmt::Write as _;

use super::people::{Access, Person, people};
use super::{
    count_of, member_risk, member_symbol, member_text, one_line, raises, resource_symbol,
    resource_verb, risk_label, risk_weight,
};
use crate::model::{MemberAction, ResourceAction, ResourceChange, ResourceKey, ResourceKind, Risk};
use crate::plan::Plan;

/// The hidden first line of the sticky pull-request comment, by which the workflow finds
/// the comment to update.
pub const COMMENT_MARKER: &str = "<!-- teamsync-plan -->";

/// The longest comment teamsync posts, marker included (GitHub refuses more than 65,536
/// characters).
pub const COMMENT_LIMIT: usize = 60_000;

/// The comment's budget: with the marker line in front it stays within [`COMMENT_LIMIT`].
pub const MARKDOWN_BUDGET: usize = COMMENT_LIMIT - COMMENT_MARKER.len() - 1;

/// The job summary's budget: GitHub takes up to 1 MiB per step.
pub const SUMMARY_BUDGET: usize = 1_000_000;

/// Renders the plan as a pull-request comment within [`MARKDOWN_BUDGET`] bytes.
pub fn markdown(plan: &Plan) -> String {
    markdown_with_budget(plan, MARKDOWN_BUDGET)
}

/// As [`markdown`], within `budget` bytes.
pub fn markdown_with_budget(plan: &Plan, budget: usize) -> String {
    let head = head(plan);
    let table = table(plan);
    let people = people(plan);
    let removed = removed_listing(&people);
    let raised = raised_listing(&people);
    let warnings = warning_listings(plan);
    let sections = detail_sections(plan);
    let total_members: usize = plan.changes.iter().map(|c| c.members.len()).sum();

    let worst = Hidden {
        resources: sections.len(),
        members: total_members,
        people: [removed.hidden_all(), raised.hidden_all()],
        warnings: warnings.iter().map(|w| w.lines.len()).sum(),
        totals: (sections.len(), total_members),
    };
    let reserve = footer(&worst).len();
    let mut table = Some(table);
    let fixed = |t: &Option<String>| head.len() + t.as_ref().map_or(0, String::len) + reserve;
    if fixed(&table) > budget {
        table = None;
    }
    if fixed(&table) > budget {
        return clip(head, budget);
    }
    let mut room = budget - fixed(&table);

    let (removed_room, raised_room) = share(room, removed.full_len(), raised.full_len());
    // One line per person reads best; when those lines do not all fit, the same people
    // folded by container usually do, and whichever names more people is shown.
    let removed = if removed.full_len() > removed_room {
        let folded = removed_by_container(&people);
        let (a, b) = (removed.fit(removed_room), folded.fit(removed_room));
        if folded.named(b) > removed.named(a) {
            folded
        } else {
            removed
        }
    } else {
        removed
    };
    let removed_shown = removed.fit(removed_room);
    let raised_shown = raised.fit(raised_room);
    room -= removed.cost(removed_shown) + raised.cost(raised_shown);
    let warnings_shown: Vec<Shown> = warnings
        .iter()
        .map(|w| {
            let shown = w.fit(room);
            room -= w.cost(shown);
            shown
        })
        .collect();
    let detail = fit_sections(&sections, room);

    let mut out = head;
    out.push_str(table.as_deref().unwrap_or_default());
    removed.render(removed_shown, &mut out);
    raised.render(raised_shown, &mut out);
    for (w, shown) in warnings.iter().zip(&warnings_shown) {
        w.render(*shown, &mut out);
    }
    let mut members_shown = 0;
    for (i, (section, lines)) in sections.iter().zip(&detail).enumerate() {
        if i == 0 && lines.is_some() {
            out.push_str(DETAIL_TITLE);
        }
        if let Some(lines) = lines {
            section.render(*lines, &mut out);
            members_shown += lines;
        }
    }
    let resources_shown = detail.iter().filter(|d| d.is_some()).count();
    out.push_str(&footer(&Hidden {
        resources: sections.len() - resources_shown,
        members: total_members - members_shown,
        people: [removed.hidden(removed_shown), raised.hidden(raised_shown)],
        warnings: warnings
            .iter()
            .zip(&warnings_shown)
            .map(|(w, s)| w.hidden(*s).0)
            .sum(),
        totals: (sections.len(), total_members),
    }));
    out
}

const DETAIL_TITLE: &str = "#### Changes by resource, most risky first\n\n";

/// The title, the summary line and the plan's risks.
fn head(plan: &Plan) -> String {
    let mut out = String::from("### teamsync plan\n\n");
    if !plan.has_changes() && plan.blocking_unresolved().next().is_none() {
        out.push_str("**No changes.** The live state matches the configuration.\n\n");
    } else if !plan.has_changes() {
        out.push_str("**No changes can be planned**, but the live state may differ from the configuration: see the unresolved members below.\n\n");
    } else {
        let _ = writeln!(out, "**{}**\n", plan.summary.line());
    }
    if !plan.risks.is_empty() {
        let labels: Vec<&str> = plan.risks.iter().map(|r| risk_label(*r)).collect();
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Risky changes: {}. Who loses access and who gains owner/admin is listed below.\n",
            labels.join(", ")
        );
    }
    out
}

/// Counts of one provider and kind, for the table.
#[derive(Default)]
struct Tally {
    resources: usize,
    created: usize,
    renamed: usize,
    deleted: usize,
    added: usize,
    removed: usize,
    raised: usize,
    lowered: usize,
    other_roles: usize,
    data: usize,
    invited: usize,
    withdrawn: usize,
    expired: usize,
}

impl Tally {
    fn count(&mut self, change: &ResourceChange) {
        self.resources += 1;
        match change.action {
            ResourceAction::Create => self.created += 1,
            ResourceAction::Rename { .. } => self.renamed += 1,
            ResourceAction::Update => {}
            ResourceAction::Delete => self.deleted += 1,
        }
        for m in &change.members {
            let slot = match &m.action {
                MemberAction::Add { .. } => &mut self.added,
                MemberAction::Remove => &mut self.removed,
                MemberAction::Invite { .. } => &mut self.invited,
                MemberAction::Revoke => &mut self.withdrawn,
                MemberAction::SetData { .. } => &mut self.data,
                a @ MemberAction::SetRole { .. } if raises(a) => &mut self.raised,
                a @ MemberAction::SetRole { .. } if super::lowers(a) => &mut self.lowered,
                MemberAction::SetRole { .. } => &mut self.other_roles,
            };
            *slot += 1;
            if m.action == MemberAction::Remove && m.risks.contains(&Risk::Expired) {
                self.expired += 1;
            }
        }
    }
}

/// A table column: heading, value, and whether it is shown even when zero everywhere.
type Column = (&'static str, fn(&Tally) -> usize, bool);

const COLUMNS: [Column; 13] = [
    ("resources", |t| t.resources, true),
    ("created", |t| t.created, false),
    ("renamed", |t| t.renamed, false),
    ("deleted", |t| t.deleted, false),
    ("members added", |t| t.added, true),
    ("removed", |t| t.removed, true),
    ("roles raised", |t| t.raised, false),
    ("roles lowered", |t| t.lowered, false),
    ("other roles", |t| t.other_roles, false),
    ("data", |t| t.data, false),
    ("invitations", |t| t.invited, false),
    ("withdrawn", |t| t.withdrawn, false),
    ("expired", |t| t.expired, false),
];

/// One row per provider and kind with changes; columns that are zero everywhere are left
/// out (but resources, added and removed).
fn table(plan: &Plan) -> String {
    let mut rows: Vec<((&str, ResourceKind), Tally)> = Vec::new();
    for change in &plan.changes {
        let at = (change.key.provider.as_str(), change.key.kind);
        let i = match rows.iter().position(|(k, _)| *k == at) {
            Some(i) => i,
            None => {
                rows.push((at, Tally::default()));
                rows.len() - 1
            }
        };
        rows[i].1.count(change);
    }
    if rows.is_empty() {
        return String::new();
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let columns: Vec<_> = COLUMNS
        .iter()
        .filter(|(_, get, always)| *always || rows.iter().any(|(_, t)| get(t) > 0))
        .collect();
    let mut out = String::from("| provider | kind |");
    let mut rule = String::from("|---|---|");
    for (name, _, _) in &columns {
        let _ = write!(out, " {name} |");
        rule.push_str("--:|");
    }
    let _ = writeln!(out, "\n{rule}");
    for ((provider, kind), tally) in &rows {
        let _ = write!(out, "| {} | {kind} |", inline(provider));
        for (_, get, _) in &columns {
            let _ = write!(out, " {} |", get(tally));
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// A titled list whose lines may be cut from the end, with a note that says how many
/// were cut (and how many changes those lines held).
struct Listing {
    title: String,
    lines: Vec<String>,
    /// How many changes each line holds (1 for a warning).
    weights: Vec<usize>,
    /// `… and N more people (M changes)` or `… and N more`.
    by_person: bool,
    /// Folded by container: the people (indices) each line names. A person may be on
    /// several lines, so what is hidden is counted in people not named on any shown line.
    who: Option<Vec<Vec<usize>>>,
}

/// How much of a listing is shown.
#[derive(Clone, Copy)]
enum Shown {
    All,
    /// The first `n` lines and the cut note.
    Cut(usize),
    /// Nothing, not even the title: counted in the footer only.
    Omitted,
}

impl Listing {
    fn full_len(&self) -> usize {
        if self.lines.is_empty() {
            0
        } else {
            self.title.len() + self.lines.iter().map(String::len).sum::<usize>() + 1
        }
    }

    fn note(&self, lines: usize, changes: usize) -> String {
        if self.by_person {
            format!(
                "- _… and {} ({}) not shown here: the full plan has them._\n",
                count_of(lines, "more person", "more people"),
                count_of(changes, "change", "changes")
            )
        } else {
            format!("- _… and {lines} more not shown here: the full plan has them._\n")
        }
    }

    fn fit(&self, room: usize) -> Shown {
        if self.full_len() <= room {
            return Shown::All;
        }
        let (people, changes) = self.hidden_all();
        let reserve = self.note(people.max(self.lines.len()), changes).len();
        let Some(mut left) = room.checked_sub(self.title.len() + reserve + 1) else {
            return Shown::Omitted;
        };
        let mut n = 0;
        for line in &self.lines {
            if line.len() > left {
                break;
            }
            left -= line.len();
            n += 1;
        }
        Shown::Cut(n)
    }

    /// Bytes that `render` writes for `shown`.
    fn cost(&self, shown: Shown) -> usize {
        match shown {
            Shown::All => self.full_len(),
            Shown::Omitted => 0,
            Shown::Cut(n) => {
                let (lines, changes) = self.hidden(shown);
                self.title.len()
                    + self.lines[..n].iter().map(String::len).sum::<usize>()
                    + self.note(lines, changes).len()
                    + 1
            }
        }
    }

    /// (lines, changes) not shown; folded by container, (people named on no shown line,
    /// changes not shown).
    fn hidden(&self, shown: Shown) -> (usize, usize) {
        let from = match shown {
            Shown::All => self.lines.len(),
            Shown::Cut(n) => n,
            Shown::Omitted => 0,
        };
        let changes = self.weights[from..].iter().sum();
        match &self.who {
            None => (self.lines.len() - from, changes),
            Some(who) => {
                let named: std::collections::HashSet<usize> =
                    who[..from].iter().flatten().copied().collect();
                let all: std::collections::HashSet<usize> = who.iter().flatten().copied().collect();
                (all.len() - named.len(), changes)
            }
        }
    }

    /// How many people the shown part names (every line when not folded).
    fn named(&self, shown: Shown) -> usize {
        let total = match &self.who {
            None => self.lines.len(),
            Some(who) => who
                .iter()
                .flatten()
                .collect::<std::collections::HashSet<_>>()
                .len(),
        };
        total - self.hidden(shown).0
    }

    fn hidden_all(&self) -> (usize, usize) {
        self.hidden(Shown::Omitted)
    }

    fn render(&self, shown: Shown, out: &mut String) {
        let n = match shown {
            _ if self.lines.is_empty() => return,
            Shown::Omitted => return,
            Shown::All => self.lines.len(),
            Shown::Cut(n) => n,
        };
        out.push_str(&self.title);
        for line in &self.lines[..n] {
            out.push_str(line);
        }
        if let Shown::Cut(_) = shown {
            let (lines, changes) = self.hidden(shown);
            out.push_str(&self.note(lines, changes));
        }
        out.push('\n');
    }
}

/// Room for two listings: both in full if they fit; else the smaller keeps up to half
/// and the larger takes the rest, so neither crowds the other out.
fn share(room: usize, a: usize, b: usize) -> (usize, usize) {
    if a + b <= room {
        return (a, b);
    }
    let half = room / 2;
    if a <= b {
        let a = a.min(half);
        (a, room - a)
    } else {
        let b = b.min(half);
        (room - b, b)
    }
}

/// One line per person with something to list: `- ana@acme.com — loses: …`. The handle
/// is left out (the email says who), as are words every item would repeat, to keep a
/// large drift's people within the comment.
fn person_listing<'p, 'a: 'p>(
    people: &'p [Person<'a>],
    title: &str,
    verb: &str,
    items: impl Fn(&'p Person<'a>) -> (Vec<Item<'p>>, Option<&'static str>),
) -> Listing {
    let mut lines = Vec::new();
    let mut weights = Vec::new();
    for person in people {
        let (list, tag) = items(person);
        if list.is_empty() {
            continue;
        }
        lines.push(format!(
            "- {}{} — {verb}: {}\n",
            inline(&person.id.to_string()),
            tag.map(|t| format!(" ({t})")).unwrap_or_default(),
            grouped(&list)
        ));
        weights.push(list.len());
    }
    let changes: usize = weights.iter().sum();
    Listing {
        title: format!(
            "#### {title}: {}, {}\n\n",
            count_of(lines.len(), "person", "people"),
            count_of(changes, "change", "changes")
        ),
        lines,
        weights,
        by_person: true,
        who: None,
    }
}

/// Everyone who loses a membership or a pending invitation; `offboarded` is said once for
/// a person whose every loss is for it.
fn removed_listing(people: &[Person<'_>]) -> Listing {
    person_listing(people, "Access removed", "loses", |p| {
        let offboarded = p
            .loses
            .iter()
            .all(|a| a.change.risks.contains(&Risk::Offboarded));
        let items = p.loses.iter().map(|a| lost(a, !offboarded)).collect();
        (items, offboarded.then_some("offboarded"))
    })
}

/// At most this many addresses on one line of the folded listing: a container that
/// loses hundreds of people takes several lines, so a cut never drops a whole container.
const FOLD_LINE: usize = 40;

/// Everyone who loses access, folded by container: one line per container and reason,
/// `- Group 004 (`pixiebrix group`, expired): ana@acme.com, bo@acme.com`. Each address is
/// said once per container it leaves, without the person-line's ` — loses: ` and the
/// container label per person, so a large drift names everyone within the comment.
fn removed_by_container(people: &[Person<'_>]) -> Listing {
    let mut by: std::collections::BTreeMap<(&ResourceKey, Vec<&'static str>), Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, p) in people.iter().enumerate() {
        for access in &p.loses {
            let item = lost(access, true);
            by.entry((item.key, item.why)).or_default().push(i);
        }
    }
    let mut lines = Vec::new();
    let mut weights = Vec::new();
    let mut who = Vec::new();
    for ((key, why), members) in &by {
        let mut label = format!("{} {}", key.provider, key.kind);
        for w in why {
            label.push_str(", ");
            label.push_str(w);
        }
        for chunk in members.chunks(FOLD_LINE) {
            let names: Vec<String> = chunk
                .iter()
                .map(|&i| inline(&people[i].id.to_string()))
                .collect();
            lines.push(format!(
                "- {} ({}): {}\n",
                inline(&key.name),
                inline(&label),
                names.join(", ")
            ));
            weights.push(chunk.len());
            who.push(chunk.to_vec());
        }
    }
    let losers = people.iter().filter(|p| !p.loses.is_empty()).count();
    let changes: usize = weights.iter().sum();
    Listing {
        title: format!(
            "#### Access removed: {}, {}\n\n_One line per container, so that everyone is named._\n\n",
            count_of(losers, "person", "people"),
            count_of(changes, "change", "changes")
        ),
        lines,
        weights,
        by_person: true,
        who: Some(who),
    }
}

/// Everyone who gains owner/admin rights.
fn raised_listing(people: &[Person<'_>]) -> Listing {
    person_listing(people, "Access raised to owner/admin", "gains", |p| {
        (p.raised().map(gained).collect(), None)
    })
}

/// One container of a person's line: where, why (leaver, expired, …) and how (`as
/// owner`, `member → admin`).
struct Item<'p> {
    key: &'p ResourceKey,
    why: Vec<&'static str>,
    how: String,
}

/// What a loss is: `Sales Ops` in a pixiebrix group, expired.
fn lost<'p>(access: &Access<'p>, say_offboarded: bool) -> Item<'p> {
    let mut why: Vec<&str> = Vec::new();
    if access.change.action == MemberAction::Revoke {
        why.push("invitation withdrawn");
    }
    let risks = &access.change.risks;
    if risks.contains(&Risk::Leaver) {
        why.push("leaver");
    }
    if say_offboarded && risks.contains(&Risk::Offboarded) {
        why.push("offboarded");
    }
    if risks.contains(&Risk::Expired) {
        why.push("expired");
    }
    Item {
        key: access.resource,
        why,
        how: String::new(),
    }
}

/// What a raise is: `Writers` in a docs team, as owner.
fn gained<'p>(access: &Access<'p>) -> Item<'p> {
    let how = match &access.change.action {
        MemberAction::Add { role: Some(r), .. } => format!(" as {r}"),
        MemberAction::Invite { role } => format!(" invited as {role}"),
        MemberAction::SetRole { from, to } => format!(
            " {} → {to}",
            from.map_or_else(|| "(none)".to_string(), |r| r.to_string())
        ),
        _ => String::new(),
    };
    Item {
        key: access.resource,
        why: Vec::new(),
        how,
    }
}

/// `Group 004, Group 018 (pixiebrix groups), Writers (docs team) as owner`: neighbours of
/// one provider and kind with the same reasons and nothing after them share one label
/// (a person's items are in key order, so those of a kind are neighbours).
fn grouped(items: &[Item<'_>]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let first = &items[i];
        let mut names = vec![inline(&first.key.name)];
        let mut j = i + 1;
        while first.how.is_empty()
            && j < items.len()
            && items[j].how.is_empty()
            && items[j].why == first.why
            && (&items[j].key.provider, items[j].key.kind) == (&first.key.provider, first.key.kind)
        {
            names.push(inline(&items[j].key.name));
            j += 1;
        }
        let mut where_ = format!(
            "{} {}{}",
            first.key.provider,
            first.key.kind,
            if names.len() > 1 { "s" } else { "" }
        );
        for w in &first.why {
            where_.push_str(", ");
            where_.push_str(w);
        }
        parts.push(format!(
            "{} ({}){}",
            names.join(", "),
            inline(&where_),
            first.how
        ));
        i = j;
    }
    parts.join(", ")
}

/// Blocked, waiting, unresolved, expiring and notes, in that order of weight.
fn warning_listings(plan: &Plan) -> Vec<Listing> {
    let held = |list: &[crate::plan::Blocked], sign: &str| -> Vec<String> {
        list.iter()
            .map(|b| {
                format!(
                    "- {sign}{}: {}: {}\n",
                    code(&b.resource.to_string()),
                    inline(&member_text(&b.change)),
                    inline(&b.reason)
                )
            })
            .collect()
    };
    let lists = [
        (
            "Blocked (teamsync will not make these changes)",
            held(&plan.blocked, "⛔ "),
        ),
        (
            "Waiting (made once the person accepts the invitation)",
            held(&plan.waiting, "⏳ "),
        ),
        (
            "Unresolved members (teamsync never removes or re-roles them)",
            plan.unresolved
                .iter()
                .map(|u| {
                    format!(
                        "- {}{}: {}\n",
                        if u.blocking { "⚠️ " } else { "" },
                        code(&u.resource.to_string()),
                        inline(&u.message())
                    )
                })
                .collect(),
        ),
        (
            "Expiring soon",
            plan.expiring
                .iter()
                .map(|e| format!("- {}\n", inline(&e.message())))
                .collect(),
        ),
        (
            "Notes",
            plan.notes
                .iter()
                .map(|n| {
                    format!(
                        "- {}: {}\n",
                        code(&n.resource.to_string()),
                        inline(&n.message)
                    )
                })
                .collect(),
        ),
    ];
    lists
        .into_iter()
        .map(|(title, lines)| Listing {
            title: format!("**{title}**\n\n"),
            weights: vec![1; lines.len()],
            lines,
            by_person: false,
            who: None,
        })
        .collect()
}

/// One resource's folded detail, rendered once.
struct Section {
    /// `<details><summary>…</summary>` and the opening fence.
    open: String,
    lines: Vec<String>,
    fence: String,
}

const SECTION_END: &str = "\n</details>\n\n";

impl Section {
    fn note(more: usize) -> String {
        format!(
            "\n_… {} of this resource not shown here: the full plan has them._\n",
            count_of(more, "more member change", "more member changes")
        )
    }

    /// The fence's closing line, or nothing for a resource without member lines.
    fn close(&self) -> String {
        if self.lines.is_empty() {
            String::new()
        } else {
            format!("{}\n", self.fence)
        }
    }

    fn full_len(&self) -> usize {
        self.open.len()
            + self.lines.iter().map(String::len).sum::<usize>()
            + self.close().len()
            + SECTION_END.len()
    }

    fn render(&self, shown: usize, out: &mut String) {
        out.push_str(&self.open);
        for line in &self.lines[..shown] {
            out.push_str(line);
        }
        out.push_str(&self.close());
        if shown < self.lines.len() {
            out.push_str(&Section::note(self.lines.len() - shown));
        }
        out.push_str(SECTION_END);
    }
}

/// The sections, most risky first: by the heaviest risk of the resource or any member,
/// then by how many members carry a risk, then in key order.
fn detail_sections(plan: &Plan) -> Vec<Section> {
    let mut order: Vec<(usize, usize, usize)> = plan
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let member_risks = c.members.iter().filter_map(member_risk);
            let mut heaviest = member_risks
                .clone()
                .chain(c.risks.iter().copied())
                .map(risk_weight)
                .max()
                .unwrap_or(0);
            if c.action == ResourceAction::Delete {
                heaviest = heaviest.max(risk_weight(Risk::Prune));
            }
            (heaviest, member_risks.count(), i)
        })
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    order
        .into_iter()
        .map(|(_, _, i)| section(&plan.changes[i]))
        .collect()
}

fn section(change: &ResourceChange) -> Section {
    let risky = !change.risks.is_empty() || change.members.iter().any(|m| !m.risks.is_empty());
    let mut tally = Vec::new();
    for (sign, n) in [
        ("+", count(change, |e| e == super::Effect::Gains)),
        ("−", count(change, |e| e == super::Effect::Loses)),
        ("~", count(change, |e| e == super::Effect::Changes)),
    ] {
        if n > 0 {
            tally.push(format!("{sign}{n}"));
        }
    }
    let lines: Vec<String> = change
        .members
        .iter()
        .map(|m| {
            let marker = member_risk(m)
                .map(|r| format!("   ! {}", risk_label(r)))
                .unwrap_or_default();
            format!(
                "{} {}{marker}\n",
                member_symbol(&m.action),
                one_line(&member_text(m))
            )
        })
        .collect();
    let fence = fence_for(&lines);
    let mut open = format!(
        "<details><summary>{}<code>{} {}</code> {}{}</summary>\n\n",
        if risky { "⚠️ " } else { "" },
        resource_symbol(&change.action),
        escape_html(&one_line(&change.key.to_string())),
        escape_html(&resource_verb(change)),
        if tally.is_empty() {
            String::new()
        } else {
            format!(" ({})", tally.join(" "))
        },
    );
    if !lines.is_empty() {
        let _ = writeln!(open, "{fence}diff");
    }
    Section { open, lines, fence }
}

/// For each section in order, how many member lines it shows (`None`: not shown). Whole
/// sections while they fit; the first that does not fit shows what it can with a note;
/// the rest, the least risky, are dropped.
fn fit_sections(sections: &[Section], mut room: usize) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(sections.len());
    let mut title = DETAIL_TITLE.len();
    let mut open = true;
    for s in sections {
        if !open {
            out.push(None);
            continue;
        }
        let full = title + s.full_len();
        if full <= room {
            room -= full;
            title = 0;
            out.push(Some(s.lines.len()));
            continue;
        }
        open = false;
        let frame = title
            + s.open.len()
            + s.close().len()
            + Section::note(s.lines.len()).len()
            + SECTION_END.len();
        let Some(mut left) = room.checked_sub(frame) else {
            out.push(None);
            continue;
        };
        let shown = s
            .lines
            .iter()
            .take_while(|l| {
                let fits = l.len() <= left;
                if fits {
                    left -= l.len();
                }
                fits
            })
            .count();
        out.push((shown > 0).then_some(shown));
    }
    out
}

/// What the comment leaves out, for the footer.
struct Hidden {
    resources: usize,
    members: usize,
    /// (people, changes) cut from Access removed and Access raised.
    people: [(usize, usize); 2],
    warnings: usize,
    /// All resources and member changes.
    totals: (usize, usize),
}

fn footer(h: &Hidden) -> String {
    let mut parts = Vec::new();
    if h.resources > 0 || h.members > 0 {
        parts.push(format!(
            "the detail of {} of {} and {} of {}",
            h.resources,
            count_of(h.totals.0, "resource", "resources"),
            h.members,
            count_of(h.totals.1, "member change", "member changes"),
        ));
    }
    for ((people, changes), what) in h.people.iter().zip(["lose access", "gain owner/admin"]) {
        if *people > 0 {
            parts.push(format!(
                "{} who {what} ({})",
                count_of(*people, "person", "people"),
                count_of(*changes, "change", "changes")
            ));
        }
    }
    if h.warnings > 0 {
        parts.push(count_of(h.warnings, "warning", "warnings"));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "---\n\n**Not shown here**, to fit the comment: {}. The full plan is in this run's job \
         summary and in the saved plan (`teamsync plan --out plan.json`; the example workflow \
         uploads it as the `teamsync-plan` artifact): `teamsync show plan.json`, or \
         `teamsync show plan.json --by person`.\n",
        parts.join("; ")
    )
}

fn count(change: &ResourceChange, f: impl Fn(super::Effect) -> bool) -> usize {
    change
        .members
        .iter()
        .filter(|m| f(super::effect(&m.action)))
        .count()
}

/// A code fence longer than any run of backticks in the content, so names cannot end it.
fn fence_for(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Text in HTML (inside `<summary>`).
fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text in a Markdown line: one line, and every character that could start markup, HTML,
/// an entity, maths or a mention is backslash-escaped. An `@` right after a letter or
/// digit (an email's) cannot start a mention and stays as it is.
fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut previous = ' ';
    for c in one_line(s).chars() {
        let mention = c == '@' && !previous.is_alphanumeric();
        if mention || "\\`*_[]<>|~$!#&".contains(c) {
            out.push('\\');
        }
        out.push(c);
        previous = c;
    }
    out
}

/// A resource key as inline code, with a backtick run longer than any inside it.
fn code(s: &str) -> String {
    let s = one_line(s);
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// The first `budget` bytes, at a character boundary.
fn clip(mut s: String, budget: usize) -> String {
    let mut end = budget.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}
