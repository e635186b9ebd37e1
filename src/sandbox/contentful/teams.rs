//! Contentful teams (list, create, get, version-locked update, delete) and team memberships
//! (per team: list, create from an organization membership, get, delete; and across the
//! organization).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::collections::{
    AttrFilter, includes_for, team_json, team_membership_json, team_membership_out, users_of_all,
    users_of_indexed,
};
use super::{
    Answer, InOrg, Org, Team, TeamMembership, body_json, body_object, error, not_found, validation,
};

fn team<'a>(o: &'a Org, id: &str) -> Result<&'a Team, Response> {
    o.teams
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| not_found("Team", id))
}

fn team_mut<'a>(o: &'a mut Org, id: &str) -> Result<&'a mut Team, Response> {
    o.teams
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or_else(|| not_found("Team", id))
}

pub(super) async fn list(org: InOrg) -> Answer {
    org.read(|o| {
        let items = o.teams.iter().map(|t| team_json(&org.org, t)).collect();
        Ok(org.collection(items))
    })
}

/// `(name, description)` of a team body: `name` required, `description` optional.
fn team_body(body: &Value) -> Result<(String, String), Response> {
    let obj = body_object(body, &["name", "description"])?;
    match obj.get("name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() => Ok((
            n.to_string(),
            obj.get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        )),
        _ => Err(validation(
            "name",
            "required",
            "The property \"name\" is required here",
        )),
    }
}

/// 201 with the new team at version 0.
pub(super) async fn create(org: InOrg, body: Bytes) -> Answer {
    let (name, description) = team_body(&body_json(&body)?)?;
    let id = org.st.new_id(22);
    let json = org.write(|o| {
        let team = Team {
            id: id.clone(),
            name: name.clone(),
            description,
            version: 0,
            members: Vec::new(),
        };
        let json = team_json(&org.org, &team);
        o.teams.push(team);
        Ok(json)
    })?;
    org.event(
        "team.create",
        json!({"org": org.org, "team": id, "name": name}),
    );
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

pub(super) async fn get(org: InOrg, Path((_, id)): Path<(String, String)>) -> Answer {
    org.read(|o| Ok(Json(team_json(&org.org, team(o, &id)?)).into_response()))
}

/// `PUT`: replaces name and description when `X-Contentful-Version` is the team's version
/// (else 409 `VersionMismatch`); the version goes up by one.
pub(super) async fn update(
    org: InOrg,
    Path((_, id)): Path<(String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> Answer {
    let (name, description) = team_body(&body_json(&body)?)?;
    let sent = h
        .get("x-contentful-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let json = org.write(|o| {
        let t = team_mut(o, &id)?;
        if sent != Some(t.version) {
            return Err(error(
                StatusCode::CONFLICT,
                "VersionMismatch",
                "The version you sent does not match the current version of the resource.",
                Some(json!({"type": "Team", "id": id, "version": t.version})),
            ));
        }
        t.name = name.clone();
        t.description = description;
        t.version += 1;
        Ok(team_json(&org.org, t))
    })?;
    org.event("team.update", json!({"team": id, "name": name}));
    Ok(Json(json).into_response())
}

/// 204, dropping the team's memberships; 404 when there is no such team.
pub(super) async fn delete(org: InOrg, Path((_, id)): Path<(String, String)>) -> Answer {
    let removed = org.write(|o| {
        let before = o.teams.len();
        o.teams.retain(|t| t.id != id);
        Ok(o.teams.len() < before)
    })?;
    if !removed {
        return Err(not_found("Team", &id));
    }
    org.event("team.delete", json!({"team": id}));
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The team's memberships, `include=sys.user` / `sys.organizationMembership`.
pub(super) async fn members(org: InOrg, Path((_, id)): Path<(String, String)>) -> Answer {
    org.read(|o| {
        let t = team(o, &id)?;
        let users = users_of_indexed(o, t.members.iter().map(|tm| tm.membership.as_str()));
        Ok(org.collection_of(
            t.members.iter().collect(),
            |tm| team_membership_out(&users, &org.org, t, tm),
            |page| includes_for(o, &org.q, page),
        ))
    })
}

/// Team memberships across the organization, filtered by `sys.organizationMembership.sys.id`.
pub(super) async fn org_members(org: InOrg) -> Answer {
    org.read(|o| {
        let filter = AttrFilter::of(&org.q, "sys.organizationMembership.sys.id");
        let users = users_of_all(o);
        let items = o
            .teams
            .iter()
            .flat_map(|t| t.members.iter().map(move |tm| (t, tm)))
            .filter(|(_, tm)| filter.keeps(&tm.membership))
            .collect();
        Ok(org.collection_of(
            items,
            |(t, tm)| team_membership_out(&users, &org.org, t, tm),
            |page| includes_for(o, &org.q, page),
        ))
    })
}

pub(super) async fn member_get(
    org: InOrg,
    Path((_, team_id, id)): Path<(String, String, String)>,
) -> Answer {
    org.read(|o| {
        let (t, m) = o
            .teams
            .iter()
            .find(|t| t.id == team_id)
            .and_then(|t| t.members.iter().find(|m| m.id == id).map(|m| (t, m)))
            .ok_or_else(|| not_found("TeamMembership", &id))?;
        let users = users_of_indexed(o, [m.membership.as_str()]);
        Ok(Json(team_membership_json(&users, &org.org, t, m)).into_response())
    })
}

/// `{"organizationMembershipId"}` → 201; the membership may be pending (CF-INV).
pub(super) async fn member_create(
    org: InOrg,
    Path((_, team_id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let body = body_json(&body)?;
    let obj = body_object(&body, &["organizationMembershipId", "admin"])?;
    let Some(membership) = obj
        .get("organizationMembershipId")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(validation(
            "organizationMembershipId",
            "required",
            "The property \"organizationMembershipId\" is required here",
        ));
    };
    let id = org.st.new_id(22);
    let json = org.write(|o| {
        // A pending membership (an open invitation) may join teams at once (CF-INV).
        let user = match o.memberships.iter().find(|m| m.id == membership) {
            Some(m) => m.user.clone(),
            None => {
                return Err(validation(
                    "organizationMembershipId",
                    "notResolvable",
                    "No organization membership with this id exists in the organization",
                ));
            }
        };
        let t = team_mut(o, &team_id)?;
        if t.members.iter().any(|m| m.membership == membership) {
            return Err(validation(
                "organizationMembership",
                "taken",
                "The user is already a member of this team",
            ));
        }
        let tm = TeamMembership {
            id: id.clone(),
            membership: membership.clone(),
        };
        t.members.push(tm.clone());
        let users = HashMap::from([(membership.as_str(), user.as_str())]);
        Ok(team_membership_json(&users, &org.org, t, &tm))
    })?;
    org.event(
        "team_membership.create",
        json!({"team": team_id, "membership": membership}),
    );
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// 204; 404 when the team has no such membership.
pub(super) async fn member_delete(
    org: InOrg,
    Path((_, team_id, id)): Path<(String, String, String)>,
) -> Answer {
    let gone = org.write(|o| {
        let t = team_mut(o, &team_id)?;
        Ok(t.members
            .iter()
            .position(|m| m.id == id)
            .map(|i| t.members.remove(i)))
    })?;
    let m = gone.ok_or_else(|| not_found("TeamMembership", &id))?;
    org.event(
        "team_membership.remove",
        json!({"team": team_id, "id": id, "membership": m.membership}),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}
