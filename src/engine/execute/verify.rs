//! The read-back after apply: every "applied" step is checked against what the API shows,
//! with backoff for an API that answers late, so nothing unverified is reported done.

use std::collections::HashMap;

use super::*;

/// Reads back every resource apply touched and checks each "applied" step against it: an
/// API that answers success without doing the work is reported, never believed. APIs are
/// eventually consistent, so a step whose effect does not show yet is read again, with
/// backoff, for up to `--settle`; one that still does not show is "written, not yet
/// visible" ([`Outcome::NotYetVisible`]): not done, not a failure, and never followed by a
/// write that would undo or repeat it. A read-back that fails leaves nothing verified. A
/// write whose answer was lost or was a server error may have landed: it is read back the
/// same way and counts as done only if the read-back shows it.
///
/// The last read-back is also held against what the plan left as it was
/// ([`Plan::untouched`]): a member teamsync did not ask to change who is gone, or whose
/// role moved, is listed in [`Report::collateral`] (the API did more than it was sent, or
/// someone changed it meanwhile), and the run needs attention.
pub(super) async fn verify(
    plan: &Plan,
    conns: &Connections,
    desired: &DesiredState,
    report: &mut Report,
) {
    let start = std::time::Instant::now();
    // The steps still to verify, and what the last read-back did not show of each. A write
    // whose answer was lost ("unsure") is read back for as long, since it may be late too;
    // one that never shows stays failed (nothing says it landed), never "not yet visible".
    let mut pending: BTreeMap<usize, Unseen> = BTreeMap::new();
    let mut unsure: BTreeMap<usize, Unseen> = BTreeMap::new();
    for (i, s) in report.steps.iter().enumerate() {
        match &s.outcome {
            Outcome::Applied => {
                pending.insert(i, Unseen::NotShown(String::new()));
            }
            Outcome::Failed(f) if f.unsure => {
                unsure.insert(i, Unseen::NotShown(String::new()));
            }
            _ => {}
        }
    }
    let mut attempt = 0;
    let mut last = None;
    while !pending.is_empty() || !unsure.is_empty() {
        let providers: BTreeSet<String> = pending
            .keys()
            .chain(unsure.keys())
            .map(|i| report.steps[*i].key.provider.clone())
            .collect();
        let live = read_back(plan, conns, providers).await;
        let mut check =
            |i: &usize, why: &mut Unseen| match problem(plan, conns, &live, &report.steps[*i]) {
                None => false,
                Some(p) => {
                    *why = p;
                    true
                }
            };
        pending.retain(&mut check);
        let before: BTreeSet<usize> = unsure.keys().copied().collect();
        unsure.retain(&mut check);
        // A lost answer whose write the read-back shows: done, and verified. Members of a
        // container whose change is confirmed so were not sent (nothing said the change
        // landed), and say so.
        for i in before.into_iter().filter(|i| !unsure.contains_key(i)) {
            report.steps[i].outcome = Outcome::Applied;
            if report.steps[i].member.is_none() {
                let key = report.steps[i].key.clone();
                for s in report
                    .steps
                    .iter_mut()
                    .filter(|s| s.key == key && s.member.is_some())
                {
                    if let Outcome::Skipped(why) = &mut s.outcome {
                        *why = format!(
                            "not sent: the answer to {key}'s change was lost (the read-back shows the change made); the next apply sends it"
                        );
                    }
                }
            }
        }
        last = Some(live);
        if pending.is_empty() && unsure.is_empty() {
            break;
        }
        match crate::providers::settle_wait(start, conns.options.settle, attempt) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => break,
        }
        attempt += 1;
    }
    if let Some(live) = &last {
        report.collateral = collateral(plan, desired, live);
    }
    let waited = start.elapsed().as_secs_f64();
    for (i, why) in unsure {
        if let Outcome::Failed(f) = &mut report.steps[i].outcome {
            f.message = match why {
                Unseen::Unread(e) => format!(
                    "{} (it may have been applied; teamsync could not read it back{e}; the next plan shows whether it was)",
                    f.message
                ),
                Unseen::NotShown(what) => format!(
                    "{} (the read-back does not show it: {what}; the next plan shows whether it is still to do)",
                    f.message
                ),
            };
        }
    }
    for (i, why) in pending {
        let step = &mut report.steps[i];
        step.outcome = match why {
            Unseen::Unread(e) => Outcome::Failed(Failure {
                message: format!(
                    "the API answered success, but teamsync could not read it back to check it{e}"
                ),
                transient: true,
                unsure: false,
            }),
            Unseen::NotShown(what) => Outcome::NotYetVisible(format!(
                "the API answered success, but after {waited:.1} s (--settle) {what}; it may still be catching up: the next plan shows whether it did"
            )),
        };
    }
}

/// What the read-back shows changed of the members the plan left as they were: one line
/// per container, naming the declared members gone or re-roled (the others counted).
fn collateral(
    plan: &Plan,
    desired: &DesiredState,
    live: &BTreeMap<String, Result<LiveState, LiveError>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (key, before) in &plan.untouched {
        let Some(Ok(state)) = live.get(&key.provider) else {
            continue;
        };
        // A container the read-back does not find under its key (a rename that failed) is
        // reported by its own step.
        let Some(now) = state.resources.get(key) else {
            continue;
        };
        let standings: Vec<crate::model::Standing> = now
            .members
            .iter()
            .map(crate::model::LiveMember::standing)
            .collect();
        let by_email: HashMap<u64, u64> = standings
            .iter()
            .filter_map(|s| Some((s.email()?, s.role)))
            .collect();
        let by_user: HashMap<u64, u64> = standings
            .iter()
            .filter_map(|s| Some((s.user_id()?, s.role)))
            .collect();
        let (mut gone, mut moved) = (BTreeSet::new(), BTreeSet::new());
        for s in before {
            let role = s
                .email()
                .and_then(|e| by_email.get(&e))
                .or_else(|| s.user_id().and_then(|u| by_user.get(&u)));
            match role {
                None => gone.insert(s.email().or(s.user_id())),
                Some(r) if *r != s.role => moved.insert(s.email().or(s.user_id())),
                Some(_) => false,
            };
        }
        if gone.is_empty() && moved.is_empty() {
            continue;
        }
        // Names for the members the configuration declares; the rest are counted.
        let declared: HashMap<u64, String> = desired
            .resources
            .get(key)
            .into_iter()
            .flat_map(|r| r.members.keys())
            .map(|k| match k {
                MemberKey::Email(e) => (crate::model::hash_of(e.as_str()), e.to_string()),
                MemberKey::UserId(u) => (crate::model::hash_of(&**u), format!("user {u}")),
            })
            .collect();
        let describe = |set: &BTreeSet<Option<u64>>| -> String {
            let mut names: Vec<&str> = set
                .iter()
                .filter_map(|h| declared.get(&(*h)?).map(String::as_str))
                .collect();
            names.sort_unstable();
            let others = set.len() - names.len();
            let mut text = names.join(", ");
            if others > 0 {
                if !text.is_empty() {
                    text.push_str(" and ");
                }
                text.push_str(&format!(
                    "{others} undeclared member{}",
                    if others == 1 { "" } else { "s" }
                ));
            }
            text
        };
        let mut what = Vec::new();
        if !gone.is_empty() {
            what.push(format!("{} no longer in it", describe(&gone)));
        }
        if !moved.is_empty() {
            what.push(format!("{} with another role", describe(&moved)));
        }
        out.push(format!(
            "{key}: {}, although teamsync sent no change for them (the API did more than it was asked, or someone changed it meanwhile); the next plan shows what to restore",
            what.join("; ")
        ));
    }
    out
}

/// What a read-back does not show of a step.
enum Unseen {
    /// The read-back itself failed (`": why"`, or empty when the provider was not read).
    Unread(String),
    /// It was read, and does not show this.
    NotShown(String),
}

/// One read of everything the plan touches at these providers.
async fn read_back(
    plan: &Plan,
    conns: &Connections,
    providers: BTreeSet<String>,
) -> BTreeMap<String, Result<LiveState, LiveError>> {
    let scopes = providers
        .into_iter()
        .map(|p| {
            let scope = scope_of(plan, &p);
            (p, scope)
        })
        .collect();
    read_each(conns, scopes, false)
        .await
        .into_iter()
        .map(|(provider, read)| {
            let state = read.map(|resources| LiveState {
                resources: resources.into_iter().map(|r| (r.key.clone(), r)).collect(),
            });
            (provider, state)
        })
        .collect()
}

/// What a read-back does not show of a step, if anything.
fn problem(
    plan: &Plan,
    conns: &Connections,
    live: &BTreeMap<String, Result<LiveState, LiveError>>,
    step: &Step,
) -> Option<Unseen> {
    match live.get(&step.key.provider) {
        None => Some(Unseen::Unread(String::new())),
        Some(Err(e)) => Some(Unseen::Unread(format!(": {e}"))),
        Some(Ok(state)) => {
            let kind = conns.endpoints.get(&step.key.provider).map(|(s, _)| s.kind);
            let description = plan
                .changes
                .iter()
                .find(|c| c.key == step.key)
                .and_then(|c| c.description.as_deref());
            not_in_effect(step, state, kind)
                .or_else(|| {
                    let live = state.resources.get(&step.key)?;
                    let want = description.filter(|_| step.member.is_none())?;
                    (live.description.as_deref().unwrap_or("") != want)
                        .then(|| format!("{}'s description is not {want:?}", step.key))
                })
                .map(Unseen::NotShown)
        }
    }
}

/// What of a step's intent the live state does not show, if anything.
fn not_in_effect(
    step: &Step,
    state: &LiveState,
    kind: Option<crate::model::ProviderKind>,
) -> Option<String> {
    let resource = state.resources.get(&step.key);
    let Some(change) = &step.member else {
        return match (&step.action, resource) {
            (Some(ResourceAction::Delete), Some(_)) => Some(format!("{} still exists", step.key)),
            (Some(ResourceAction::Delete), None) => None,
            (_, None) => Some(format!("{} is not there", step.key)),
            (_, Some(_)) => None,
        };
    };
    let who = &change.member;
    let Some(resource) = resource else {
        return (!change.action.is_removal()).then(|| format!("{} is not there", step.key));
    };
    let found = resource.members.iter().find(|m| {
        (who.email.is_some() && m.email == who.email)
            || (who.email.is_none() && who.user_id.is_some() && m.user_id == who.user_id)
            || (change.action.is_removal()
                && who.membership_id.is_some()
                && m.membership_id == who.membership_id)
    });
    let invited = who
        .email
        .as_ref()
        .is_some_and(|e| resource.pending_invites.contains(e));
    match (&change.action, found) {
        (MemberAction::Remove, Some(_)) => Some(format!("{who} is still in {}", step.key)),
        (MemberAction::Remove, None) => None,
        (MemberAction::Revoke, _) if invited => Some(format!(
            "{who} still has an open invitation to {}",
            step.key
        )),
        (MemberAction::Revoke, _) => None,
        // GitBook lists no email invitations: its invite answer's count is the check.
        (MemberAction::Invite { .. }, None)
            if kind.is_some_and(|k| !k.spec().lists_invitations) =>
        {
            None
        }
        (MemberAction::Invite { .. }, None)
            if who
                .email
                .as_ref()
                .is_some_and(|e| resource.pending_invites.contains(e)) =>
        {
            None
        }
        (_, None) => Some(format!("{who} is not in {}", step.key)),
        (MemberAction::Add { role: Some(r), .. }, Some(m))
        | (MemberAction::SetRole { to: r, .. }, Some(m))
            if m.role.is_some() && m.role != Some(*r) =>
        {
            Some(format!(
                "{who} is {} in {}, not {r}",
                m.role
                    .map_or("without a role".to_string(), |x| x.to_string()),
                step.key
            ))
        }
        (MemberAction::SetRole { to, .. }, Some(m)) if m.role.is_none() => {
            Some(format!("{who} shows no role in {}, not {to}", step.key))
        }
        (MemberAction::Add { data, .. }, Some(m))
        | (MemberAction::SetData { data, .. }, Some(m))
            if step.key.kind == crate::model::ResourceKind::Campaign && &m.data != data =>
        {
            Some(format!("{who}'s data in {} is not what was sent", step.key))
        }
        _ => None,
    }
}
