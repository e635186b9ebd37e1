//! PixieBrix campaigns (list, create, get, rename, delete) and campaign members (list, add
//! or update, replace).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Changes;
use super::groups::{bulk_items, check_name};
use super::paging::window;
use super::render::{Source, campaign_idx, campaign_json, cms_json, eligible, to_body};
use super::{
    Answer, Both, Caller, Campaign, CampaignMember, Org, bad, json_body, not_found, org_idx,
    parse_json,
};

type Q = Query<HashMap<String, String>>;

pub(super) async fn list(c: Caller<Both>, Path(org): Path<String>, Query(q): Q) -> Answer {
    let items =
        c.st.read(|w| {
            let o = &w.pixiebrix.organizations[org_idx(w, &org)?];
            Some(o.campaigns.iter().map(campaign_json).collect::<Vec<_>>())
        })
        .ok_or_else(not_found)?;
    Ok(c.list(&q, items))
}

/// 201 with the new campaign.
pub(super) async fn create(c: Caller<Both>, Path(org): Path<String>, body: Bytes) -> Answer {
    c.org(&org)?;
    let body = parse_json(&body)?;
    let name = check_name(&body, true, 256)?
        .ok_or_else(|| bad(json!({"name": ["This field is required."]})))?;
    let id = c.st.new_uuid();
    let now = c.st.now();
    let campaign = Campaign {
        id: id.clone(),
        name: name.clone(),
        created_at: Some(now.clone()),
        updated_at: Some(now),
        members: vec![],
    };
    let v = campaign_json(&campaign);
    c.st.write_pixiebrix(Changes::Anything, |w| {
        let oi = org_idx(w, &org)?;
        w.pixiebrix.organizations[oi].campaigns.push(campaign);
        Some(())
    })
    .ok_or_else(not_found)?;
    c.event(
        "campaign.create",
        json!({"org": org, "id": id, "name": name}),
    );
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

pub(super) async fn get(c: Caller<Both>, Path((org, id)): Path<(String, String)>) -> Answer {
    c.st.read(|w| {
        let (oi, ci) = campaign_idx(w, &org, &id).ok_or_else(not_found)?;
        Ok(Json(campaign_json(&w.pixiebrix.organizations[oi].campaigns[ci])).into_response())
    })
}

/// `PATCH` `{"name"}`, and `PUT` the same way (A1).
pub(super) async fn update(
    c: Caller<Both>,
    Path((org, id)): Path<(String, String)>,
    method: Method,
    body: Bytes,
) -> Answer {
    c.st.read(|w| campaign_idx(w, &org, &id))
        .ok_or_else(not_found)?;
    let body = parse_json(&body)?;
    let name = check_name(&body, method == Method::PUT, 256)?;
    let now = c.st.now();
    let v =
        c.st.write_pixiebrix(Changes::InCampaigns, |w| {
            let (oi, ci) = campaign_idx(w, &org, &id)?;
            let camp = &mut w.pixiebrix.organizations[oi].campaigns[ci];
            if let Some(n) = &name {
                camp.name = n.clone();
                camp.updated_at = Some(now);
            }
            Some(campaign_json(camp))
        })
        .ok_or_else(not_found)?;
    c.event("campaign.update", json!({"id": id, "name": name}));
    Ok(Json(v).into_response())
}

pub(super) async fn delete(c: Caller<Both>, Path((org, id)): Path<(String, String)>) -> Answer {
    c.st.write_pixiebrix(Changes::Anything, |w| {
        let (oi, ci) = campaign_idx(w, &org, &id)?;
        w.pixiebrix.organizations[oi].campaigns.remove(ci);
        Some(())
    })
    .ok_or_else(not_found)?;
    c.event("campaign.delete", json!({"id": id}));
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn members(
    c: Caller<Both>,
    Path((org, id)): Path<(String, String)>,
    Query(q): Q,
) -> Answer {
    let max = c.page_cap();
    let out = c.st.read(|w| {
        campaign_idx(w, &org, &id).map(|(oi, ci)| {
            let o = &w.pixiebrix.organizations[oi];
            let members = c.st.arranged(c.uri.path(), &o.campaigns[ci].members);
            window(max, &q, &c.version, members.len()).map(|win| {
                let body = to_body(&cms_json(Source::Read(w, oi), &members[win.start..win.end]));
                (win, body)
            })
        })
    });
    c.respond(out)
}

type MemberInput = (String, serde_json::Map<String, Value>);

/// Validates a campaign-members body against an org: `(email, data)` of each item, or the
/// per-item DRF list error.
fn resolve_campaign_items(org: &Org, body: &Value) -> Result<Vec<MemberInput>, Response> {
    let Some(items) = bulk_items(body) else {
        return Err(bad(
            json!({"non_field_errors": ["Expected a list of items."]}),
        ));
    };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut failed = false;
    for item in &items {
        let mut err = serde_json::Map::new();
        let email = match item.get("email") {
            None => {
                err.insert("email".into(), json!(["This field is required."]));
                None
            }
            Some(Value::String(e)) if !super::super::valid_email(e) || e.chars().count() > 128 => {
                err.insert("email".into(), json!(["Enter a valid email address."]));
                None
            }
            Some(Value::String(e)) if !eligible(org, e) => {
                err.insert(
                    "email".into(),
                    json!([format!(
                        "{e} is not a member of the organization and its domain is not verified."
                    )]),
                );
                None
            }
            Some(Value::String(e)) => Some(e.clone()),
            Some(_) => {
                err.insert("email".into(), json!(["Not a valid string."]));
                None
            }
        };
        let data = match item.get("data") {
            None => {
                err.insert("data".into(), json!(["This field is required."]));
                None
            }
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => {
                err.insert("data".into(), json!(["Expected a dictionary of items."]));
                None
            }
        };
        match (email, data) {
            (Some(e), Some(d)) if err.is_empty() => {
                errors.push(json!({}));
                out.push((e, d));
            }
            _ => {
                failed = true;
                errors.push(Value::Object(err));
            }
        }
    }
    if failed {
        return Err(bad(Value::Array(errors)));
    }
    Ok(out)
}

/// Adds the listed members or updates their `data` (`replace`: and removes everyone
/// else); answers the resulting members of the body, 201 (add) or 200 (replace).
async fn members_write(
    c: Caller<Both>,
    org: String,
    id: String,
    body: Bytes,
    replace: bool,
) -> Answer {
    let (oi, _) =
        c.st.read(|w| campaign_idx(w, &org, &id))
            .ok_or_else(not_found)?;
    let body = parse_json(&body)?;
    let items =
        c.st.read(|w| resolve_campaign_items(&w.pixiebrix.organizations[oi], &body))?;
    let ids: Vec<String> = items.iter().map(|_| c.st.new_uuid()).collect();
    let now = c.st.now();
    let (result, changes) =
        c.st.write_pixiebrix(Changes::InCampaigns, |w| {
            let (oi, ci) = campaign_idx(w, &org, &id)?;
            let camp = &mut w.pixiebrix.organizations[oi].campaigns[ci];
            let mut changes = Vec::new();
            if replace {
                camp.members.retain(|m| {
                    let keep = items.iter().any(|(e, _)| e.eq_ignore_ascii_case(&m.email));
                    if !keep {
                        changes.push(("campaign_member.remove", m.email.clone()));
                    }
                    keep
                });
            }
            let mut result = Vec::new();
            for ((e, d), new_id) in items.iter().zip(ids) {
                if let Some(m) = camp
                    .members
                    .iter_mut()
                    .find(|m| m.email.eq_ignore_ascii_case(e))
                {
                    if &m.data != d {
                        m.data = d.clone();
                        m.updated_at = Some(now.clone());
                        changes.push(("campaign_member.update", e.clone()));
                    }
                    result.push(m.clone());
                } else {
                    let m = CampaignMember {
                        id: new_id,
                        email: e.clone(),
                        data: d.clone(),
                        created_at: Some(now.clone()),
                        updated_at: Some(now.clone()),
                    };
                    changes.push(("campaign_member.add", e.clone()));
                    camp.members.push(m.clone());
                    result.push(m);
                }
            }
            Some((to_body(&cms_json(Source::Write(w, oi), &result)), changes))
        })
        .ok_or_else(not_found)?;
    for (action, e) in changes {
        c.event(action, json!({"campaign": id, "email": e}));
    }
    let status = if replace {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_body(status, result))
}

pub(super) async fn members_add(
    c: Caller<Both>,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    members_write(c, org, id, body, false).await
}

pub(super) async fn members_replace(
    c: Caller<Both>,
    Path((org, id)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    members_write(c, org, id, body, true).await
}
