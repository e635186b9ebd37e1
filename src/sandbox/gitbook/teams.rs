//! GitBook teams: list, create (`PUT` on the collection), get, rename, delete, and their
//! members (list, the bulk update, one member's add/role and removal).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::GitbookMemberships;
use super::{
    Answer, InOrg, Team, TeamMember, body_json, error, member_json, member_role, not_a_member,
    resolve, team, team_json, team_mut, valid_title,
};

type Q = Query<std::collections::HashMap<String, String>>;

/// The organization's teams; `title` filters by a caseless substring.
pub(super) async fn list(org: InOrg, Query(q): Q) -> Answer {
    org.read(|o| {
        let title = q.get("title").map(|t| t.to_lowercase());
        let found: Vec<&super::Team> = o
            .teams
            .iter()
            .filter(|t| {
                title
                    .as_ref()
                    .is_none_or(|s| t.title.to_lowercase().contains(s))
            })
            .collect();
        Ok(org.page(&q, found, team_json))
    })
}

/// `PUT` on the collection: 201 with the new team; `members` (user ids or emails) must all
/// be organization members.
pub(super) async fn create(org: InOrg, body: Bytes) -> Answer {
    let body = body_json(&body)?;
    let title = valid_title(&body)?;
    let wanted: Vec<String> = body
        .get("members")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let id = org.st.new_id(20);
    let now = org.st.now();
    let json = org.write(|o| {
        let mut members = Vec::new();
        for ident in &wanted {
            let m = resolve(o, ident).ok_or_else(|| not_a_member(ident))?;
            members.push(TeamMember {
                user: m.id.clone(),
                role: member_role(),
            });
        }
        let team = Team {
            id: id.clone(),
            title: title.clone(),
            created_at: now,
            members,
        };
        let json = team_json(&team);
        o.teams.push(team);
        Ok(json)
    })?;
    org.event(
        "team.create",
        json!({"org": org.org, "team": id, "title": title}),
    );
    for user in &wanted {
        org.event("team_member.add", json!({"team": id, "user": user}));
    }
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

pub(super) async fn get(org: InOrg, Path((_, id)): Path<(String, String)>) -> Answer {
    org.read(|o| Ok(Json(team_json(team(o, &id)?)).into_response()))
}

/// `PATCH`: a new title.
pub(super) async fn rename(
    org: InOrg,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let title = valid_title(&body_json(&body)?)?;
    let json = org.write(|o| {
        let t = team_mut(o, &id)?;
        t.title = title.clone();
        Ok(team_json(t))
    })?;
    org.event("team.update", json!({"team": id, "title": title}));
    Ok(Json(json).into_response())
}

/// 205 deleted, 204 when there was no such team (B1).
pub(super) async fn delete(org: InOrg, Path((_, id)): Path<(String, String)>) -> Answer {
    let removed = org.write(|o| {
        let before = o.teams.len();
        o.teams.retain(|t| t.id != id);
        Ok(o.teams.len() < before)
    })?;
    if !removed {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    org.event("team.delete", json!({"team": id}));
    Ok(StatusCode::RESET_CONTENT.into_response())
}

/// The team's members, each with its organization member and team role.
pub(super) async fn members(
    org: InOrg,
    Path((_, id)): Path<(String, String)>,
    Query(q): Q,
) -> Answer {
    org.read(|o| {
        let found: Vec<(usize, &super::Member, &str)> = team(o, &id)?
            .members
            .iter()
            .filter_map(|tm| {
                let i = o.member_at(&tm.user)?;
                Some((i, o.members.get(i)?, tm.role.as_str()))
            })
            .collect();
        Ok(org.page(&q, found, |(i, m, role)| TeamMemberOut {
            organization: member_json(&org.host, o.teams_of(i), m),
            team: RoleOut { role },
            permissions: ViewOut { view: true },
        }))
    })
}

/// A team member: the organization member, with its role in the team.
#[derive(serde::Serialize)]
struct TeamMemberOut<'a> {
    organization: super::MemberOut<'a>,
    team: RoleOut<'a>,
    permissions: ViewOut,
}

#[derive(serde::Serialize)]
struct RoleOut<'a> {
    role: &'a str,
}

#[derive(serde::Serialize)]
struct ViewOut {
    view: bool,
}

fn string_list(body: &Value, key: &str) -> Result<Vec<String>, Response> {
    let refused = || {
        error(
            StatusCode::BAD_REQUEST,
            &format!("{key} must be a list of user ids or emails"),
        )
    };
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(refused))
            .collect(),
        Some(_) => Err(refused()),
    }
}

fn valid_role(v: &Value) -> Result<String, Response> {
    match v.get("role").and_then(Value::as_str) {
        Some(r @ ("owner" | "member")) => Ok(r.to_string()),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "role must be \"owner\" or \"member\"",
        )),
    }
}

/// The bulk update: `add`, `remove` (user ids or emails) and `memberships` (roles by user
/// id); all identifiers are resolved before anything changes (B3). 204.
pub(super) async fn members_update(
    org: InOrg,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let body = match body_json(&body)? {
        Value::Null => json!({}),
        b @ Value::Object(_) => b,
        _ => return Err(error(StatusCode::BAD_REQUEST, "the body must be an object")),
    };
    let (add, remove) = (string_list(&body, "add")?, string_list(&body, "remove")?);
    let mut roles: Vec<(String, String)> = Vec::new();
    if let Some(m) = body.get("memberships") {
        let Some(map) = m.as_object() else {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "memberships must be an object keyed by user id",
            ));
        };
        for (user, v) in map {
            roles.push((user.clone(), valid_role(v)?));
        }
    }
    let replace = org.st.behaviour().gitbook_memberships == GitbookMemberships::Replace;
    let events = org.write(|o| {
        // Resolve everything first: one unknown identifier rejects the whole request.
        let resolve_all = |list: &[String]| -> Result<Vec<String>, Response> {
            list.iter()
                .map(|i| {
                    resolve(o, i)
                        .map(|m| m.id.clone())
                        .ok_or_else(|| not_a_member(i))
                })
                .collect()
        };
        let add = resolve_all(&add)?;
        let remove = resolve_all(&remove)?;
        if let Some((user, _)) = roles
            .iter()
            .find(|(user, _)| !o.members.iter().any(|m| &m.id == user))
        {
            return Err(not_a_member(user));
        }
        let t = team_mut(o, &id)?;
        let mut events = Vec::new();
        let role_for = |u: &str| {
            roles
                .iter()
                .find(|(r, _)| r == u)
                .map(|(_, role)| role.clone())
        };
        // A user in both lists ends up removed, so it is never added in the first place.
        for user in add.iter().filter(|u| !remove.contains(u)) {
            if !t.members.iter().any(|m| &m.user == user) {
                let role = role_for(user).unwrap_or_else(member_role);
                t.members.push(TeamMember {
                    user: user.clone(),
                    role: role.clone(),
                });
                events.push((
                    "team_member.add",
                    json!({"team": id, "user": user, "role": role}),
                ));
            }
        }
        for (user, role) in &roles {
            if let Some(m) = t.members.iter_mut().find(|m| &m.user == user)
                && &m.role != role
            {
                m.role = role.clone();
                events.push((
                    "team_member.role",
                    json!({"team": id, "user": user, "role": role}),
                ));
            }
        }
        // Under `gitbook_memberships=replace`, the map is the team's whole: everyone it does
        // not name is a plain member afterwards.
        if replace && body.get("memberships").is_some() {
            for m in t.members.iter_mut() {
                if !roles.iter().any(|(u, _)| u == &m.user) && m.role != member_role() {
                    m.role = member_role();
                    events.push((
                        "team_member.role",
                        json!({"team": id, "user": m.user, "role": m.role}),
                    ));
                }
            }
        }
        for user in &remove {
            if t.members.iter().any(|m| &m.user == user) {
                t.members.retain(|m| &m.user != user);
                events.push(("team_member.remove", json!({"team": id, "user": user})));
            }
        }
        Ok(events)
    })?;
    for (action, detail) in events {
        org.event(action, detail);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Adds one organization member to the team, or sets their role: 204.
pub(super) async fn member_put(
    org: InOrg,
    Path((_, id, user)): Path<(String, String, String)>,
    body: Bytes,
) -> Answer {
    let role = match body_json(&body)? {
        Value::Null => None,
        b if b.get("role").is_none() => None,
        b => Some(valid_role(&b)?),
    };
    let event = org.write(|o| {
        if !o.members.iter().any(|m| m.id == user) {
            return Err(not_a_member(&user));
        }
        let t = team_mut(o, &id)?;
        match t.members.iter_mut().find(|m| m.user == user) {
            Some(m) => {
                let changed = role.as_ref().is_some_and(|r| r != &m.role);
                if let Some(r) = &role {
                    m.role = r.clone();
                }
                Ok(changed.then(|| ("team_member.role", m.role.clone())))
            }
            None => {
                let r = role.clone().unwrap_or_else(member_role);
                t.members.push(TeamMember {
                    user: user.clone(),
                    role: r.clone(),
                });
                Ok(Some(("team_member.add", r)))
            }
        }
    })?;
    if let Some((action, role)) = event {
        org.event(action, json!({"team": id, "user": user, "role": role}));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// 205 removed from the team, 204 when they were not in it.
pub(super) async fn member_delete(
    org: InOrg,
    Path((_, id, user)): Path<(String, String, String)>,
) -> Answer {
    let removed = org.write(|o| {
        let t = team_mut(o, &id)?;
        let before = t.members.len();
        t.members.retain(|m| m.user != user);
        Ok(t.members.len() < before)
    })?;
    if !removed {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    org.event("team_member.remove", json!({"team": id, "user": user}));
    Ok(StatusCode::RESET_CONTENT.into_response())
}
