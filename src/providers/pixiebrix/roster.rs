//! The organization roster: its memberships and their roles, the addresses of user ids,
//! who the token is, invitations sent, listed and withdrawn.

use super::*;

impl Pixiebrix {
    /// Roster members listed without `user.email` are read one by one by their membership
    /// id (`GET /api/memberships/{id}/`, 1.0): the roster is the directory, so there is no
    /// bulk route. Past [`ROSTER_LOOKUPS`] they stay unresolved, and are never removed.
    pub(super) async fn resolve_roster(&self, out: &mut [LiveResource]) {
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
    pub(super) async fn resolve(&self, out: &mut [LiveResource]) {
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

    pub(super) async fn read_organization(&self) -> Result<LiveResource, ProviderError> {
        let memberships_path = format!("/api/organizations/{}/memberships/", self.org);
        let invitations_path = format!("/api/organizations/{}/invitations/", self.org);
        let seen = self.seen.clone();
        let member = move |m: Membership| {
            let role = role_from(&m.role);
            LiveMember {
                user_id: seen.text_of(m.user.id.as_deref()),
                email: m.user.email.as_deref().and_then(|e| seen.email(e)),
                name: seen.text_of(m.user.name.as_deref()),
                unknown_role: role.as_ref().err().map(|r| seen.text(r)),
                role: role.ok(),
                data: Data::new(),
                account: m.user.kind(),
                membership_id: Some(m.id.to_string().into()),
                pending: false,
                unknown_status: None,
            }
        };
        let (members, invitations, who_am_i) = tokio::join!(
            self.list_kept(&memberships_path, member),
            self.list::<Invitation>(&invitations_path),
            self.who_am_i(),
        );
        let (members, invitations) = (members?.items, invitations?.items);
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
    pub(super) async fn who_am_i(&self) -> WhoAmI {
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

    pub(super) async fn apply_organization(
        &self,
        w: &WriteClient,
        members: &[MemberChange],
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        let mut out = Vec::new();
        for m in members {
            let result = match &m.action {
                MemberAction::Remove => match m.member.membership_id.as_deref() {
                    Some(id) => match w.url(&format!("/api/memberships/{id}/")) {
                        Ok(url) => w.delete_gone(Req::new(Method::DELETE, url, V1)).await,
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

    pub(super) async fn invite(
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
    pub(super) async fn open_invitations(
        &self,
        email: &Email,
    ) -> Result<Vec<String>, ProviderError> {
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
    pub(super) async fn revoke(
        &self,
        w: &WriteClient,
        m: &MemberChange,
    ) -> Result<(), ProviderError> {
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
}
