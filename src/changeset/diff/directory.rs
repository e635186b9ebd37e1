//! Who may join a container: the organization's directory, each person's standing in
//! it, and the invitations a plan sends.

use super::*;

/// A person the roster lists who is not in the live organization: invite, or say why not.
#[allow(clippy::too_many_arguments)]
pub(super) fn missing_from_organization(
    desired: &DesiredResource,
    live: Option<&LiveResource>,
    key: &MemberKey,
    want: &DesiredMember,
    role: Option<InviteRole>,
    invite: bool,
    notes: &mut Vec<PlanNote>,
    out: &mut Vec<MemberChange>,
) {
    let resource = desired.key.clone();
    let MemberKey::Email(email) = key else {
        notes.push(PlanNote {
            resource,
            message: format!(
                "{key} is not a member of the organization and cannot be invited by user id"
            ),
        });
        return;
    };
    if live.is_some_and(|l| l.pending_invites.contains(email)) {
        notes.push(PlanNote {
            resource,
            message: format!("{email} has a pending invitation"),
        });
    } else if invite {
        let role = role.unwrap_or(InviteRole::Member);
        let risks = if role.is_privileged() {
            vec![Risk::PrivilegeRaised]
        } else {
            vec![]
        };
        out.push(MemberChange {
            member: member_ref(Some(key), Some(want), None),
            action: MemberAction::Invite { role },
            risks,
        });
    } else {
        notes.push(PlanNote {
            resource,
            message: format!(
                "{email} is not a member of the organization; set `invite: true` on provider `{}` to invite them",
                desired.key.provider
            ),
        });
    }
}

/// The live organization of a provider, when its directory was read: who may join its
/// containers (members, pending memberships, open invitations).
pub(super) fn directory_of<'a>(
    live: &'a LiveState,
    settings: &ProviderSettings,
) -> Option<&'a LiveResource> {
    live.resources.get(&ResourceKey::new(
        settings.name.clone(),
        ResourceKind::Organization,
        settings.organization.clone(),
    ))
}

/// Whether someone may join a container of this provider now.
pub(super) enum Standing<'a> {
    /// A member of the organization (or, on Contentful, a pending membership, which may
    /// join teams before the invitation is accepted).
    Member(&'a LiveMember),
    /// Invited, not accepted yet: they cannot join containers until they do.
    Invited,
    /// Not in the organization at all.
    Outside,
}

/// A provider's organization directory, with its members found by email.
pub(super) struct Directory<'a> {
    pub(super) live: &'a LiveResource,
    by_email: HashMap<&'a str, &'a LiveMember, Fast>,
    /// Every member came with an email: only then does absence prove someone outside.
    named: bool,
}

impl<'a> Directory<'a> {
    pub(super) fn new(live: &'a LiveResource) -> Self {
        let mut by_email = HashMap::with_capacity_and_hasher(live.members.len(), Fast::default());
        for m in &live.members {
            if let Some(e) = &m.email {
                by_email.entry(e.as_str()).or_insert(m);
            }
        }
        Directory {
            named: live.members.iter().all(|m| m.email.is_some()),
            live,
            by_email,
        }
    }

    fn standing(&self, kind: ProviderKind, email: &Email) -> Standing<'a> {
        match self.by_email.get(email.as_str()) {
            Some(m) if !m.pending || kind.spec().pending_members_join => Standing::Member(m),
            Some(_) => Standing::Invited,
            None if self.live.pending_invites.contains(email) => Standing::Invited,
            None => Standing::Outside,
        }
    }
}

/// Adds to a group, campaign or team for people who are not in the provider's
/// organization: invited first (`invite: true`), waiting for an invitation to be accepted,
/// or blocked with the reason and the fix. Nothing here is ever sent as an add that the
/// API would refuse, so one such person never fails the others' changes.
pub(super) fn eligibility(
    desired: &DesiredResource,
    settings: &ProviderSettings,
    directory: Option<&Directory<'_>>,
    members: &mut Vec<MemberChange>,
    blocked: &mut Vec<super::super::Blocked>,
    waiting: &mut Vec<super::super::Blocked>,
    to_invite: &mut BTreeMap<String, BTreeMap<Email, Option<String>>>,
) {
    let Some(directory) = directory else { return };
    if desired.key.kind == ResourceKind::Organization {
        return;
    }
    let (org, key) = (settings.kind, &desired.key);
    // A directory with members it could not name proves nobody absent: their add is sent
    // as before, and the API decides.
    let named = directory.named;
    // PixieBrix lets people of a verified domain join groups and campaigns as they are.
    let verified = |email: &Email| {
        org.spec().verified_domains && settings.verified_domains.contains(email.domain())
    };
    let mut kept = Vec::with_capacity(members.len());
    for m in members.drain(..) {
        let email = match (&m.action, &m.member.email) {
            (MemberAction::Add { .. }, Some(email)) => email.clone(),
            _ => {
                kept.push(m);
                continue;
            }
        };
        let hold = |reason: String| super::super::Blocked {
            resource: key.clone(),
            change: m.clone(),
            reason,
        };
        match directory.standing(org, &email) {
            Standing::Member(found) => {
                // The add carries the ids the directory gave (GitBook user id, Contentful
                // organization membership id), so apply need not look them up again.
                let mut m = m;
                if m.member.user_id.is_none() {
                    m.member.user_id = found.user_id.clone();
                }
                if m.member.membership_id.is_none() && org.spec().adds_by_membership {
                    m.member.membership_id = found.membership_id.clone();
                }
                kept.push(m);
            }
            Standing::Invited | Standing::Outside if verified(&email) => kept.push(m),
            Standing::Invited => waiting.push(hold(format!(
                "{email} has an open invitation to the {} organization and joins {key} once they accept it; the next plan after that adds them",
                settings.name
            ))),
            Standing::Outside if !named => kept.push(m),
            Standing::Outside if settings.invite => {
                to_invite
                    .entry(settings.name.clone())
                    .or_default()
                    .insert(email.clone(), m.member.handle.clone());
                if org.spec().pending_members_join {
                    // The invitation makes a pending membership that may join teams at once.
                    kept.push(m);
                } else {
                    waiting.push(hold(format!(
                        "{email} is invited to the {} organization by this plan and joins {key} once they accept; the next plan after that adds them",
                        settings.name
                    )));
                }
            }
            Standing::Outside => blocked.push(hold(format!(
                "{email} is not a member of the {} organization ({org}), so they cannot join {key}; set `invite: true` on provider `{}` to invite them, or invite them in {} first",
                settings.name,
                settings.name,
                vendor(org)
            ))),
        }
    }
    *members = kept;
}

pub(super) fn vendor(kind: ProviderKind) -> &'static str {
    kind.spec().vendor
}

/// One invitation per person a container needs, on the organization's own change (with
/// the roster's invitations, where the PixieBrix roster is managed).
pub(super) fn invite_needed<'a>(
    input: DiffInput<'a>,
    to_invite: BTreeMap<String, BTreeMap<Email, Option<String>>>,
    changes: &mut Vec<ResourceChange>,
    seen: &mut SeenLive<'a>,
    notes: &mut Vec<PlanNote>,
) {
    for (provider, people) in to_invite {
        let Some(settings) = input.providers.get(&provider) else {
            continue;
        };
        let Some(directory) = directory_of(input.live, settings) else {
            continue;
        };
        let role = settings
            .invite_role
            .unwrap_or(InviteRole::default_for(settings.kind));
        if !settings.kind.spec().lists_invitations {
            for email in people.keys() {
                notes.push(PlanNote {
                    resource: directory.key.clone(),
                    message: format!(
                        "{vendor} lists no invitations: until {email} accepts, every apply invites them again ({vendor} sends the email again)",
                        vendor = settings.kind.spec().vendor
                    ),
                });
            }
        }
        let change = change_of_live(changes, seen, directory);
        for (email, handle) in people {
            let already = change
                .members
                .iter()
                .any(|m| m.member.email.as_ref() == Some(&email));
            if already {
                continue;
            }
            change.members.push(MemberChange {
                member: MemberRef {
                    email: Some(email),
                    handle,
                    ..MemberRef::default()
                },
                action: MemberAction::Invite { role },
                risks: if role.is_privileged() {
                    vec![Risk::PrivilegeRaised]
                } else {
                    vec![]
                },
            });
        }
        sort_members(&mut change.members);
    }
}
