//! A configured organization as PixieBrix's state: users with UUIDs, a roster membership
//! per person (the token's own service account an admin), groups and campaigns with their
//! members by email.

use serde_json::{Value, json};

use super::super::seed::{self, STAMP, shaped, uuid};
use super::World;

/// The roster role number of a role in the config's words.
fn role_number(role: Option<&str>) -> u8 {
    match role {
        Some("admin") => 2,
        Some("developer") => 3,
        Some("restricted") => 4,
        Some("manager") => 5,
        _ => 1,
    }
}

pub(super) fn seed(world: &mut World, org: &seed::Org) -> Result<(), String> {
    let user_id = |e: &str| uuid(&format!("pixiebrix user {e}"));
    let mut users = vec![json!({
        "id": user_id(&org.bot), "name": "teamsync (sandbox token)", "email": org.bot,
        "service_account": true, "date_joined": STAMP,
    })];
    let mut memberships = vec![json!({"id": 1000, "user": user_id(&org.bot), "role": 2})];
    for (i, p) in org.people.iter().enumerate() {
        users.push(json!({
            "id": user_id(&p.email), "name": p.name, "email": p.email, "date_joined": STAMP,
        }));
        memberships.push(json!({
            "id": 1001 + i as u64,
            "user": user_id(&p.email),
            "role": role_number(p.role.as_deref()),
        }));
    }
    let container = |c: &seed::Container, with_data: bool| {
        let members: Vec<Value> = c
            .members
            .iter()
            .map(|m| {
                let mut member = json!({
                    "id": uuid(&format!("{} member {}", c.key, m.email)),
                    "email": m.email,
                    "created_at": STAMP,
                });
                if with_data {
                    member["data"] = m.data.clone();
                }
                member
            })
            .collect();
        json!({
            "id": uuid(&c.key), "name": c.name, "created_at": STAMP, "members": members,
        })
    };
    let groups: Vec<Value> = org.of_kind("group").map(|c| container(c, false)).collect();
    let campaigns: Vec<Value> = org
        .of_kind("campaign")
        .map(|c| {
            let mut campaign = container(c, true);
            campaign["updated_at"] = json!(STAMP);
            campaign
        })
        .collect();
    world.organizations.push(shaped(
        "PixieBrix",
        json!({
            "id": org.id, "name": org.id, "verified_domains": org.verified_domains,
            "users": users, "memberships": memberships, "groups": groups, "campaigns": campaigns,
        }),
    )?);
    world.me = Some(user_id(&org.bot));
    Ok(())
}
