//! PixieBrix Developer API client (`docs/providers/API_NOTES.md` §1): organization roster,
//! groups, campaigns.
//! Paths end with a slash; lists are read at version 2.0 with `page_size=1000`, following
//! `Link rel="next"` verbatim; the 1.0-only detail routes get version 1.0 (§1.1 rule).
//! Group members are added in one POST and campaign members added or updated in one
//! POST; a campaign removal is a PUT of the remaining set built from a fresh read, and only
//! for `mode: exact`.

use std::collections::BTreeSet;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{ReadClient, Req, Resp, WriteClient};
use super::identity;
use super::paging::{self, Identified, Incomplete, Listed};
use super::{ProviderError, ReadScope};
use crate::model::{
    AccountKind, Data, Email, InviteRole, LiveMember, LiveResource, MemberAction, MemberChange,
    Mode, ProviderSettings, ResourceChange, ResourceKey, ResourceKind, Role, WhoAmI,
};

const V2: &str = "application/json; version=2.0";
const V1: &str = "application/json; version=1.0";
const V11: &str = "application/json; version=1.1";
const PAGE_SIZE: usize = 1000;
/// Most roster members looked up one by one when the roster came without their emails.
const ROSTER_LOOKUPS: usize = 500;

#[derive(Deserialize)]
struct User {
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    /// `None` when the answer leaves the flag out: then the account's kind is unknown.
    service_account: Option<bool>,
    deployment_key_account: Option<bool>,
}

impl User {
    fn kind(&self) -> AccountKind {
        match (self.service_account, self.deployment_key_account) {
            (Some(true), _) => AccountKind::ServiceAccounts,
            (_, Some(true)) => AccountKind::DeploymentKeys,
            (Some(false), Some(false)) => AccountKind::Human,
            _ => AccountKind::Unknown,
        }
    }
}

#[derive(Deserialize)]
struct Membership {
    id: i64,
    user: User,
    /// A number in the notes (1-5); read as any value, so that one the API adds, or a
    /// name, affects only its own member (kept verbatim, never overwritten by default).
    #[serde(default)]
    role: Value,
}

#[derive(Deserialize)]
struct Named {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct GroupMembership {
    id: String,
    user: Option<User>,
    email: Option<String>,
}

#[derive(Deserialize)]
struct CampaignMember {
    id: Option<String>,
    email: Option<String>,
    #[serde(default)]
    data: Data,
    account: Option<User>,
}

#[derive(Deserialize)]
struct Invitation {
    id: Option<String>,
    email: Option<String>,
}

impl Identified for Membership {
    fn id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

impl Identified for Named {
    fn id(&self) -> Option<String> {
        Some(self.id.clone())
    }
}

impl Identified for GroupMembership {
    fn id(&self) -> Option<String> {
        Some(self.id.clone())
    }
}

impl Identified for CampaignMember {
    fn id(&self) -> Option<String> {
        self.id.clone().or_else(|| self.email.clone())
    }
}

impl Identified for Invitation {
    fn id(&self) -> Option<String> {
        self.id.clone().or_else(|| self.email.clone())
    }
}

/// A page's items, read straight from its body.
fn items_of<T: for<'de> Deserialize<'de>>(
    client: &ReadClient,
    url: &url::Url,
    resp: &Resp,
) -> Result<Vec<T>, ProviderError> {
    resp.parse::<Vec<T>>().map_err(|e| {
        client.protocol(
            &format!("GET {}", url.path()),
            format!("not a list of the expected items: {e}"),
        )
    })
}

/// Page `n` of `pages` of a list the first page counted at `total`: its items, or why the
/// list is incomplete (the page is past the end, or the count moved).
async fn counted_page<T: for<'de> Deserialize<'de>>(
    client: &ReadClient,
    url: url::Url,
    n: usize,
    pages: usize,
    total: usize,
) -> Result<Result<Vec<T>, Incomplete>, ProviderError> {
    let resp = client.get_any(url.clone(), V2).await?;
    if resp.status == 404 {
        // A page the count promised is past the end: the count is wrong.
        return Ok(Err(Incomplete::Moved(format!(
            "X-Total-Count says {total} items, but page {n} of {pages} does not exist"
        ))));
    }
    if !(200..300).contains(&resp.status) {
        return Err(client.error_of(&url, V2, &resp));
    }
    if total_count(&resp) != Some(total) {
        return Ok(Err(Incomplete::Moved(format!(
            "X-Total-Count moved from {total} to {} between pages",
            total_count(&resp).map_or("none".to_string(), |n| n.to_string())
        ))));
    }
    items_of(client, &url, &resp).map(Ok)
}

/// `X-Total-Count`: the number of items across all pages.
fn total_count(resp: &Resp) -> Option<usize> {
    resp.header("x-total-count")
        .and_then(|v| v.trim().parse().ok())
}

/// A roster role as the notes number them (`Ok`), or the value verbatim (`Err`) when it is
/// none of them: a number past 5, a name, anything.
fn role_from(v: &Value) -> Result<Role, String> {
    match v.as_u64() {
        Some(1) => Ok(Role::Member),
        Some(2) => Ok(Role::Admin),
        Some(3) => Ok(Role::Developer),
        Some(4) => Ok(Role::Restricted),
        Some(5) => Ok(Role::Manager),
        _ => Err(super::verbatim(v)),
    }
}

fn role_number(r: Role) -> u8 {
    match r {
        Role::Admin => 2,
        Role::Developer => 3,
        Role::Restricted => 4,
        Role::Manager => 5,
        Role::Member | Role::Owner => 1,
    }
}

pub(crate) struct Pixiebrix {
    name: String,
    org: String,
    client: ReadClient,
    seen: std::sync::Arc<identity::Seen>,
}

impl Pixiebrix {
    pub fn new(settings: &ProviderSettings, client: ReadClient) -> Self {
        Pixiebrix {
            name: settings.name.clone(),
            org: settings.organization.clone(),
            client,
            seen: Default::default(),
        }
    }

    fn key(&self, kind: ResourceKind, name: &str) -> ResourceKey {
        ResourceKey::new(self.name.clone(), kind, name)
    }

    /// Every item of a paginated list, proven complete: the first page's `X-Total-Count`
    /// and length give the page count, the other pages are fetched at once (bounded by
    /// `--parallelism`) from our own request with `page` replaced, and the whole must hold
    /// exactly that many distinct items (a count that moved is read once more). Without a
    /// count, pages are read one after another until a short or empty one (or DRF's 404
    /// past the end), and the read is marked uncounted. `Link` headers are never followed:
    /// a URL an answer names is not where the token goes.
    async fn list<T: for<'de> Deserialize<'de> + Identified + Send + 'static>(
        &self,
        path: &str,
    ) -> Result<Listed<T>, ProviderError> {
        paging::read_whole(&self.client, path, || self.list_once(path)).await
    }

    fn page_url(&self, path: &str, n: usize) -> Result<url::Url, ProviderError> {
        let mut url = self.client.url(path)?;
        url.query_pairs_mut()
            .append_pair("page_size", &PAGE_SIZE.to_string())
            .append_pair("page", &n.to_string());
        Ok(url)
    }

    async fn list_once<T: for<'de> Deserialize<'de> + Identified + Send + 'static>(
        &self,
        path: &str,
    ) -> Result<Result<Listed<T>, Incomplete>, ProviderError> {
        let url = self.page_url(path, 1)?;
        let first = self.client.get(url.clone(), V2).await?;
        let mut items: Vec<T> = self.page_items(&url, &first)?;
        let per = items.len();
        let Some(total) = total_count(&first) else {
            return self.list_uncounted(path, items).await;
        };
        if per < total {
            if per == 0 {
                return Ok(Err(Incomplete::Moved(format!(
                    "the first page is empty, but X-Total-Count says {total}"
                ))));
            }
            let pages = total.div_ceil(per);
            if pages > paging::MAX_PAGES {
                return Ok(Err(Incomplete::Broken(format!(
                    "X-Total-Count {total} at {per} per page is more than {} pages",
                    paging::MAX_PAGES
                ))));
            }
            drop(first);
            // Each page is checked and parsed by the task that received it, as soon as it
            // arrives, so a page's body lives only until its items are read: at most the
            // requests in flight (`--parallelism`) hold a body, however many pages wait.
            let mut tasks = tokio::task::JoinSet::new();
            for n in 2..=pages {
                let client = self.client.clone();
                let url = self.page_url(path, n)?;
                tasks.spawn(
                    async move { (n, counted_page::<T>(&client, url, n, pages, total).await) },
                );
            }
            let mut rest: Vec<(usize, Vec<T>)> = Vec::with_capacity(pages - 1);
            while let Some(joined) = tasks.join_next().await {
                let (n, page) =
                    joined.map_err(|e| self.client.protocol(path, format!("task failed: {e}")))?;
                match page? {
                    Ok(items) => rest.push((n, items)),
                    Err(why) => return Ok(Err(why)),
                }
            }
            rest.sort_by_key(|(n, _)| *n);
            for (_, page) in rest {
                items.extend(page);
            }
        }
        Ok(paging::check_count(&items, total).map(|()| Listed {
            items,
            counted: true,
        }))
    }

    /// A list whose answers carry no count: read page after page until one is short or
    /// empty, or the API says the page is past the end.
    async fn list_uncounted<T: for<'de> Deserialize<'de> + Identified>(
        &self,
        path: &str,
        mut items: Vec<T>,
    ) -> Result<Result<Listed<T>, Incomplete>, ProviderError> {
        let per = items.len();
        let mut previous: Vec<Option<String>> = items.iter().map(Identified::id).collect();
        let mut last = per;
        let mut n = 1;
        while per > 0 && last == per {
            n += 1;
            if n > paging::MAX_PAGES {
                return Ok(Err(Incomplete::Broken(format!(
                    "the list did not end within {} pages",
                    paging::MAX_PAGES
                ))));
            }
            let url = self.page_url(path, n)?;
            let resp = self.client.get_any(url.clone(), V2).await?;
            if resp.status == 404 {
                break;
            }
            if !(200..300).contains(&resp.status) {
                return Err(self.client.error_of(&url, V2, &resp));
            }
            let page: Vec<T> = self.page_items(&url, &resp)?;
            let ids: Vec<Option<String>> = page.iter().map(Identified::id).collect();
            if !page.is_empty() && ids == previous {
                return Ok(Err(Incomplete::Broken(format!(
                    "page {n} repeats page {}: the list does not end",
                    n - 1
                ))));
            }
            last = page.len();
            previous = ids;
            items.extend(page);
        }
        Ok(paging::check_unique(&items).map(|()| Listed {
            items,
            counted: false,
        }))
    }

    fn page_items<T: for<'de> Deserialize<'de>>(
        &self,
        url: &url::Url,
        resp: &Resp,
    ) -> Result<Vec<T>, ProviderError> {
        items_of(&self.client, url, resp)
    }

    /// Reads the organization, the groups and the campaigns concurrently: none depends on
    /// another, so the dependency depth of a plan is two (a list, then its members).
    pub(super) async fn read(&self, scope: &ReadScope) -> Result<Vec<LiveResource>, ProviderError> {
        let organization = async {
            if scope.wants(ResourceKind::Organization, &self.org) {
                self.read_organization().await.map(|o| vec![o])
            } else {
                Ok(Vec::new())
            }
        };
        let (organization, groups, campaigns) = tokio::join!(
            organization,
            self.read_containers(scope, ResourceKind::Group),
            self.read_containers(scope, ResourceKind::Campaign),
        );
        let mut out = organization?;
        out.extend(groups?);
        out.extend(campaigns?);
        self.resolve_roster(&mut out).await;
        self.resolve(&mut out).await;
        Ok(out)
    }

    /// Roster members listed without `user.email` are read one by one by their membership
    /// id (`GET /api/memberships/{id}/`, 1.0): the roster is the directory, so there is no
    /// bulk route. Past [`ROSTER_LOOKUPS`] they stay unresolved, and are never removed.
    async fn resolve_roster(&self, out: &mut [LiveResource]) {
        let Some(org) = out
            .iter_mut()
            .find(|r| r.key.kind == ResourceKind::Organization)
        else {
            return;
        };
        let missing: Vec<String> = org
            .members
            .iter()
            .filter(|m| m.email.is_none())
            .filter_map(|m| m.membership_id.as_deref().map(str::to_string))
            .collect();
        if missing.is_empty() || missing.len() > ROSTER_LOOKUPS {
            return;
        }
        let mut tasks = tokio::task::JoinSet::new();
        for id in missing {
            let client = self.client.clone();
            tasks.spawn(async move {
                let url = client.url_of(&["api", "memberships", &id, ""]).ok()?;
                let resp = client.get(url, V1).await.ok()?;
                let m: Membership = resp.parse().ok()?;
                let email = Email::parse(m.user.email.as_deref()?).ok()?;
                Some((id, email, m.user.kind()))
            });
        }
        let mut found = std::collections::HashMap::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok(Some((id, email, kind))) = joined {
                found.insert(id, (email, kind));
            }
        }
        for m in &mut org.members {
            if m.email.is_none()
                && let Some((email, kind)) = m.membership_id.as_deref().and_then(|id| found.get(id))
            {
                m.email = Some(email.clone());
                if m.account == AccountKind::Unknown {
                    m.account = *kind;
                }
            }
        }
    }

    /// Group members listed without an email are found in the organization's roster by
    /// user id: the roster read of this plan when there is one, else one filtered lookup
    /// per member (`memberships/?user__id=`) when few are missing, else the roster.
    async fn resolve(&self, out: &mut [LiveResource]) {
        let ids = identity::missing(out);
        if ids.is_empty() {
            return;
        }
        let known: std::collections::HashMap<String, Email> = out
            .iter()
            .filter(|r| r.key.kind == ResourceKind::Organization)
            .flat_map(|r| &r.members)
            .filter_map(|m| Some((m.user_id.as_deref()?.to_string(), m.email.clone()?)))
            .collect();
        identity::fill(out, &known);
        let ids = identity::missing(out);
        let memberships_path = format!("/api/organizations/{}/memberships/", self.org);
        let one = |id: String| {
            let client = self.client.clone();
            let org = self.org.clone();
            async move {
                let mut url = client.url_of(&["api", "organizations", &org, "memberships", ""])?;
                url.query_pairs_mut().append_pair("user__id", &id);
                let resp = client.get(url.clone(), V2).await?;
                let found: Vec<Membership> = resp.parse().map_err(|e| {
                    client.protocol(
                        &format!("GET {}", url.path()),
                        format!("not a list of memberships: {e}"),
                    )
                })?;
                Ok(found
                    .into_iter()
                    .find(|m| m.user.id.as_deref() == Some(id.as_str()))
                    .and_then(|m| Email::parse(m.user.email.as_deref()?).ok()))
            }
        };
        let directory = || async {
            let roster = self.list::<Membership>(&memberships_path).await?.items;
            Ok(roster
                .into_iter()
                .filter_map(|m| Some((m.user.id?, Email::parse(m.user.email.as_deref()?).ok()?)))
                .collect())
        };
        if let Ok(found) = identity::lookup(ids, one, directory).await {
            identity::fill(out, &found);
        }
    }

    /// The groups or campaigns in scope, each with its members.
    async fn read_containers(
        &self,
        scope: &ReadScope,
        kind: ResourceKind,
    ) -> Result<Vec<LiveResource>, ProviderError> {
        let mut out = Vec::new();
        if !scope.touches(kind) {
            return Ok(out);
        }
        let containers: Vec<Named> = self.list(&self.collection(kind)).await?.items;
        let wanted: Vec<Named> = containers
            .into_iter()
            .filter(|c| scope.wants(kind, &c.name))
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for c in wanted {
            let this = Pixiebrix {
                name: self.name.clone(),
                org: self.org.clone(),
                client: self.client.clone(),
                seen: self.seen.clone(),
            };
            tasks.spawn(async move {
                let members = match kind {
                    ResourceKind::Group => this.group_members(&c.id).await.map(|m| (m, true)),
                    _ => this.campaign_members(&c.id).await,
                };
                members.map(|(members, counted)| LiveResource {
                    description: None,
                    key: this.key(kind, &c.name),
                    id: c.id.clone(),
                    members: paging::fitted(members),
                    pending_invites: BTreeSet::new(),
                    who_am_i: Default::default(),
                    uncounted: !counted,
                })
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let resource =
                joined.map_err(|e| self.client.protocol("read", format!("task failed: {e}")))??;
            out.push(resource);
        }
        Ok(out)
    }

    async fn read_organization(&self) -> Result<LiveResource, ProviderError> {
        let memberships_path = format!("/api/organizations/{}/memberships/", self.org);
        let invitations_path = format!("/api/organizations/{}/invitations/", self.org);
        let (memberships, invitations, who_am_i) = tokio::join!(
            self.list::<Membership>(&memberships_path),
            self.list::<Invitation>(&invitations_path),
            self.who_am_i(),
        );
        let (memberships, invitations) = (memberships?.items, invitations?.items);
        let members = memberships
            .into_iter()
            .map(|m| {
                let role = role_from(&m.role);
                LiveMember {
                    user_id: self.seen.text_of(m.user.id.as_deref()),
                    email: m.user.email.as_deref().and_then(|e| self.seen.email(e)),
                    name: self.seen.text_of(m.user.name.as_deref()),
                    unknown_role: role.as_ref().err().map(|r| self.seen.text(r)),
                    role: role.ok(),
                    data: Data::new(),
                    account: m.user.kind(),
                    membership_id: Some(m.id.to_string().into()),
                    pending: false,
                    unknown_status: None,
                }
            })
            .collect();
        Ok(LiveResource {
            description: None,
            key: self.key(ResourceKind::Organization, &self.org),
            id: self.org.clone(),
            members: paging::fitted(members),
            pending_invites: invitations
                .iter()
                .filter_map(|i| i.email.as_deref().and_then(|e| Email::parse(e).ok()))
                .collect(),
            who_am_i,
            uncounted: false,
        })
    }

    /// `GET /api/me/` (version 1.1 only, ADDENDUM §1.2): the token's own account, so the
    /// roster never removes it. Never anything but GET on this path: DELETE deletes the
    /// account.
    async fn who_am_i(&self) -> WhoAmI {
        #[derive(Deserialize)]
        struct Me {
            id: Option<String>,
        }
        identity::who_am_i(&self.client, "/api/me/", V11, |resp| {
            let me: Me = resp.parse().map_err(|e| {
                self.client
                    .protocol("GET /api/me/", format!("not an account: {e}"))
            })?;
            Ok(me.id)
        })
        .await
    }

    async fn group_members(&self, group: &str) -> Result<Vec<LiveMember>, ProviderError> {
        let items: Vec<GroupMembership> = self
            .list(&format!("/api/groups/{group}/memberships/"))
            .await?
            .items;
        Ok(items
            .into_iter()
            .map(|gm| {
                let email = gm
                    .email
                    .clone()
                    .or_else(|| gm.user.as_ref().and_then(|u| u.email.clone()));
                LiveMember {
                    user_id: self
                        .seen
                        .text_of(gm.user.as_ref().and_then(|u| u.id.as_deref())),
                    email: email.as_deref().and_then(|e| self.seen.email(e)),
                    name: self
                        .seen
                        .text_of(gm.user.as_ref().and_then(|u| u.name.as_deref())),
                    membership_id: Some(gm.id.into()),
                    ..LiveMember::default()
                }
            })
            .collect())
    }

    /// A campaign's members, and whether the list was proven whole against its count.
    async fn campaign_members(
        &self,
        campaign: &str,
    ) -> Result<(Vec<LiveMember>, bool), ProviderError> {
        let listed: Listed<CampaignMember> = self
            .list(&format!(
                "/api/organizations/{}/campaigns/{campaign}/members/",
                self.org
            ))
            .await?;
        let counted = listed.counted;
        let members = listed
            .items
            .into_iter()
            .map(|cm| LiveMember {
                user_id: self
                    .seen
                    .text_of(cm.account.as_ref().and_then(|u| u.id.as_deref())),
                email: cm.email.as_deref().and_then(|e| self.seen.email(e)),
                name: self
                    .seen
                    .text_of(cm.account.as_ref().and_then(|u| u.name.as_deref())),
                data: cm.data,
                ..LiveMember::default()
            })
            .collect();
        Ok((members, counted))
    }

    fn collection(&self, kind: ResourceKind) -> String {
        match kind {
            ResourceKind::Group => format!("/api/organizations/{}/groups/", self.org),
            _ => format!("/api/organizations/{}/campaigns/", self.org),
        }
    }

    /// The member changes of one container, by its kind.
    pub(super) async fn apply_members(
        &self,
        w: &WriteClient,
        id: &str,
        change: &ResourceChange,
        basis: Option<&LiveResource>,
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        match change.key.kind {
            ResourceKind::Organization => self.apply_organization(w, &change.members).await,
            ResourceKind::Group => self.apply_group(w, id, &change.members).await,
            ResourceKind::Campaign => {
                self.apply_campaign(w, id, change.mode, &change.members, basis)
                    .await
            }
            ResourceKind::Team => change
                .members
                .iter()
                .map(|m| {
                    (
                        m.clone(),
                        Err(w.protocol("apply", "PixieBrix has no teams")),
                    )
                })
                .collect(),
        }
    }

    /// POSTs the container; a lost answer is checked by name ([`super::create_or_find`]).
    pub(super) async fn create(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<String, ProviderError> {
        if change.key.kind == ResourceKind::Organization {
            return Err(w.protocol(
                "create",
                format!("organization {} was not found; check `organization` in the provider's settings", self.org),
            ));
        }
        #[derive(Deserialize)]
        struct Created {
            id: String,
        }
        let path = self.collection(change.key.kind);
        let req = Req::new(Method::POST, w.url(&path)?, V2).json(json!({"name": change.key.name}));
        super::create_or_find(
            w,
            &req,
            &change.key.name,
            |resp| resp.parse::<Created>().ok().map(|c| c.id),
            || async {
                let listed: Vec<Named> = self.list(&path).await?.items;
                Ok(listed.into_iter().map(|c| (c.name, c.id)).collect())
            },
        )
        .await
    }

    pub(super) async fn rename(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<(), ProviderError> {
        let id = change
            .live_id
            .as_deref()
            .ok_or_else(|| w.protocol("rename", "no live id"))?;
        let (path, accept) = match change.key.kind {
            ResourceKind::Group => (format!("/api/groups/{id}/"), V1),
            _ => (
                format!("/api/organizations/{}/campaigns/{id}/", self.org),
                V2,
            ),
        };
        let req =
            Req::new(Method::PATCH, w.url(&path)?, accept).json(json!({"name": change.key.name}));
        w.send_ok(&req).await.map(|_| ())
    }

    pub(super) async fn delete(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<(), ProviderError> {
        let id = change
            .live_id
            .as_deref()
            .ok_or_else(|| w.protocol("delete", "no live id"))?;
        let (path, accept) = match change.key.kind {
            ResourceKind::Group => (format!("/api/groups/{id}/"), V1),
            _ => (
                format!("/api/organizations/{}/campaigns/{id}/", self.org),
                V2,
            ),
        };
        delete_tolerating_gone(w, Req::new(Method::DELETE, w.url(&path)?, accept)).await
    }

    async fn apply_organization(
        &self,
        w: &WriteClient,
        members: &[MemberChange],
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        let mut out = Vec::new();
        for m in members {
            let result = match &m.action {
                MemberAction::Remove => match m.member.membership_id.as_deref() {
                    Some(id) => match w.url(&format!("/api/memberships/{id}/")) {
                        Ok(url) => {
                            delete_tolerating_gone(w, Req::new(Method::DELETE, url, V1)).await
                        }
                        Err(e) => Err(e),
                    },
                    None => {
                        Err(w.protocol("remove", "the plan has no membership id for this member"))
                    }
                },
                MemberAction::SetRole { to, .. } => match m.member.membership_id.as_deref() {
                    Some(id) => match w.url(&format!("/api/memberships/{id}/")) {
                        Ok(url) => w
                            .send_ok(
                                &Req::new(Method::PATCH, url, V1)
                                    .json(json!({"role": role_number(*to)})),
                            )
                            .await
                            .map(|_| ()),
                        Err(e) => Err(e),
                    },
                    None => {
                        Err(w.protocol("set role", "the plan has no membership id for this member"))
                    }
                },
                MemberAction::Invite { role } => self.invite(w, m, *role).await,
                MemberAction::Revoke => self.revoke(w, m).await,
                other => Err(w.protocol(
                    "apply",
                    format!("{other:?} does not apply to the organization roster"),
                )),
            };
            out.push((m.clone(), result));
        }
        out
    }

    async fn invite(
        &self,
        w: &WriteClient,
        m: &MemberChange,
        role: InviteRole,
    ) -> Result<(), ProviderError> {
        let role = match role {
            InviteRole::Admin => Role::Admin,
            InviteRole::Developer => Role::Developer,
            InviteRole::Restricted => Role::Restricted,
            InviteRole::Manager => Role::Manager,
            // Config checks allow only PixieBrix's five; anything else is the least access.
            _ => Role::Member,
        };
        let email = m
            .member
            .email
            .as_ref()
            .ok_or_else(|| w.protocol("invite", "an invitation needs an email"))?;
        let path = format!("/api/organizations/{}/invitations/", self.org);
        let req = Req::new(Method::POST, w.url(&path)?, V2)
            .json(json!({"email": email.as_str(), "role": role_number(role)}));
        match w.send(&req).await {
            Ok(resp) if (200..300).contains(&resp.status) => Ok(()),
            Ok(resp) if resp.status < 500 => Err(w.error(&req, &resp)),
            outcome => {
                // The answer was lost or a 5xx: did the invitation go out anyway?
                if !self.open_invitations(email).await?.is_empty() {
                    Ok(())
                } else {
                    Err(match outcome {
                        Ok(resp) => w.error(&req, &resp),
                        Err(e) => e,
                    })
                }
            }
        }
    }

    /// The ids of the open invitations of an email.
    async fn open_invitations(&self, email: &Email) -> Result<Vec<String>, ProviderError> {
        let path = format!("/api/organizations/{}/invitations/", self.org);
        let open: Vec<Invitation> = self.list(&path).await?.items;
        Ok(open
            .into_iter()
            .filter(|i| {
                i.email
                    .as_deref()
                    .and_then(|e| Email::parse(e).ok())
                    .as_ref()
                    == Some(email)
            })
            .filter_map(|i| i.id)
            .collect())
    }

    /// Withdraws the open invitation of an email: found by listing them (the plan does not
    /// carry invitation ids), then `DELETE …/invitations/{id}/`; none open is done.
    async fn revoke(&self, w: &WriteClient, m: &MemberChange) -> Result<(), ProviderError> {
        let email = m
            .member
            .email
            .as_ref()
            .ok_or_else(|| w.protocol("revoke", "an invitation is found by its email"))?;
        for id in self.open_invitations(email).await? {
            let req = Req::new(
                Method::DELETE,
                w.url_of(&["api", "organizations", &self.org, "invitations", &id, ""])?,
                V2,
            );
            let resp = w.send(&req).await?;
            if !((200..300).contains(&resp.status) || resp.status == 404) {
                return Err(w.error(&req, &resp));
            }
        }
        Ok(())
    }

    async fn apply_group(
        &self,
        w: &WriteClient,
        group: &str,
        members: &[MemberChange],
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        let mut out = Vec::new();
        let adds: Vec<&MemberChange> = members
            .iter()
            .filter(|m| matches!(m.action, MemberAction::Add { .. }))
            .collect();
        if !adds.is_empty() {
            let path = format!("/api/groups/{group}/memberships/");
            let item = |m: &MemberChange| match (&m.member.email, &m.member.user_id) {
                (Some(e), _) => json!({"email": e.as_str()}),
                (None, Some(id)) => json!({"user_id": id}),
                (None, None) => json!({}),
            };
            out.extend(self.post_list(w, &path, &adds, item).await);
        }
        // One DELETE per membership (no bulk removal), sent together.
        let removals = members.iter().filter(|m| m.action.is_removal()).cloned();
        out.extend(
            super::each_member(removals, |m| {
                let (w, group) = (w.clone(), group.to_string());
                let id = m.member.membership_id.clone();
                async move {
                    match id {
                        Some(id) => {
                            let url = w.url(&format!("/api/groups/{group}/memberships/{id}/"))?;
                            delete_tolerating_gone(&w, Req::new(Method::DELETE, url, V2)).await
                        }
                        None => Err(w.protocol(
                            "remove",
                            "the plan has no group-membership id for this member",
                        )),
                    }
                }
            })
            .await,
        );
        for m in members
            .iter()
            .filter(|m| !matches!(m.action, MemberAction::Add { .. } | MemberAction::Remove))
        {
            out.push((
                m.clone(),
                Err(w.protocol("apply", "group members have no role or data")),
            ));
        }
        out
    }

    /// One POST of a list body; a per-item 400 marks those items failed and the rest are
    /// sent once more (the API rejects the whole list when one item is bad). A 5xx or a
    /// lost answer is checked against a fresh read instead of being retried blindly.
    async fn post_list(
        &self,
        w: &WriteClient,
        path: &str,
        changes: &[&MemberChange],
        item: impl Fn(&MemberChange) -> Value,
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        let mut out = Vec::new();
        let mut pending: Vec<&MemberChange> = changes.to_vec();
        for _round in 0..2 {
            if pending.is_empty() {
                break;
            }
            let url = match w.url(path) {
                Ok(u) => u,
                Err(e) => {
                    return pending
                        .into_iter()
                        .map(|m| (m.clone(), Err(e.clone())))
                        .collect();
                }
            };
            let body = Value::Array(pending.iter().map(|m| item(m)).collect());
            let req = Req::new(Method::POST, url, V2).json(body);
            match w.send(&req).await {
                Ok(resp) if (200..300).contains(&resp.status) => {
                    out.extend(pending.drain(..).map(|m| (m.clone(), Ok(()))));
                }
                Ok(resp) if resp.status == 400 && resp.json().is_array() => {
                    let errors = resp.json().as_array().cloned().unwrap_or_default();
                    let mut retry = Vec::new();
                    for (i, m) in pending.drain(..).enumerate() {
                        match errors.get(i) {
                            Some(e) if e.as_object().is_some_and(|o| !o.is_empty()) => {
                                let message = e.to_string();
                                out.push((
                                    m.clone(),
                                    Err(w.error(
                                        &req,
                                        &Resp::made_up(
                                            400,
                                            resp.headers.clone(),
                                            &json!({"detail": message}),
                                        ),
                                    )),
                                ));
                            }
                            _ => retry.push(m),
                        }
                    }
                    pending = retry;
                }
                Ok(resp) if resp.status < 500 => {
                    let e = w.error(&req, &resp);
                    out.extend(pending.drain(..).map(|m| (m.clone(), Err(e.clone()))));
                }
                outcome => {
                    let e = match outcome {
                        Ok(resp) => w.error(&req, &resp),
                        Err(e) => e,
                    };
                    let present = self.emails_at(path).await;
                    for m in pending.drain(..) {
                        let landed = match (&present, &m.member.email) {
                            (Ok(set), Some(email)) => set.contains(email),
                            _ => false,
                        };
                        out.push((m.clone(), if landed { Ok(()) } else { Err(e.clone()) }));
                    }
                }
            }
        }
        out
    }

    /// Emails currently listed at a members collection (for checking a lost POST).
    async fn emails_at(&self, path: &str) -> Result<BTreeSet<Email>, ProviderError> {
        let items: Vec<GroupMembership> = self.list(path).await?.items;
        Ok(items
            .iter()
            .filter_map(|i| {
                i.email
                    .as_deref()
                    .or_else(|| i.user.as_ref().and_then(|u| u.email.as_deref()))
            })
            .filter_map(|e| Email::parse(e).ok())
            .collect())
    }

    async fn apply_campaign(
        &self,
        w: &WriteClient,
        campaign: &str,
        mode: Mode,
        members: &[MemberChange],
        basis: Option<&LiveResource>,
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        let path = format!(
            "/api/organizations/{}/campaigns/{campaign}/members/",
            self.org
        );
        let mut out = Vec::new();
        let upserts: Vec<&MemberChange> = members
            .iter()
            .filter(|m| {
                matches!(
                    m.action,
                    MemberAction::Add { .. } | MemberAction::SetData { .. }
                )
            })
            .collect();
        if !upserts.is_empty() {
            let item = |m: &MemberChange| json!({"email": m.member.email.as_ref().map(Email::as_str).unwrap_or(""), "data": upserted_data(m)});
            out.extend(self.post_list(w, &path, &upserts, item).await);
        }
        let removals: Vec<&MemberChange> =
            members.iter().filter(|m| m.action.is_removal()).collect();
        if !removals.is_empty() {
            let result = if mode != Mode::Exact {
                Err(w.protocol("remove", "campaign members can only be removed by replacing the list, which teamsync does only for mode: exact"))
            } else {
                match replacement(basis, &removals, &out) {
                    Ok(keep) => match w.url(&path) {
                        Ok(url) => w
                            .send_ok(&Req::new(Method::PUT, url, V2).json(keep))
                            .await
                            .map(|_| ()),
                        Err(e) => Err(e),
                    },
                    Err(why) => Err(w.protocol("remove", why)),
                }
            };
            out.extend(removals.into_iter().map(|m| (m.clone(), result.clone())));
        }
        for m in members.iter().filter(|m| {
            matches!(
                m.action,
                MemberAction::SetRole { .. } | MemberAction::Invite { .. }
            )
        }) {
            out.push((
                m.clone(),
                Err(w.protocol("apply", "campaign members have no role")),
            ));
        }
        out
    }
}

/// The data an add or a data change sends for a campaign member.
fn upserted_data(m: &MemberChange) -> Data {
    match &m.action {
        MemberAction::Add { data, .. } | MemberAction::SetData { data, .. } => data.clone(),
        _ => Data::new(),
    }
}

/// The body of the PUT that removes `removals` from a campaign: every member the plan read
/// (`basis`), less those removed, with the data this run wrote, plus every member this run
/// added. It is never built from a read made after this run's own writes, since an API
/// that answers a moment late would have it drop a member just added and bring back data
/// just changed. An add or data change whose answer was lost counts as written (keeping a
/// person is the safe side); one the API refused (4xx) does not. Refused, with the reason,
/// when the plan's read cannot prove it saw every member with their email.
fn replacement(
    basis: Option<&LiveResource>,
    removals: &[&MemberChange],
    written: &[(MemberChange, Result<(), ProviderError>)],
) -> Result<Value, String> {
    let Some(basis) = basis else {
        return Err("teamsync has no read of this campaign's members from the plan to build the list to keep from; nothing was replaced (run `teamsync apply` again)".into());
    };
    if basis.uncounted {
        return Err("the campaign's member list came without X-Total-Count, so teamsync cannot prove it saw every member; it never replaces a list it could not count".into());
    }
    if let Some(m) = basis.members.iter().find(|m| m.email.is_none()) {
        return Err(format!(
            "campaign member {} came without an email, so a replace could not keep them; nothing was replaced",
            m.user_id.as_deref().unwrap_or("(no id)")
        ));
    }
    let gone: BTreeSet<&Email> = removals
        .iter()
        .filter_map(|m| m.member.email.as_ref())
        .collect();
    // What this run wrote, by email: its data wins over what the plan read.
    let mut wrote: std::collections::BTreeMap<&Email, Data> = written
        .iter()
        .filter(|(_, r)| match r {
            Ok(()) => true,
            Err(e) => e.is_transient(),
        })
        .filter_map(|(m, _)| Some((m.member.email.as_ref()?, upserted_data(m))))
        .collect();
    let mut keep: Vec<Value> = Vec::new();
    for m in &basis.members {
        let Some(email) = m.email.as_ref() else {
            continue;
        };
        if gone.contains(email) {
            continue;
        }
        let data = wrote.remove(email).unwrap_or_else(|| m.data.clone());
        keep.push(json!({"email": email.as_str(), "data": data}));
    }
    for (email, data) in wrote {
        if !gone.contains(email) {
            keep.push(json!({"email": email.as_str(), "data": data}));
        }
    }
    Ok(Value::Array(keep))
}

/// A DELETE whose target is already gone (404) has done its job.
async fn delete_tolerating_gone(w: &WriteClient, req: Req) -> Result<(), ProviderError> {
    let resp = w.send(&req).await?;
    match resp.status {
        200..=299 | 404 => Ok(()),
        _ => Err(w.error(&req, &resp)),
    }
}
