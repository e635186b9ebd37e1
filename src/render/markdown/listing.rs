//! The people sections: who loses access and who gains owner/admin, one line per person or,
//! when that does not fit, the losses folded by container; and the warnings. Each is a
//! `Listing` cut from its end to fit, saying what it left out.

use super::*;

/// A titled list whose lines may be cut from the end, with a note that says how many
/// were cut (and how many changes those lines held).
pub(super) struct Listing {
    pub(super) title: String,
    pub(super) lines: Vec<String>,
    /// How many changes each line holds (1 for a warning).
    pub(super) weights: Vec<usize>,
    /// `… and N more people (M changes)` or `… and N more`.
    pub(super) by_person: bool,
    /// Folded by container: the people (indices) each line names. A person may be on
    /// several lines, so what is hidden is counted in people not named on any shown line.
    pub(super) who: Option<Vec<Vec<usize>>>,
}

/// How much of a listing is shown.
#[derive(Clone, Copy)]
pub(super) enum Shown {
    All,
    /// The first `n` lines and the cut note.
    Cut(usize),
    /// Nothing, not even the title: counted in the footer only.
    Omitted,
}

impl Listing {
    pub(super) fn full_len(&self) -> usize {
        if self.lines.is_empty() {
            0
        } else {
            self.title.len() + self.lines.iter().map(String::len).sum::<usize>() + 1
        }
    }

    pub(super) fn note(&self, lines: usize, changes: usize) -> String {
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

    pub(super) fn fit(&self, room: usize) -> Shown {
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
    pub(super) fn cost(&self, shown: Shown) -> usize {
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
    pub(super) fn hidden(&self, shown: Shown) -> (usize, usize) {
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
    pub(super) fn named(&self, shown: Shown) -> usize {
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

    pub(super) fn hidden_all(&self) -> (usize, usize) {
        self.hidden(Shown::Omitted)
    }

    pub(super) fn render(&self, shown: Shown, out: &mut String) {
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
pub(super) fn share(room: usize, a: usize, b: usize) -> (usize, usize) {
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
pub(super) fn person_listing<'p, 'a: 'p>(
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
pub(super) fn removed_listing(people: &[Person<'_>]) -> Listing {
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
pub(super) const FOLD_LINE: usize = 40;

/// Everyone who loses access, folded by container: one line per container and reason,
/// `- Group 004 (`pixiebrix group`, expired): ana@acme.com, bo@acme.com`. Each address is
/// said once per container it leaves, without the person-line's ` — loses: ` and the
/// container label per person, so a large drift names everyone within the comment.
pub(super) fn removed_by_container(people: &[Person<'_>]) -> Listing {
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
pub(super) fn raised_listing(people: &[Person<'_>]) -> Listing {
    person_listing(people, "Access raised to owner/admin", "gains", |p| {
        (p.raised().map(gained).collect(), None)
    })
}

/// One container of a person's line: where, why (leaver, expired, …) and how (`as
/// owner`, `member → admin`).
pub(super) struct Item<'p> {
    pub(super) key: &'p ResourceKey,
    pub(super) why: Vec<&'static str>,
    pub(super) how: String,
}

/// What a loss is: `Sales Ops` in a pixiebrix group, expired.
pub(super) fn lost<'p>(access: &Access<'p>, say_offboarded: bool) -> Item<'p> {
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
pub(super) fn gained<'p>(access: &Access<'p>) -> Item<'p> {
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
pub(super) fn grouped(items: &[Item<'_>]) -> String {
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
pub(super) fn warning_listings(plan: &Plan) -> Vec<Listing> {
    let held = |list: &[crate::changeset::Blocked], sign: &str| -> Vec<String> {
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
