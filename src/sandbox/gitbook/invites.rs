//! GitBook invitations (ADDENDUM §2.1): inviting people by email, and the test hook that
//! plays an invitee who accepts.

use axum::Json;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::{AppState, GitbookInvitees, GitbookInvites};
use super::{Answer, InOrg, Invite, Member, NAME, Org, body_json, error, not_found};

/// Organization roles (`MemberRole`); an invitation may also give null, a guest.
const ORG_ROLES: &[&str] = &["admin", "create", "edit", "review", "comment", "read"];

/// The organization role of an invitee when neither the item nor the body names one [I].
const DEFAULT_INVITE_ROLE: &str = "read";

fn org_role(v: &Value, what: &str) -> Result<Option<String>, Response> {
    match v {
        Value::Null => Ok(None),
        Value::String(r) if ORG_ROLES.contains(&r.as_str()) => Ok(Some(r.clone())),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            &format!(
                "{what} must be one of admin, create, edit, review, comment, read, or null for a guest"
            ),
        )),
    }
}

/// The `(email, role)` of each invitee of an `InviteUsersToOrganization` body, once each.
fn invitees(body: &Value) -> Result<Vec<(String, Option<String>)>, Response> {
    let Some(obj) = body.as_object() else {
        return Err(error(StatusCode::BAD_REQUEST, "the body must be an object"));
    };
    let default_role = match obj.get("role") {
        None => Some(DEFAULT_INVITE_ROLE.to_string()),
        Some(r) => org_role(r, "role")?,
    };
    if !matches!(obj.get("sso"), None | Some(Value::Bool(_))) {
        return Err(error(StatusCode::BAD_REQUEST, "sso must be a boolean"));
    }
    let items = match obj.get("emails") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "emails must list at least one email",
            ));
        }
        Some(_) => return Err(error(StatusCode::BAD_REQUEST, "emails must be a list")),
        None => return Err(error(StatusCode::BAD_REQUEST, "emails is required")),
    };
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for item in items {
        let (email, role) = match item {
            Value::String(e) => (e.as_str(), default_role.clone()),
            Value::Object(o) => match (o.get("email").and_then(Value::as_str), o.get("role")) {
                (Some(e), Some(r)) => (e, org_role(r, "emails[].role")?),
                _ => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "each emails[] object needs both email and role",
                    ));
                }
            },
            _ => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "emails[] items must be an email or {\"email\", \"role\"}",
                ));
            }
        };
        if !super::super::valid_email(email) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                &format!("{email} is not a valid email address"),
            ));
        }
        if !out.iter().any(|(e, _)| e.eq_ignore_ascii_case(email)) {
            out.push((email.to_string(), role));
        }
    }
    Ok(out)
}

fn is_member_email(org: &Org, email: &str) -> bool {
    org.members.iter().any(|m| {
        m.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    })
}

/// A new organization member for someone who joined by invitation.
fn joined(id: String, email: &str, role: Option<String>, now: String) -> Member {
    Member {
        id,
        name: email.split('@').next().unwrap_or(email).to_string(),
        email: Some(email.to_string()),
        role,
        joined_at: now,
    }
}

/// `POST …/invites`: 200 `{users, invited}`.
pub(super) async fn create(org: InOrg, body: Bytes) -> Answer {
    let behaviour = org.st.behaviour();
    match behaviour.gitbook_invites {
        GitbookInvites::Available => {}
        GitbookInvites::Forbidden => {
            return Err(error(
                StatusCode::FORBIDDEN,
                "You do not have permission to invite users to this organization",
            ));
        }
        GitbookInvites::NotFound => return Err(error(StatusCode::NOT_FOUND, "Not found")),
    }
    let wanted = invitees(&body_json(&body)?)?;
    let immediate = behaviour.gitbook_invitees == GitbookInvitees::Immediate;
    let now = org.st.now();
    let (users, events) = org.st.write_gitbook(|g| {
        // Pending invitations are kept beside the organizations, so this writes the whole
        // GitBook world rather than through `InOrg::write`.
        let o = g
            .organizations
            .get_mut(&org.org)
            .ok_or_else(|| not_found("Organization"))?;
        if let Some((email, _)) = wanted.iter().find(|(e, _)| is_member_email(o, e)) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                &format!("{email} is already a member of the organization"),
            ));
        }
        let mut users = Vec::new();
        let mut events = Vec::new();
        for (email, role) in &wanted {
            let pending = g
                .invites
                .iter()
                .position(|i| i.org == org.org && i.email.eq_ignore_ascii_case(email));
            if immediate {
                let id = org.st.new_id(20);
                o.members
                    .push(joined(id.clone(), email, role.clone(), now.clone()));
                if let Some(at) = pending {
                    g.invites.remove(at);
                }
                events.push(json!({"org": org.org, "email": email, "role": role, "status": "member", "user": id}));
                users.push(id);
            } else {
                match pending.and_then(|at| g.invites.get_mut(at)) {
                    Some(i) => i.role = role.clone(),
                    None => g.invites.push(Invite {
                        org: org.org.clone(),
                        email: email.clone(),
                        role: role.clone(),
                    }),
                }
                events.push(json!({"org": org.org, "email": email, "role": role, "status": "pending", "resent": pending.is_some()}));
            }
        }
        Ok::<_, Response>((users, events))
    })?;
    let invited = events.len();
    for e in events {
        org.event("invite.create", e);
    }
    Ok(Json(json!({"users": users, "invited": invited})).into_response())
}

/// The test hook behind `POST /_sandbox/gitbook/accept`: the pending invitation to `email`
/// (in `org`, or the first organization that has one) becomes a member with a new user id
/// and the invited role. Returns (organization, user id); `None` when none is pending.
pub(crate) fn accept_invite(
    st: &AppState,
    org: Option<&str>,
    email: &str,
) -> Option<(String, String)> {
    let now = st.now();
    let (org, id, role) = st.write_gitbook(|g| {
        let at = g.invites.iter().position(|i| {
            i.email.eq_ignore_ascii_case(email)
                && org.is_none_or(|o| i.org == o)
                && g.organizations.contains_key(&i.org)
        })?;
        let inv = g.invites.remove(at);
        let o = g.organizations.get_mut(&inv.org)?;
        let id = st.new_id(20);
        o.members
            .push(joined(id.clone(), &inv.email, inv.role.clone(), now));
        Some((inv.org, id, inv.role))
    })?;
    st.event(
        NAME,
        "invite.accept",
        json!({"org": org, "email": email, "user": id, "role": role}),
    );
    Some((org, id))
}
