//! Campaigns: their members with data, changed by upserts or, for removals, by a PUT
//! of the whole list built from the plan's own read.

use super::*;

impl Pixiebrix {
    /// A campaign's members, and whether the list was proven whole against its count.
    pub(super) async fn campaign_members(
        &self,
        campaign: &str,
    ) -> Result<(Vec<LiveMember>, bool), ProviderError> {
        let seen = self.seen.clone();
        let member = move |cm: CampaignMember| LiveMember {
            user_id: seen.text_of(cm.account.as_ref().and_then(|u| u.id.as_deref())),
            email: cm.email.as_deref().and_then(|e| seen.email(e)),
            name: seen.text_of(cm.account.as_ref().and_then(|u| u.name.as_deref())),
            data: cm.data,
            ..LiveMember::default()
        };
        let listed = self
            .list_kept(
                &format!(
                    "/api/organizations/{}/campaigns/{campaign}/members/",
                    self.org
                ),
                member,
            )
            .await?;
        let (members, counted) = (listed.items, listed.counted);
        Ok((members, counted))
    }

    pub(super) async fn apply_campaign(
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
                            .send_ok(&Req::new(Method::PUT, url, V2).json_text(keep))
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
) -> Result<String, String> {
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
    // Written straight to its text: no tree of values per member beside the read.
    #[derive(serde::Serialize)]
    struct Kept<'a> {
        email: &'a str,
        data: std::borrow::Cow<'a, Data>,
    }
    let mut keep: Vec<Kept> = Vec::with_capacity(basis.members.len() + wrote.len());
    for m in &basis.members {
        let Some(email) = m.email.as_ref() else {
            continue;
        };
        if gone.contains(email) {
            continue;
        }
        let data = match wrote.remove(email) {
            Some(d) => std::borrow::Cow::Owned(d),
            None => std::borrow::Cow::Borrowed(&m.data),
        };
        keep.push(Kept {
            email: email.as_str(),
            data,
        });
    }
    for (email, data) in wrote {
        if !gone.contains(email) {
            keep.push(Kept {
                email: email.as_str(),
                data: std::borrow::Cow::Owned(data),
            });
        }
    }
    serde_json::to_string(&keep).map_err(|e| format!("cannot write the list to keep: {e}"))
}
