//! The per-resource detail: one collapsible section per change, most risky first, whose
//! member lines are cut from the least risky end to fit.

use super::*;

/// One resource's folded detail, rendered once.
pub(super) struct Section {
    /// `<details><summary>…</summary>` and the opening fence.
    pub(super) open: String,
    pub(super) lines: Vec<String>,
    pub(super) fence: String,
}

pub(super) const SECTION_END: &str = "\n</details>\n\n";

impl Section {
    pub(super) fn note(more: usize) -> String {
        format!(
            "\n_… {} of this resource not shown here: the full plan has them._\n",
            count_of(more, "more member change", "more member changes")
        )
    }

    /// The fence's closing line, or nothing for a resource without member lines.
    pub(super) fn close(&self) -> String {
        if self.lines.is_empty() {
            String::new()
        } else {
            format!("{}\n", self.fence)
        }
    }

    pub(super) fn full_len(&self) -> usize {
        self.open.len()
            + self.lines.iter().map(String::len).sum::<usize>()
            + self.close().len()
            + SECTION_END.len()
    }

    pub(super) fn render(&self, shown: usize, out: &mut String) {
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
pub(super) fn detail_sections(plan: &Plan) -> Vec<Section> {
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

pub(super) fn section(change: &ResourceChange) -> Section {
    let risky = !change.risks.is_empty() || change.members.iter().any(|m| !m.risks.is_empty());
    let mut tally = Vec::new();
    for (sign, n) in [
        ("+", count(change, |e| e == super::super::Effect::Gains)),
        ("−", count(change, |e| e == super::super::Effect::Loses)),
        ("~", count(change, |e| e == super::super::Effect::Changes)),
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
pub(super) fn fit_sections(sections: &[Section], mut room: usize) -> Vec<Option<usize>> {
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
