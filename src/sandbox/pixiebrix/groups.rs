//! PixieBrix groups (list, create, get, rename, delete) and group memberships (list, add,
//! replace, remove one).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Changes;
use super::paging::window;
use super::render::{
    Source, eligible, gms_json, group_detail_json, group_idx, group_json, to_body,
};
use super::{
    Answer, Both, Caller, Group, GroupMember, Org, V1, bad, json_body, not_found, org_idx,
    parse_json,
};

type Q = Query<HashMap<String, String>>;

pub(super) async fn list(c: Caller<Both>, Path(org): Path<String>, Query(q): Q) -> Answer {
    let items =
        c.st.read(|w| {
            let o = &w.pixiebrix.organizations[org_idx(w, &org)?];
            Some(o.groups.iter().map(group_json).collect::<Vec<_>>())
        })
        .ok_or_else(not_found)?;
    Ok(c.list(&q, items))
}

/// The `name` of a group or campaign body, checked like DRF's `CharField(max_length)`.
pub(super) fn check_name(
    body: &Value,
    required: bool,
    max: usize,
) -> Result<Option<String>, Response> {
    match body.get("name") {
        None if required => Err(bad(json!({"name": ["This field is required."]}))),
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(bad(json!({"name": ["This field may not be blank."]})))
        }
        Some(Value::String(s)) if s.chars().count() > max => Err(bad(
            json!({"name": [format!("Ensure this field has no more than {max} characters.")]}),
        )),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Null) => Err(bad(json!({"name": ["This field may not be null."]}))),
        Some(_) => Err(bad(json!({"name": ["Not a valid string."]}))),
    }
}

fn name_taken() -> Response {
    bad(json!({"name": ["group with this name already exists."]}))
}

/// 201 with the new group; names are unique per team, ignoring case.
pub(super) async fn create(c: Caller<Both>, Path(org): Path<String>, body: Bytes) -> Answer {
    c.org(&org)?;
    let body = parse_json(&body)?;
    let name = check_name(&body, true, 256)?
        .ok_or_else(|| bad(json!({"name": ["This field is required."]})))?;
    let id = c.st.new_uuid();
    let now = c.st.now();
    let v =
        c.st.write_pixiebrix(Changes::Anything, |w| {
            let oi = org_idx(w, &org)?;
            let o = &mut w.pixiebrix.organizations[oi];
            if o.groups.iter().any(|g| g.name.eq_ignore_ascii_case(&name)) {
                return Some(Err(name_taken()));
            }
            let g = Group {
                id: id.clone(),
                name: name.clone(),
                created_at: Some(now),
                members: vec![],
            };
            let v = group_json(&g);
            o.groups.push(g);
            Some(Ok(v))
        })
        .ok_or_else(not_found)??;
    c.event("group.create", json!({"org": org, "id": id, "name": name}));
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

pub(super) async fn get(c: Caller<V1>, Path(id): Path<String>) -> Answer {
    c.st.read(|w| {
        let (oi, gi) = group_idx(w, &id).ok_or_else(not_found)?;
        Ok(Json(group_detail_json(&w.pixiebrix.organizations[oi].groups[gi])).into_response())
    })
}

/// `PATCH`/`PUT` `{"name"}` (`PUT` needs it): a rename, unique per team.
pub(super) async fn update(
    c: Caller<V1>,
    Path(id): Path<String>,
    method: Method,
    body: Bytes,
) -> Answer {
    c.st.read(|w| group_idx(w, &id)).ok_or_else(not_found)?;
    let body = parse_json(&body)?;
    let name = check_name(&body, method == Method::PUT, 256)?;
    let v =
        c.st.write_pixiebrix(Changes::InGroups, |w| {
            let (oi, gi) = group_idx(w, &id)?;
            let o = &mut w.pixiebrix.organizations[oi];
            if let Some(n) = &name {
                if o.groups
                    .iter()
                    .enumerate()
                    .any(|(i, g)| i != gi && g.name.eq_ignore_ascii_case(n))
                {
                    return Some(Err(name_taken()));
                }
                o.groups[gi].name = n.clone();
            }
            Some(Ok(group_detail_json(&o.groups[gi])))
        })
        .ok_or_else(not_found)??;
    c.event("group.update", json!({"id": id, "name": name}));
    Ok(Json(v).into_response())
}

pub(super) async fn delete(c: Caller<V1>, Path(id): Path<String>) -> Answer {
    c.st.write_pixiebrix(Changes::Anything, |w| {
        let (oi, gi) = group_idx(w, &id)?;
        w.pixiebrix.organizations[oi].groups.remove(gi);
        Some(())
    })
    .ok_or_else(not_found)?;
    c.event("group.delete", json!({"id": id}));
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn members(c: Caller<Both>, Path(id): Path<String>, Query(q): Q) -> Answer {
    let max = c.page_cap();
    let out = c.st.read(|w| {
        group_idx(w, &id).map(|(oi, gi)| {
            let o = &w.pixiebrix.organizations[oi];
            let members = c.st.arranged(c.uri.path(), &o.groups[gi].members);
            window(max, &q, &c.version, members.len()).map(|win| {
                let body = to_body(&gms_json(Source::Read(w, oi), &members[win.start..win.end]));
                (win, body)
            })
        })
    });
    c.respond(out)
}

/// The items of a bulk body: a list, or one object as a list of one (`None` otherwise;
/// each route words its own DRF error).
pub(super) fn bulk_items(body: &Value) -> Option<Vec<Value>> {
    match body {
        Value::Array(a) => Some(a.clone()),
        Value::Object(_) => Some(vec![body.clone()]),
        _ => None,
    }
}

/// Validates a group-membership body against an org: the resolved emails, or the
/// per-item DRF list error.
fn resolve_group_items(org: &Org, body: &Value) -> Result<Vec<String>, Response> {
    let Some(items) = bulk_items(body) else {
        return Err(bad(
            json!({"non_field_errors": ["Expected a list of items but got type \"str\"."]}),
        ));
    };
    let mut errors = Vec::new();
    let mut emails = Vec::new();
    let mut failed = false;
    for item in &items {
        let email = match (item.get("user_id"), item.get("email")) {
            (Some(Value::String(uid)), _) => match org.users.iter().find(|u| &u.id == uid) {
                Some(u) if org.memberships.iter().any(|m| m.user == u.id) => Ok(u.email.clone()),
                _ => Err(
                    json!({"user_id": [format!("Invalid pk \"{uid}\" - object does not exist.")]}),
                ),
            },
            (Some(_), _) => Err(json!({"user_id": ["Must be a valid UUID."]})),
            (None, Some(Value::String(e))) if !super::super::valid_email(e) => {
                Err(json!({"email": ["Enter a valid email address."]}))
            }
            (None, Some(Value::String(e))) if !eligible(org, e) => Err(json!({"email": [
                format!("{e} is not a member of the organization and its domain is not verified.")
            ]})),
            (None, Some(Value::String(e))) => Ok(e.clone()),
            (None, _) => Err(json!({"non_field_errors": ["Either user_id or email is required."]})),
        };
        match email {
            Ok(e) => {
                errors.push(json!({}));
                emails.push(e);
            }
            Err(e) => {
                failed = true;
                errors.push(e);
            }
        }
    }
    if failed {
        return Err(bad(Value::Array(errors)));
    }
    Ok(emails)
}

/// Adds the listed members (`replace`: and removes everyone else); answers the resulting
/// memberships of the body, 201 (add) or 200 (replace).
async fn members_write(c: Caller<Both>, id: String, body: Bytes, replace: bool) -> Answer {
    let (oi, _) = c.st.read(|w| group_idx(w, &id)).ok_or_else(not_found)?;
    let body = parse_json(&body)?;
    let emails =
        c.st.read(|w| resolve_group_items(&w.pixiebrix.organizations[oi], &body))?;
    let ids: Vec<String> = emails.iter().map(|_| c.st.new_uuid()).collect();
    let now = c.st.now();
    let (result, added, removed) =
        c.st.write_pixiebrix(Changes::InGroups, |w| {
            let (oi, gi) = group_idx(w, &id)?;
            let o = &mut w.pixiebrix.organizations[oi];
            let g = &mut o.groups[gi];
            let mut removed = Vec::new();
            if replace {
                g.members.retain(|m| {
                    let keep = emails.iter().any(|e| e.eq_ignore_ascii_case(&m.email));
                    if !keep {
                        removed.push(m.email.clone());
                    }
                    keep
                });
            }
            let mut added = Vec::new();
            let mut result = Vec::new();
            for (e, new_id) in emails.iter().zip(ids) {
                if let Some(m) = g.members.iter().find(|m| m.email.eq_ignore_ascii_case(e)) {
                    result.push(m.clone());
                } else {
                    let m = GroupMember {
                        id: new_id,
                        email: e.clone(),
                        created_at: Some(now.clone()),
                    };
                    added.push(e.clone());
                    g.members.push(m.clone());
                    result.push(m);
                }
            }
            Some((
                to_body(&gms_json(Source::Write(w, oi), &result)),
                added,
                removed,
            ))
        })
        .ok_or_else(not_found)?;
    for e in &added {
        c.event("group_membership.add", json!({"group": id, "email": e}));
    }
    for e in &removed {
        c.event("group_membership.remove", json!({"group": id, "email": e}));
    }
    let status = if replace {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_body(status, result))
}

pub(super) async fn members_add(c: Caller<Both>, Path(id): Path<String>, body: Bytes) -> Answer {
    members_write(c, id, body, false).await
}

pub(super) async fn members_replace(
    c: Caller<Both>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    members_write(c, id, body, true).await
}

/// Removes one group membership by its UUID: 204.
pub(super) async fn member_delete(
    c: Caller<Both>,
    Path((id, mid)): Path<(String, String)>,
) -> Answer {
    let email =
        c.st.write_pixiebrix(Changes::InGroups, |w| {
            let (oi, gi) = group_idx(w, &id)?;
            let g = &mut w.pixiebrix.organizations[oi].groups[gi];
            let i = g.members.iter().position(|m| m.id == mid)?;
            Some(g.members.remove(i).email)
        })
        .ok_or_else(not_found)?;
    c.event(
        "group_membership.remove",
        json!({"group": id, "email": email}),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}
