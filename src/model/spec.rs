//! What teamsync knows of each API, in one table: the facts every layer used to ask of a
//! `ProviderKind` in a `match` of its own (the config's names and roles, the client's auth
//! scheme, base URL and documented pace, the plan's owner rules, the vendor's name in
//! messages). A fourth provider adds its variant to `ProviderKind` and its row to `SPECS`,
//! both here; the layers read the row (`docs/architecture.md`, "Adding a fourth provider").

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::key::ResourceKind;
use super::state::{InviteRole, Role};

/// Which API a configured provider speaks.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// PixieBrix: organization roster, groups and campaigns.
    Pixiebrix,
    /// GitBook: organization teams with owner/member roles.
    Gitbook,
    /// Contentful: organization teams and team memberships.
    Contentful,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 3] = [Self::Pixiebrix, Self::Gitbook, Self::Contentful];

    /// The resource kinds this provider can manage.
    pub fn supported_kinds(self) -> &'static [ResourceKind] {
        self.spec().kinds
    }

    pub fn supports(self, kind: ResourceKind) -> bool {
        self.supported_kinds().contains(&kind)
    }

    pub fn as_str(self) -> &'static str {
        self.spec().id
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One API's facts.
#[derive(Debug)]
pub struct ProviderSpec {
    pub kind: ProviderKind,
    /// The `kind:` of the config (`gitbook`).
    pub id: &'static str,
    /// The vendor's own spelling, for messages (`GitBook`).
    pub vendor: &'static str,
    /// The public base URL, with the API's path (GitBook's `/v1`).
    pub base_url: &'static str,
    /// The `Authorization` scheme before the token.
    pub auth_scheme: &'static str,
    /// The pace the API documents, in requests per second, which the client keeps to
    /// without being told (Contentful: 7); `None`: only `--parallelism` and the server's
    /// own rate headers bound it.
    pub documented_rps: Option<f64>,
    /// The container kinds it has.
    pub kinds: &'static [ResourceKind],
    /// The member roles it takes, per container kind (a kind missing here: roles are not
    /// managed there).
    pub roles: &'static [(ResourceKind, &'static [Role])],
    /// Container kinds whose membership always has a role, and the one an unstated role
    /// means.
    pub default_roles: &'static [(ResourceKind, Role)],
    /// The role that manages a container, per kind, where the last-owner guard and
    /// `policy.min_owners` count it.
    pub owner_roles: &'static [(ResourceKind, Role)],
    /// The organization roles an invitation may carry (`invite_role`), and the one it
    /// carries when the config names none: the least access.
    pub invite_roles: &'static [InviteRole],
    pub default_invite_role: InviteRole,
    /// Container kinds that take a `description`.
    pub described: &'static [ResourceKind],
    /// A pending organization membership may already join containers (Contentful), so an
    /// invitation made by the plan need not be accepted before the container add.
    pub pending_members_join: bool,
    /// A container add names the organization membership (its id from the directory),
    /// not the user (Contentful).
    pub adds_by_membership: bool,
    /// Its organization ids are UUIDs (PixieBrix), which the config checks.
    pub uuid_organizations: bool,
    /// People of a verified email domain may join containers without an invitation
    /// (PixieBrix's `verified_domains`).
    pub verified_domains: bool,
    /// It lists open email invitations, so an invitation can be seen and not sent twice
    /// (GitBook lists none: its invite answer's count is the only check).
    pub lists_invitations: bool,
}

/// Every API, in `ProviderKind`'s order.
pub const SPECS: [ProviderSpec; 3] = [
    ProviderSpec {
        kind: ProviderKind::Pixiebrix,
        id: "pixiebrix",
        vendor: "PixieBrix",
        base_url: "https://app.pixiebrix.com",
        auth_scheme: "Token",
        documented_rps: None,
        kinds: &[
            ResourceKind::Organization,
            ResourceKind::Group,
            ResourceKind::Campaign,
        ],
        roles: &[(
            ResourceKind::Organization,
            &[
                Role::Member,
                Role::Admin,
                Role::Developer,
                Role::Restricted,
                Role::Manager,
            ],
        )],
        default_roles: &[],
        owner_roles: &[(ResourceKind::Organization, Role::Admin)],
        invite_roles: &[
            InviteRole::Member,
            InviteRole::Admin,
            InviteRole::Developer,
            InviteRole::Restricted,
            InviteRole::Manager,
        ],
        default_invite_role: InviteRole::Member,
        described: &[],
        pending_members_join: false,
        adds_by_membership: false,
        uuid_organizations: true,
        verified_domains: true,
        lists_invitations: true,
    },
    ProviderSpec {
        kind: ProviderKind::Gitbook,
        id: "gitbook",
        vendor: "GitBook",
        base_url: "https://api.gitbook.com/v1",
        auth_scheme: "Bearer",
        documented_rps: None,
        kinds: &[ResourceKind::Team],
        roles: &[(ResourceKind::Team, &[Role::Owner, Role::Member])],
        default_roles: &[(ResourceKind::Team, Role::Member)],
        owner_roles: &[(ResourceKind::Team, Role::Owner)],
        invite_roles: &[
            InviteRole::Read,
            InviteRole::Comment,
            InviteRole::Review,
            InviteRole::Edit,
            InviteRole::Create,
            InviteRole::Admin,
        ],
        default_invite_role: InviteRole::Read,
        described: &[],
        pending_members_join: false,
        adds_by_membership: false,
        uuid_organizations: false,
        verified_domains: false,
        lists_invitations: false,
    },
    ProviderSpec {
        kind: ProviderKind::Contentful,
        id: "contentful",
        vendor: "Contentful",
        base_url: "https://api.contentful.com",
        auth_scheme: "Bearer",
        documented_rps: Some(7.0),
        kinds: &[ResourceKind::Team],
        roles: &[],
        default_roles: &[],
        owner_roles: &[],
        invite_roles: &[
            InviteRole::Member,
            InviteRole::Developer,
            InviteRole::Admin,
            InviteRole::Owner,
        ],
        default_invite_role: InviteRole::Member,
        described: &[ResourceKind::Team],
        pending_members_join: true,
        adds_by_membership: true,
        uuid_organizations: false,
        verified_domains: false,
        lists_invitations: true,
    },
];

impl ProviderSpec {
    /// The roles it takes on `kind` (empty: roles are not managed there).
    pub fn roles_for(&self, kind: ResourceKind) -> &'static [Role] {
        lookup(self.roles, kind).unwrap_or(&[])
    }

    /// The role an unstated one means on `kind`, where membership always has one.
    pub fn default_role(&self, kind: ResourceKind) -> Option<Role> {
        lookup(self.default_roles, kind)
    }

    /// The role that manages a container of `kind`, if the owner rules apply to it.
    pub fn owner_role(&self, kind: ResourceKind) -> Option<Role> {
        lookup(self.owner_roles, kind)
    }
}

fn lookup<T: Copy>(table: &[(ResourceKind, T)], kind: ResourceKind) -> Option<T> {
    table.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

impl ProviderKind {
    /// Its row of [`SPECS`].
    pub fn spec(self) -> &'static ProviderSpec {
        &SPECS[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_is_its_kinds_and_in_its_order() {
        for (i, kind) in ProviderKind::ALL.into_iter().enumerate() {
            assert_eq!(SPECS[i].kind, kind);
            assert_eq!(kind.spec().kind, kind);
            // The config's spelling is serde's, so the schema and the table agree.
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::String(kind.spec().id.to_string()))
            );
        }
        assert_eq!(SPECS.len(), ProviderKind::ALL.len());
    }

    #[test]
    fn every_base_url_is_https_and_every_default_is_offered() {
        for s in &SPECS {
            assert!(s.base_url.starts_with("https://"), "{}", s.base_url);
            assert!(s.invite_roles.contains(&s.default_invite_role), "{}", s.id);
            for (kind, role) in s.default_roles.iter().chain(s.owner_roles) {
                assert!(s.kinds.contains(kind), "{}", s.id);
                assert!(s.roles_for(*kind).contains(role), "{} {role:?}", s.id);
            }
        }
    }
}
