//! Contentful User Management API client (`docs/providers/API_NOTES.md` §3): organization
//! teams and team memberships. Collections use `limit=100` and `skip`; a team membership is created from
//! an organization membership id, resolved once per email per run; there is no bulk
//! endpoint, so adds and removals are one request each under the shared concurrency bound.
//! Team updates are version-locked with `X-Contentful-Version`.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

mod lists;
mod organization;

use super::http::{ReadClient, Req, Retry, WriteClient};
use super::identity;
use super::paging::{self, Identified, Incomplete};
use super::{ProviderError, ReadScope};
use crate::model::{
    Email, LiveMember, LiveResource, MemberAction, MemberChange, ProviderSettings, ResourceChange,
    ResourceKey, ResourceKind, Role,
};

const MEDIA: &str = "application/vnd.contentful.management.v1+json";
const LIMIT: usize = 100;
/// Organization memberships with their users. Pending ones (open invitations) are
/// included: Contentful lets them join teams before the invitation is accepted.
const WITH_USERS: &[(&str, &str)] = &[("include", "sys.user")];

/// One page of a collection, read straight into its item type: fields teamsync does not
/// use are skipped while parsing, never held.
#[derive(Deserialize)]
struct Collection<T> {
    total: usize,
    #[serde(default = "Vec::new")]
    items: Vec<T>,
    #[serde(default)]
    includes: Option<Includes>,
}

#[derive(Deserialize, Default)]
struct Includes {
    #[serde(rename = "User", default)]
    user: Vec<User>,
}

/// The `sys` block of any entity, with the links and fields teamsync reads. Every field
/// is optional: an item without an id is skipped, not a failed read.
#[derive(Deserialize, Default)]
struct Sys {
    id: Option<String>,
    /// Memberships: the user they belong to.
    user: Option<Link>,
    /// Organization memberships: `pending` while the invitation is open, else `active`;
    /// read as any value, so one teamsync does not know affects only its member.
    status: Option<Value>,
    /// Teams: the version a PUT must name.
    version: Option<u64>,
    /// Invitations: the pending organization membership they made.
    #[serde(rename = "organizationMembership")]
    organization_membership: Option<Link>,
}

#[derive(Deserialize)]
struct Link {
    sys: LinkSys,
}

#[derive(Deserialize)]
struct LinkSys {
    id: Option<String>,
}

impl Sys {
    fn user_id(&self) -> Option<&str> {
        self.user.as_ref().and_then(|l| l.sys.id.as_deref())
    }
}

/// An answer that is one entity, of which only `sys` is read (a created team, an
/// invitation).
#[derive(Deserialize)]
struct Entity {
    #[serde(default)]
    sys: Sys,
}

#[derive(Deserialize)]
struct Team {
    #[serde(default)]
    sys: Sys,
    name: Option<String>,
    /// Kept as written: a rename PUTs it back unchanged.
    description: Option<Value>,
}

/// An organization membership or a team membership.
#[derive(Deserialize)]
struct Membership {
    #[serde(default)]
    sys: Sys,
    /// Organization memberships: `owner`, `admin`, `developer` or `member`; read as any
    /// value, so one teamsync does not know affects only its member.
    #[serde(default)]
    role: Option<Value>,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    sys: Sys,
    email: Option<String>,
}

impl Identified for Team {
    fn id(&self) -> Option<String> {
        self.sys.id.clone()
    }
}

impl Identified for Membership {
    fn id(&self) -> Option<String> {
        self.sys.id.clone()
    }
}

impl Identified for User {
    fn id(&self) -> Option<String> {
        self.sys.id.clone()
    }
}

/// An organization or team membership as a member: its user (with the email the
/// included users give), its own id, and whether it waits for an invitation to be
/// accepted. Only organization memberships carry a role and a status; a value of either
/// that teamsync does not know is kept verbatim beside the member.
fn live_member(m: Membership, emails: &HashMap<&str, Email>, seen: &identity::Seen) -> LiveMember {
    let user = m.sys.user_id();
    let role = role_from(m.role.as_ref());
    let (pending, unknown_status) = match m.sys.status.as_ref() {
        None | Some(Value::Null) => (false, None),
        Some(Value::String(s)) if s == "active" => (false, None),
        Some(Value::String(s)) if s == "pending" => (true, None),
        Some(other) => (false, Some(seen.text(&super::verbatim(other)))),
    };
    LiveMember {
        email: user.and_then(|u| emails.get(u)).cloned(),
        user_id: seen.text_of(user),
        pending,
        unknown_status,
        unknown_role: role.as_ref().err().map(|r| seen.text(r)),
        role: role.ok().flatten(),
        membership_id: m.sys.id.map(Into::into),
        ..LiveMember::default()
    }
}

/// An organization role as teamsync knows it; `Err` holds one it does not, verbatim.
fn role_from(v: Option<&Value>) -> Result<Option<Role>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => match s.as_str() {
            "owner" => Ok(Some(Role::Owner)),
            "admin" => Ok(Some(Role::Admin)),
            "developer" => Ok(Some(Role::Developer)),
            "member" => Ok(Some(Role::Member)),
            _ => Err(s.clone()),
        },
        Some(other) => Err(super::verbatim(other)),
    }
}

/// A page as the read keeps it: the count it gave, and its ids and kept items.
struct Kept<U> {
    total: usize,
    page: paging::Page<U>,
}

/// A page's items as they came.
fn as_served<T>(page: Collection<T>) -> Vec<T> {
    page.items
}

/// A page of memberships, each turned by `each` given the emails of the users the same
/// page includes: Contentful includes with each answer the entities its items link to, so
/// a page is made whole on its own, and its wire items and users are dropped as soon as it
/// is read.
fn each_membership<U: 'static>(
    seen: Arc<identity::Seen>,
    each: fn(Membership, &HashMap<&str, Email>, &identity::Seen) -> Option<U>,
) -> impl Fn(Collection<Membership>) -> Vec<U> + Clone + Send + 'static {
    move |page| {
        let users = page.includes.unwrap_or_default().user;
        let emails = emails_by_id(&users, &seen);
        page.items
            .into_iter()
            .filter_map(|m| each(m, &emails, &seen))
            .collect()
    }
}

/// A page of organization or team memberships as members, each with the email of its user
/// among the users the page includes. A member whose user the page did not include keeps
/// no email, and is looked up like one whose user had none.
fn members(
    seen: Arc<identity::Seen>,
) -> impl Fn(Collection<Membership>) -> Vec<LiveMember> + Clone + Send + 'static {
    each_membership(seen, |m, emails, seen| Some(live_member(m, emails, seen)))
}

/// A page of organization memberships as the email and membership id of each whose user
/// the page includes with an email.
fn by_email(
    seen: Arc<identity::Seen>,
) -> impl Fn(Collection<Membership>) -> Vec<(Email, String)> + Clone + Send + 'static {
    each_membership(seen, |m, emails, _| {
        Some((emails.get(m.sys.user_id()?)?.clone(), m.sys.id?))
    })
}

/// Users by id, with the email each parses to.
fn emails_by_id<'a>(users: &'a [User], seen: &identity::Seen) -> HashMap<&'a str, Email> {
    users
        .iter()
        .filter_map(|u| Some((u.sys.id.as_deref()?, seen.email(u.email.as_deref()?)?)))
        .collect()
}

pub(crate) struct Contentful {
    name: String,
    org: String,
    client: ReadClient,
    /// What this run learnt about organization memberships, shared by every team's task.
    known: Arc<Known>,
    seen: Arc<identity::Seen>,
}

/// Organization memberships resolved during one apply.
#[derive(Default)]
struct Known {
    /// email → active organization membership id.
    memberships: Mutex<HashMap<Email, String>>,
    /// Every active membership has been listed: an email missing above is not a member.
    complete: AtomicBool,
    /// How many distinct emails the plan adds to teams (from [`Contentful::prepare`]).
    wanted: AtomicUsize,
    /// Done once, by the first team that adds someone.
    prefetched: tokio::sync::OnceCell<()>,
}

impl Contentful {
    pub fn new(settings: &ProviderSettings, client: ReadClient) -> Self {
        Contentful {
            name: settings.name.clone(),
            org: settings.organization.clone(),
            client,
            known: Arc::default(),
            seen: Arc::default(),
        }
    }

    fn sibling(&self) -> Contentful {
        Contentful {
            name: self.name.clone(),
            org: self.org.clone(),
            client: self.client.clone(),
            known: self.known.clone(),
            seen: self.seen.clone(),
        }
    }

    fn remember(&self, found: impl IntoIterator<Item = (Email, String)>) {
        if let Ok(mut cache) = self.known.memberships.lock() {
            cache.extend(found);
        }
    }

    /// Before the first add: one page of the active memberships tells how many pages the
    /// whole list is. When the plan adds more distinct people than that, reading every page
    /// (concurrently) is fewer requests than one search per email, which matters under
    /// Contentful's 7 requests per second; otherwise each email is searched for later.
    async fn prefetch(&self) {
        let path = format!("/organizations/{}/organization_memberships", self.org);
        let page = |skip: usize| {
            let (this, path, keep) = (self.sibling(), path.clone(), by_email(self.seen.clone()));
            async move { this.page(&path, WITH_USERS, skip, keep).await }
        };
        // A failure here only means the emails are searched for one by one.
        let Ok(first) = page(0).await else { return };
        let (total, served) = (first.total, first.page.ids.len());
        // Complete only if every item came back exactly once, each with its id.
        let mut named = first.page.ids.iter().all(Option::is_some);
        let mut tally = paging::Tally::default();
        tally.add(first.page.ids);
        self.remember(first.page.items);
        if served >= total {
            let complete = named && tally.check_count(total).is_ok();
            self.known.complete.store(complete, Ordering::Relaxed);
            return;
        }
        // Pages may be shorter than asked for: step by what the first page really held.
        if served == 0 {
            return;
        }
        let pages = total.div_ceil(served);
        if self.known.wanted.load(Ordering::Relaxed) <= pages {
            return;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for skip in (served..total).step_by(served) {
            tasks.spawn(page(skip));
        }
        let mut complete = true;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(p)) if p.total == total => {
                    named &= p.page.ids.iter().all(Option::is_some);
                    tally.add(p.page.ids);
                    self.remember(p.page.items);
                }
                _ => complete = false,
            }
        }
        complete &= named && tally.check_count(total).is_ok();
        self.known.complete.store(complete, Ordering::Relaxed);
    }

    pub(super) async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let (mut out, read_teams) =
            super::directory_beside_teams(scope, self.directory(), self.teams(scope)).await?;
        if read_teams {
            self.resolve(&mut out).await;
        }
        Ok(out)
    }

    /// The teams `scope` wants, each with its members.
    async fn teams(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let teams = self
            .list(
                &format!("/organizations/{}/teams", self.org),
                &[],
                as_served::<Team>,
            )
            .await?;
        let mut tasks = tokio::task::JoinSet::new();
        for team in teams {
            let (Some(id), Some(name)) = (team.sys.id, team.name) else {
                continue;
            };
            if !scope.wants(ResourceKind::Team, &name) {
                continue;
            }
            let description = team
                .description
                .as_ref()
                .and_then(Value::as_str)
                .map(str::to_string);
            let this = self.sibling();
            tasks.spawn(async move {
                let members = this.team_members(&id).await?;
                let key = ResourceKey::new(this.name.clone(), ResourceKind::Team, name);
                Ok::<_, ProviderError>(LiveResource {
                    description,
                    ..LiveResource::container(key, id, paging::fitted(members))
                })
            });
        }
        super::each_read(&self.client, tasks).await
    }

    /// The organization's memberships, pending ones (open invitations) included: who may
    /// join its teams, who is invited already, and whom an offboarding removes.
    async fn directory(&self) -> Result<LiveResource, ProviderError> {
        let path = format!("/organizations/{}/organization_memberships", self.org);
        let (members, me) = tokio::join!(
            self.list(&path, WITH_USERS, members(self.seen.clone())),
            self.who_am_i()
        );
        let members = members?;
        Ok(LiveResource::directory(
            &self.name,
            &self.org,
            paging::fitted(members),
            me,
        ))
    }

    /// `GET /users/me` (ADDENDUM §3.2): the token's own user, whose organization
    /// membership an offboarding must never remove.
    async fn who_am_i(&self) -> crate::model::WhoAmI {
        identity::who_am_i(&self.client, "/users/me", MEDIA, |resp| {
            Ok(resp.parse::<Entity>().ok().and_then(|e| e.sys.id))
        })
        .await
    }

    /// Team members whose user came without an email (no `includes`, or a user without
    /// `email`) are looked up as users of the organization (`GET …/users/{id}`, or the
    /// paged users list when many are). Whoever stays unknown keeps no email.
    async fn resolve(&self, out: &mut [LiveResource]) {
        let ids = identity::missing(out);
        let one = |id: String| {
            let client = self.client.clone();
            let org = self.org.clone();
            async move {
                let url = client.url_of(&["organizations", &org, "users", &id])?;
                let Some(resp) = client.get_optional(url, MEDIA).await? else {
                    return Ok(None);
                };
                Ok(resp
                    .parse::<User>()
                    .ok()
                    .and_then(|u| Email::parse(u.email.as_deref()?).ok()))
            }
        };
        let directory = || async {
            let found = self
                .list(
                    &format!("/organizations/{}/users", self.org),
                    &[],
                    |page: Collection<User>| {
                        page.items
                            .into_iter()
                            .filter_map(|u| {
                                let email = Email::parse(u.email.as_deref()?).ok()?;
                                Some((u.sys.id?, email))
                            })
                            .collect()
                    },
                )
                .await?;
            Ok(found.into_iter().collect())
        };
        if let Ok(found) = identity::lookup(ids, one, directory).await {
            identity::fill(out, &found);
        }
    }

    async fn team_members(&self, team: &str) -> Result<Vec<LiveMember>, ProviderError> {
        self.list(
            &format!("/organizations/{}/teams/{team}/team_memberships", self.org),
            &[("include", "sys.user")],
            members(self.seen.clone()),
        )
        .await
    }

    /// The organization membership id of an email: search, then match the included user's
    /// email exactly (case-insensitive). Cached for the run.
    async fn membership_for(&self, email: &Email) -> Result<Option<String>, ProviderError> {
        if let Some(id) = self.cached(email) {
            return Ok(Some(id));
        }
        if self.known.complete.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let query = [&[("query", email.as_str())], WITH_USERS].concat();
        let found = self
            .list(
                &format!("/organizations/{}/organization_memberships", self.org),
                &query,
                by_email(self.seen.clone()),
            )
            .await?
            .into_iter()
            .find(|(e, _)| e == email)
            .map(|(_, id)| id);
        if let Some(id) = &found {
            self.remember([(email.clone(), id.clone())]);
        }
        Ok(found)
    }

    fn cached(&self, email: &Email) -> Option<String> {
        self.known
            .memberships
            .lock()
            .ok()
            .and_then(|m| m.get(email).cloned())
    }

    async fn update_members(
        &self,
        w: &WriteClient,
        team: &str,
        members: &[MemberChange],
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        if members.iter().any(|m| {
            matches!(m.action, MemberAction::Add { .. }) && m.member.membership_id.is_none()
        }) {
            self.known.prefetched.get_or_init(|| self.prefetch()).await;
        }
        // No bulk endpoint: one request per member.
        super::each_member(members.iter().cloned(), |m| {
            let (this, w, team, m) = (self.sibling(), w.clone(), team.to_string(), m.clone());
            // Share the email cache: what this run already resolved is passed along.
            let known = m.member.email.as_ref().and_then(|e| self.cached(e));
            async move { this.apply_member(&w, &team, &m, known).await }
        })
        .await
    }

    /// Creates the team; a lost answer is checked by name ([`super::create_or_find`]).
    pub(super) async fn create(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<String, ProviderError> {
        let name = &change.key.name;
        let path = format!("/organizations/{}/teams", self.org);
        let req = Req::new(Method::POST, w.url(&path)?, MEDIA)
            .content_type(MEDIA)
            .json(
                json!({"name": name, "description": change.description.as_deref().unwrap_or("")}),
            );
        super::create_or_find(
            w,
            &req,
            name,
            |resp| resp.parse::<Entity>().ok().and_then(|e| e.sys.id),
            || async {
                let teams = self.list(&path, &[], as_served::<Team>).await?;
                Ok(teams
                    .into_iter()
                    .filter_map(|t| Some((t.name?, t.sys.id?)))
                    .collect())
            },
        )
        .await
    }

    /// The member changes of the organization (invitations, removals) or of one team.
    /// `_basis`: what the plan read of the container, which this API does not need (every
    /// member is added and removed on its own).
    pub(super) async fn apply_members(
        &self,
        w: &WriteClient,
        container: &str,
        change: &ResourceChange,
        _basis: Option<&LiveResource>,
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        if change.key.kind == ResourceKind::Organization {
            return self.update_organization(w, &change.members).await;
        }
        self.update_members(w, container, &change.members).await
    }

    /// Sees every change before the first is applied: how many distinct people the plan
    /// adds to teams decides between searching per email and listing every membership.
    pub(super) fn prepare(&self, changes: &[&ResourceChange]) {
        let emails: BTreeSet<&Email> = changes
            .iter()
            .flat_map(|c| &c.members)
            .filter(|m| matches!(m.action, MemberAction::Add { .. }))
            .filter_map(|m| m.member.email.as_ref())
            .collect();
        self.known.wanted.store(emails.len(), Ordering::Relaxed);
    }

    /// Reads the team for its version and description, then PUTs the whole body: the new
    /// name and the change's description (else the current one). Also how a description
    /// alone changes.
    pub(super) async fn rename(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<(), ProviderError> {
        let id = w.live_id(change, "rename")?;
        let path = format!("/organizations/{}/teams/{id}", self.org);
        let current = self.client.get(self.client.url(&path)?, MEDIA).await?;
        let current: Team = current
            .parse()
            .map_err(|e| w.protocol(&format!("GET {path}"), format!("not a team: {e}")))?;
        let version = current.sys.version.unwrap_or(0);
        let description = match &change.description {
            Some(d) => json!(d),
            None => current.description.unwrap_or(json!("")),
        };
        let req = Req::new(Method::PUT, w.url(&path)?, MEDIA)
            .content_type(MEDIA)
            .header("x-contentful-version", version.to_string())
            .json(json!({"name": change.key.name, "description": description}));
        w.send_ok(&req).await.map(|_| ())
    }

    pub(super) async fn delete(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<(), ProviderError> {
        let id = w.live_id(change, "delete")?;
        let url = w.url(&format!("/organizations/{}/teams/{id}", self.org))?;
        w.delete_gone(Req::new(Method::DELETE, url, MEDIA)).await
    }

    async fn apply_member(
        &self,
        w: &WriteClient,
        team: &str,
        m: &MemberChange,
        known: Option<String>,
    ) -> Result<(), ProviderError> {
        let base = format!("/organizations/{}/teams/{team}/team_memberships", self.org);
        match &m.action {
            MemberAction::Add { .. } => {
                let email = m
                    .member
                    .email
                    .as_ref()
                    .ok_or_else(|| w.protocol("add", "Contentful adds members by email"))?;
                // The plan's directory read gave the organization membership id.
                let known = known.or_else(|| m.member.membership_id.as_deref().map(str::to_string));
                let membership = match known {
                    Some(id) => id,
                    None => self.membership_for(email).await?.ok_or_else(|| {
                        w.protocol("add", format!("{email} is not an active member of the Contentful organization; invite them to it first"))
                    })?,
                };
                // "Already a member" (422) means done, so a repeat cannot do harm: retry like PUT.
                let req = Req::new(Method::POST, w.url(&base)?, MEDIA)
                    .content_type(MEDIA)
                    .json(json!({"organizationMembershipId": membership}))
                    .retry(Retry::Idempotent);
                let resp = w.send(&req).await?;
                match resp.status {
                    200..=299 => Ok(()),
                    422 if already(&resp) => Ok(()),
                    _ => Err(w.error(&req, &resp)),
                }
            }
            MemberAction::Remove => {
                let id =
                    m.member.membership_id.as_deref().ok_or_else(|| {
                        w.protocol("remove", "the plan has no team-membership id")
                    })?;
                w.delete_gone(Req::new(
                    Method::DELETE,
                    w.url(&format!("{base}/{id}"))?,
                    MEDIA,
                ))
                .await
            }
            other => Err(w.protocol(
                "apply",
                format!("{other:?} does not apply to a Contentful team"),
            )),
        }
    }
}

/// A 422 that says the thing exists already ("already a member", "taken").
fn already(resp: &super::http::Resp) -> bool {
    let body = resp.text().to_lowercase();
    body.contains("already") || body.contains("taken")
}
