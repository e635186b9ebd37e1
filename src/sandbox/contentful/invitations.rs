//! Contentful invitations (ADDENDUM §3.1): create one, with the pending organization
//! membership it makes, and get one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::memberships::caller;
use super::{
    Answer, InOrg, Invitation, Membership, User, body_json, body_object, error, link, member,
    not_found, validation,
};

const ORG_ROLES: &[&str] = &["owner", "admin", "developer", "member"];

/// The feature the invitation routes need in `x-contentful-enable-alpha-feature`.
const ALPHA_FEATURE: &str = "pending-org-membership";

fn invitation_json(inv: &Invitation, url: &str) -> Value {
    let at = inv
        .created_at
        .as_deref()
        .unwrap_or(super::collections::STAMP);
    let mut sys = json!({
        "type": "Invitation", "id": inv.id, "status": "open",
        "organizationMembership": link("OrganizationMembership", &inv.membership),
        "createdAt": at, "updatedAt": at, "user": null, "invitationUrl": url,
    });
    if let Some(by) = &inv.created_by {
        sys["createdBy"] = link("User", by);
    }
    json!({
        "email": inv.email, "firstName": inv.first_name, "lastName": inv.last_name,
        "role": inv.role, "sys": sys,
    })
}

/// The fields of an invitation body: (email, first name, last name, role).
fn invitation_body(body: &Value) -> Result<(String, String, String, String), Response> {
    let obj = body_object(body, &["email", "firstName", "lastName", "role"])?;
    let email = match obj.get("email") {
        Some(Value::String(e)) if super::super::valid_email(e) => e.clone(),
        Some(_) => return Err(validation("email", "invalid", "The email is not valid")),
        None => {
            return Err(validation(
                "email",
                "required",
                "The property \"email\" is required here",
            ));
        }
    };
    let name = |key: &str| match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(n)) => Ok(n.clone()),
        Some(_) => Err(validation(key, "type", "Must be a string")),
    };
    let (first, last) = (name("firstName")?, name("lastName")?);
    let role = match obj.get("role") {
        None | Some(Value::Null) => member(),
        Some(Value::String(r)) if ORG_ROLES.contains(&r.as_str()) => r.clone(),
        Some(_) => {
            return Err(validation(
                "role",
                "in",
                "The role must be one of owner, admin, developer, member",
            ));
        }
    };
    Ok((email, first, last, role))
}

/// 201 `Invitation`, and a pending organization membership that teams accept at once.
pub(super) async fn create(org: InOrg, h: HeaderMap, body: Bytes) -> Answer {
    if org.st.behaviour().contentful_strict_alpha_header {
        let named = h
            .get_all("x-contentful-enable-alpha-feature")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|f| f.trim() == ALPHA_FEATURE);
        if !named {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!(
                    "This endpoint needs the x-contentful-enable-alpha-feature header with {ALPHA_FEATURE}."
                ),
                None,
            ));
        }
    }
    let (email, first_name, last_name, role) = invitation_body(&body_json(&body)?)?;
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let now = org.st.now();
    let json = org.st.write_contentful(|c| {
        // The caller (`sys.createdBy`) is known to the whole Contentful world, so this
        // writes it rather than through `InOrg::write`.
        let me = c.me.clone();
        let o = super::org_mut(c, &org.org)?;
        let same = |u: &User| u.email.eq_ignore_ascii_case(&email);
        let taken = o
            .memberships
            .iter()
            .any(|m| o.users.iter().any(|u| u.id == m.user && same(u)));
        if taken {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ValidationFailed",
                "Validation error",
                Some(json!({"errors": [{"name": "taken", "path": ["email"], "value": email,
                    "details": format!("{email} is already a member of or invited to the organization")}]})),
            ));
        }
        let user = match o.users.iter().find(|u| same(u)) {
            Some(u) => u.id.clone(),
            None => {
                let id = org.st.new_id(22);
                o.users.push(User {
                    id: id.clone(),
                    email: email.clone(),
                    first_name: first_name.clone(),
                    last_name: last_name.clone(),
                });
                id
            }
        };
        let membership = org.st.new_id(22);
        o.memberships.push(Membership {
            id: membership.clone(),
            user,
            role: role.clone(),
            status: "pending".into(),
        });
        let inv = Invitation {
            id: org.st.new_id(22),
            membership,
            email: email.clone(),
            first_name,
            last_name,
            role,
            created_at: Some(now),
            created_by: caller(&me, o),
        };
        let url = format!(
            "http://{host}/invitations/{}?token={}",
            inv.id,
            org.st.new_id(32)
        );
        let json = invitation_json(&inv, &url);
        o.invitations.push(inv);
        Ok::<_, Response>(json)
    })?;
    org.event(
        "invitation.create",
        json!({"org": org.org, "invitation": json["sys"]["id"], "email": json["email"],
               "role": json["role"], "membership": json["sys"]["organizationMembership"]["sys"]["id"]}),
    );
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

/// The invitation, `invitationUrl` empty (as the docs' example shows).
pub(super) async fn get(org: InOrg, Path((_, id)): Path<(String, String)>) -> Answer {
    org.read(|o| {
        let inv = o
            .invitations
            .iter()
            .find(|i| i.id == id)
            .ok_or_else(|| not_found("Invitation", &id))?;
        Ok(Json(invitation_json(inv, "")).into_response())
    })
}
