//! `a_config()`: a configuration repository from what a test means (its providers, people
//! and containers), written the way the tests wrote their YAML by hand (see
//! `docs/config.md` for the format), so that a test says what it declares and not how
//! YAML is spelled. [`provider_settings`] is the same for the tests that call the library
//! directly.
//!
//! ```ignore
//! let repo = a_config()
//!     .provider("docs", "gitbook", "acme").endpoint("sandbox:state.json")
//!     .person("alice", "alice@acme.com")
//!     .team("docs", "Writers", &["alice", "{person: bob, role: owner}"]).previously(&["Authors"])
//!     .write();
//! ```
//!
//! The root file, `teamsync.yaml`, holds `version: 1`, the providers, the policy
//! (`allowed_email_domains: [acme.com]` unless told otherwise) and `include:` naming every
//! other file. People and containers go to `people.yaml`, or to the file named by the
//! last [`ConfigBuilder::in_file`]. [`ConfigBuilder::set`] adds a key to whatever was
//! declared last (a provider, a person or a container).

#![allow(dead_code)]

use std::collections::BTreeMap;

use teamsync::model::{ProviderKind, ProviderSettings};
use teamsync::sandbox::SandboxHandle;

use super::Repo;

/// An empty configuration: no providers, nobody, `acme.com` the one allowed domain.
pub fn a_config() -> ConfigBuilder {
    ConfigBuilder {
        providers: Vec::new(),
        domains: vec!["acme.com".to_string()],
        policy: Vec::new(),
        root: String::new(),
        files: vec![File::new("people.yaml")],
        current: 0,
        raw: Vec::new(),
        last: Last::Nothing,
    }
}

/// No members: `.group("pb", "G", NOBODY)`.
pub const NOBODY: [&str; 0] = [];

/// Provider settings as the loader makes them from
/// `NAME: {kind: KIND, organization: ORG, token_env: TOKEN}`, for the tests that hand the
/// library a config's providers without writing one: `(name, kind, organization)` each.
pub fn provider_settings(
    providers: &[(&str, ProviderKind, &str)],
) -> BTreeMap<String, ProviderSettings> {
    providers
        .iter()
        .map(|&(name, kind, organization)| {
            (
                name.to_string(),
                ProviderSettings {
                    token_env: Some("TOKEN".into()),
                    ..ProviderSettings::new(name, kind, organization)
                },
            )
        })
        .collect()
}

/// What [`a_config`] writes; each method declares one thing and returns it.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    providers: Vec<Provider>,
    domains: Vec<String>,
    policy: Vec<String>,
    root: String,
    files: Vec<File>,
    current: usize,
    raw: Vec<(String, String)>,
    last: Last,
}

#[derive(Clone, Debug)]
struct Provider {
    name: String,
    kind: String,
    /// `organization` first, then what was set, in order.
    fields: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
struct Person {
    handle: String,
    /// `email` first.
    fields: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
struct Container {
    /// `provider` and `name` first (a roster has no name).
    fields: Vec<(String, String)>,
    members: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Section {
    Groups,
    Campaigns,
    Teams,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Groups => "groups",
            Section::Campaigns => "campaigns",
            Section::Teams => "teams",
        }
    }
}

#[derive(Clone, Debug)]
struct File {
    name: String,
    people: Vec<Person>,
    organization: Option<Container>,
    containers: Vec<(Section, Container)>,
}

impl File {
    fn new(name: &str) -> File {
        File {
            name: name.to_string(),
            people: Vec::new(),
            organization: None,
            containers: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.people.is_empty() && self.organization.is_none() && self.containers.is_empty()
    }

    fn text(&self) -> String {
        let mut out = String::new();
        if !self.people.is_empty() {
            out.push_str("people:\n");
            for p in &self.people {
                let fields: Vec<String> =
                    p.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                out.push_str(&format!("  {}: {{{}}}\n", p.handle, fields.join(", ")));
            }
        }
        if let Some(org) = &self.organization {
            out.push_str("organization:\n");
            write_mapping(&mut out, "  ", "  ", org);
        }
        for section in [Section::Groups, Section::Campaigns, Section::Teams] {
            let mut of = self
                .containers
                .iter()
                .filter(|(s, _)| *s == section)
                .peekable();
            if of.peek().is_some() {
                out.push_str(section.key());
                out.push_str(":\n");
                for (_, c) in of {
                    write_mapping(&mut out, "  - ", "    ", c);
                }
            }
        }
        out
    }
}

/// A container's keys, the first line led by `first`, the others by `rest`; `members`
/// last, as a flow list.
fn write_mapping(out: &mut String, first: &str, rest: &str, c: &Container) {
    let mut lead = first;
    let members = (!c.members.is_empty()).then(|| format!("[{}]", c.members.join(", ")));
    for (k, v) in c
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .chain(members.as_ref().map(|m| ("members", m)))
    {
        out.push_str(&format!("{lead}{k}: {v}\n"));
        lead = rest;
    }
}

/// What `set` and the other modifiers apply to.
#[derive(Clone, Debug)]
enum Last {
    Nothing,
    Provider,
    Person,
    Organization,
    Container,
}

/// `text` as a YAML scalar: as it is when it is plainly a string (a letter first, then
/// letters, digits, spaces, `-`, `_`, `.` or `@`), else double-quoted.
pub fn scalar(text: &str) -> String {
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '@'))
        && !text.ends_with(' ')
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off"
        );
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).expect("a string")
    }
}

impl ConfigBuilder {
    /// A provider `name` of `kind` (`pixiebrix`, `gitbook`, `contentful`) for
    /// `organization`, at the vendor's endpoint until [`Self::endpoint`] says otherwise.
    pub fn provider(mut self, name: &str, kind: &str, organization: &str) -> Self {
        self.providers.push(Provider {
            name: name.to_string(),
            kind: kind.to_string(),
            fields: vec![("organization".to_string(), scalar(organization))],
        });
        self.last = Last::Provider;
        self
    }

    /// The last provider's endpoint: a URL or `sandbox:FILE`.
    pub fn endpoint(self, endpoint: &str) -> Self {
        let value = serde_json::to_string(endpoint).expect("a string");
        self.provider_field("endpoint", value)
    }

    /// The last provider reads its token from this variable.
    pub fn token_env(self, var: &str) -> Self {
        self.provider_field("token_env", var.to_string())
    }

    /// The last provider talks to this running sandbox (GitBook under `/v1`).
    pub fn served_by(self, handle: &SandboxHandle) -> Self {
        let kind = self
            .providers
            .last()
            .expect("a provider is declared")
            .kind
            .clone();
        let base = handle.base_url();
        let url = if kind == "gitbook" {
            format!("{base}/v1")
        } else {
            base
        };
        self.endpoint(&url)
    }

    fn provider_field(mut self, key: &str, value: String) -> Self {
        let provider = self
            .providers
            .last_mut()
            .unwrap_or_else(|| panic!("`{key}` needs a provider declared first"));
        provider.fields.push((key.to_string(), value));
        self
    }

    /// A person in the roster.
    pub fn person(mut self, handle: &str, email: &str) -> Self {
        let file = &mut self.files[self.current];
        file.people.push(Person {
            handle: handle.to_string(),
            fields: vec![("email".to_string(), email.to_string())],
        });
        self.last = Last::Person;
        self
    }

    /// [`Self::person`] for each `(handle, email)`.
    pub fn people<H: AsRef<str>, E: AsRef<str>>(
        mut self,
        people: impl IntoIterator<Item = (H, E)>,
    ) -> Self {
        for (handle, email) in people {
            self = self.person(handle.as_ref(), email.as_ref());
        }
        self
    }

    /// The PixieBrix organization roster of `provider`, with `members` beyond the roster
    /// (YAML flow items: `alice`, `{person: bob, role: admin}`).
    pub fn organization(
        mut self,
        provider: &str,
        members: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Self {
        let file = &mut self.files[self.current];
        assert!(file.organization.is_none(), "one organization a file");
        file.organization = Some(Container {
            fields: vec![("provider".to_string(), provider.to_string())],
            members: members
                .into_iter()
                .map(|m| m.as_ref().to_string())
                .collect(),
        });
        self.last = Last::Organization;
        self
    }

    /// A PixieBrix group; `members` are YAML flow items (`alice`, `bob@acme.com`,
    /// `{person: carol, role: owner}`).
    pub fn group(
        self,
        provider: &str,
        name: &str,
        members: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Self {
        self.container(Section::Groups, provider, name, members)
    }

    /// A PixieBrix campaign, as [`Self::group`].
    pub fn campaign(
        self,
        provider: &str,
        name: &str,
        members: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Self {
        self.container(Section::Campaigns, provider, name, members)
    }

    /// A GitBook or Contentful team, as [`Self::group`].
    pub fn team(
        self,
        provider: &str,
        name: &str,
        members: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Self {
        self.container(Section::Teams, provider, name, members)
    }

    fn container(
        mut self,
        section: Section,
        provider: &str,
        name: &str,
        members: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Self {
        let file = &mut self.files[self.current];
        file.containers.push((
            section,
            Container {
                fields: vec![
                    ("provider".to_string(), provider.to_string()),
                    ("name".to_string(), scalar(name)),
                ],
                members: members
                    .into_iter()
                    .map(|m| m.as_ref().to_string())
                    .collect(),
            },
        ));
        self.last = Last::Container;
        self
    }

    /// The last container's earlier names.
    pub fn previously(self, names: &[&str]) -> Self {
        let names: Vec<String> = names.iter().map(|n| scalar(n)).collect();
        self.set("previously", &format!("[{}]", names.join(", ")))
    }

    /// The last container's `mode` (`exact`, `additive`, `observe`), or the roster's
    /// `roster`.
    pub fn mode(self, mode: &str) -> Self {
        match self.last {
            Last::Organization => self.set("roster", mode),
            _ => self.set("mode", mode),
        }
    }

    /// `key: value` (value as YAML: `true`, `[service_accounts]`, `2027-01-10`) on what
    /// was declared last: a provider, a person, the organization or a container.
    pub fn set(mut self, key: &str, value: &str) -> Self {
        if let Last::Provider = self.last {
            return self.provider_field(key, value.to_string());
        }
        let field = (key.to_string(), value.to_string());
        let file = &mut self.files[self.current];
        match self.last {
            Last::Nothing => panic!("`{key}` needs something declared first"),
            Last::Provider => unreachable!("handled above"),
            Last::Person => file.people.last_mut().expect("a person").fields.push(field),
            Last::Organization => file
                .organization
                .as_mut()
                .expect("a roster")
                .fields
                .push(field),
            Last::Container => file
                .containers
                .last_mut()
                .expect("a container")
                .1
                .fields
                .push(field),
        }
        self
    }

    /// People and containers declared from here on go to this file (included by the
    /// root), until the next `in_file`.
    pub fn in_file(mut self, name: &str) -> Self {
        self.current = match self.files.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.files.push(File::new(name));
                self.files.len() - 1
            }
        };
        self.last = Last::Nothing;
        self
    }

    /// `policy.allowed_email_domains`, instead of `[acme.com]` (none: the key is left out).
    pub fn allowed_domains(mut self, domains: &[&str]) -> Self {
        self.domains = domains.iter().map(|d| d.to_string()).collect();
        self
    }

    /// Lines under `policy:` after the allowed domains, written without their indentation
    /// (`max_removals: 3`).
    pub fn policy_yaml(mut self, text: &str) -> Self {
        self.policy.extend(text.lines().map(str::to_string));
        self
    }

    /// Text appended to the root file as it is (`limits:` and such).
    pub fn root_yaml(mut self, text: &str) -> Self {
        self.root.push_str(text);
        if !text.ends_with('\n') {
            self.root.push('\n');
        }
        self
    }

    /// A file written as given; a `.yaml` one is included by the root.
    pub fn raw(mut self, file: &str, text: &str) -> Self {
        self.raw.push((file.to_string(), text.to_string()));
        self
    }

    /// Every file of the repository, the root first, as `(name, text)`.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut include: Vec<&str> = self
            .files
            .iter()
            .filter(|f| !f.is_empty())
            .map(|f| f.name.as_str())
            .collect();
        for (name, _) in &self.raw {
            if name.ends_with(".yaml") && !include.contains(&name.as_str()) {
                include.push(name);
            }
        }
        let mut root = String::from("version: 1\nproviders:\n");
        for p in &self.providers {
            root.push_str(&format!("  {}:\n    kind: {}\n", p.name, p.kind));
            for (k, v) in &p.fields {
                root.push_str(&format!("    {k}: {v}\n"));
            }
        }
        if self.providers.is_empty() {
            root = "version: 1\nproviders: {}\n".to_string();
        }
        let mut policy = self.policy.clone();
        if !self.domains.is_empty() {
            policy.insert(
                0,
                format!("allowed_email_domains: [{}]", self.domains.join(", ")),
            );
        }
        if !policy.is_empty() {
            root.push_str("policy:\n");
            for line in policy {
                root.push_str(&format!("  {line}\n"));
            }
        }
        if !include.is_empty() {
            root.push_str(&format!("include: [{}]\n", include.join(", ")));
        }
        root.push_str(&self.root);
        let mut out = vec![("teamsync.yaml".to_string(), root)];
        out.extend(
            self.files
                .iter()
                .filter(|f| !f.is_empty())
                .map(|f| (f.name.clone(), f.text())),
        );
        out.extend(self.raw.iter().cloned());
        out
    }

    /// A temporary repository holding [`Self::files`].
    pub fn write(self) -> Repo {
        let files = self.files();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Repo::new(&refs)
    }
}
