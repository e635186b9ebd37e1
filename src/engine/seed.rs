//! `teamsync sandbox seed`: a sandbox state file made from a configuration, so an admin
//! can try their own config offline (`teamsync plan --config DIR --sandbox FILE`).
//!
//! The world it writes is the configuration as if it had been applied, before its
//! lifecycle: each provider's organization holds everyone the configuration names
//! (leavers included), each declared group, campaign and team exists with its declared
//! members and roles (members whose `until` has passed included), and the token's own
//! account is an admin/owner the who-am-I routes answer with. So the first plan shows
//! exactly what the lifecycle does today (leavers leave, expired access ends), and every
//! edit afterwards shows its own plan. Members named only by a user id have no address
//! to seed from and are left out, and said so (docs/sandbox.md).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Loaded;
use crate::model::{DesiredResource, Email, MemberKey, ProviderSettings, ResourceKind};
use crate::sandbox::{self, seed};

/// The marker a seed file starts with (the sandbox's `generated_by`).
pub use crate::sandbox::GENERATED_BY;

/// What `seed` made, and what it could not.
pub struct Seeded {
    pub world: sandbox::World,
    /// One line per thing left out, for the command to print.
    pub left_out: Vec<String>,
}

/// The local part of the token's own account in every seeded organization.
const BOT: &str = "teamsync-sandbox";

/// The name shown for an address: its handle in the roster, else the address's local part.
fn display_name(email: &Email, handles: &BTreeMap<Email, String>) -> String {
    handles.get(email).cloned().unwrap_or_else(|| {
        email
            .as_str()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string()
    })
}

/// Every address of one container, in order; a user-id member is noted as left out.
fn emails_of<'a>(
    resource: &'a DesiredResource,
    left_out: &mut Vec<String>,
) -> Vec<(&'a Email, &'a crate::model::DesiredMember)> {
    resource
        .members
        .iter()
        .filter_map(|(key, member)| match key {
            MemberKey::Email(e) => Some((e, member)),
            MemberKey::UserId(id) => {
                left_out.push(format!(
                    "{}: member `{id}` is named by user id only, so the seed cannot give it an address; left out",
                    resource.key
                ));
                None
            }
        })
        .collect()
}

/// Everyone a provider's organization holds in the seed: the roster, every member of its
/// containers with an address, and the leavers. (A member by user id only is noted where
/// its container is written.)
fn people_at(loaded: &Loaded, provider: &str) -> BTreeSet<Email> {
    let mut people: BTreeSet<Email> = loaded.people.values().cloned().collect();
    people.extend(loaded.desired.offboarded.keys().cloned());
    for r in loaded
        .desired
        .resources
        .values()
        .filter(|r| r.key.provider == provider)
    {
        people.extend(r.members.keys().filter_map(|k| match k {
            MemberKey::Email(e) => Some(e.clone()),
            MemberKey::UserId(_) => None,
        }));
    }
    people
}

/// The domain of the token's own account: the first allowed domain, else the roster's
/// most common one, else example.com.
fn bot_email(loaded: &Loaded) -> String {
    let domain = loaded
        .policy
        .allowed_email_domains
        .iter()
        .next()
        .cloned()
        .or_else(|| {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for e in loaded.people.values() {
                *counts.entry(e.domain()).or_default() += 1;
            }
            counts
                .into_iter()
                .max_by_key(|(_, n)| *n)
                .map(|(d, _)| d.to_string())
        })
        .unwrap_or_else(|| "example.com".to_string());
    format!("{BOT}@{domain}")
}

/// One provider's organization in the sandbox's plain terms: everyone it holds with their
/// organization role, and each container it declares with the members that have an
/// address (a member by user id only is noted in `left_out`).
fn organization(
    loaded: &Loaded,
    p: &ProviderSettings,
    bot: &str,
    handles: &BTreeMap<Email, String>,
    left_out: &mut Vec<String>,
) -> seed::Org {
    let containers: Vec<&DesiredResource> = loaded
        .desired
        .resources
        .values()
        .filter(|r| r.key.provider == p.name)
        .collect();
    let org_roles: BTreeMap<&Email, &'static str> = containers
        .iter()
        .filter(|r| r.key.kind == ResourceKind::Organization)
        .flat_map(|r| emails_of(r, left_out))
        .filter_map(|(e, m)| Some((e, m.role?.as_str())))
        .collect();
    let people = people_at(loaded, &p.name)
        .into_iter()
        .map(|e| seed::Person {
            name: display_name(&e, handles),
            role: org_roles.get(&e).map(|r| r.to_string()),
            email: e.as_str().to_string(),
        })
        .collect();
    let containers = containers
        .into_iter()
        .filter(|r| r.key.kind != ResourceKind::Organization)
        .map(|r| seed::Container {
            kind: r.key.kind.as_str().to_string(),
            key: r.key.to_string(),
            name: r.key.name.clone(),
            description: r.description.clone(),
            members: emails_of(r, left_out)
                .into_iter()
                .map(|(e, m)| seed::Member {
                    email: e.as_str().to_string(),
                    role: m.role.map(|r| r.as_str().to_string()),
                    data: serde_json::to_value(&m.data).unwrap_or_default(),
                })
                .collect(),
        })
        .collect();
    seed::Org {
        id: p.organization.clone(),
        verified_domains: p.verified_domains.iter().cloned().collect(),
        bot: bot.to_string(),
        people,
        containers,
    }
}

/// The sandbox world of `loaded` (see the module's documentation). `Err` only when the
/// world made does not load as a sandbox state, which would be a bug here.
pub fn seed(loaded: &Loaded) -> Result<Seeded, String> {
    let bot = bot_email(loaded);
    let handles: BTreeMap<Email, String> = loaded
        .people
        .iter()
        .map(|(h, e)| (e.clone(), h.clone()))
        .collect();
    let mut left_out = Vec::new();
    let mut world = sandbox::World {
        generated_by: Some(GENERATED_BY.to_string()),
        ..sandbox::World::default()
    };
    for p in loaded.providers.values() {
        let org = organization(loaded, p, &bot, &handles, &mut left_out);
        world.seed(p.kind.as_str(), &org)?;
    }
    left_out.sort();
    left_out.dedup();
    Ok(Seeded { world, left_out })
}

#[cfg(test)]
mod tests {
    use crate::model::ProviderKind;
    use crate::sandbox;

    /// Every kind the config takes is an API the sandbox serves under the same name, so a
    /// seed never misses a provider.
    #[test]
    fn every_provider_kind_is_served() {
        for kind in ProviderKind::ALL {
            let mut world = sandbox::World::default();
            let org = sandbox::seed::Org {
                id: "org".to_string(),
                bot: "bot@example.com".to_string(),
                ..Default::default()
            };
            assert_eq!(world.seed(kind.as_str(), &org), Ok(()), "{kind}");
        }
        let mut world = sandbox::World::default();
        assert!(world.seed("fourth", &Default::default()).is_err());
    }
}
