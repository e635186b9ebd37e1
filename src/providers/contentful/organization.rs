//! Changes to the Contentful organization itself: invitations and removals of organization
//! memberships.

use super::*;

impl Contentful {
    /// Organization-level changes, one request each: invitations (each makes a pending
    /// membership, remembered so the same run's team adds use it at once) and removals of
    /// organization memberships (offboarding; a pending one withdraws its invitation).
    pub(super) async fn update_organization(
        &self,
        w: &WriteClient,
        members: &[MemberChange],
    ) -> Vec<(MemberChange, Result<(), ProviderError>)> {
        super::super::each_member(members.iter().cloned(), |m| {
            let (this, w, m) = (self.sibling(), w.clone(), m.clone());
            async move { this.apply_organization_member(&w, &m).await }
        })
        .await
    }

    pub(super) async fn apply_organization_member(
        &self,
        w: &WriteClient,
        m: &MemberChange,
    ) -> Result<(), ProviderError> {
        match &m.action {
            MemberAction::Invite { role } => {
                let email = m
                    .member
                    .email
                    .as_ref()
                    .ok_or_else(|| w.protocol("invite", "an invitation needs an email"))?;
                let req = Req::new(
                    Method::POST,
                    w.url_of(&["organizations", &self.org, "invitations"])?,
                    MEDIA,
                )
                .content_type(MEDIA)
                // The documented alpha feature that makes the pending membership.
                .header(
                    "x-contentful-enable-alpha-feature",
                    "pending-org-membership".to_string(),
                )
                .json(json!({"email": email.as_str(), "role": role.as_str()}))
                // A repeat finds the invitation made: "already invited" (422) is done.
                .retry(Retry::Idempotent);
                let resp = w.send(&req).await?;
                match resp.status {
                    200..=299 => {
                        let made = resp
                            .parse::<Entity>()
                            .ok()
                            .and_then(|e| e.sys.organization_membership.and_then(|l| l.sys.id));
                        if let Some(id) = made {
                            self.remember([(email.clone(), id)]);
                        }
                        Ok(())
                    }
                    422 if already(&resp) => Ok(()),
                    _ => Err(w.error(&req, &resp)),
                }
            }
            MemberAction::Remove => {
                let id = m.member.membership_id.as_deref().ok_or_else(|| {
                    w.protocol("remove", "the plan has no organization-membership id")
                })?;
                let url =
                    w.url_of(&["organizations", &self.org, "organization_memberships", id])?;
                w.delete_gone(Req::new(Method::DELETE, url, MEDIA)).await
            }
            other => Err(w.protocol(
                "apply",
                format!("{other:?} does not apply to a Contentful organization"),
            )),
        }
    }
}
