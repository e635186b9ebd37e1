//! PixieBrix rendering and lookups: the JSON of users, team memberships, groups, group
//! memberships, campaigns, campaign members and invitations, the related objects a page of
//! members embeds (found through the world's email index, or one scan while writing), and
//! finding groups, campaigns and eligible emails.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::{
    Campaign, CampaignMember, Group, GroupMember, Invitation, Membership, Org, User, email_hash,
    org_idx,
};

// The JSON of the members' lists is written straight from the world through these
// borrowed shapes (fields in the API's order): building a `Value` for every member and
// then serializing it was most of the emulator's CPU in a large plan, which shares the
// machine with the client it serves.

/// A user as the API embeds it.
#[derive(Serialize)]
pub(super) struct UserOut<'a> {
    id: &'a str,
    name: &'a str,
    email: &'a str,
    service_account: bool,
    deployment_key_account: bool,
    date_joined: &'a Option<String>,
}

impl<'a> UserOut<'a> {
    fn of(u: &'a User) -> Self {
        UserOut {
            id: &u.id,
            name: &u.name,
            email: &u.email,
            service_account: u.service_account,
            deployment_key_account: u.deployment_key_account,
            date_joined: &u.date_joined,
        }
    }
}

/// A group as an organization membership lists it.
#[derive(Serialize)]
pub(super) struct GroupRef<'a> {
    id: &'a str,
    name: &'a str,
}

/// An organization membership.
#[derive(Serialize)]
pub(super) struct MembershipOut<'a> {
    id: u64,
    user: Option<UserOut<'a>>,
    role: u8,
    groups: Vec<GroupRef<'a>>,
    last_active_at: (),
    last_login_at: (),
}

/// A campaign, alone or as a group membership embeds it.
#[derive(Serialize)]
pub(super) struct CampaignOut<'a> {
    id: &'a str,
    name: &'a str,
    created_at: &'a Option<String>,
    updated_at: &'a Option<String>,
}

impl<'a> CampaignOut<'a> {
    fn of(c: &'a Campaign) -> Self {
        CampaignOut {
            id: &c.id,
            name: &c.name,
            created_at: &c.created_at,
            updated_at: &c.updated_at,
        }
    }
}

/// A group membership.
#[derive(Serialize)]
pub(super) struct GroupMemberOut<'a> {
    id: &'a str,
    user: Option<UserOut<'a>>,
    email: &'a str,
    created_at: &'a Option<String>,
    campaigns: Vec<CampaignOut<'a>>,
    last_active_at: (),
}

/// A campaign member.
#[derive(Serialize)]
pub(super) struct CampaignMemberOut<'a> {
    id: &'a str,
    email: &'a str,
    data: &'a serde_json::Map<String, Value>,
    account: Option<UserOut<'a>>,
    latest_client: (),
    groups: Vec<&'a str>,
    assigned_deployments: [(); 0],
    created_at: &'a Option<String>,
    updated_at: &'a Option<String>,
    last_active_at: (),
}

/// A response body of JSON, rendered while the world is borrowed.
pub(super) fn to_body<T: Serialize + ?Sized>(v: &T) -> axum::body::Bytes {
    // Serializing these shapes cannot fail: every map key is a string.
    serde_json::to_vec(v)
        .map(axum::body::Bytes::from)
        .unwrap_or_default()
}

pub(super) fn user_by_email<'a>(org: &'a Org, email: &str) -> Option<&'a User> {
    org.users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email))
}

/// An email compared and hashed without regard to ASCII case, without allocating.
#[derive(Clone, Copy)]
pub(super) struct Caseless<'a>(pub(super) &'a str);

impl PartialEq for Caseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}
impl Eq for Caseless<'_> {}
impl std::hash::Hash for Caseless<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One word to the map's hasher: feeding it byte by byte dominated listing a
        // 20,000-person organization.
        state.write_u64(email_hash(self.0));
    }
}

/// [`Caseless`] already folds an email into 64 bits (FNV-1a); hashing that word again
/// with SipHash was most of the cost of a scan over a 20,000-person organization. The
/// emulator serves only its own tests and benchmarks, so flooding resistance is moot.
#[derive(Clone, Copy, Default)]
pub(super) struct Folded;

#[derive(Default)]
pub(super) struct FoldedHasher(u64);

impl std::hash::Hasher for FoldedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = super::super::fold_more(self.0, bytes, false);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

impl std::hash::BuildHasher for Folded {
    type Hasher = FoldedHasher;
    fn build_hasher(&self) -> FoldedHasher {
        FoldedHasher::default()
    }
}

pub(super) type CaselessMap<'a, V> = HashMap<Caseless<'a>, V, Folded>;

/// What a page of members embeds (the user, the member's groups and campaigns), found in
/// one pass over the organization for the whole page. Looking each member up separately
/// made listing 20,000 memberships quadratic.
#[derive(Default)]
pub(super) struct Related<'a> {
    users: CaselessMap<'a, &'a User>,
    groups: CaselessMap<'a, Vec<&'a Group>>,
    campaigns: CaselessMap<'a, Vec<&'a Campaign>>,
}

/// The parts of [`Related`] a rendering needs; each costs a pass over the organization.
#[derive(Clone, Copy)]
pub(super) struct Needs {
    users: bool,
    groups: bool,
    campaigns: bool,
}

impl<'a> Related<'a> {
    /// Finds the related objects of `emails` in organization `oi`: through each part of
    /// the index a read built (`build`: build what is missing, as reads do), else with one
    /// pass over that part of the organization (a write's answer, which never builds:
    /// the next write would drop it again).
    fn find(
        w: &'a super::super::World,
        oi: usize,
        needs: Needs,
        emails: impl IntoIterator<Item = &'a str>,
        build: bool,
    ) -> Self {
        let pb = &w.pixiebrix;
        let mut r = Related::default();
        let Some(org) = pb.organizations.get(oi) else {
            return r;
        };
        let emails: Vec<&'a str> = emails.into_iter().collect();
        if emails.is_empty() {
            return r;
        }
        // Only a part that must be scanned asks whether an email is wanted. A few emails
        // (a write's answer) are compared directly: cheaper than hashing every email of
        // the organization. More go in a set, built on the first question.
        let wanted: std::cell::OnceCell<std::collections::HashSet<Caseless<'a>, Folded>> =
            std::cell::OnceCell::new();
        let wanted_has = |k: &Caseless| {
            if emails.len() <= 8 {
                emails.iter().any(|w| w.eq_ignore_ascii_case(k.0))
            } else {
                wanted
                    .get_or_init(|| emails.iter().copied().map(Caseless).collect())
                    .contains(k)
            }
        };
        if needs.users {
            match pb.users_index(oi, build) {
                Some(index) => {
                    for &email in &emails {
                        if let Some(u) = index
                            .get(email_hash(email))
                            .filter_map(|i| org.users.get(i))
                            .find(|u| u.email.eq_ignore_ascii_case(email))
                        {
                            r.users.insert(Caseless(email), u);
                        }
                    }
                }
                None => {
                    for u in &org.users {
                        let k = Caseless(&u.email);
                        if wanted_has(&k) {
                            r.users.entry(k).or_insert(u);
                        }
                    }
                }
            }
        }
        if needs.groups {
            let index = pb.groups_index(oi, build);
            holders(&mut r.groups, &org.groups, index, &emails, wanted_has);
        }
        if needs.campaigns {
            let index = pb.campaigns_index(oi, build);
            holders(&mut r.campaigns, &org.campaigns, index, &emails, wanted_has);
        }
        r
    }

    fn user(&self, email: &str) -> Option<&'a User> {
        self.users.get(&Caseless(email)).copied()
    }
    fn groups(&self, email: &'a str) -> &[&'a Group] {
        self.groups.get(&Caseless(email)).map_or(&[], Vec::as_slice)
    }
    fn campaigns(&self, email: &'a str) -> &[&'a Campaign] {
        self.campaigns
            .get(&Caseless(email))
            .map_or(&[], Vec::as_slice)
    }
}

/// Users by id, built once per request that looks up many.
pub(super) fn users_by_id(org: &Org) -> HashMap<&str, &User> {
    org.users.iter().map(|u| (u.id.as_str(), u)).collect()
}

/// Groups and campaigns alike: containers of members known by email.
pub(super) trait Members {
    fn emails(&self) -> impl Iterator<Item = &str>;
    fn email_at(&self, i: usize) -> Option<&str>;
}

impl Members for Group {
    fn emails(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.email.as_str())
    }
    fn email_at(&self, i: usize) -> Option<&str> {
        self.members.get(i).map(|m| m.email.as_str())
    }
}

impl Members for Campaign {
    fn emails(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| m.email.as_str())
    }
    fn email_at(&self, i: usize) -> Option<&str> {
        self.members.get(i).map(|m| m.email.as_str())
    }
}

/// Every `(container, member)` position of `list`, by email, for the index.
pub(super) fn member_positions<C: Members>(list: &[C]) -> super::super::HashIndex<(usize, usize)> {
    super::super::HashIndex::build(list.iter().enumerate().flat_map(|(c, container)| {
        container
            .emails()
            .enumerate()
            .map(move |(m, e)| (email_hash(e), (c, m)))
    }))
}

/// The containers, in order and once each, whose member at one of the indexed
/// `(container, member)` positions has `email` (the index keys by hash, so each hit is
/// checked).
pub(super) fn holding<'a, C: Members>(
    list: &'a [C],
    positions: impl Iterator<Item = (usize, usize)>,
    email: &str,
) -> Vec<&'a C> {
    let mut out: Vec<&C> = Vec::new();
    for (c, m) in positions {
        let Some(container) = list.get(c) else {
            continue;
        };
        let hit = container
            .email_at(m)
            .is_some_and(|e| e.eq_ignore_ascii_case(email));
        if hit && !out.last().is_some_and(|x| std::ptr::eq(*x, container)) {
            out.push(container);
        }
    }
    out
}

/// Adds to `into` the containers of `list` holding each of `emails`: through `index` when
/// it is built, else with one pass over `list` (`wanted` accepting just those emails).
fn holders<'a, C: Members>(
    into: &mut CaselessMap<'a, Vec<&'a C>>,
    list: &'a [C],
    index: Option<&super::super::HashIndex<(usize, usize)>>,
    emails: &[&'a str],
    wanted: impl Fn(&Caseless) -> bool,
) {
    match index {
        Some(index) => {
            for &email in emails {
                into.insert(
                    Caseless(email),
                    holding(list, index.get(email_hash(email)), email),
                );
            }
        }
        None => scan_holders(into, list, wanted),
    }
}

/// Adds to `into`, for each email `wanted` accepts, the containers holding it, in order
/// and once each: one pass over every member of `list`.
pub(super) fn scan_holders<'a, C: Members>(
    into: &mut CaselessMap<'a, Vec<&'a C>>,
    list: &'a [C],
    wanted: impl Fn(&Caseless) -> bool,
) {
    for container in list {
        for email in container.emails() {
            let k = Caseless(email);
            if wanted(&k) {
                let held = into.entry(k).or_default();
                if !held.last().is_some_and(|x| std::ptr::eq(*x, container)) {
                    held.push(container);
                }
            }
        }
    }
}

/// Where a rendering finds related objects: the world being read (building what its
/// index lacks), or the world being written (using what the write left of the index, and
/// scanning the rest).
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
    Read(&'a super::super::World, usize),
    Write(&'a super::super::World, usize),
}

impl<'a> Source<'a> {
    fn org(self) -> &'a Org {
        match self {
            Source::Read(w, oi) | Source::Write(w, oi) => &w.pixiebrix.organizations[oi],
        }
    }

    fn related(self, needs: Needs, emails: impl IntoIterator<Item = &'a str>) -> Related<'a> {
        match self {
            Source::Read(w, oi) => Related::find(w, oi, needs, emails, true),
            Source::Write(w, oi) => Related::find(w, oi, needs, emails, false),
        }
    }
}

/// Renders organization memberships in the API's order, with one lookup pass for all.
pub(super) fn memberships_json<'a>(
    src: Source<'a>,
    ms: &[&'a Membership],
    users: &HashMap<&'a str, &'a User>,
) -> Vec<MembershipOut<'a>> {
    let email = |m: &Membership| users.get(m.user.as_str()).map_or("", |u| u.email.as_str());
    let needs = Needs {
        users: false,
        groups: true,
        campaigns: false,
    };
    let related = src.related(needs, ms.iter().map(|m| email(m)).filter(|e| !e.is_empty()));
    ms.iter()
        .map(|m| {
            let user = users.get(m.user.as_str()).copied();
            let groups = user
                .map_or(&[][..], |u| related.groups(&u.email))
                .iter()
                .map(|g| GroupRef {
                    id: &g.id,
                    name: &g.name,
                })
                .collect();
            MembershipOut {
                id: m.id,
                user: user.map(UserOut::of),
                role: m.role,
                groups,
                last_active_at: (),
                last_login_at: (),
            }
        })
        .collect()
}

pub(super) fn membership_json<'a>(src: Source<'a>, m: &'a Membership) -> Value {
    let users = users_by_id(src.org());
    memberships_json(src, &[m], &users)
        .pop()
        .and_then(|m| serde_json::to_value(m).ok())
        .unwrap_or(Value::Null)
}

pub(super) fn group_json(g: &Group) -> Value {
    json!({"id": g.id, "name": g.name, "num_members": g.members.len(), "created_at": g.created_at})
}

pub(super) fn group_detail_json(g: &Group) -> Value {
    json!({"id": g.id, "name": g.name, "created_at": g.created_at, "deployments": []})
}

/// Renders group memberships, with one lookup pass for all of them.
pub(super) fn gms_json<'a>(src: Source<'a>, gms: &'a [GroupMember]) -> Vec<GroupMemberOut<'a>> {
    let needs = Needs {
        users: true,
        groups: false,
        campaigns: true,
    };
    let related = src.related(needs, gms.iter().map(|gm| gm.email.as_str()));
    gms.iter()
        .map(|gm| GroupMemberOut {
            id: &gm.id,
            user: related.user(&gm.email).map(UserOut::of),
            email: &gm.email,
            created_at: &gm.created_at,
            campaigns: related
                .campaigns(&gm.email)
                .iter()
                .map(|c| CampaignOut::of(c))
                .collect(),
            last_active_at: (),
        })
        .collect()
}

pub(super) fn campaign_json(c: &Campaign) -> Value {
    serde_json::to_value(CampaignOut::of(c)).unwrap_or(Value::Null)
}

/// Renders campaign members, with one lookup pass for all of them.
pub(super) fn cms_json<'a>(
    src: Source<'a>,
    ms: &'a [CampaignMember],
) -> Vec<CampaignMemberOut<'a>> {
    let needs = Needs {
        users: true,
        groups: true,
        campaigns: false,
    };
    let related = src.related(needs, ms.iter().map(|m| m.email.as_str()));
    ms.iter()
        .map(|m| CampaignMemberOut {
            id: &m.id,
            email: &m.email,
            data: &m.data,
            account: related.user(&m.email).map(UserOut::of),
            latest_client: (),
            groups: related
                .groups(&m.email)
                .iter()
                .map(|g| g.id.as_str())
                .collect(),
            assigned_deployments: [],
            created_at: &m.created_at,
            updated_at: &m.updated_at,
            last_active_at: (),
        })
        .collect()
}

pub(super) fn invitation_json(org: &Org, i: &Invitation) -> Value {
    json!({
        "id": i.id, "email": i.email, "inviter": null,
        "organization": {"id": org.id, "name": org.name}, "role": i.role,
    })
}

// ---------------------------------------------------------------- lookups

pub(super) fn group_idx(w: &super::super::World, id: &str) -> Option<(usize, usize)> {
    w.pixiebrix
        .organizations
        .iter()
        .enumerate()
        .find_map(|(oi, o)| o.groups.iter().position(|g| g.id == id).map(|gi| (oi, gi)))
}

pub(super) fn campaign_idx(w: &super::super::World, org: &str, id: &str) -> Option<(usize, usize)> {
    let oi = org_idx(w, org)?;
    let ci = w.pixiebrix.organizations[oi]
        .campaigns
        .iter()
        .position(|c| c.id == id)?;
    Some((oi, ci))
}

pub(super) fn is_member_email(org: &Org, email: &str) -> bool {
    user_by_email(org, email).is_some_and(|u| org.memberships.iter().any(|m| m.user == u.id))
}

/// A member of the organization, or anyone at one of its verified domains. The domain is
/// checked first: it is cheap, and looking a member up scans the organization.
pub(super) fn eligible(org: &Org, email: &str) -> bool {
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    let verified = !domain.is_empty()
        && org
            .verified_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain));
    verified || is_member_email(org, email)
}
