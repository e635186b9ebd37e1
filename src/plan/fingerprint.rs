//! Fingerprints of live resources: a saved plan records what it saw, and apply refuses to
//! act when any of it has moved since.

use sha2::{Digest, Sha256};

use crate::model::LiveResource;

/// The fingerprint of a resource that did not exist when the plan was made.
pub const ABSENT: &str = "absent";

/// A stable digest of everything about a live resource that a change depends on: its id,
/// name and every member with role and data. Member order does not matter.
pub fn fingerprint(resource: &LiveResource) -> String {
    let mut members: Vec<String> = resource
        .members
        .iter()
        .map(|m| serde_json::to_string(m).unwrap_or_default())
        .collect();
    members.sort();
    let invites: Vec<&str> = resource
        .pending_invites
        .iter()
        .map(|e| e.as_str())
        .collect();
    let canonical = serde_json::json!({
        "id": resource.id,
        "name": resource.key.name,
        "members": members,
        "pending_invites": invites,
    });
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{}", &hex[..32])
}
