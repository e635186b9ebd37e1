//! PixieBrix Developer API client (`docs/providers/API_NOTES.md` §1): organization roster,
//! groups, campaigns.
//! Paths end with a slash; lists are read at version 2.0 with `page_size=1000`, following
//! `Link rel="next"` verbatim; the 1.0-only detail routes get version 1.0 (§1.1 rule).
//! Group members are added in one POST and campaign members added or updated in one
//! POST; a campaign removal is a PUT of the remaining set built from the plan's own read,
//! and only for `mode: exact`.
//!
//! One file per resource: `roster` (memberships, roles, who-am-I, invitations), `groups`,
//! `campaigns`; this file holds the client, its paging, the read of all three and the
//! dispatch of a change to its resource.

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

mod campaigns;
mod groups;
mod roster;

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
        self.list_kept(path, |item: T| item).await
    }

    /// [`Self::list`], each item turned by `keep` into what the read keeps as its page
    /// arrives, so a page's wire items live only until their page is read.
    async fn list_kept<T, U, K>(&self, path: &str, keep: K) -> Result<Listed<U>, ProviderError>
    where
        T: for<'de> Deserialize<'de> + Identified + Send + 'static,
        U: Send + 'static,
        K: Fn(T) -> U + Clone + Send + 'static,
    {
        paging::read_whole(&self.client, path, || self.list_once(path, keep.clone())).await
    }

    fn page_url(&self, path: &str, n: usize) -> Result<url::Url, ProviderError> {
        let mut url = self.client.url(path)?;
        url.query_pairs_mut()
            .append_pair("page_size", &PAGE_SIZE.to_string())
            .append_pair("page", &n.to_string());
        Ok(url)
    }

    async fn list_once<T, U, K>(
        &self,
        path: &str,
        keep: K,
    ) -> Result<Result<Listed<U>, Incomplete>, ProviderError>
    where
        T: for<'de> Deserialize<'de> + Identified + Send + 'static,
        U: Send + 'static,
        K: Fn(T) -> U + Clone + Send + 'static,
    {
        let url = self.page_url(path, 1)?;
        let first = self.client.get(url.clone(), V2).await?;
        let first_items: Vec<T> = self.page_items(&url, &first)?;
        let Some(total) = total_count(&first) else {
            return self.list_uncounted(path, first_items, keep).await;
        };
        let per = first_items.len();
        let mut tally = paging::Tally::default();
        let mut items = paging::kept(first_items, &mut tally, &keep);
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
            // Each page is checked, parsed and kept by the task that received it, as soon
            // as it arrives, so a page's body and wire items live only until its items are
            // read: at most the requests in flight (`--parallelism`) hold a body, however
            // many pages wait.
            let mut tasks = tokio::task::JoinSet::new();
            for n in 2..=pages {
                let client = self.client.clone();
                let url = self.page_url(path, n)?;
                let keep = keep.clone();
                tasks.spawn(async move {
                    let page = counted_page::<T>(&client, url, n, pages, total).await;
                    (
                        n,
                        page.map(|p| p.map(|items| paging::Page::of(items, keep))),
                    )
                });
            }
            let mut rest: Vec<(usize, paging::Page<U>)> = Vec::with_capacity(pages - 1);
            while let Some(joined) = tasks.join_next().await {
                let (n, page) =
                    joined.map_err(|e| self.client.protocol(path, format!("task failed: {e}")))?;
                match page? {
                    Ok(page) => rest.push((n, page)),
                    Err(why) => return Ok(Err(why)),
                }
            }
            rest.sort_by_key(|(n, _)| *n);
            paging::reserve(&mut items, total);
            tally.expect(total);
            for (_, page) in rest {
                tally.add(page.ids);
                items.extend(page.items);
            }
        }
        Ok(tally.check_count(total).map(|()| Listed {
            items,
            counted: true,
        }))
    }

    /// A list whose answers carry no count: read page after page until one is short or
    /// empty, or the API says the page is past the end.
    async fn list_uncounted<T, U, K>(
        &self,
        path: &str,
        first: Vec<T>,
        keep: K,
    ) -> Result<Result<Listed<U>, Incomplete>, ProviderError>
    where
        T: for<'de> Deserialize<'de> + Identified,
        K: Fn(T) -> U,
    {
        let per = first.len();
        let first = paging::Page::of(first, &keep);
        let mut tally = paging::Tally::default();
        tally.add(first.ids.iter().cloned());
        let (mut items, mut previous) = (first.items, first.ids);
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
            let page = paging::Page::of(self.page_items::<T>(&url, &resp)?, &keep);
            if !page.ids.is_empty() && page.ids == previous {
                return Ok(Err(Incomplete::Broken(format!(
                    "page {n} repeats page {}: the list does not end",
                    n - 1
                ))));
            }
            last = page.ids.len();
            tally.add(page.ids.iter().cloned());
            items.extend(page.items);
            previous = page.ids;
        }
        Ok(tally.check_unique().map(|()| Listed {
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

    /// The groups or campaigns in scope, each with its members.
    async fn read_containers(
        &self,
        scope: &ReadScope,
        kind: ResourceKind,
    ) -> Result<Vec<LiveResource>, ProviderError> {
        if !scope.touches(kind) {
            return Ok(Vec::new());
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
                    uncounted: !counted,
                    ..LiveResource::container(
                        this.key(kind, &c.name),
                        c.id.clone(),
                        paging::fitted(members),
                    )
                })
            });
        }
        super::each_read(&self.client, tasks).await
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

    /// The detail route of a live group (version 1.0) or campaign (2.0), for `what`.
    fn detail_route(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
        what: &str,
    ) -> Result<(String, &'static str), ProviderError> {
        let id = w.live_id(change, what)?;
        Ok(match change.key.kind {
            ResourceKind::Group => (format!("/api/groups/{id}/"), V1),
            _ => (
                format!("/api/organizations/{}/campaigns/{id}/", self.org),
                V2,
            ),
        })
    }

    pub(super) async fn rename(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<(), ProviderError> {
        let (path, accept) = self.detail_route(w, change, "rename")?;
        let req =
            Req::new(Method::PATCH, w.url(&path)?, accept).json(json!({"name": change.key.name}));
        w.send_ok(&req).await.map(|_| ())
    }

    pub(super) async fn delete(
        &self,
        w: &WriteClient,
        change: &ResourceChange,
    ) -> Result<(), ProviderError> {
        let (path, accept) = self.detail_route(w, change, "delete")?;
        w.delete_gone(Req::new(Method::DELETE, w.url(&path)?, accept))
            .await
    }
}
