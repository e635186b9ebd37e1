//! GitBook API client (`docs/providers/API_NOTES.md` §2, the vendor OpenAPI extract in
//! `docs/providers/vendor/gitbook/`): organization teams and their members. Lists use `limit=1000` and follow `next.page`; all member changes of a team go
//! in one bulk `PUT …/members` (`add`, `remove`, `memberships` for roles). Team creation
//! is a `PUT` on the collection.

use std::collections::{BTreeMap, HashSet};

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{ReadClient, Req, WriteClient};
use super::identity;
use super::paging::{self, Identified, Incomplete};
use super::{ProviderError, ReadScope};
use crate::model::{
    Email, LiveMember, LiveResource, MemberAction, MemberChange, ProviderSettings, ResourceChange,
    ResourceKey, ResourceKind, Role,
};

const JSON: &str = "application/json";
const LIMIT: usize = 1000;

#[derive(Deserialize)]
struct List<T> {
    items: Vec<T>,
    /// Total count of objects in the list (vendor OpenAPI); checked when present.
    #[serde(default)]
    count: Option<usize>,
    next: Option<NextPage>,
}

impl Identified for Team {
    fn id(&self) -> Option<String> {
        Some(self.id.clone())
    }
}

impl Identified for OrgMember {
    fn id(&self) -> Option<String> {
        Some(self.user.id.clone())
    }
}

impl Identified for TeamMember {
    fn id(&self) -> Option<String> {
        Some(self.organization.user.id.clone())
    }
}

#[derive(Deserialize)]
struct NextPage {
    page: String,
}

#[derive(Deserialize)]
struct Team {
    id: String,
    title: String,
}

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
struct OrgMember {
    id: String,
    user: User,
}

#[derive(Deserialize)]
struct TeamRole {
    /// `owner` or `member` in the vendor's OpenAPI; read as any value, so that a role
    /// GitBook adds affects only its own member (kept verbatim, never overwritten by
    /// default).
    #[serde(default)]
    role: Option<Value>,
}

#[derive(Deserialize)]
struct TeamMember {
    organization: OrgMember,
    team: TeamRole,
}

/// A team role teamsync knows (`Ok(Some)`), none given (`Ok(None)`), or one it does not
/// know, verbatim (`Err`).
fn role_from(v: Option<&Value>) -> Result<Option<Role>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s == "owner" => Ok(Some(Role::Owner)),
        Some(Value::String(s)) if s == "member" => Ok(Some(Role::Member)),
        Some(other) => Err(super::verbatim(other)),
    }
}

pub(crate) struct Gitbook {
    name: String,
    org: String,
    client: ReadClient,
    seen: std::sync::Arc<identity::Seen>,
}

impl Gitbook {
    pub fn new(settings: &ProviderSettings, client: ReadClient) -> Self {
        Gitbook {
            name: settings.name.clone(),
            org: settings.organization.clone(),
            client,
            seen: Default::default(),
        }
    }

    /// Every item of a list, proven complete: pages follow `next.page` (an opaque token sent
    /// back to the same path, never a URL), a token seen twice ends the read with an error,
    /// and the whole must hold exactly `count` distinct items (read once more if the count
    /// moved between pages).
    async fn list<T: for<'de> Deserialize<'de> + Identified>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, ProviderError> {
        self.list_kept(path, query, |item: T| item).await
    }

    /// [`Self::list`], each item turned by `keep` into what the read keeps as its page
    /// arrives, so a page's wire items live only until their page is read.
    async fn list_kept<T: for<'de> Deserialize<'de> + Identified, U>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        keep: impl Fn(T) -> U,
    ) -> Result<Vec<U>, ProviderError> {
        paging::read_whole(&self.client, path, || self.list_once(path, query, &keep)).await
    }

    async fn list_once<T: for<'de> Deserialize<'de> + Identified, U>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        keep: &impl Fn(T) -> U,
    ) -> Result<Result<Vec<U>, Incomplete>, ProviderError> {
        let mut items = Vec::new();
        let mut tally = paging::Tally::default();
        let mut page: Option<String> = None;
        let mut tokens: HashSet<String> = HashSet::new();
        let mut count: Option<Option<usize>> = None;
        for n in 1..=paging::MAX_PAGES {
            let mut url = self.client.url(path)?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("limit", &LIMIT.to_string());
                for (k, v) in query {
                    q.append_pair(k, v);
                }
                if let Some(p) = &page {
                    q.append_pair("page", p);
                }
            }
            let resp = self.client.get(url, JSON).await?;
            let list: List<T> = resp.parse::<List<T>>().map_err(|e| {
                self.client
                    .protocol(&format!("GET {path}"), format!("not a GitBook list: {e}"))
            })?;
            match count {
                None => {
                    // Room for the whole list at once, from the count of its first page.
                    if let Some(c) = list.count {
                        paging::reserve(&mut items, c);
                        tally.expect(c);
                    }
                    count = Some(list.count);
                }
                Some(c) if c != list.count => {
                    return Ok(Err(Incomplete::Moved(format!(
                        "the list's count moved from {} to {} between pages",
                        c.map_or("none".into(), |n| n.to_string()),
                        list.count.map_or("none".into(), |n| n.to_string())
                    ))));
                }
                Some(_) => {}
            }
            items.extend(paging::kept(list.items, &mut tally, keep));
            if let Some(Some(c)) = count
                && tally.served() > c
            {
                return Ok(Err(Incomplete::Moved(format!(
                    "the list counts {c} items but more were served"
                ))));
            }
            match list.next {
                Some(next) if !tokens.insert(next.page.clone()) => {
                    return Ok(Err(Incomplete::Broken(format!(
                        "next.page {:?} names a page already read (page {n}): the list does not end",
                        next.page
                    ))));
                }
                Some(next) => page = Some(next.page),
                None => {
                    return Ok(match count.flatten() {
                        Some(c) => tally.check_count(c).map(|()| items),
                        None => tally.check_unique().map(|()| items),
                    });
                }
            }
        }
        Ok(Err(Incomplete::Broken(format!(
            "the list did not end within {} pages",
            paging::MAX_PAGES
        ))))
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
        let teams: Vec<Team> = self.list(&format!("/orgs/{}/teams", self.org), &[]).await?;
        let mut tasks = tokio::task::JoinSet::new();
        for team in teams
            .into_iter()
            .filter(|t| scope.wants(ResourceKind::Team, &t.title))
        {
            let this = Gitbook {
                name: self.name.clone(),
                org: self.org.clone(),
                client: self.client.clone(),
                seen: self.seen.clone(),
            };
            tasks.spawn(async move {
                let members = this.team_members(&team.id).await?;
                Ok::<_, ProviderError>(LiveResource::container(
                    ResourceKey::new(this.name.clone(), ResourceKind::Team, team.title.clone()),
                    team.id,
                    paging::fitted(members),
                ))
            });
        }
        super::each_read(&self.client, tasks).await
    }

    /// The organization's members: who may join its teams, and whom an offboarding removes
    /// from the organization. GitBook lists no pending email invitations.
    async fn directory(&self) -> Result<LiveResource, ProviderError> {
        let path = format!("/orgs/{}/members", self.org);
        // GitBook knows an organization member by its user id.
        let member = |m: OrgMember| {
            let id = self.seen.text(&m.user.id);
            LiveMember {
                email: m.user.email.as_deref().and_then(|e| self.seen.email(e)),
                name: self.seen.text_of(m.user.display_name.as_deref()),
                membership_id: Some(id.clone()),
                user_id: Some(id),
                ..LiveMember::default()
            }
        };
        let (members, me) = tokio::join!(self.list_kept(&path, &[], member), self.who_am_i());
        Ok(LiveResource::directory(
            &self.name,
            &self.org,
            paging::fitted(members?),
            me,
        ))
    }

    /// `GET /user` (ADDENDUM §2.2): the token's own account, which an offboarding must
    /// never remove from the organization.
    async fn who_am_i(&self) -> crate::model::WhoAmI {
        identity::who_am_i(&self.client, "/user", JSON, |resp| {
            let user: User = resp.parse().map_err(|e| {
                self.client
                    .protocol("GET /user", format!("not a user: {e}"))
            })?;
            Ok(Some(user.id))
        })
        .await
    }

    /// Team members listed without `user.email` are looked up as organization members
    /// (`GET /orgs/{org}/members/{userId}`, or the paged member list when many are).
    /// Whoever stays unknown keeps no email, and the diff leaves them alone.
    async fn resolve(&self, out: &mut [LiveResource]) {
        let ids = identity::missing(out);
        let one = |id: String| {
            let client = self.client.clone();
            let org = self.org.clone();
            async move {
                let url = client.url_of(&["orgs", &org, "members", &id])?;
                let Some(resp) = client.get_optional(url.clone(), JSON).await? else {
                    return Ok(None);
                };
                let member: OrgMember = resp.parse().map_err(|e| {
                    client.protocol(
                        &format!("GET {}", url.path()),
                        format!("not an organization member: {e}"),
                    )
                })?;
                Ok(member
                    .user
                    .email
                    .as_deref()
                    .and_then(|e| Email::parse(e).ok()))
            }
        };
        let directory = || async {
            let members: Vec<OrgMember> = self
                .list(&format!("/orgs/{}/members", self.org), &[])
                .await?;
            Ok(members
                .into_iter()
                .filter_map(|m| {
                    let email = Email::parse(m.user.email.as_deref()?).ok()?;
                    Some((m.user.id, email))
                })
                .collect())
        };
        if let Ok(found) = identity::lookup(ids, one, directory).await {
            identity::fill(out, &found);
        }
    }

    async fn team_members(&self, team: &str) -> Result<Vec<LiveMember>, ProviderError> {
        let member = |m: TeamMember| {
            let role = role_from(m.team.role.as_ref());
            LiveMember {
                user_id: Some(self.seen.text(&m.organization.user.id)),
                email: m
                    .organization
                    .user
                    .email
                    .as_deref()
                    .and_then(|e| self.seen.email(e)),
                name: self
                    .seen
                    .text_of(m.organization.user.display_name.as_deref()),
                unknown_role: role.as_ref().err().map(|r| self.seen.text(r)),
                role: role.ok().flatten(),
                membership_id: Some(self.seen.text(&m.organization.id)),
                ..LiveMember::default()
            }
        };
        self.list_kept(
            &format!("/orgs/{}/teams/{team}/members", self.org),
            &[],
            member,
        )
        .await
    }

    /// The user id of an organization member, found by email (exact, case-insensitive).
    async fn user_id_for(&self, email: &Email) -> Result<Option<String>, ProviderError> {
        let found: Vec<OrgMember> = self
            .list(
                &format!("/orgs/{}/members", self.org),
                &[("search", email.as_str())],
            )
            .await?;
        Ok(found
            .into_iter()
            .find(|m| {
                m.user
                    .email
                    .as_deref()
                    .and_then(|e| Email::parse(e).ok())
                    .as_ref()
                    == Some(email)
            })
            .map(|m| m.user.id))
    }

    /// Creates the team (a PUT on the collection); a lost answer is checked by title
    /// ([`super::create_or_find`]).
    pub(super) async fn create(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<String, ProviderError> {
        #[derive(Deserialize)]
        struct Created {
            id: String,
        }
        let title = &change.key.name;
        let path = format!("/orgs/{}/teams", self.org);
        // Creating is a PUT on the collection, but repeating it could make a second team.
        let req = Req::new(Method::PUT, w.url(&path)?, JSON)
            .json(json!({"title": title}))
            .retry(super::http::Retry::OnlyIfNotApplied);
        super::create_or_find(
            w,
            &req,
            title,
            |resp| resp.parse::<Created>().ok().map(|c| c.id),
            || async {
                let teams: Vec<Team> = self.list(&path, &[]).await?;
                Ok(teams.into_iter().map(|t| (t.title, t.id)).collect())
            },
        )
        .await
    }

    pub(super) async fn rename(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<(), ProviderError> {
        let id = w.live_id(change, "rename")?;
        let req = Req::new(
            Method::PATCH,
            w.url(&format!("/orgs/{}/teams/{id}", self.org))?,
            JSON,
        )
        .json(json!({"title": change.key.name}));
        w.send_ok(&req).await.map(|_| ())
    }

    pub(super) async fn delete(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<(), ProviderError> {
        let id = w.live_id(change, "delete")?;
        // 205: deleted; 204: there was nothing to delete; 404: someone deleted it meanwhile
        // (in the UI, or an earlier run whose answer was lost). All are done.
        let req = Req::new(
            Method::DELETE,
            w.url(&format!("/orgs/{}/teams/{id}", self.org))?,
            JSON,
        );
        w.delete_gone(req).await
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

    /// All member changes of one team in a single bulk request. Adds are by email (or user
    /// id); roles are set through `memberships`, keyed by user id, resolved from the email
    /// when a new member needs a role other than the default.
    async fn update_members(
        &self,
        w: &WriteClient,
        team: &str,
        members: &[MemberChange],
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        if members.is_empty() {
            return Vec::new();
        }
        let mut add = Vec::new();
        let mut remove = Vec::new();
        let mut roles: BTreeMap<String, Value> = BTreeMap::new();
        let mut failed = Vec::new();
        let mut sent = Vec::new();
        for m in members {
            let who = m
                .member
                .user_id
                .as_deref()
                .or(m.member.email.as_ref().map(Email::as_str))
                .map(str::to_string);
            let Some(who) = who else {
                failed.push((
                    m.clone(),
                    Err(w.protocol("apply", "member has neither email nor user id")),
                ));
                continue;
            };
            match &m.action {
                MemberAction::Add { role, .. } => {
                    add.push(who.clone());
                    if let Some(r) = role.filter(|r| *r != Role::Member) {
                        let id = match (&m.member.user_id, &m.member.email) {
                            (Some(id), _) => Ok(Some(id.to_string())),
                            (None, Some(email)) => self.user_id_for(email).await,
                            (None, None) => Ok(None),
                        };
                        match id {
                            Ok(Some(id)) => {
                                roles.insert(id, json!({"role": r.as_str()}));
                            }
                            Ok(None) => {
                                failed.push((
                                    m.clone(),
                                    Err(w.protocol(
                                        "add",
                                        format!(
                                            "{} is not a member of the GitBook organization",
                                            m.member
                                        ),
                                    )),
                                ));
                                add.pop();
                                continue;
                            }
                            Err(e) => {
                                failed.push((m.clone(), Err(e)));
                                add.pop();
                                continue;
                            }
                        }
                    }
                }
                MemberAction::Remove => remove.push(who.clone()),
                MemberAction::SetRole { to, .. } => match &m.member.user_id {
                    Some(id) => {
                        roles.insert(id.to_string(), json!({"role": to.as_str()}));
                    }
                    None => {
                        failed.push((
                            m.clone(),
                            Err(w.protocol("set role", "no user id for this member")),
                        ));
                        continue;
                    }
                },
                other => {
                    failed.push((
                        m.clone(),
                        Err(w.protocol(
                            "apply",
                            format!("{other:?} does not apply to a GitBook team"),
                        )),
                    ));
                    continue;
                }
            }
            sent.push((m.clone(), who));
        }
        let mut out = failed;
        // GitBook refuses the whole bulk request for one member it will not take (400
        // naming them): that member fails with the answer, and the rest is sent again
        // without them, so one person never fails the others.
        while !sent.is_empty() {
            let keep = |w: &String| sent.iter().any(|(_, who)| who == w);
            let mut body = serde_json::Map::new();
            let add: Vec<&String> = add.iter().filter(|w| keep(w)).collect();
            let remove: Vec<&String> = remove.iter().filter(|w| keep(w)).collect();
            if !add.is_empty() {
                body.insert("add".into(), json!(add));
            }
            if !remove.is_empty() {
                body.insert("remove".into(), json!(remove));
            }
            let roles: serde_json::Map<String, Value> = roles
                .iter()
                .filter(|(id, _)| {
                    sent.iter().any(|(m, who)| {
                        who == *id || m.member.user_id.as_deref() == Some(id.as_str())
                    })
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !roles.is_empty() {
                body.insert("memberships".into(), Value::Object(roles));
            }
            // Setting membership is idempotent: the same body twice leaves the same team.
            let result = match w.url(&format!("/orgs/{}/teams/{team}/members", self.org)) {
                Ok(url) => w
                    .send_ok(&Req::new(Method::PUT, url, JSON).json(Value::Object(body)))
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            };
            let named = match &result {
                Err(ProviderError::Api {
                    status: 400,
                    message,
                    ..
                }) => {
                    let message = message.to_lowercase();
                    sent.iter().position(|(m, who)| {
                        message.contains(&who.to_lowercase())
                            || m.member
                                .email
                                .as_ref()
                                .is_some_and(|e| message.contains(e.as_str()))
                    })
                }
                _ => None,
            };
            match named {
                Some(i) if sent.len() > 1 => {
                    let (m, _) = sent.remove(i);
                    out.push((m, result.clone()));
                }
                _ => {
                    out.extend(sent.drain(..).map(|(m, _)| (m, result.clone())));
                }
            }
        }
        out
    }
}

impl Gitbook {
    /// Organization-level changes: invitations (one request for all of them) and removals
    /// from the organization (offboarding), one request each.
    async fn update_organization(
        &self,
        w: &WriteClient,
        members: &[MemberChange],
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        let (invites, others): (Vec<&MemberChange>, Vec<&MemberChange>) = members
            .iter()
            .partition(|m| matches!(m.action, MemberAction::Invite { .. }));
        let mut out = Vec::new();
        if !invites.is_empty() {
            let result = self.invite(w, &invites).await;
            out.extend(invites.into_iter().map(|m| (m.clone(), result.clone())));
        }
        let org = self.org.clone();
        out.extend(
            super::each_member(others.into_iter().cloned(), |m| {
                let (w, m, org) = (w.clone(), m.clone(), org.clone());
                async move {
                    match (&m.action, &m.member.user_id) {
                        (MemberAction::Remove, Some(id)) => {
                            // 205: removed; 204: was not a member. 202 only asks the
                            // admins, so it is not done, and the read-back will say so.
                            let req = Req::new(
                                Method::DELETE,
                                w.url_of(&["orgs", &org, "members", id])?,
                                JSON,
                            );
                            let resp = w.send_ok(&req).await?;
                            if resp.status == 202 {
                                return Err(w.protocol(
                                    &req.what,
                                    "GitBook accepted a removal request for the admins (202) but did not remove the member",
                                ));
                            }
                            Ok(())
                        }
                        (MemberAction::Remove, None) => {
                            Err(w.protocol("remove", "no user id for this member"))
                        }
                        (other, _) => Err(w.protocol(
                            "apply",
                            format!("{other:?} does not apply to a GitBook organization"),
                        )),
                    }
                }
            })
            .await,
        );
        out
    }

    /// `POST /orgs/{org}/invites` with every invitee and their role. The route's
    /// availability to ordinary tokens is unconfirmed (API_NOTES_ADDENDUM §2.1): 401, 403
    /// and 404 make the invitations blocked, for a person to send by hand.
    async fn invite(
        &self,
        w: &WriteClient,
        invites: &[&MemberChange],
    ) -> Result<(), ProviderError> {
        let emails: Vec<Value> = invites
            .iter()
            .filter_map(|m| {
                let MemberAction::Invite { role } = &m.action else {
                    return None;
                };
                let email = m.member.email.as_ref()?;
                Some(json!({"email": email.as_str(), "role": role.as_str()}))
            })
            .collect();
        let req = Req::new(
            Method::POST,
            w.url(&format!("/orgs/{}/invites", self.org))?,
            JSON,
        )
        .json(json!({"emails": emails}))
        // Inviting twice re-sends an email, nothing worse.
        .retry(super::http::Retry::Idempotent);
        let resp = w.send(&req).await?;
        match resp.status {
            200..=299 => {
                #[derive(Deserialize)]
                struct Invited {
                    invited: Option<u64>,
                }
                let invited = resp.parse::<Invited>().ok().and_then(|i| i.invited);
                match invited {
                    Some(n) if n as usize >= emails.len() => Ok(()),
                    _ => Err(w.protocol(
                        &req.what,
                        format!(
                            "GitBook answered success but says it invited {} of {} people",
                            invited.map_or("an unknown number".to_string(), |n| n.to_string()),
                            emails.len()
                        ),
                    )),
                }
            }
            401 | 403 | 404 => Err(ProviderError::Unavailable {
                provider: self.name.clone(),
                kind: crate::model::ProviderKind::Gitbook,
                message: format!(
                    "invitations are not available to this token (GitBook answered {}); invite them in GitBook",
                    resp.status
                ),
            }),
            _ => Err(w.error(&req, &resp)),
        }
    }
}
