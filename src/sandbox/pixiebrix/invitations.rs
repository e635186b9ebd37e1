//! PixieBrix invitations (API_NOTES §1.7, ADDENDUM §1.1): list, invite by email, revoke.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::Changes;
use super::render::invitation_json;
use super::{Answer, Both, Caller, Invitation, bad, not_found, org_idx, parse_json};

type Q = Query<HashMap<String, String>>;

pub(super) async fn list(c: Caller<Both>, Path(org): Path<String>, Query(q): Q) -> Answer {
    let items =
        c.st.read(|w| {
            let o = &w.pixiebrix.organizations[org_idx(w, &org)?];
            Some(
                o.invitations
                    .iter()
                    .map(|i| invitation_json(o, i))
                    .collect::<Vec<_>>(),
            )
        })
        .ok_or_else(not_found)?;
    Ok(c.list(&q, items))
}

/// `{"email", "role"?}` (role 1–5, default 1) → 201 `PendingInvitation`.
pub(super) async fn create(c: Caller<Both>, Path(org): Path<String>, body: Bytes) -> Answer {
    c.org(&org)?;
    let body = parse_json(&body)?;
    let email = match body.get("email") {
        Some(Value::String(e)) if super::super::valid_email(e) => e.clone(),
        Some(_) => return Err(bad(json!({"email": ["Enter a valid email address."]}))),
        None => return Err(bad(json!({"email": ["This field is required."]}))),
    };
    let role = match body.get("role") {
        None => 1,
        Some(r) => match r.as_u64() {
            Some(n @ 1..=5) => n as u8,
            _ => {
                return Err(bad(
                    json!({"role": [format!("\"{r}\" is not a valid choice.")]}),
                ));
            }
        },
    };
    let inv = Invitation {
        id: c.st.new_uuid(),
        email: email.clone(),
        role,
    };
    let v =
        c.st.write_pixiebrix(Changes::Anything, |w| {
            let oi = org_idx(w, &org)?;
            let o = &mut w.pixiebrix.organizations[oi];
            o.invitations.push(inv.clone());
            Some(invitation_json(o, &inv))
        })
        .ok_or_else(not_found)?;
    c.event(
        "invitation.create",
        json!({"org": org, "email": email, "role": role}),
    );
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// Revokes a pending invitation: 204, or 404 when the organization or the invitation is
/// unknown.
pub(super) async fn revoke(c: Caller<Both>, Path((org, id)): Path<(String, String)>) -> Answer {
    let inv =
        c.st.write_pixiebrix(Changes::Anything, |w| {
            let oi = org_idx(w, &org)?;
            let o = &mut w.pixiebrix.organizations[oi];
            let at = o.invitations.iter().position(|i| i.id == id)?;
            Some(o.invitations.remove(at))
        })
        .ok_or_else(not_found)?;
    c.event(
        "invitation.revoke",
        json!({"org": org, "id": id, "email": inv.email}),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}
