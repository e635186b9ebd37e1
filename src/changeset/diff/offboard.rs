//! Leavers: every live access of an offboarded person, removed in one plan.

use super::*;

/// Offboarded people leave everything: every live container of every provider that lists
/// them (declared or not, whatever its mode), each organization, and their open
/// invitations. A removal the diff already made for them gains the `offboarded` flag.
pub(super) fn offboard<'a>(
    input: DiffInput<'a>,
    changes: &mut Vec<ResourceChange>,
    seen: &mut SeenLive<'a>,
    notes: &mut Vec<PlanNote>,
    blocked: &mut Vec<super::super::Blocked>,
) {
    let gone = &input.desired.offboarded;
    if gone.is_empty() {
        return;
    }
    for live in input.live.resources.values() {
        let leaving: Vec<&LiveMember> = live
            .members
            .iter()
            .filter(|m| m.email.as_ref().is_some_and(|e| gone.contains_key(e)))
            .collect();
        let invited: Vec<&Email> = live
            .pending_invites
            .iter()
            .filter(|e| gone.contains_key(*e))
            .collect();
        if leaving.is_empty() && invited.is_empty() {
            continue;
        }
        let declared_mode = input.desired.resources.get(&live.key).map(|d| d.mode);
        if declared_mode == Some(Mode::Observe) {
            // Another system owns these members: say who should be removed there.
            let who: Vec<String> = leaving
                .iter()
                .filter_map(|m| m.email.as_ref().map(|e| e.to_string()))
                .chain(invited.iter().map(|e| e.to_string()))
                .collect();
            notes.push(PlanNote {
                resource: live.key.clone(),
                message: format!(
                    "offboarded, and in this observed container (mode: observe), which teamsync never writes: remove {} where its members are managed",
                    who.join(", ")
                ),
            });
            continue;
        }
        let change = change_of_live(changes, seen, live);
        if declared_mode.is_none() && change.action == ResourceAction::Update {
            // Undeclared: only these removals, addressed one by one.
            change.mode = Mode::Exact;
        }
        let organization = live.key.kind == ResourceKind::Organization;
        for have in leaving {
            let handle = have.email.as_ref().and_then(|e| gone.get(e)).cloned();
            // Never the token's own account, and nobody when teamsync could not ask whose
            // it is: that would lock teamsync (and whoever runs it) out.
            let refused = match (&live.who_am_i, organization) {
                (crate::model::WhoAmI::User(me), true) if have.user_id.as_deref() == Some(me) => Some(
                    "this is the account teamsync's token belongs to; offboarding it would lock teamsync out. Run teamsync with another account's token, or remove it in the admin console".to_string(),
                ),
                (crate::model::WhoAmI::Unknown(why), true) => Some(format!(
                    "teamsync could not ask whose account its token is ({why}), so it removes nobody from the organization; check the token, then plan again"
                )),
                _ => None,
            };
            // A removal a guard already refused (the last owner of a team) stays refused.
            let held = blocked.iter().any(|b| {
                b.change.action.is_removal()
                    && b.change.member.email == have.email
                    && (b.resource == change.key || b.resource == live.key)
            });
            if held {
                continue;
            }
            if let Some(reason) = refused {
                let mut member = member_ref(None, None, Some(have));
                member.handle = handle;
                change
                    .members
                    .retain(|m| m.member.email != have.email || !m.action.is_removal());
                blocked.push(super::super::Blocked {
                    resource: live.key.clone(),
                    change: MemberChange {
                        member,
                        action: MemberAction::Remove,
                        risks: vec![Risk::Removal, Risk::Offboarded],
                    },
                    reason,
                });
                continue;
            }
            match change
                .members
                .iter_mut()
                .find(|m| m.action.is_removal() && m.member.email == have.email)
            {
                Some(existing) => {
                    if !existing.risks.contains(&Risk::Offboarded) {
                        existing.risks.push(Risk::Offboarded);
                    }
                    existing.member.handle = existing.member.handle.take().or(handle);
                }
                None => {
                    // Whatever else the plan does for them here gives way to leaving.
                    change.members.retain(|m| m.member.email != have.email);
                    let mut member = member_ref(None, None, Some(have));
                    member.handle = handle;
                    let mut risks = vec![Risk::Removal, Risk::Offboarded];
                    if organization {
                        risks.push(Risk::Leaver);
                    }
                    risks.sort();
                    change.members.push(MemberChange {
                        member,
                        action: MemberAction::Remove,
                        risks,
                    });
                }
            }
        }
        for email in invited {
            change
                .members
                .retain(|m| m.member.email.as_ref() != Some(email));
            change.members.push(MemberChange {
                member: MemberRef {
                    email: Some(email.clone()),
                    handle: gone.get(email).cloned(),
                    ..MemberRef::default()
                },
                action: MemberAction::Revoke,
                risks: vec![Risk::Offboarded],
            });
        }
        sort_members(&mut change.members);
    }
    for settings in input.providers.values() {
        if !settings.kind.spec().lists_invitations && directory_of(input.live, settings).is_some() {
            for email in gone.keys() {
                notes.push(PlanNote {
                    resource: ResourceKey::new(
                        settings.name.clone(),
                        ResourceKind::Organization,
                        settings.organization.clone(),
                    ),
                    message: format!(
                        "{email} is offboarded; {vendor} cannot list invitations, so if they were invited and never accepted, withdraw the invitation in {vendor}",
                        vendor = settings.kind.spec().vendor
                    ),
                });
            }
        }
    }
}
