//! A configured organization as GitBook's state: every person an `edit` member (the
//! token's own account an `admin`), teams with owner/member roles.

use serde_json::{Value, json};

use super::super::seed::{self, STAMP, shaped, short};
use super::World;

pub(super) fn seed(world: &mut World, org: &seed::Org) -> Result<(), String> {
    let user_id = |e: &str| short("u_", &format!("gitbook user {e}"));
    let mut members = vec![json!({
        "id": user_id(&org.bot), "name": "teamsync (sandbox token)", "email": org.bot,
        "role": "admin", "joined_at": STAMP,
    })];
    for p in &org.people {
        members.push(json!({
            "id": user_id(&p.email), "name": p.name, "email": p.email, "role": "edit",
            "joined_at": STAMP,
        }));
    }
    let teams: Vec<Value> = org
        .of_kind("team")
        .map(|c| {
            let members: Vec<Value> = c
                .members
                .iter()
                .map(|m| {
                    let role = if m.role.as_deref() == Some("owner") {
                        "owner"
                    } else {
                        "member"
                    };
                    json!({"user": user_id(&m.email), "role": role})
                })
                .collect();
            json!({
                "id": short("t_", &c.key), "title": c.name, "created_at": STAMP,
                "members": members,
            })
        })
        .collect();
    let seeded = shaped("GitBook", json!({"members": members, "teams": teams}))?;
    world.organizations.insert(org.id.clone(), seeded);
    world.me = Some(user_id(&org.bot));
    Ok(())
}
