//! A configured organization as Contentful's state: a user and an active membership per
//! person (the token's own account an `owner`), teams whose members name memberships.

use serde_json::{Value, json};

use super::super::seed::{self, shaped, short};
use super::World;

pub(super) fn seed(world: &mut World, org: &seed::Org) -> Result<(), String> {
    let user_id = |e: &str| short("U", &format!("contentful user {e}"));
    let membership_id = |e: &str| short("OM", &format!("contentful membership {e}"));
    let mut users = vec![json!({
        "id": user_id(&org.bot), "email": org.bot, "first_name": "teamsync",
        "last_name": "(sandbox token)",
    })];
    let mut memberships = vec![json!({
        "id": membership_id(&org.bot), "user": user_id(&org.bot), "role": "owner",
        "status": "active",
    })];
    for p in &org.people {
        users.push(json!({
            "id": user_id(&p.email), "email": p.email, "first_name": p.name, "last_name": "",
        }));
        memberships.push(json!({
            "id": membership_id(&p.email), "user": user_id(&p.email), "role": "member",
            "status": "active",
        }));
    }
    let teams: Vec<Value> = org
        .of_kind("team")
        .map(|c| {
            let members: Vec<Value> = c
                .members
                .iter()
                .map(|m| {
                    json!({
                        "id": short("TM", &format!("{} member {}", c.key, m.email)),
                        "membership": membership_id(&m.email),
                    })
                })
                .collect();
            json!({
                "id": short("Team", &c.key), "name": c.name,
                "description": c.description.clone().unwrap_or_default(),
                "version": 1, "members": members,
            })
        })
        .collect();
    let seeded = shaped(
        "Contentful",
        json!({"users": users, "memberships": memberships, "teams": teams}),
    )?;
    world.organizations.insert(org.id.clone(), seeded);
    world.me = Some(user_id(&org.bot));
    Ok(())
}
