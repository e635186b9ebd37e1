//! Contentful collection answers and rendering: the `{sys: Array, total, skip, limit,
//! items, includes?}` wrapper and its paging, the attribute filters, `include=…`, and the
//! JSON of users, organization memberships, teams and team memberships.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::super::AppState;
use super::{
    DEFAULT_LIMIT, InOrg, MAX_LIMIT, Membership, Org, Team, TeamMembership, User, error, link,
};

impl InOrg {
    /// One page of `items` in the collection wrapper, as this request asks for it (a
    /// list that links to nothing, so with no `includes`).
    pub(super) fn collection<R: Serialize>(&self, items: Vec<R>) -> Response {
        collection_of(&self.st, &self.path, &self.q, items, |v| v, |_| None)
    }

    /// [`collection_of`] as this request asks for it.
    pub(super) fn collection_of<'i, T, R: Serialize + 'i>(
        &self,
        items: Vec<T>,
        render: impl Fn(T) -> R,
        includes: impl Fn(&[R]) -> Option<IncludesOut<'i>>,
    ) -> Response {
        collection_of(&self.st, &self.path, &self.q, items, render, includes)
    }
}

/// The collection wrapper.
#[derive(Serialize)]
struct Collection<'i, R> {
    sys: TypeOnly,
    total: usize,
    skip: usize,
    limit: usize,
    items: Vec<R>,
    #[serde(skip_serializing_if = "Option::is_none")]
    includes: Option<IncludesOut<'i>>,
}

#[derive(Serialize)]
struct TypeOnly {
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A collection whose items are rendered only for the requested page: rendering 20,000
/// memberships to answer with 100 made reading them all quadratic.
fn collection_of<'i, T, R: Serialize + 'i>(
    st: &AppState,
    path: &str,
    q: &HashMap<String, String>,
    mut items: Vec<T>,
    render: impl Fn(T) -> R,
    includes: impl Fn(&[R]) -> Option<IncludesOut<'i>>,
) -> Response {
    let Some(limit) = super::super::limit_param(q, DEFAULT_LIMIT, MAX_LIMIT) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The limit parameter must be a number between 0 and 100.",
            None,
        );
    };
    let (served, limit) = st.page_limit(limit);
    let skip = match q.get("skip").map(|s| s.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidQuery",
                "The skip parameter must be a non-negative number.",
                None,
            );
        }
    };
    // The whole collection is put in its served order first, then paged.
    st.arrange(path, &mut items);
    let total = items.len();
    let page: Vec<R> = items
        .into_iter()
        .skip(skip)
        .take(st.served_from(served, skip))
        .map(render)
        .collect();
    let includes = includes(&page);
    axum::Json(Collection {
        sys: TypeOnly { kind: "Array" },
        total,
        skip,
        limit,
        items: page,
        includes,
    })
    .into_response()
}

/// The filters a collection query puts on one attribute (CF-OM): `attr=v` and `attr[eq]=v`,
/// `attr[ne]=v`, `attr[in]=a,b`, `attr[nin]=a,b`; an item is kept when all given ones hold.
pub(super) struct AttrFilter<'q> {
    eq: Vec<&'q str>,
    ne: Vec<&'q str>,
    within: Option<Vec<&'q str>>,
    outside: Vec<&'q str>,
}

impl<'q> AttrFilter<'q> {
    pub(super) fn of(q: &'q HashMap<String, String>, attr: &str) -> Self {
        let get = |op: &str| q.get(&format!("{attr}{op}")).map(String::as_str);
        let list = |v: &'q str| v.split(',').map(str::trim).collect::<Vec<_>>();
        AttrFilter {
            eq: get("").into_iter().chain(get("[eq]")).collect(),
            ne: get("[ne]").into_iter().collect(),
            within: get("[in]").map(list),
            outside: get("[nin]").map(list).unwrap_or_default(),
        }
    }

    pub(super) fn keeps(&self, value: &str) -> bool {
        self.eq.iter().all(|v| *v == value)
            && self.ne.iter().all(|v| *v != value)
            && self.within.as_ref().is_none_or(|vs| vs.contains(&value))
            && !self.outside.contains(&value)
    }
}

pub(super) fn wants_include(q: &HashMap<String, String>, what: &str) -> bool {
    q.get("include")
        .is_some_and(|i| i.split(',').any(|p| p.trim() == what))
}

// Lists are serialized straight from the world through these borrowed shapes (fields in
// the API's order), not built as `Value`s first: that was most of the emulator's CPU in a
// large plan, on the cores the client shares. The `…_json` functions give one item as a
// `Value`, from the same shapes.

/// A link: `{"sys": {"type": "Link", "linkType": …, "id": …}}`.
#[derive(Serialize)]
struct LinkOut<'a> {
    sys: LinkSys<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LinkSys<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    link_type: &'static str,
    id: &'a str,
}

fn link_out<'a>(link_type: &'static str, id: &'a str) -> LinkOut<'a> {
    LinkOut {
        sys: LinkSys {
            kind: "Link",
            link_type,
            id,
        },
    }
}

/// When every emulated object was created and last updated.
pub(super) const STAMP: &str = "2024-01-01T00:00:00Z";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UserOut<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    activated: bool,
    confirmed: bool,
    sys: UserSys<'a>,
}

#[derive(Serialize)]
struct UserSys<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    version: u32,
}

pub(super) fn user_out(u: &User) -> UserOut<'_> {
    UserOut {
        first_name: &u.first_name,
        last_name: &u.last_name,
        email: &u.email,
        activated: true,
        confirmed: true,
        sys: UserSys {
            kind: "User",
            id: &u.id,
            version: 1,
        },
    }
}

pub(super) fn user_json(u: &User) -> Value {
    serde_json::to_value(user_out(u)).unwrap_or(Value::Null)
}

#[derive(Serialize)]
pub(super) struct MembershipOut<'a> {
    role: &'a str,
    sys: MembershipSys<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MembershipSys<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    version: u32,
    user: LinkOut<'a>,
    organization: LinkOut<'a>,
    status: &'a str,
    created_at: &'static str,
    updated_at: &'static str,
}

pub(super) fn membership_out<'a>(org: &'a str, m: &'a Membership) -> MembershipOut<'a> {
    MembershipOut {
        role: &m.role,
        sys: MembershipSys {
            kind: "OrganizationMembership",
            id: &m.id,
            version: 0,
            user: link_out("User", &m.user),
            organization: link_out("Organization", org),
            status: &m.status,
            created_at: STAMP,
            updated_at: STAMP,
        },
    }
}

pub(super) fn membership_json(org: &str, m: &Membership) -> Value {
    serde_json::to_value(membership_out(org, m)).unwrap_or(Value::Null)
}

pub(super) fn team_json(org: &str, t: &Team) -> Value {
    json!({
        "name": t.name, "description": t.description,
        "sys": {"type": "Team", "id": t.id, "version": t.version, "memberCount": t.members.len(),
                "organization": link("Organization", org),
                "createdAt": STAMP, "updatedAt": STAMP},
    })
}

/// The user of every organization membership.
pub(super) fn users_of_all(org: &Org) -> HashMap<&str, &str> {
    org.memberships
        .iter()
        .map(|m| (m.id.as_str(), m.user.as_str()))
        .collect()
}

/// The user of each of `ids` (organization membership ids), from the index: for reads.
pub(super) fn users_of_indexed<'a>(
    org: &'a Org,
    ids: impl IntoIterator<Item = &'a str>,
) -> HashMap<&'a str, &'a str> {
    ids.into_iter()
        .filter_map(|id| {
            let m = org.memberships.get(org.membership_at(id)?)?;
            Some((m.id.as_str(), m.user.as_str()))
        })
        .collect()
}

#[derive(Serialize)]
pub(super) struct TeamMembershipOut<'a> {
    sys: TeamMembershipSys<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TeamMembershipSys<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    version: u32,
    organization: LinkOut<'a>,
    team: LinkOut<'a>,
    organization_membership: LinkOut<'a>,
    user: LinkOut<'a>,
    created_at: &'static str,
    updated_at: &'static str,
}

pub(super) fn team_membership_out<'a>(
    users: &HashMap<&str, &'a str>,
    org_id: &'a str,
    team: &'a Team,
    tm: &'a TeamMembership,
) -> TeamMembershipOut<'a> {
    let user = users
        .get(tm.membership.as_str())
        .copied()
        .unwrap_or_default();
    TeamMembershipOut {
        sys: TeamMembershipSys {
            kind: "TeamMembership",
            id: &tm.id,
            version: 0,
            organization: link_out("Organization", org_id),
            team: link_out("Team", &team.id),
            organization_membership: link_out("OrganizationMembership", &tm.membership),
            user: link_out("User", user),
            created_at: STAMP,
            updated_at: STAMP,
        },
    }
}

pub(super) fn team_membership_json(
    users: &HashMap<&str, &str>,
    org_id: &str,
    team: &Team,
    tm: &TeamMembership,
) -> Value {
    serde_json::to_value(team_membership_out(users, org_id, team, tm)).unwrap_or(Value::Null)
}

/// What an item links to, for `include=…`.
pub(super) trait Links {
    /// The linked user's id.
    fn user(&self) -> Option<&str>;
    /// The linked organization membership's id.
    fn membership(&self) -> Option<&str>;
}

impl Links for MembershipOut<'_> {
    fn user(&self) -> Option<&str> {
        Some(self.sys.user.sys.id)
    }
    fn membership(&self) -> Option<&str> {
        None
    }
}

impl Links for TeamMembershipOut<'_> {
    fn user(&self) -> Option<&str> {
        Some(self.sys.user.sys.id)
    }
    fn membership(&self) -> Option<&str> {
        Some(self.sys.organization_membership.sys.id)
    }
}

/// `includes`: the users and organization memberships a page links to, each list present
/// when asked for (empty or not).
#[derive(Serialize)]
pub(super) struct IncludesOut<'a> {
    #[serde(rename = "User", skip_serializing_if = "Option::is_none")]
    users: Option<Vec<UserOut<'a>>>,
    #[serde(
        rename = "OrganizationMembership",
        skip_serializing_if = "Option::is_none"
    )]
    memberships: Option<Vec<MembershipOut<'a>>>,
}

/// `includes` for the users (and organization memberships) an item list links to.
pub(super) fn includes_for<'a, R: Links>(
    org: &'a Org,
    q: &HashMap<String, String>,
    items: &[R],
) -> Option<IncludesOut<'a>> {
    let users = wants_include(q, "sys.user").then(|| {
        linked(items.iter().filter_map(R::user), &org.users, |id| {
            org.user_at(id)
        })
        .map(user_out)
        .collect()
    });
    let memberships = wants_include(q, "sys.organizationMembership").then(|| {
        linked(
            items.iter().filter_map(R::membership),
            &org.memberships,
            |id| org.membership_at(id),
        )
        .map(|m| membership_out("", m))
        .collect()
    });
    (users.is_some() || memberships.is_some()).then_some(IncludesOut { users, memberships })
}

/// The entries of `all` with the given ids, once each and in the organization's order (as
/// a scan of `all` would give them).
fn linked<'a, 'i, T>(
    ids: impl Iterator<Item = &'i str>,
    all: &'a [T],
    position: impl Fn(&str) -> Option<usize>,
) -> impl Iterator<Item = &'a T> {
    let ids: HashSet<&str> = ids.collect();
    let mut found: Vec<usize> = ids.into_iter().filter_map(position).collect();
    found.sort_unstable();
    found.into_iter().filter_map(|i| all.get(i))
}
