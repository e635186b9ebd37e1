//! Groups: their members read, and changed by one list POST or one DELETE per member.

use super::*;

impl Pixiebrix {
    pub(super) async fn group_members(
        &self,
        group: &str,
    ) -> Result<Vec<LiveMember>, ProviderError> {
        let seen = self.seen.clone();
        let member = move |gm: GroupMembership| {
            let email = gm
                .email
                .as_deref()
                .or_else(|| gm.user.as_ref().and_then(|u| u.email.as_deref()))
                .and_then(|e| seen.email(e));
            LiveMember {
                user_id: seen.text_of(gm.user.as_ref().and_then(|u| u.id.as_deref())),
                email,
                name: seen.text_of(gm.user.as_ref().and_then(|u| u.name.as_deref())),
                membership_id: Some(gm.id.into()),
                ..LiveMember::default()
            }
        };
        Ok(self
            .list_kept(&format!("/api/groups/{group}/memberships/"), member)
            .await?
            .items)
    }

    pub(super) async fn apply_group(
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
            super::super::each_member(removals, |m| {
                let (w, group) = (w.clone(), group.to_string());
                let id = m.member.membership_id.clone();
                async move {
                    match id {
                        Some(id) => {
                            let url = w.url(&format!("/api/groups/{group}/memberships/{id}/"))?;
                            w.delete_gone(Req::new(Method::DELETE, url, V2)).await
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
    pub(super) async fn post_list(
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
    pub(super) async fn emails_at(&self, path: &str) -> Result<BTreeSet<Email>, ProviderError> {
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
}
