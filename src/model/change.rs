//! The unit of work: one `ResourceChange` per touched resource, holding its member changes.
//! A provider applies one `ResourceChange` at a time and never sees the whole plan.
//! `risks` are for display, and for choosing a part of a plan to carry out (`apply --only
//! expired`); no provider reads them, and no request depends on them.

use serde::{Deserialize, Serialize};

use super::{Data, MemberRef, Mode, ResourceKey, Role};

/// What happens to the container itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResourceAction {
    /// Make a new container, then add its members.
    Create,
    /// Rename the live container `from` (found through `previously`) to the key's name.
    Rename { from: String },
    /// Only its members change.
    Update,
    /// Prune: delete a live container no config declares.
    Delete,
}

/// One field of a member's `data`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}

/// What happens to one member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MemberAction {
    /// Add with this role (when managed) and data (campaigns).
    Add {
        #[serde(skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
        #[serde(skip_serializing_if = "Data::is_empty", default)]
        data: Data,
    },
    /// Remove from the container (for an organization: a leaver).
    Remove,
    /// Change the member's role.
    SetRole { from: Option<Role>, to: Role },
    /// Change campaign data: `data` is the whole new map, `fields` the per-field difference.
    SetData {
        data: Data,
        fields: Vec<FieldChange>,
    },
    /// Invite a person who is not in the organization yet.
    Invite { role: super::InviteRole },
    /// Withdraw a pending invitation (an offboarded person who never accepted).
    Revoke,
}

impl MemberAction {
    pub fn is_removal(&self) -> bool {
        matches!(self, MemberAction::Remove)
    }
}

/// Why a reviewer should look twice. Display only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Someone loses access.
    Removal,
    /// A member leaves the organization entirely.
    Leaver,
    /// A role rises to owner or admin.
    PrivilegeRaised,
    /// A whole container is deleted because nothing declares it.
    Prune,
    /// The plan removes more members than `policy.max_removals`.
    OverRemovalLimit,
    /// A role falls from owner or admin.
    PrivilegeLowered,
    /// Access ends because its `until` date has passed.
    Expired,
    /// The person is `offboarded`: every access of theirs ends.
    Offboarded,
    /// The API gave a value teamsync does not know (a role it never saw): shown verbatim,
    /// changed only where the configuration states what it should be.
    UnknownValue,
}

/// One member's change inside a resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberChange {
    pub member: MemberRef,
    pub action: MemberAction,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub risks: Vec<Risk>,
}

/// Everything that happens to one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub key: ResourceKey,
    pub action: ResourceAction,
    /// The live container's provider id; `None` when it is being created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_id: Option<String>,
    /// The resource's declared mode: replace-style requests are allowed only for `exact`.
    pub mode: Mode,
    /// Member changes, sorted by member.
    pub members: Vec<MemberChange>,
    /// Display only.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub risks: Vec<Risk>,
    /// A Contentful team's new description (on create, or when the live one differs).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
}
