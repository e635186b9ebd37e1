//! What `teamsync import --drift` writes back into the configuration: for each `exact`
//! container whose live members changed out of band, the entries to drop, the roles to
//! state and the members to add, so that the next plan of that container is empty.

use super::{Data, Email, MemberKey, ResourceKey, Role};

/// The live change of one `exact` container, to be written into the file that declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adoption {
    pub key: ResourceKey,
    /// Listed, and no longer live: their entries go.
    pub drop: Vec<MemberKey>,
    /// Listed and live with another role: the role each entry states from now on.
    pub roles: Vec<(MemberKey, Role)>,
    /// Live, and listed nowhere: an entry each, after the list's last item.
    pub join: Vec<Joiner>,
}

impl Adoption {
    /// Nothing to write yet for `key`.
    pub fn new(key: ResourceKey) -> Adoption {
        Adoption {
            key,
            drop: Vec::new(),
            roles: Vec::new(),
            join: Vec::new(),
        }
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.drop.is_empty() && self.roles.is_empty() && self.join.is_empty()
    }
}

/// A live member the configuration does not list yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joiner {
    pub email: Email,
    /// The role the entry must state (`None`: the kind's default, or roles unmanaged).
    pub role: Option<Role>,
    /// Campaign member data as live has it (empty elsewhere).
    pub data: Data,
}

/// A difference `import --drift` leaves as it is, with why: a later plan still shows it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LeftAlone {
    pub key: ResourceKey,
    pub why: String,
}
