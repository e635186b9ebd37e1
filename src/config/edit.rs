//! The configuration edited in place, for `teamsync import --drift`: each adoption
//! ([`Adoption`]) is written into the file that declares its container, and every byte
//! it does not concern (comments, order, blank lines, quoting, other lists) stays as it
//! was. Block lists are edited line by line: an entry's lines go, a role is changed where
//! it is written (or added to the entry), a new entry follows the last one with its
//! indentation. A flow list (`members: [a, b]`), or a block list whose items are not
//! each on lines of their own, is rewritten whole in block style, and the result says so.
//! New people go to the roster file that holds the most people, with handles made as
//! `import` makes them ([`super::write::new_handle`]).
//!
//! Pure but for reading the files: the edits are returned, never written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::Loaded;
use super::yaml::{self, Layout, Shape, Span};
use crate::model::{Adoption, Email, Joiner, LeftAlone, MemberKey, Role};

/// One file and what the edits make of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditedFile {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

/// Everything the adoptions change, and what they could not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edits {
    /// The files that change, in the order of `Loaded::files`.
    pub files: Vec<EditedFile>,
    /// What was adopted, one line per container (and one for the roster).
    pub done: Vec<String>,
    /// Lists rewritten whole in block style, one line each with why.
    pub rewritten: Vec<String>,
    /// Adoptions that could not be written where they belong, with why.
    pub skipped: Vec<LeftAlone>,
}

/// Why no edit could be made at all.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot follow the layout of {}: {message}", path.display())]
    Layout { path: PathBuf, message: String },
    #[error(
        "no file has a `people:` list written in block style, nor a place for one, for {}: add them to people by hand",
        .0.join(", ")
    )]
    NoRoster(Vec<String>),
}

/// A replacement of `start..end` of a file's text (an insertion when they are equal).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Splice {
    start: usize,
    end: usize,
    text: String,
}

/// A file read once, with the edits made to it so far.
struct Source {
    text: String,
    layout: Layout,
    splices: Vec<Splice>,
}

impl Source {
    fn read(path: &Path) -> Result<Source, EditError> {
        let text = std::fs::read_to_string(path).map_err(|source| EditError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let layout = yaml::layout(&text).map_err(|e| EditError::Layout {
            path: path.to_path_buf(),
            message: e.message,
        })?;
        Ok(Source {
            text,
            layout,
            splices: Vec::new(),
        })
    }

    /// The text with every splice made, or `None` when two of them overlap.
    fn edited(&self) -> Option<String> {
        let mut splices: Vec<(usize, &Splice)> = self.splices.iter().enumerate().collect();
        splices.sort_by_key(|(order, s)| (s.start, s.end, *order));
        let mut out = String::with_capacity(self.text.len());
        let mut at = 0;
        for (_, s) in splices {
            if s.start < at || s.end > self.text.len() || s.start > s.end {
                return None;
            }
            out.push_str(self.text.get(at..s.start)?);
            out.push_str(&s.text);
            at = s.end;
        }
        out.push_str(self.text.get(at..)?);
        Some(out)
    }
}

/// Who adopted people are, by handle: the roster's own where the email is known, else a
/// new handle, added to the roster if a written entry uses it.
struct Roster {
    by_email: BTreeMap<Email, String>,
    taken: BTreeSet<String>,
    created: BTreeMap<String, Email>,
}

impl Roster {
    fn handle(&mut self, email: &Email) -> String {
        if let Some(h) = self.by_email.get(email) {
            return h.clone();
        }
        let h = super::write::new_handle(email, &self.taken);
        self.taken.insert(h.clone());
        self.by_email.insert(email.clone(), h.clone());
        self.created.insert(h.clone(), email.clone());
        h
    }
}

/// Writes each adoption into the file that declares its container; see the module's doc.
pub fn adopt(loaded: &Loaded, adoptions: &[Adoption]) -> Result<Edits, EditError> {
    let mut sources: BTreeMap<PathBuf, Source> = BTreeMap::new();
    let mut roster = Roster {
        by_email: loaded
            .people
            .iter()
            .map(|(h, e)| (e.clone(), h.clone()))
            .collect(),
        taken: loaded.people.keys().cloned().collect(),
        created: BTreeMap::new(),
    };
    let mut edits = Edits::default();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut joined_in: Vec<PathBuf> = Vec::new();
    for adoption in adoptions.iter().filter(|a| !a.is_empty()) {
        let mut skip = |why: &str| {
            edits.skipped.push(LeftAlone {
                key: adoption.key.clone(),
                why: why.to_string(),
            })
        };
        let Some(declared) = loaded.declared.get(&adoption.key) else {
            skip("teamsync found no declaration of it to edit");
            continue;
        };
        if !sources.contains_key(&declared.file) {
            sources.insert(declared.file.clone(), Source::read(&declared.file)?);
        }
        let Some(source) = sources.get_mut(&declared.file) else {
            continue;
        };
        let joins: Vec<(String, &Joiner)> = adoption
            .join
            .iter()
            .map(|j| (roster.handle(&j.email), j))
            .collect();
        let items: Vec<String> = joins
            .iter()
            .map(|(h, j)| joiner_item(h, j.role, &j.data))
            .collect();
        match container_splices(
            &source.text,
            &source.layout,
            declared,
            adoption,
            &loaded.people,
            &items,
        ) {
            Ok((splices, rewritten)) => {
                source.splices.extend(splices);
                let shown = shown_path(loaded, &declared.file);
                if let Some(why) = rewritten {
                    edits.rewritten.push(format!(
                        "{} in {shown}: {why}; its members list is rewritten in block style",
                        adoption.key
                    ));
                }
                let line = summary(adoption, &joins, &roster.by_email);
                edits
                    .done
                    .push(format!("{} in {shown}: {line}", adoption.key));
                used.extend(joins.iter().map(|(h, _)| h.clone()));
                if !joins.is_empty() {
                    joined_in.push(declared.file.clone());
                }
            }
            Err(why) => skip(&why),
        }
    }
    let new_people: Vec<(String, Email)> = roster
        .created
        .iter()
        .filter(|(h, _)| used.contains(*h))
        .map(|(h, e)| (h.clone(), e.clone()))
        .collect();
    if !new_people.is_empty() {
        let (file, splice) = roster_splice(loaded, &mut sources, &joined_in, &new_people)?;
        let shown = shown_path(loaded, &file);
        if let Some(source) = sources.get_mut(&file) {
            source.splices.push(splice);
        }
        edits.done.push(format!(
            "{shown}: people gains {}",
            new_people
                .iter()
                .map(|(h, e)| format!("{h} ({e})"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for path in &loaded.files {
        let Some(source) = sources.get(path).filter(|s| !s.splices.is_empty()) else {
            continue;
        };
        let after = source.edited().ok_or_else(|| EditError::Layout {
            path: path.clone(),
            message: "two edits overlap".into(),
        })?;
        if after != source.text {
            edits.files.push(EditedFile {
                path: path.clone(),
                before: source.text.clone(),
                after,
            });
        }
    }
    Ok(edits)
}

/// `path` as the user knows it: relative to the configuration's folder.
fn shown_path(loaded: &Loaded, path: &Path) -> String {
    path.strip_prefix(&loaded.base_dir)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// One line for what an adoption does: `+erin, -bob, carol: role member`, by handle
/// where the roster has one.
fn summary(
    adoption: &Adoption,
    joins: &[(String, &Joiner)],
    handles: &BTreeMap<Email, String>,
) -> String {
    let name = |k: &MemberKey| match k {
        MemberKey::Email(e) => handles.get(e).cloned().unwrap_or_else(|| e.to_string()),
        other => other.to_string(),
    };
    let mut parts: Vec<String> = Vec::new();
    parts.extend(joins.iter().map(|(h, j)| match j.role {
        Some(r) => format!("+{h} (role {r})"),
        None => format!("+{h}"),
    }));
    parts.extend(adoption.drop.iter().map(|k| format!("-{}", name(k))));
    parts.extend(
        adoption
            .roles
            .iter()
            .map(|(k, r)| format!("{}: role {r}", name(k))),
    );
    parts.join(", ")
}

/// The splices that write one adoption into its container's entry, and why the list was
/// rewritten whole, if it was; `Err` says why nothing can be written.
fn container_splices(
    text: &str,
    layout: &Layout,
    declared: &super::Declared,
    adoption: &Adoption,
    people: &BTreeMap<String, Email>,
    joins: &[String],
) -> Result<(Vec<Splice>, Option<&'static str>), String> {
    let container = layout
        .at(&declared.pointer)
        .ok_or("its entry is not where the loader found it")?;
    let Shape::Map { flow, entries } = &container.shape else {
        return Err("its entry is not a mapping teamsync can edit".into());
    };
    if entries.iter().any(|(k, _, _)| k == "<<") {
        return Err("its keys come partly from an anchor (`<<:`); edit it by hand".into());
    }
    let named = matches!(&container.get("name").map(|n| &n.shape),
        Some(Shape::Scalar { value, .. }) if value.trim() == adoption.key.name);
    if !named {
        return Err("its entry does not carry its name where the loader read it".into());
    }
    let Some((_, key_span, list)) = entries.iter().find(|(k, _, _)| k == "members") else {
        if !adoption.drop.is_empty() || !adoption.roles.is_empty() {
            return Err("it lists no members to edit".into());
        }
        if *flow {
            return Err("it is written as a flow mapping (`{ … }`); edit it by hand".into());
        }
        return Ok((vec![new_members_key(text, container, joins)], None));
    };
    let items = match &list.shape {
        Shape::Seq { items, .. } => items,
        _ => return Err("its members are not a list teamsync can edit".into()),
    };
    // Which entry each adopted member is.
    let keys: Vec<Option<MemberKey>> = items.iter().map(|i| entry_key(i, people)).collect();
    let index = |k: &MemberKey| keys.iter().position(|e| e.as_ref() == Some(k));
    let mut drops = BTreeSet::new();
    for k in &adoption.drop {
        drops.insert(index(k).ok_or_else(|| format!("{k} is not an entry of its list"))?);
    }
    let mut roles = BTreeMap::new();
    for (k, r) in &adoption.roles {
        roles.insert(
            index(k).ok_or_else(|| format!("{k} is not an entry of its list"))?,
            *r,
        );
    }
    let wanted = Wanted {
        drops: &drops,
        roles: &roles,
        joins,
    };
    if let Shape::Seq { flow: false, items } = &list.shape
        && let Some(splices) = in_place(text, *key_span, items, &wanted)
    {
        return Ok((splices, None));
    }
    let why = match &list.shape {
        Shape::Seq { flow: true, .. } => "it was written in flow style (`[…]`)",
        _ => "its items are not each on lines of their own (comments inside it are not kept)",
    };
    let splice = rewrite(text, *key_span, list, items, &wanted)
        .ok_or("its members list is written in a form teamsync cannot rewrite; edit it by hand")?;
    Ok((vec![splice], Some(why)))
}

/// What to do to a list: drop these entries, set these roles, append these items.
struct Wanted<'a> {
    drops: &'a BTreeSet<usize>,
    roles: &'a BTreeMap<usize, Role>,
    joins: &'a [String],
}

/// The member a list entry names: a handle (through the roster), an address, or a
/// mapping's `person`, `email` or `user_id`.
fn entry_key(item: &Layout, people: &BTreeMap<String, Email>) -> Option<MemberKey> {
    match &item.shape {
        Shape::Scalar { value, .. } => super::types::name_key(people, value),
        Shape::Map { entries, .. } => {
            let field = |name: &str| {
                entries.iter().find_map(|(k, _, v)| match &v.shape {
                    Shape::Scalar { value, .. } if k == name => Some(value.as_str()),
                    _ => None,
                })
            };
            super::types::member_key(people, field("person"), field("email"), field("user_id"))
        }
        _ => None,
    }
}

/// Where the line holding `at` starts.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Where the line holding `at` ends, its line break excluded.
fn line_end(text: &str, at: usize) -> usize {
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    if end > at && text[..end].ends_with('\r') {
        end - 1
    } else {
        end
    }
}

/// Where the line after the one holding `at` starts (the text's end on its last line).
fn next_line(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// The file's line break.
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// What an insertion at `at` must start with so that it starts a line.
fn line_break_before(text: &str, at: usize) -> &'static str {
    if at == 0 || text[..at].ends_with('\n') {
        ""
    } else {
        newline(text)
    }
}

/// Whether only blanks and a comment follow `at` on its line.
fn rest_is_comment(text: &str, at: usize) -> bool {
    let rest = text[at..line_end(text, at)].trim_start();
    rest.is_empty() || rest.starts_with('#')
}

/// A block list edited in place, or `None` when its items are not each on lines of their
/// own (`- ` then the item, nothing but a comment after it, every dash at one indentation).
/// New items take the last item's indentation and spacing after its dash.
fn in_place(text: &str, key: Span, items: &[Layout], wanted: &Wanted) -> Option<Vec<Splice>> {
    let mut dash: Option<(usize, usize)> = None;
    let mut previous_end = 0;
    for item in items {
        let start = line_start(text, item.span.start);
        let prefix = &text[start..item.span.start];
        let indent = prefix.len() - prefix.trim_start_matches(' ').len();
        let after_dash = prefix[indent..].strip_prefix('-')?;
        if after_dash.is_empty() || !after_dash.chars().all(|c| c == ' ') {
            return None;
        }
        if dash.is_some_and(|(i, _)| i != indent)
            || start < previous_end
            || !rest_is_comment(text, item.span.end)
        {
            return None;
        }
        dash = Some((indent, after_dash.len()));
        previous_end = next_line(text, item.span.end);
    }
    let (indent, gap) = dash?;
    let nl = newline(text);
    let mut splices = Vec::new();
    for (j, item) in items.iter().enumerate() {
        if wanted.drops.contains(&j) {
            splices.push(Splice {
                start: line_start(text, item.span.start),
                end: next_line(text, item.span.end),
                text: String::new(),
            });
        } else if let Some(role) = wanted.roles.get(&j) {
            splices.push(role_splice(text, item, *role)?);
        }
    }
    let last = items.last()?;
    if !wanted.joins.is_empty() {
        let at = next_line(text, last.span.end);
        let mut added = line_break_before(text, at).to_string();
        for item in wanted.joins {
            added.push_str(&format!(
                "{}-{}{item}{nl}",
                " ".repeat(indent),
                " ".repeat(gap)
            ));
        }
        splices.push(Splice {
            start: at,
            end: at,
            text: added,
        });
    } else if wanted.drops.len() == items.len() {
        // Nobody left: the list is written `[]`, after the key's colon.
        let colon = after_colon(text, key)?;
        splices.push(Splice {
            start: colon,
            end: colon,
            text: " []".into(),
        });
    }
    Some(splices)
}

/// The position just after the `:` that follows a mapping key.
fn after_colon(text: &str, key: Span) -> Option<usize> {
    let rest = &text[key.end..];
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    rest[spaces..]
        .starts_with(':')
        .then_some(key.end + spaces + 1)
}

/// The edit that makes one entry state `role`: in place where it states one, added to
/// it where it does not.
fn role_splice(text: &str, item: &Layout, role: Role) -> Option<Splice> {
    match &item.shape {
        Shape::Scalar { value, .. } => {
            let source = text.get(item.span.start..item.span.end)?;
            if source.contains('\n') {
                return None;
            }
            let field = if value.contains('@') {
                "email"
            } else {
                "person"
            };
            Some(Splice {
                start: item.span.start,
                end: item.span.end,
                text: format!("{{ {field}: {source}, role: {role} }}"),
            })
        }
        Shape::Map { flow, entries } => {
            if let Some((_, _, v)) = entries.iter().find(|(k, _, _)| k == "role") {
                return matches!(v.shape, Shape::Scalar { .. }).then(|| Splice {
                    start: v.span.start,
                    end: v.span.end,
                    text: role.as_str().into(),
                });
            }
            let (_, _, last) = entries.last()?;
            if *flow {
                return Some(Splice {
                    start: last.span.end,
                    end: last.span.end,
                    text: format!(", role: {role}"),
                });
            }
            // A block mapping gains a line after its first, indented like its keys.
            let (_, _, first) = entries.first()?;
            if text.get(item.span.start..first.span.end)?.contains('\n') {
                return None;
            }
            let at = next_line(text, item.span.start);
            Some(Splice {
                start: at,
                end: at,
                text: format!(
                    "{}{}role: {role}{}",
                    line_break_before(text, at),
                    " ".repeat(item.span.column),
                    newline(text)
                ),
            })
        }
        _ => None,
    }
}

/// The whole list rewritten in block style: from after the key's colon to the end of the
/// list's last line. Kept entries in flow form (`alice`, `{ person: bob, role: owner }`),
/// then the new ones; a comment on the key's line (or after a flow list's `]`) is kept.
fn rewrite(
    text: &str,
    key: Span,
    list: &Layout,
    items: &[Layout],
    wanted: &Wanted,
) -> Option<Splice> {
    let colon = after_colon(text, key)?;
    let end = line_end(text, list.span.end);
    let same_line = !text[colon..list.span.start].contains('\n');
    let rest = if same_line {
        &text[list.span.end..end]
    } else {
        &text[colon..line_end(text, colon)]
    };
    let rest = if rest.trim().is_empty() { "" } else { rest };
    let mut kept = Vec::new();
    for (j, item) in items.iter().enumerate() {
        if !wanted.drops.contains(&j) {
            kept.push(flow_item(text, item, wanted.roles.get(&j).copied())?);
        }
    }
    kept.extend(wanted.joins.iter().cloned());
    let nl = newline(text);
    let indent = " ".repeat(key.column + 2);
    let body = if kept.is_empty() {
        format!(" []{rest}")
    } else {
        let lines: String = kept.iter().map(|k| format!("{nl}{indent}- {k}")).collect();
        format!("{rest}{lines}")
    };
    Some(Splice {
        start: colon,
        end,
        text: body,
    })
}

/// An entry on one line, in flow form, stating `role` if given.
fn flow_item(text: &str, item: &Layout, role: Option<Role>) -> Option<String> {
    match (&item.shape, role) {
        (Shape::Scalar { value, .. }, Some(role)) => {
            let field = if value.contains('@') {
                "email"
            } else {
                "person"
            };
            Some(format!(
                "{{ {field}: {}, role: {role} }}",
                flow_value(text, item)?
            ))
        }
        (Shape::Map { entries, .. }, _) => {
            let mut parts = Vec::new();
            let mut stated = false;
            for (k, at, v) in entries {
                let value = match role.filter(|_| k == "role") {
                    Some(r) => {
                        stated = true;
                        r.as_str().to_string()
                    }
                    None => flow_value(text, v)?,
                };
                parts.push(format!("{}: {value}", text.get(at.start..at.end)?));
            }
            if let (Some(r), false) = (role, stated) {
                parts.push(format!("role: {r}"));
            }
            Some(format!("{{ {} }}", parts.join(", ")))
        }
        _ => flow_value(text, item),
    }
}

/// A value as flow text on one line: its own text when it has one line, a flow
/// collection's lines joined, a block collection written in flow form.
fn flow_value(text: &str, node: &Layout) -> Option<String> {
    let source = text.get(node.span.start..node.span.end)?;
    match &node.shape {
        Shape::Scalar { .. } => (!source.contains('\n')).then(|| source.to_string()),
        Shape::Seq { flow: true, .. } | Shape::Map { flow: true, .. } => {
            if !source.contains('\n') {
                return Some(source.to_string());
            }
            // Quotes or a comment could hold a line's end: only plain lines are joined.
            (!source.contains(['#', '"', '\'']))
                .then(|| source.lines().map(str::trim).collect::<Vec<_>>().join(" "))
        }
        Shape::Seq { items, .. } => {
            let items: Option<Vec<String>> = items.iter().map(|i| flow_value(text, i)).collect();
            Some(format!("[{}]", items?.join(", ")))
        }
        Shape::Map { entries, .. } => {
            let parts: Option<Vec<String>> = entries
                .iter()
                .map(|(_, at, v)| {
                    Some(format!(
                        "{}: {}",
                        text.get(at.start..at.end)?,
                        flow_value(text, v)?
                    ))
                })
                .collect();
            Some(format!("{{ {} }}", parts?.join(", ")))
        }
        Shape::Opaque => None,
    }
}

/// A `members:` key for a container that had none, after its last line.
fn new_members_key(text: &str, container: &Layout, joins: &[String]) -> Splice {
    let at = next_line(text, container.span.end);
    let nl = newline(text);
    let indent = " ".repeat(container.span.column);
    let mut added = format!("{}{indent}members:{nl}", line_break_before(text, at));
    for item in joins {
        added.push_str(&format!("{indent}  - {item}{nl}"));
    }
    Splice {
        start: at,
        end: at,
        text: added,
    }
}

/// The entry for a live member: the handle alone, or a mapping with the role and data it
/// must state.
fn joiner_item(handle: &str, role: Option<Role>, data: &crate::model::Data) -> String {
    let mut parts = vec![format!("person: {}", scalar(handle))];
    if let Some(r) = role {
        parts.push(format!("role: {r}"));
    }
    if !data.is_empty() {
        parts.push(format!(
            "data: {}",
            serde_json::to_string(data).unwrap_or_else(|_| "{}".into())
        ));
    }
    if parts.len() == 1 {
        scalar(handle)
    } else {
        format!("{{ {} }}", parts.join(", "))
    }
}

/// `value` as a YAML scalar: plain when it reads back as the same string (handles and
/// ordinary addresses), else double-quoted.
fn scalar(value: &str) -> String {
    let plain = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'))
        && !matches!(value, "true" | "false" | "null");
    if plain {
        value.to_string()
    } else {
        serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""))
    }
}

/// Where new people go: after the last person of the roster file that holds the most
/// people (a block `people:` mapping); with none, a `people:` block at the end of the
/// first file a member joined in (or any) that has no `people:` key.
fn roster_splice(
    loaded: &Loaded,
    sources: &mut BTreeMap<PathBuf, Source>,
    joined_in: &[PathBuf],
    people: &[(String, Email)],
) -> Result<(PathBuf, Splice), EditError> {
    for path in &loaded.files {
        if !sources.contains_key(path) {
            sources.insert(path.clone(), Source::read(path)?);
        }
    }
    let block_roster = |s: &Source| match s.layout.get("people").map(|p| &p.shape) {
        Some(Shape::Map {
            flow: false,
            entries,
        }) if !entries.is_empty() => Some(entries.len()),
        _ => None,
    };
    let mut best: Option<(usize, &PathBuf)> = None;
    for path in &loaded.files {
        if let Some(n) = sources.get(path).and_then(block_roster)
            && best.is_none_or(|(most, _)| n > most)
        {
            best = Some((n, path));
        }
    }
    if let Some((_, path)) = best
        && let Some(source) = sources.get(path)
        && let Some(splice) = people_after_last(&source.text, &source.layout, people)
    {
        return Ok((path.clone(), splice));
    }
    let mut candidates: Vec<&PathBuf> = joined_in.iter().collect();
    candidates.extend(loaded.files.iter().filter(|p| **p != loaded.root));
    for path in candidates {
        let Some(source) = sources.get(path) else {
            continue;
        };
        if source.layout.get("people").is_none()
            && matches!(source.layout.shape, Shape::Map { flow: false, .. })
        {
            let nl = newline(&source.text);
            let at = source.text.len();
            let mut text = format!("{}people:{nl}", line_break_before(&source.text, at));
            for (h, e) in people {
                text.push_str(&format!("  {h}: {{ email: {} }}{nl}", scalar(e.as_str())));
            }
            return Ok((
                path.clone(),
                Splice {
                    start: at,
                    end: at,
                    text,
                },
            ));
        }
    }
    Err(EditError::NoRoster(
        people.iter().map(|(_, e)| e.to_string()).collect(),
    ))
}

/// New people after a block roster's last person, written like it (`h: { email: … }` or
/// `h:` with `email:` on its own line); `None` when that person's entry has more than a
/// comment after it on its last line.
fn people_after_last(text: &str, layout: &Layout, people: &[(String, Email)]) -> Option<Splice> {
    let Shape::Map { entries, .. } = &layout.get("people")?.shape else {
        return None;
    };
    let (_, key, value) = entries.last()?;
    if !rest_is_comment(text, value.span.end) {
        return None;
    }
    let at = next_line(text, value.span.end);
    let nl = newline(text);
    let indent = " ".repeat(key.column);
    let mut added = line_break_before(text, at).to_string();
    for (h, e) in people {
        let email = scalar(e.as_str());
        match &value.shape {
            Shape::Map { flow: false, .. } if value.span.line > key.line => {
                added.push_str(&format!(
                    "{indent}{}:{nl}{}email: {email}{nl}",
                    scalar(h),
                    " ".repeat(value.span.column)
                ));
            }
            _ => added.push_str(&format!("{indent}{}: {{ email: {email} }}{nl}", scalar(h))),
        }
    }
    Some(Splice {
        start: at,
        end: at,
        text: added,
    })
}

#[cfg(test)]
mod tests;
