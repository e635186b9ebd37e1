//! The roster: every person of every file, their addresses and handles.

use super::*;

impl Checker<'_> {
    /// Every person of every file, in file order. Locations are only looked up for an
    /// error: looking up and keeping one per person was two thirds of this check's time
    /// for a roster of 20,000.
    pub(super) fn people(&mut self) {
        // Email → the handle first given it and its file, borrowed from the files.
        let mut by_email: HashMap<Email, (&str, usize), foldhash::fast::RandomState> =
            HashMap::default();
        // GitHub username, lower-cased → the handle first given it and its file.
        let mut by_github: HashMap<String, (String, usize), foldhash::fast::RandomState> =
            HashMap::default();
        let files = self.files;
        for (f, file) in files.iter().enumerate() {
            let Some(people) = &file.typed.people else {
                continue;
            };
            by_email.reserve(people.len());
            self.people.reserve(people.len());
            for (handle, person) in people {
                if !text::valid_name(NameKind::Handle, handle) {
                    let (message, hint) = text::explain_name(NameKind::Handle, handle);
                    let at = person_at(files, f, handle);
                    self.error(Diagnostic::error(message).at(at).with_hint(hint));
                    self.broken_people.push(handle.clone());
                    continue;
                }
                if let Some(first) = self.people.get(handle) {
                    let first_at = person_at(files, first.file, handle);
                    let at = person_at(files, f, handle);
                    self.error(
                        Diagnostic::error(format!("person `{handle}` is declared twice"))
                            .at(at)
                            .with_related(first_at, "first declared here")
                            .with_hint("keep one entry per handle"),
                    );
                    continue;
                }
                let Some(email) =
                    self.parse_email(&person.email, || person_field_at(files, f, handle, "email"))
                else {
                    self.broken_people.push(handle.clone());
                    continue;
                };
                if let Some(&(other, other_file)) = by_email.get(&email) {
                    let other_at = person_at(files, other_file, other);
                    let at = person_field_at(files, f, handle, "email");
                    self.error(
                        Diagnostic::error(format!(
                            "`{handle}` and `{other}` have the same email {email}"
                        ))
                        .at(at)
                        .with_related(other_at, format!("`{other}` declared here"))
                        .with_hint("emails compare case-insensitively; one person, one handle"),
                    );
                    continue;
                }
                let until = person.until.as_deref().and_then(|raw| {
                    self.parse_day(raw, || person_field_at(files, f, handle, "until"))
                });
                let github = person
                    .github
                    .as_deref()
                    .and_then(|name| self.github_name(name, handle, f, &mut by_github));
                by_email.insert(email.clone(), (handle.as_str(), f));
                if person.offboarded {
                    self.desired
                        .offboarded
                        .insert(email.clone(), handle.clone());
                }
                self.people.insert(
                    handle.clone(),
                    Person {
                        email,
                        data: person.data.clone(),
                        file: f,
                        until,
                        offboarded: person.offboarded,
                        github,
                    },
                );
            }
        }
    }

    /// A person's `github:` username, checked: GitHub's alphabet and length, no `@`, and
    /// no other person with the same name ignoring case (GitHub compares usernames so).
    /// `None` (with an error) when it is refused.
    fn github_name(
        &mut self,
        name: &str,
        handle: &str,
        f: usize,
        seen: &mut HashMap<String, (String, usize), foldhash::fast::RandomState>,
    ) -> Option<String> {
        let files = self.files;
        let at = || person_field_at(files, f, handle, "github");
        if let Some((message, hint)) = text::explain_github_name("GitHub username", name) {
            self.error(Diagnostic::error(message).at(at()).with_hint(hint));
            return None;
        }
        let folded = name.to_ascii_lowercase();
        if let Some((other, other_file)) = seen.get(&folded) {
            let other_at = person_field_at(files, *other_file, other, "github");
            self.error(
                Diagnostic::error(format!(
                    "`{handle}` and `{other}` have the same GitHub username `{name}`"
                ))
                .at(at())
                .with_related(other_at, format!("`{other}` declared here"))
                .with_hint(
                    "GitHub usernames compare case-insensitively; one GitHub account, one person",
                ),
            );
            return None;
        }
        seen.insert(folded, (handle.to_string(), f));
        Some(name.to_string())
    }
}
