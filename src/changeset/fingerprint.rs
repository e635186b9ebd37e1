//! Fingerprints of live resources: a saved plan records what it saw, and apply refuses to
//! act when any of it has moved since.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{LiveResource, ResourceKey};

/// The fingerprint of a resource that did not exist when the plan was made.
pub const ABSENT: &str = "absent";

/// The document a fingerprint digests: `{"id", "name", "members", "pending_invites"}`,
/// each member as its JSON text, sorted.
#[derive(Serialize)]
struct Canonical<'a> {
    id: &'a str,
    name: &'a str,
    members: &'a [String],
    pending_invites: &'a [&'a str],
}

/// Feeds what serde_json writes straight into the digest.
struct Digesting<'a>(&'a mut Sha256);

impl std::io::Write for Digesting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A stable digest of everything about a live resource that a change depends on: its id,
/// name and every member with role and data. Member order does not matter.
///
/// The document is written into the digest as it is serialized: building it as a JSON
/// value first, then as a string, was most of the cost, once per resource of every plan.
pub fn fingerprint(resource: &LiveResource) -> String {
    let mut members: Vec<String> = resource
        .members
        .iter()
        .map(|m| serde_json::to_string(m).unwrap_or_default())
        .collect();
    members.sort_unstable();
    let invites: Vec<&str> = resource
        .pending_invites
        .iter()
        .map(|e| e.as_str())
        .collect();
    let canonical = Canonical {
        id: &resource.id,
        name: &resource.key.name,
        members: &members,
        pending_invites: &invites,
    };
    let mut digest = Sha256::new();
    // Writing into a digest cannot fail, nor can serializing strings.
    let _ = serde_json::to_writer(Digesting(&mut digest), &canonical);
    let mut hex = String::with_capacity(7 + 32);
    hex.push_str("sha256:");
    for b in &digest.finalize()[..16] {
        use std::fmt::Write;
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// What a plan saw of each resource it records: the live resource, or `None` for one that
/// did not exist ([`ABSENT`]).
pub type SeenLive<'a> = BTreeMap<ResourceKey, Option<&'a LiveResource>>;

/// The fingerprints of everything `seen`, worked out on as many threads as there are cores
/// (at most four): each digest is independent of the others, and at 1,700 changed
/// containers they were half of a plan's diff, all of it on one core after the reads.
pub fn fingerprints(seen: SeenLive<'_>) -> BTreeMap<ResourceKey, String> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    fingerprints_on(seen, threads.min(4))
}

/// [`fingerprints`] on `threads` threads (one when there is little to digest).
fn fingerprints_on(seen: SeenLive<'_>, threads: usize) -> BTreeMap<ResourceKey, String> {
    let seen: Vec<(ResourceKey, Option<&LiveResource>)> = seen.into_iter().collect();
    let digest = |part: &[(ResourceKey, Option<&LiveResource>)]| -> Vec<String> {
        part.iter()
            .map(|(_, l)| l.map_or_else(|| ABSENT.to_string(), fingerprint))
            .collect()
    };
    // Parts of about equal work: a digest costs about one serialized member each.
    let weight =
        |(_, l): &(ResourceKey, Option<&LiveResource>)| 1 + l.map_or(0, |l| l.members.len());
    let total: usize = seen.iter().map(weight).sum();
    let digests: Vec<String> = if threads < 2 || total < 10_000 {
        digest(&seen)
    } else {
        let mut parts = Vec::with_capacity(threads);
        let (mut start, mut sum) = (0, 0);
        for (i, item) in seen.iter().enumerate() {
            sum += weight(item);
            if sum * threads >= total * (parts.len() + 1) && parts.len() + 1 < threads {
                parts.push(&seen[start..=i]);
                start = i + 1;
            }
        }
        parts.push(&seen[start..]);
        std::thread::scope(|scope| {
            let running: Vec<_> = parts
                .iter()
                .map(|part| scope.spawn(|| digest(part)))
                .collect();
            running
                .into_iter()
                .flat_map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    seen.into_iter().map(|(key, _)| key).zip(digests).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Email, LiveMember, ResourceKey, ResourceKind};

    /// The digest as plans saved before it was streamed computed it: the canonical
    /// document built as a JSON value, then printed.
    fn as_before(resource: &LiveResource) -> String {
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

    fn member(email: &str, name: &str) -> LiveMember {
        LiveMember {
            email: Email::parse(email).ok(),
            name: Some(name.into()),
            user_id: Some(format!("id-{email}").into()),
            ..LiveMember::default()
        }
    }

    /// Digested in parts on several threads, every resource keeps its own fingerprint (or
    /// `absent`): the parts cover everything once, in order, however the work splits.
    #[test]
    fn fingerprints_on_threads_are_each_resources_own() {
        let resources: Vec<LiveResource> = (0..120)
            .map(|r| LiveResource {
                key: ResourceKey {
                    provider: "pb".into(),
                    kind: ResourceKind::Group,
                    name: format!("G{r:03}"),
                },
                id: format!("g-{r}"),
                // Uneven sizes, so the parts differ in length.
                members: (0..(r * 37) % 251)
                    .map(|m| member(&format!("u{m}@acme.com"), &format!("U {m}")))
                    .collect(),
                pending_invites: Default::default(),
                who_am_i: Default::default(),
                description: None,
                uncounted: false,
            })
            .collect();
        let mut seen: SeenLive<'_> = resources.iter().map(|r| (r.key.clone(), Some(r))).collect();
        for n in 0..5 {
            let key = ResourceKey {
                provider: "pb".into(),
                kind: ResourceKind::Group,
                name: format!("New {n}"),
            };
            seen.insert(key, None);
        }
        let total: usize = resources.iter().map(|r| r.members.len() + 1).sum();
        assert!(total >= 10_000, "enough to be split: {total}");
        let expected: BTreeMap<ResourceKey, String> = seen
            .iter()
            .map(|(k, l)| (k.clone(), l.map_or_else(|| ABSENT.to_string(), fingerprint)))
            .collect();
        for threads in [1, 2, 3, 4] {
            assert_eq!(
                fingerprints_on(seen.clone(), threads),
                expected,
                "{threads} threads"
            );
        }
    }

    /// Saved plans keep their meaning: a plan made before still matches the same live
    /// state, for names and members that need escaping too.
    #[test]
    fn streamed_digest_equals_the_digest_of_the_built_document() {
        let mut resource = LiveResource {
            key: ResourceKey {
                provider: "pb".into(),
                kind: ResourceKind::Group,
                name: "Ops \"core\" / ünïcode \\ \u{1}".into(),
            },
            id: "g-1".into(),
            members: vec![
                member("zed@acme.com", "Zed \"Z\""),
                member("amy@acme.com", "Amy\nNew line"),
                member("bob@acme.com", "Bob"),
            ],
            pending_invites: [Email::parse("new@acme.com").ok()]
                .into_iter()
                .flatten()
                .collect(),
            who_am_i: Default::default(),
            description: None,
            uncounted: false,
        };
        assert_eq!(fingerprint(&resource), as_before(&resource));
        resource.members.clear();
        resource.pending_invites.clear();
        assert_eq!(fingerprint(&resource), as_before(&resource));
        assert!(fingerprint(&resource).starts_with("sha256:"));
        assert_eq!(fingerprint(&resource).len(), "sha256:".len() + 32);
    }
}
