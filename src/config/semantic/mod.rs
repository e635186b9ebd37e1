//! The rules of `docs/design.md` that a schema cannot express: references resolve, emails are
//! valid and allowed, roles and kinds fit their provider, providers are inferred, nothing is
//! declared twice. Produces the desired state, or every problem found.
//!
//! The rules by subject, one file each: `providers` (the root file's providers and
//! policy), `people` (the roster), `containers` (groups, campaigns, teams, the
//! organization), `members` (who is in a container, with role, data and `until`),
//! `codeowners` (the root file's `codeowners:` section). This
//! file holds the checker, the order it runs in, and the address and date rules they share.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::closest;
use super::load::SourceFile;
use super::schema::describe;
use super::text::{self, NameKind, shown};
use super::types::{Container, MemberDetail, MemberEntry};
use super::yaml::escape_pointer;
use crate::diag::{Diagnostic, Location};
use crate::model::{
    Data, DesiredMember, DesiredResource, DesiredState, Email, Endpoint, MemberKey, OrgOptions,
    Policy, ProviderKind, ProviderSettings, ResourceKey, ResourceKind, Role, StrictEmailError,
};

mod codeowners;
mod containers;
mod members;
mod people;
mod providers;
mod rules;

/// The checked result of all files.
pub struct Checked {
    pub people: BTreeMap<String, Email>,
    pub providers: BTreeMap<String, ProviderSettings>,
    pub policy: Policy,
    pub desired: DesiredState,
    /// Handle → GitHub username, for the people who have one.
    pub github: BTreeMap<String, String>,
    /// The files that declare `people`.
    pub people_files: Vec<PathBuf>,
    /// The root file's `codeowners:` section, checked.
    pub codeowners: Option<crate::config::codeowners::Settings>,
    /// Problems that do not stop a plan (a name trimmed of its surrounding spaces).
    pub warnings: Vec<Diagnostic>,
    /// Where each resource of `desired` is declared (an organization roster: where its
    /// `organization:` section is, or the roster file that made it).
    pub declared: BTreeMap<ResourceKey, Declared>,
}

/// Where a resource is declared: the file, and the JSON pointer of its entry
/// (`/teams/0`), for the edits of `import --drift` and the lines of `teamsync codeowners`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    pub file: std::path::PathBuf,
    pub pointer: String,
}

struct Person {
    email: Email,
    data: Data,
    /// The index of the file that declares the person, in `Checker::files`. Where in it
    /// the person stands only ever serves an error, so it is looked up then.
    file: usize,
    until: Option<jiff::civil::Date>,
    offboarded: bool,
    /// The person's GitHub username (`github:`), checked.
    github: Option<String>,
}

struct Checker<'a> {
    /// Today (UTC), once per load: the access rules count `until` limits from it.
    today: jiff::civil::Date,
    files: &'a [SourceFile],
    base_dir: &'a Path,
    errors: Vec<Diagnostic>,
    providers: BTreeMap<String, ProviderSettings>,
    policy: Policy,
    /// By handle; hashed (foldhash, seeded per process), since every member of every
    /// container looks its handle up.
    people: HashMap<String, Person, foldhash::fast::RandomState>,
    /// Handles whose own entry is broken: references to them are not errors twice.
    broken_people: Vec<String>,
    /// Providers whose entry in the root is broken (an unknown kind, say): resources that
    /// name them, or could be theirs, are not errors twice.
    broken_providers: Vec<String>,
    desired: DesiredState,
    declared_at: BTreeMap<ResourceKey, Location>,
    declared: BTreeMap<ResourceKey, Declared>,
    /// Each container by (provider, kind, name lower-cased): names that differ only in
    /// case are one name to a reader, and to some providers.
    folded: BTreeMap<(String, ResourceKind, String), (String, Location)>,
    warnings: Vec<Diagnostic>,
    /// An `allowed_email_domains` entry is refused: addresses are not checked against
    /// the rest (the error is the entry, not every address).
    policy_broken: bool,
}

/// Runs every semantic rule over the files (the root first).
pub fn check(files: &[SourceFile], base_dir: &Path) -> Result<Checked, Vec<Diagnostic>> {
    let mut c = Checker {
        today: crate::model::today_utc(),
        files,
        base_dir,
        errors: Vec::new(),
        providers: BTreeMap::new(),
        policy: Policy::default(),
        people: HashMap::default(),
        broken_people: files
            .iter()
            .flat_map(|f| f.broken_people.iter().cloned())
            .collect(),
        broken_providers: files
            .iter()
            .flat_map(|f| f.broken_providers.iter().cloned())
            .collect(),
        desired: DesiredState::default(),
        declared_at: BTreeMap::new(),
        declared: BTreeMap::new(),
        folded: BTreeMap::new(),
        warnings: Vec::new(),
        policy_broken: false,
    };
    c.root_only_keys();
    c.root();
    let codeowners = c.codeowners();
    c.people();
    for file in files {
        c.containers(
            file,
            ResourceKind::Group,
            file.typed.groups.as_deref(),
            "groups",
        );
        c.containers(
            file,
            ResourceKind::Campaign,
            file.typed.campaigns.as_deref(),
            "campaigns",
        );
        c.containers(
            file,
            ResourceKind::Team,
            file.typed.teams.as_deref(),
            "teams",
        );
        c.organization(file);
    }
    c.members_beyond_exact_rosters();
    if c.errors.is_empty() {
        let people = c
            .people
            .iter()
            .map(|(h, p)| (h.clone(), p.email.clone()))
            .collect();
        let github = c
            .people
            .iter()
            .filter_map(|(h, p)| Some((h.clone(), p.github.clone()?)))
            .collect();
        let people_files = files
            .iter()
            .filter(|f| f.typed.people.is_some())
            .map(|f| f.path.clone())
            .collect();
        Ok(Checked {
            people,
            providers: c.providers,
            policy: c.policy,
            desired: c.desired,
            github,
            people_files,
            codeowners,
            warnings: c.warnings,
            declared: c.declared,
        })
    } else {
        let mut all = c.errors;
        all.extend(c.warnings);
        Err(all)
    }
}

impl Checker<'_> {
    fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn root_only_keys(&mut self) {
        for file in self.files.iter().filter(|f| !f.is_root) {
            let t = &file.typed;
            let present = [
                ("version", t.version.is_some()),
                ("providers", t.providers.is_some()),
                ("policy", t.policy.is_some()),
                ("include", t.include.is_some()),
                ("limits", t.limits.is_some()),
                ("codeowners", t.codeowners.is_some()),
            ];
            for (key, _) in present.into_iter().filter(|(_, p)| *p) {
                let hint = if key == "include" {
                    "list every file in the root file's `include`; included files cannot include others".to_string()
                } else {
                    format!("move `{key}` to teamsync.yaml")
                };
                self.error(
                    Diagnostic::error(format!("`{key}` is only allowed in the root file"))
                        .at(file.key_at(&format!("/{key}")))
                        .with_hint(hint),
                );
            }
        }
    }

    /// An `until` date: `YYYY-MM-DD`, a real day.
    /// `at` is only called for an error.
    fn parse_day(&mut self, raw: &str, at: impl FnOnce() -> Location) -> Option<jiff::civil::Date> {
        let well_formed = raw.len() == 10
            && raw.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        match raw.parse::<jiff::civil::Date>() {
            Ok(day) if well_formed => Some(day),
            _ => {
                self.error(
                    Diagnostic::error(format!("`until: {}` is not a date", shown(raw)))
                        .at(at())
                        .with_hint("write the last day of access as YYYY-MM-DD, for example 2026-12-31 (a UTC day; access ends when it ends)"),
                );
                None
            }
        }
    }

    /// `at` is only called for an error.
    fn parse_email(&mut self, raw: &str, at: impl FnOnce() -> Location) -> Option<Email> {
        match Email::parse_strict(raw) {
            Ok(e) => {
                let allowed = &self.policy.allowed_email_domains;
                if !allowed.is_empty() && !self.policy_broken && !allowed.contains(e.domain()) {
                    let list = allowed.iter().cloned().collect::<Vec<_>>().join(", ");
                    self.error(
                        Diagnostic::error(format!("{e} is outside the allowed email domains ({list})"))
                            .at(at())
                            .with_hint("use an address in an allowed domain, or add the domain to policy.allowed_email_domains"),
                    );
                    return None;
                }
                Some(e)
            }
            Err(err) => {
                let hint = match &err {
                    StrictEmailError::Basic(_) => "write it as name@example.com".to_string(),
                    StrictEmailError::Hidden { .. } => "delete the invisible character: retype the address rather than pasting it".to_string(),
                    StrictEmailError::NonAsciiLocal { looks_like: Some(_), .. } => "retype the address in ASCII: a lookalike letter makes it another person's address".to_string(),
                    StrictEmailError::NonAsciiLocal { .. } => "teamsync accepts only ASCII before '@' (see docs/config.md); use the person's ASCII address".to_string(),
                    StrictEmailError::Domain(crate::model::DomainError::Idna(_)) => "check the domain: it must be a valid domain name".to_string(),
                    StrictEmailError::Domain(_) => "retype the domain in ASCII (or its real script alone): a lookalike letter makes it another domain".to_string(),
                };
                self.error(
                    Diagnostic::error(format!(
                        "`{}` is not a valid email address: {err}",
                        shown(raw)
                    ))
                    .at(at())
                    .with_hint(hint),
                );
                None
            }
        }
    }
}

/// The JSON pointer of person `handle`'s entry.
fn person_pointer(handle: &str) -> String {
    format!("/people/{}", escape_pointer(handle))
}

/// Where person `handle` of `files[file]` stands (its key), for an error.
fn person_at(files: &[SourceFile], file: usize, handle: &str) -> Location {
    files[file].key_at(&person_pointer(handle))
}

/// Where `field` of person `handle` of `files[file]` stands, for an error.
fn person_field_at(files: &[SourceFile], file: usize, handle: &str, field: &str) -> Location {
    files[file].at(&format!("{}/{field}", person_pointer(handle)))
}

/// The earlier of two optional last days.
fn earliest(
    a: Option<jiff::civil::Date>,
    b: Option<jiff::civil::Date>,
) -> Option<jiff::civil::Date> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An `allowed_email_domains` entry, normalised (A-label form), or why it is refused:
/// (message, hint). Subdomains are not matched, so a wildcard is refused rather than kept
/// as an entry that would refuse everyone.
fn allowed_domain(raw: &str) -> Result<String, (String, String)> {
    let s = shown(raw);
    let example = |d: &str| {
        let d = d.trim().trim_end_matches('.').to_lowercase();
        if d.is_empty() || !d.contains('.') {
            "acme.com".to_string()
        } else {
            d
        }
    };
    if raw.trim().is_empty() {
        return Err((
            "an allowed email domain is empty".into(),
            "write a domain such as `acme.com`, or remove the entry".into(),
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_whitespace() || crate::model::is_hidden(c))
    {
        return Err((
            format!("allowed email domain `{s}` contains white space or an invisible character"),
            format!("write `{}`", example(raw)),
        ));
    }
    if let Some((scheme, rest)) = raw.split_once("://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let host = host.rsplit('@').next().unwrap_or(host);
        return Err((
            format!(
                "allowed email domain `{s}` is a URL (`{}://`), not a domain",
                shown(scheme)
            ),
            format!("write `{}`", example(host)),
        ));
    }
    if raw.contains('*') {
        let rest = raw.trim_start_matches("*.").trim_start_matches('*');
        return Err((
            format!("allowed email domain `{s}` is a wildcard, which teamsync does not read"),
            format!(
                "write `{}`; subdomains are not matched — list each one (for example `eu.{}`)",
                example(rest),
                example(rest)
            ),
        ));
    }
    if raw.contains('@') {
        let rest = raw.rsplit('@').next().unwrap_or(raw);
        return Err((
            format!("`{s}` is not a domain: it contains `@`"),
            format!("write the domain alone: `{}`", example(rest)),
        ));
    }
    if raw.ends_with('.') {
        return Err((
            format!("allowed email domain `{s}` ends with a dot"),
            format!("write `{}`", example(raw)),
        ));
    }
    if raw.chars().any(char::is_uppercase) {
        return Err((
            format!("allowed email domain `{s}` has upper-case letters"),
            format!(
                "write `{}`; domains are compared in lower case",
                raw.to_lowercase()
            ),
        ));
    }
    let labels_ok = raw
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if !raw.contains('.') || !labels_ok || raw.contains(['/', ':', '?', '#']) {
        return Err((
            format!("`{s}` is not a domain"),
            "write the domain alone, for example `acme.com`".into(),
        ));
    }
    crate::model::normalise_domain(raw).map_err(|e| {
        (
            format!("allowed email domain `{s}` is refused: {e}"),
            "retype the domain in ASCII, or its real script alone".into(),
        )
    })
}
