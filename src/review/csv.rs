//! The CSV rendering, for spreadsheets: one row per person × container they have (or are
//! declared to have) access to, and one row with empty container fields for a person with
//! none. RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a comma,
//! a quote or a line break. Cells a spreadsheet would run as a formula (starting with `=`,
//! `+`, `-`, `@`, a tab or a carriage return) get a leading `'`, as OWASP advises.

use super::{Cell, Mark, Person, Report};

const HEADER: [&str; 26] = [
    "person",
    "handle",
    "email",
    "name",
    "user_id",
    "known_to_config",
    "account",
    "person_marks",
    "provider",
    "provider_kind",
    "organization",
    "container_kind",
    "container",
    "role",
    "declared_role",
    "live_role",
    "until",
    "days_left",
    "marks",
    "grant_evidence",
    "granted_commit",
    "granted_at",
    "granted_by",
    "committed_by",
    "committed_at",
    "approved_by",
];

/// One field, escaped against formula injection and quoted per RFC 4180.
pub(crate) fn field(out: &mut String, value: &str) {
    let guarded = matches!(
        value.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    let quoted = value.contains([',', '"', '\r', '\n']);
    if quoted {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    if quoted {
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn marks(list: &[Mark]) -> String {
    list.iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

fn record(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, f);
    }
    out.push_str("\r\n");
}

fn person_fields<'a>(p: &'a Person, person_marks: &'a str) -> [&'a str; 8] {
    [
        &p.id,
        p.handle.as_deref().unwrap_or(""),
        p.email.as_deref().unwrap_or(""),
        p.name.as_deref().unwrap_or(""),
        p.user_id.as_deref().unwrap_or(""),
        if p.known_to_config { "yes" } else { "no" },
        match p.account {
            crate::model::AccountKind::Human => "human",
            crate::model::AccountKind::ServiceAccounts => "service_account",
            crate::model::AccountKind::DeploymentKeys => "deployment_key",
            crate::model::AccountKind::Unknown => "unknown",
        },
        person_marks,
    ]
}

/// The whole table, header first.
pub fn csv(report: &Report) -> String {
    let mut out = String::with_capacity(64 * (report.summary.access + report.people.len() + 1));
    record(&mut out, &HEADER);
    let org = |provider: &str| {
        report
            .providers
            .iter()
            .find(|p| p.name == provider)
            .map(|p| (p.kind.as_str(), p.organization.as_str()))
            .unwrap_or(("", ""))
    };
    let role = |r: Option<crate::model::Role>| r.map(|r| r.as_str()).unwrap_or("");
    for p in &report.people {
        let pm = marks(&p.marks);
        let head = person_fields(p, &pm);
        if p.access.is_empty() {
            let mut fields: Vec<&str> = head.to_vec();
            fields.extend([""; HEADER.len() - 8]);
            record(&mut out, &fields);
            continue;
        }
        for cell in &p.access {
            let Cell { column, .. } = cell;
            let Some(c) = report.containers.get(*column) else {
                continue;
            };
            let (kind, organization) = org(&c.provider);
            let cm = marks(&cell.marks);
            let days = cell.days_left.map(|d| d.to_string()).unwrap_or_default();
            let grant = cell.granted.as_deref();
            let approved = grant.map(|g| g.approvers.join("; ")).unwrap_or_default();
            let mut fields: Vec<&str> = head.to_vec();
            fields.extend([
                c.provider.as_str(),
                kind,
                organization,
                c.kind.as_str(),
                c.name.as_str(),
                cell.role.as_str(),
                role(cell.declared_role),
                role(cell.live_role),
                cell.until.as_deref().unwrap_or(""),
                days.as_str(),
                cm.as_str(),
                cell.grant_evidence.map_or("", |e| e.as_str()),
                grant.map_or("", |g| g.commit.as_str()),
                grant.map_or("", |g| g.date.as_str()),
                grant.map_or("", |g| g.author.as_str()),
                grant.map_or("", |g| g.committer.as_str()),
                grant.map_or("", |g| g.committed_at.as_str()),
                approved.as_str(),
            ]);
            record(&mut out, &fields);
        }
    }
    out
}
