//! The access rules of `policy:` (issue 35), checked offline: temporary access stays
//! ordinary (no owner or admin with `until:`), `until:` at most `max_until_days` ahead,
//! `require_until` domains always expire, and a declared `exact` team or roster keeps
//! `min_owners`. Each violation is located at its member (or container), names its rule
//! and the fix. The plan checks `min_owners` again against live state
//! (`changeset::diff::members::guard_access`), where an `additive` team's live owners count.

use super::*;

impl Checker<'_> {
    /// The member rules, for one member at `at`.
    pub(super) fn member_rules(
        &mut self,
        key: &MemberKey,
        member: &DesiredMember,
        provider: ProviderKind,
        kind: ResourceKind,
        at: impl Fn() -> Location,
    ) {
        let who = member
            .handle
            .as_deref()
            .map_or_else(|| key.to_string(), |h| format!("`{h}`"));
        if let (Some(until), Some(role)) = (member.until, member.role)
            && role.is_privileged()
            && !self.policy.allow_temporary_owners
        {
            self.error(
                Diagnostic::error(format!(
                    "{who} has `until: {until}` and role {role}: temporary access may not be owner or admin (rule: temporary access is ordinary)"
                ))
                .at(at())
                .with_hint(format!(
                    "drop `role: {role}` for temporary access, or drop `until:` if the access is lasting (or set `policy.allow_temporary_owners: true`)"
                )),
            );
        }
        if let (Some(until), Some(max)) = (member.until, self.policy.max_until_days) {
            let latest = self
                .today
                .saturating_add(jiff::Span::new().days(i64::from(max)));
            if until > latest {
                self.error(
                    Diagnostic::error(format!(
                        "{who} has `until: {until}`, more than {max} days ahead (rule: policy.max_until_days)"
                    ))
                    .at(at())
                    .with_hint(format!(
                        "write a date on or before {latest}, and extend it in a later pull request when it is still needed"
                    )),
                );
            }
        }
        if member.until.is_none()
            && let MemberKey::Email(email) = key
            && self.policy.require_until.contains(email.domain())
        {
            self.error(
                Diagnostic::error(format!(
                    "{who} ({email}) has no `until:`, which {} requires (rule: policy.require_until)",
                    email.domain()
                ))
                .at(at())
                .with_hint(format!(
                    "give the person or this membership an `until: YYYY-MM-DD` within the contract; {provider} {kind} access in {} always expires",
                    email.domain()
                )),
            );
        }
    }

    /// `min_owners` on a declared `exact` GitBook team or PixieBrix roster: its declared
    /// owners (admins) are all it will have after the plan.
    pub(super) fn container_rules(&mut self, resource: &DesiredResource, at: &Location) {
        let Some(min) = self.policy.min_owners else {
            return;
        };
        let Some(kind) = self.providers.get(&resource.key.provider).map(|p| p.kind) else {
            return;
        };
        let Some(role) = kind.spec().owner_role(resource.key.kind) else {
            return;
        };
        let what = role.as_str();
        if resource.mode != crate::model::Mode::Exact {
            return;
        }
        let today = self.today;
        let owners = resource
            .members
            .values()
            .filter(|m| m.role == Some(role) && m.until.is_none_or(|u| u >= today))
            .count();
        if owners < min as usize {
            self.error(
                Diagnostic::error(format!(
                    "{} declares {owners} {what}{}; the rule policy.min_owners needs at least {min}",
                    resource.key,
                    if owners == 1 { "" } else { "s" }
                ))
                .at(at.clone())
                .with_hint(format!(
                    "give {} more member{} `role: {role}`, or lower policy.min_owners",
                    min as usize - owners,
                    if min as usize - owners == 1 { "" } else { "s" }
                )),
            );
        }
    }
}
