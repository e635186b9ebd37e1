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

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::Loaded;
use crate::model::{
    DesiredResource, Email, MemberKey, ProviderKind, ProviderSettings, ResourceKind, Role,
};
use crate::sandbox;

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
/// When everything in a seed was created: a fixed stamp, so a seed is reproducible.
const STAMP: &str = "2026-01-01T00:00:00Z";

/// A stable id for `what`: the same config seeds the same ids, run after run.
fn digest(what: &str) -> String {
    let hash = Sha256::digest(what.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A UUID-shaped id (PixieBrix's ids are UUIDs).
fn uuid(what: &str) -> String {
    let h = digest(what);
    format!(
        "{}-{}-5{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A short id of the APIs' alphabet, with a prefix that says what it is.
fn short(prefix: &str, what: &str) -> String {
    format!("{prefix}{}", &digest(what)[..20])
}

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

/// The containers the configuration declares at one provider, by kind.
fn declared<'a>(
    loaded: &'a Loaded,
    provider: &str,
    kind: ResourceKind,
) -> Vec<&'a DesiredResource> {
    loaded
        .desired
        .resources
        .values()
        .filter(|r| r.key.provider == provider && r.key.kind == kind)
        .collect()
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

fn pixiebrix_role(role: Option<Role>) -> u8 {
    match role {
        Some(Role::Admin) => 2,
        Some(Role::Developer) => 3,
        Some(Role::Restricted) => 4,
        Some(Role::Manager) => 5,
        Some(Role::Member | Role::Owner) | None => 1,
    }
}

fn pixiebrix(loaded: &Loaded, p: &ProviderSettings, ctx: &mut Context) -> Value {
    let org_roles: BTreeMap<&Email, Option<Role>> =
        declared(loaded, &p.name, ResourceKind::Organization)
            .into_iter()
            .flat_map(|r| emails_of(r, &mut ctx.left_out))
            .map(|(e, m)| (e, m.role))
            .collect();
    let people = people_at(loaded, &p.name);
    let user_id = |e: &str| uuid(&format!("pixiebrix user {e}"));
    let mut users = vec![json!({
        "id": user_id(&ctx.bot), "name": "teamsync (sandbox token)", "email": ctx.bot,
        "service_account": true, "date_joined": STAMP,
    })];
    let mut memberships = vec![json!({"id": 1000, "user": user_id(&ctx.bot), "role": 2})];
    for (i, e) in people.iter().enumerate() {
        users.push(json!({
            "id": user_id(e.as_str()), "name": display_name(e, &ctx.handles),
            "email": e.as_str(), "date_joined": STAMP,
        }));
        memberships.push(json!({
            "id": 1001 + i as u64,
            "user": user_id(e.as_str()),
            "role": pixiebrix_role(org_roles.get(e).copied().flatten()),
        }));
    }
    let container = |r: &DesiredResource, ctx: &mut Context, with_data: bool| {
        let members: Vec<Value> = emails_of(r, &mut ctx.left_out)
            .into_iter()
            .map(|(e, m)| {
                let mut member = json!({
                    "id": uuid(&format!("{} member {}", r.key, e.as_str())),
                    "email": e.as_str(),
                    "created_at": STAMP,
                });
                if with_data {
                    member["data"] = serde_json::to_value(&m.data).unwrap_or(json!({}));
                }
                member
            })
            .collect();
        json!({
            "id": uuid(&r.key.to_string()), "name": r.key.name, "created_at": STAMP,
            "members": members,
        })
    };
    let groups: Vec<Value> = declared(loaded, &p.name, ResourceKind::Group)
        .into_iter()
        .map(|r| container(r, ctx, false))
        .collect();
    let campaigns: Vec<Value> = declared(loaded, &p.name, ResourceKind::Campaign)
        .into_iter()
        .map(|r| {
            let mut c = container(r, ctx, true);
            c["updated_at"] = json!(STAMP);
            c
        })
        .collect();
    ctx.me.insert(ProviderKind::Pixiebrix, user_id(&ctx.bot));
    json!({
        "id": p.organization, "name": p.organization,
        "verified_domains": p.verified_domains.iter().collect::<Vec<_>>(),
        "users": users, "memberships": memberships, "groups": groups, "campaigns": campaigns,
    })
}

fn gitbook(loaded: &Loaded, p: &ProviderSettings, ctx: &mut Context) -> Value {
    let people = people_at(loaded, &p.name);
    let user_id = |e: &str| short("u_", &format!("gitbook user {e}"));
    let mut members = vec![json!({
        "id": user_id(&ctx.bot), "name": "teamsync (sandbox token)", "email": ctx.bot,
        "role": "admin", "joined_at": STAMP,
    })];
    for e in &people {
        members.push(json!({
            "id": user_id(e.as_str()), "name": display_name(e, &ctx.handles),
            "email": e.as_str(), "role": "edit", "joined_at": STAMP,
        }));
    }
    let teams: Vec<Value> = declared(loaded, &p.name, ResourceKind::Team)
        .into_iter()
        .map(|r| {
            let members: Vec<Value> = emails_of(r, &mut ctx.left_out)
                .into_iter()
                .map(|(e, m)| {
                    let role = if m.role == Some(Role::Owner) {
                        "owner"
                    } else {
                        "member"
                    };
                    json!({"user": user_id(e.as_str()), "role": role})
                })
                .collect();
            json!({
                "id": short("t_", &r.key.to_string()), "title": r.key.name,
                "created_at": STAMP, "members": members,
            })
        })
        .collect();
    ctx.me.insert(ProviderKind::Gitbook, user_id(&ctx.bot));
    json!({"members": members, "teams": teams})
}

fn contentful(loaded: &Loaded, p: &ProviderSettings, ctx: &mut Context) -> Value {
    let people = people_at(loaded, &p.name);
    let user_id = |e: &str| short("U", &format!("contentful user {e}"));
    let membership_id = |e: &str| short("OM", &format!("contentful membership {e}"));
    let mut users = vec![json!({
        "id": user_id(&ctx.bot), "email": ctx.bot, "first_name": "teamsync", "last_name": "(sandbox token)",
    })];
    let mut memberships = vec![json!({
        "id": membership_id(&ctx.bot), "user": user_id(&ctx.bot), "role": "owner", "status": "active",
    })];
    for e in &people {
        users.push(json!({
            "id": user_id(e.as_str()), "email": e.as_str(),
            "first_name": display_name(e, &ctx.handles), "last_name": "",
        }));
        memberships.push(json!({
            "id": membership_id(e.as_str()), "user": user_id(e.as_str()),
            "role": "member", "status": "active",
        }));
    }
    let teams: Vec<Value> = declared(loaded, &p.name, ResourceKind::Team)
        .into_iter()
        .map(|r| {
            let members: Vec<Value> = emails_of(r, &mut ctx.left_out)
                .into_iter()
                .map(|(e, _)| {
                    json!({
                        "id": short("TM", &format!("{} member {}", r.key, e.as_str())),
                        "membership": membership_id(e.as_str()),
                    })
                })
                .collect();
            json!({
                "id": short("Team", &r.key.to_string()), "name": r.key.name,
                "description": r.description.clone().unwrap_or_default(),
                "version": 1, "members": members,
            })
        })
        .collect();
    ctx.me.insert(ProviderKind::Contentful, user_id(&ctx.bot));
    json!({"users": users, "memberships": memberships, "teams": teams})
}

struct Context {
    bot: String,
    handles: BTreeMap<Email, String>,
    me: BTreeMap<ProviderKind, String>,
    left_out: Vec<String>,
}

/// The sandbox world of `loaded` (see the module's documentation). `Err` only when the
/// world made does not load as a sandbox state, which would be a bug here.
pub fn seed(loaded: &Loaded) -> Result<Seeded, String> {
    let mut ctx = Context {
        bot: bot_email(loaded),
        handles: loaded
            .people
            .iter()
            .map(|(h, e)| (e.clone(), h.clone()))
            .collect(),
        me: BTreeMap::new(),
        left_out: Vec::new(),
    };
    let mut pb_orgs = Vec::new();
    let mut gb_orgs = serde_json::Map::new();
    let mut cf_orgs = serde_json::Map::new();
    for p in loaded.providers.values() {
        match p.kind {
            ProviderKind::Pixiebrix => pb_orgs.push(pixiebrix(loaded, p, &mut ctx)),
            ProviderKind::Gitbook => {
                gb_orgs.insert(p.organization.clone(), gitbook(loaded, p, &mut ctx));
            }
            ProviderKind::Contentful => {
                cf_orgs.insert(p.organization.clone(), contentful(loaded, p, &mut ctx));
            }
        }
    }
    let me = |kind| ctx.me.get(&kind).cloned();
    let world = json!({
        "generated_by": GENERATED_BY,
        "pixiebrix": {"organizations": pb_orgs, "me": me(ProviderKind::Pixiebrix)},
        "gitbook": {"organizations": gb_orgs, "me": me(ProviderKind::Gitbook)},
        "contentful": {"organizations": cf_orgs, "me": me(ProviderKind::Contentful)},
    });
    let world: sandbox::World = serde_json::from_value(world)
        .map_err(|e| format!("internal error: the seed made is not a sandbox state: {e}"))?;
    ctx.left_out.sort();
    ctx.left_out.dedup();
    Ok(Seeded {
        world,
        left_out: ctx.left_out,
    })
}
