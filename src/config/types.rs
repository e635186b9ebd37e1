//! The configuration files as the user writes them: serde + schemars types whose doc
//! comments become the JSON Schema's descriptions (editor hover help). Plain types: no
//! `flatten`, no `untagged`; unknown keys are errors. Checked meaning lives in `semantic`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::model::{AccountKind, Email, MemberKey, Mode, ProviderKind, ResourceKind, Role};

/// A teamsync configuration file. The root file (`teamsync.yaml`) holds `version`,
/// `providers`, `policy`, `include`, `limits` and `codeowners`; any file may declare `people`, `groups`,
/// `campaigns`, `organization` and `teams`. Top-level keys starting with `x-` are ignored,
/// so they can hold YAML anchors.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "teamsync configuration",
    extend("$id" = "https://teamsync.dev/schemas/teamsync.schema.json"),
    extend("patternProperties" = {"^x-": {"description": "Ignored: a place for YAML anchors."}})
)]
pub struct File {
    /// Configuration format version. Only `1` exists. Root file only.
    #[schemars(range(min = 1, max = 1), example = 1)]
    pub version: Option<u32>,
    /// The SaaS organizations to manage, by a name of your choice (referenced as
    /// `provider:`): lower-case ASCII letters, digits, `_` and `-`, starting with a letter
    /// or digit, at most 64 characters. Root file only.
    #[schemars(extend("propertyNames" = {"pattern": super::text::PROVIDER_NAME_PATTERN}))]
    pub providers: Option<BTreeMap<String, Provider>>,
    /// Repository-wide safety rules. Root file only.
    pub policy: Option<PolicyConfig>,
    /// Glob patterns, relative to the root file's folder, of the other files to read.
    /// They must stay inside that folder. Root file only.
    #[schemars(example = ["people.yaml", "pixiebrix/*.yaml", "teams/*.yaml"])]
    pub include: Option<Vec<String>>,
    /// Limits on the files teamsync reads. Root file only.
    pub limits: Option<Limits>,
    /// The CODEOWNERS file `teamsync codeowners` writes: each team's owners approve
    /// changes to their team's file, the fallback approves everything else. Root file only.
    pub codeowners: Option<Codeowners>,
    /// The roster: every person, by a short handle used everywhere else: lower-case ASCII
    /// letters, digits, `.`, `_` and `-`, starting with a letter, digit or `_`, at most 64
    /// characters.
    #[schemars(extend("propertyNames" = {"pattern": super::text::HANDLE_PATTERN}))]
    pub people: Option<BTreeMap<String, Person>>,
    /// PixieBrix groups.
    pub groups: Option<Vec<Container>>,
    /// PixieBrix campaigns; members may carry `data`.
    pub campaigns: Option<Vec<Container>>,
    /// The PixieBrix organization roster: who belongs to the organization at all.
    pub organization: Option<Organization>,
    /// GitBook or Contentful teams.
    pub teams: Option<Vec<Container>>,
}

/// One SaaS organization teamsync manages.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Provider")]
pub struct Provider {
    /// Which API this is: `pixiebrix`, `gitbook` or `contentful`.
    pub kind: ProviderKind,
    /// The organization's id: a PixieBrix organization UUID, a GitBook organization id, a
    /// Contentful organization id. ASCII letters, digits, `_` and `-` only.
    #[schemars(regex(pattern = super::text::ORGANIZATION_PATTERN))]
    #[schemars(example = &"0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11")]
    pub organization: String,
    /// Base URL of the API; each kind has its default. `https://` anywhere, `http://` only
    /// on loopback, never with a user name, password, query or fragment; or `sandbox:FILE`
    /// for the in-process emulator seeded from FILE (relative to the root file, inside its
    /// folder).
    #[schemars(example = &"https://app.pixiebrix.com", example = &"sandbox:live-state.json")]
    pub endpoint: Option<String>,
    /// Name of the environment variable that holds the API token: upper-case ASCII
    /// letters, digits and `_`, and not a well-known variable such as `PATH` or `HOME`.
    /// Secrets never go in these files. Optional only for `sandbox:` endpoints.
    #[schemars(regex(pattern = super::text::TOKEN_ENV_PATTERN), example = &"PIXIEBRIX_TOKEN")]
    pub token_env: Option<String>,
    /// Most requests per second teamsync sends to this provider, below what the API
    /// announces (Contentful documents 7). Optional; teamsync paces from the API's own
    /// rate-limit answers either way.
    #[schemars(range(min = 0.01, max = 10000), example = &5)]
    pub rate_limit: Option<f64>,
    /// Invite people a group, campaign or team needs who are not in this organization yet
    /// (otherwise the plan shows their adds as blocked). Off by default. PixieBrix's
    /// `organization.invite` means the same.
    #[serde(default)]
    pub invite: bool,
    /// The organization role invitations carry. PixieBrix: member (default), admin,
    /// developer, restricted, manager. GitBook: read (default), comment, review, edit,
    /// create, admin. Contentful: member (default), developer, admin, owner.
    pub invite_role: Option<crate::model::InviteRole>,
    /// PixieBrix only: the email domains PixieBrix support verified for the team. People
    /// from them may join groups and campaigns without being members of the team; anyone
    /// else must be a member (or is invited first, with `invite: true`). Lower-case
    /// domains, as in `allowed_email_domains`.
    #[serde(default)]
    #[schemars(example = ["acme.com"])]
    pub verified_domains: Vec<String>,
    /// Resource kinds whose live resources that no file declares are deleted. Off by default.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["group"]))]
    pub prune: Vec<ResourceKind>,
    /// Removal budget for this provider: more member removals than this in one plan need
    /// `--allow-removals=NAME` naming this provider (or each person).
    #[schemars(example = 10)]
    pub max_removals: Option<u64>,
}

/// Repository-wide safety rules.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Policy")]
pub struct PolicyConfig {
    /// Only addresses in these domains may be granted access. Empty: no restriction.
    /// Each entry is a lower-case domain alone (`acme.com`): no wildcard, scheme, `@` or
    /// trailing dot; subdomains are not matched, list each one.
    #[serde(default)]
    #[schemars(example = ["acme.com"])]
    pub allowed_email_domains: Vec<String>,
    /// More member removals than this in one apply need `--allow-removals`.
    #[schemars(example = 20)]
    pub max_removals: Option<u64>,
    /// Allow a change that leaves a GitBook team or the PixieBrix organization with no
    /// owner or admin. Off by default: such a change is shown as blocked.
    #[serde(default)]
    pub allow_no_owner: bool,
    /// Warn in every view this many days before an `until` date. Default 14.
    #[schemars(range(max = 3650), example = 14)]
    pub expiry_warning_days: Option<u32>,
    /// Access rule: every GitBook team keeps at least this many owners and every PixieBrix
    /// organization roster at least this many admins, counted after the plan. A declared
    /// `exact` team with fewer is an error; a plan that would leave fewer is refused,
    /// whatever `max_removals` or `allow_no_owner` say.
    #[schemars(range(min = 1, max = 100), example = 2)]
    pub min_owners: Option<u32>,
    /// Access rule: an `until:` (on a person or a membership) may be at most this many
    /// days after today (UTC).
    #[schemars(range(min = 1, max = 3650), example = 180)]
    pub max_until_days: Option<u32>,
    /// Access rule: people whose address is in one of these domains (contractors) need an
    /// `until:` on every access, on the person or on the membership.
    #[serde(default)]
    #[schemars(example = ["contractors.acme.com"])]
    pub require_until: Vec<String>,
    /// Access rule, on unless this is true: temporary access stays ordinary, so a member
    /// (or person) with `until:` may not be an owner or admin.
    #[serde(default)]
    pub allow_temporary_owners: bool,
}

/// Limits on the files teamsync reads.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Limits")]
pub struct Limits {
    /// Largest included file, in MiB; a bigger one is refused before it is read. Default
    /// 10, at most 1024. The root file itself is always held to the default 10 MiB: it is
    /// read before this key is known, so keep the roster and resources in included files.
    #[schemars(range(min = 1, max = 1024), example = 50)]
    pub max_file_mib: Option<u32>,
}

/// The CODEOWNERS file teamsync writes from the configuration (`teamsync codeowners`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "CODEOWNERS")]
pub struct Codeowners {
    /// Who approves every change no team owner may approve (the root file, the roster,
    /// a team with no owner), and who may always approve: at least one GitHub user
    /// (`@name`) or team (`@org/team`).
    #[schemars(example = ["@acme/access-admins"])]
    pub fallback: Vec<String>,
    /// Where the file lives, relative to the root file's folder; its name must be
    /// `CODEOWNERS`. Default: `.github/CODEOWNERS` at the git repository's root (the
    /// nearest folder above the root file that holds `.git`), or in the root file's
    /// folder when there is no repository.
    #[schemars(example = &"../.github/CODEOWNERS")]
    pub path: Option<String>,
}

/// A person in the roster.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Person")]
pub struct Person {
    /// Email address; compared case-insensitively.
    #[schemars(example = "alice@acme.com")]
    pub email: String,
    /// The person's GitHub username, without `@`: 1 to 39 ASCII letters, digits and single
    /// hyphens, not starting or ending with a hyphen; compared case-insensitively, one
    /// person each. A team owner with one approves changes to their team's file in the
    /// CODEOWNERS `teamsync codeowners` writes.
    #[schemars(example = &"alice-acme")]
    pub github: Option<String>,
    /// Attributes that feed PixieBrix campaign member data.
    #[serde(default)]
    #[schemars(example = serde_json::json!({"Location": "New York, NY"}))]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub data: crate::model::Data,
    /// The last day (UTC, `YYYY-MM-DD`) of this person's access everywhere; from the next
    /// day the plan removes it.
    #[schemars(example = &"2026-12-31")]
    pub until: Option<String>,
    /// This person has left: the plan removes them from every container and organization
    /// of every provider, and withdraws their pending invitations. Kept for the record;
    /// their entries in `members` lists are ignored.
    #[serde(default)]
    pub offboarded: bool,
}

/// A group, campaign or team and who belongs to it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Group, campaign or team")]
pub struct Container {
    /// The name, unique per provider and kind (ignoring case). No control or invisible
    /// characters; surrounding spaces are trimmed with a warning.
    #[schemars(length(min = 1))]
    #[schemars(example = &"Sales Ops")]
    pub name: String,
    /// Which configured provider it lives in. May be left out when exactly one configured
    /// provider supports this kind of resource.
    #[schemars(example = &"docs")]
    pub provider: Option<String>,
    /// Earlier names. When one exists live and `name` does not, the plan renames it
    /// instead of creating a new one.
    #[serde(default)]
    #[schemars(example = ["Sales Operations"])]
    pub previously: Vec<String>,
    /// `exact` (default): members not listed are removed. `additive`: only add.
    #[serde(default)]
    pub mode: Mode,
    /// Contentful teams only: the team's description, set on create and whenever the
    /// live one differs. Left as it is when absent.
    #[schemars(example = &"Everyone who edits the marketing site")]
    pub description: Option<String>,
    /// Removal budget for this container: more member removals than this in one plan
    /// need `--allow-removals=KEY` naming it (for example `docs.team["Writers"]`), or each
    /// person removed.
    #[schemars(example = 3)]
    pub max_removals: Option<u64>,
    /// Who belongs: a person's handle, an email, or a mapping.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["alice", "carol@acme.com", {"person": "bob", "role": "owner"}]))]
    pub members: Vec<MemberEntry>,
}

/// The PixieBrix organization roster.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Organization roster")]
pub struct Organization {
    /// Which configured PixieBrix provider. May be left out when there is exactly one.
    pub provider: Option<String>,
    /// `exact`: members of the live organization who are neither in `people` nor in
    /// `members` are removed (leavers). `additive` (default): nobody is removed.
    #[serde(default = "additive")]
    pub roster: Mode,
    /// Account kinds never removed as leavers.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["service_accounts", "deployment_keys"]))]
    pub keep: Vec<AccountKind>,
    /// Invite listed people who are not in the organization yet (otherwise the plan
    /// reports them).
    #[serde(default)]
    pub invite: bool,
    /// Removal budget for the roster: more leavers than this in one plan need
    /// `--allow-removals=KEY` naming the organization, or each person.
    #[schemars(example = 5)]
    pub max_removals: Option<u64>,
    /// Members beyond the roster, and organization roles (member, admin, developer,
    /// restricted, manager) for people who need one.
    #[serde(default)]
    pub members: Vec<MemberEntry>,
}

fn additive() -> Mode {
    Mode::Additive
}

/// A member written as a mapping: exactly one of `person`, `email`, `user_id`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Member (mapping form)")]
pub struct MemberDetail {
    /// A handle from `people`.
    pub person: Option<String>,
    /// An email address (for someone not in `people`).
    pub email: Option<String>,
    /// A provider user id, for accounts without a usable email.
    pub user_id: Option<String>,
    /// Role: `owner` or `member` on GitBook teams; `member`, `admin`, `developer`,
    /// `restricted` or `manager` in the PixieBrix organization.
    pub role: Option<Role>,
    /// Campaign member data, overriding the roster's `data` field by field.
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    pub data: Option<crate::model::Data>,
    /// The last day (UTC, `YYYY-MM-DD`) of this membership; from the next day the plan
    /// removes it.
    #[schemars(example = &"2026-12-31")]
    pub until: Option<String>,
}

/// A member: a handle (`alice`), an email (`alice@acme.com`), or a mapping.
#[derive(Debug)]
pub enum MemberEntry {
    /// A handle, or an email when it contains `@`.
    Name(String),
    /// Boxed: most members are a plain handle, and a large config holds a million of
    /// them, so an entry is the size of a `String` instead of that of every field below.
    Detail(Box<MemberDetail>),
}

/// Who a member entry names: the address of its `person` in the roster, its `email`, or
/// its `user_id`. An entry sets one of them (the semantic stage refuses more); a bare name
/// is an email when it contains `@`, else a person's handle. The one rule by which the
/// report's lines and `import --drift`'s edits find an entry's member.
pub(crate) fn member_key(
    people: &BTreeMap<String, Email>,
    person: Option<&str>,
    email: Option<&str>,
    user_id: Option<&str>,
) -> Option<MemberKey> {
    if let Some(handle) = person {
        return people.get(handle).cloned().map(MemberKey::Email);
    }
    if let Some(email) = email {
        return Email::parse_strict(email).ok().map(MemberKey::Email);
    }
    user_id.map(|u| MemberKey::UserId(u.into()))
}

/// [`member_key`] of a bare name (`alice`, `alice@acme.com`).
pub(crate) fn name_key(people: &BTreeMap<String, Email>, name: &str) -> Option<MemberKey> {
    if name.contains('@') {
        member_key(people, None, Some(name), None)
    } else {
        member_key(people, Some(name), None, None)
    }
}

impl<'de> Deserialize<'de> for MemberEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = MemberEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a handle, an email, or a mapping with person, email or user_id")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MemberEntry, E> {
                Ok(MemberEntry::Name(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MemberEntry, A::Error> {
                MemberDetail::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|d| MemberEntry::Detail(Box::new(d)))
            }
        }
        d.deserialize_any(EntryVisitor)
    }
}

impl JsonSchema for MemberEntry {
    fn schema_name() -> Cow<'static, str> {
        "Member".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let detail = generator.subschema_for::<MemberDetail>();
        json_schema!({
            "description": "A member: a person's handle, an email, or a mapping with exactly one of person, email or user_id.",
            "anyOf": [
                {"type": "string", "minLength": 1, "description": "A handle from `people`, or an email address."},
                detail
            ]
        })
    }
}
