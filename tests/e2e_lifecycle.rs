//! Onboarding and offboarding over real HTTP against the sandbox (issue 16): a new hire
//! invited and placed on all three providers, a person who may not join blocked without
//! failing anyone else, access that expires on its day (and is warned about before), and
//! an offboarded person removed from everything.

mod common;

use common::*;
use serde_json::{Value, json};
use teamsync::sandbox::{GitbookInvites, SandboxHandle};

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";
const TOKEN: &str = "lifecycle-secret-token-7731";

fn email(i: usize) -> String {
    format!("p{i}@acme.com")
}

/// p0..p3 are members of all three organizations; each container holds p0..p2, plus
/// undeclared containers holding p1 (PixieBrix group `Old`, GitBook team `T2`). PixieBrix
/// verifies no domain here, so its groups take members only.
fn world() -> Value {
    let people: Vec<(String, u8, &str)> = (0..4).map(|i| (email(i), 1, "human")).collect();
    let mut with_admin: Vec<(&str, u8, &str)> = people
        .iter()
        .map(|(e, r, k)| (e.as_str(), *r, *k))
        .collect();
    with_admin.push(("svc@acme.com", 2, "service"));
    let mut org = pixiebrix_org(ORG, &with_admin);
    org["verified_domains"] = json!([]);
    let in_group = |ids: &[usize]| -> Vec<Value> {
        ids.iter()
            .map(|i| json!({"id": uuid(500 + *i as u32), "email": email(*i)}))
            .collect()
    };
    org["groups"] = json!([
        {"id": uuid(900), "name": "G", "members": in_group(&[0, 1, 2])},
        {"id": uuid(901), "name": "Old", "members": [{"id": uuid(700), "email": email(1)}]}
    ]);
    let gb_members: Vec<Value> = (0..4)
        .map(|i| json!({"id": format!("u{i}"), "name": format!("P{i}"), "email": email(i), "role": "edit"}))
        .collect();
    let gb_team: Vec<Value> = (0..3)
        .map(|i| json!({"user": format!("u{i}"), "role": "member"}))
        .collect();
    let cf_users: Vec<Value> = (0..4)
        .map(|i| json!({"id": format!("U{i}"), "email": email(i)}))
        .collect();
    let cf_mems: Vec<Value> = (0..4)
        .map(|i| json!({"id": format!("OM{i}"), "user": format!("U{i}"), "role": if i == 0 {"owner"} else {"member"}}))
        .collect();
    let cf_team: Vec<Value> = (0..3)
        .map(|i| json!({"id": format!("TM{i}"), "membership": format!("OM{i}")}))
        .collect();
    json!({
        "pixiebrix": {"organizations": [org]},
        "gitbook": {"me": "u0", "organizations": {"acme": {"members": gb_members, "teams": [
            {"id": "t1", "title": "T", "members": gb_team},
            {"id": "t2", "title": "T2", "members": [{"user": "u1", "role": "member"}]}
        ]}}},
        "contentful": {"organizations": {"c1": {"users": cf_users, "memberships": cf_mems,
            "teams": [{"id": "T1", "name": "T", "members": cf_team}]}}}
    })
}

/// A repository managing the three containers `T`/`G`; `people` is the roster body,
/// `members` the member list each container gets, `provider_extra` is added to each
/// provider's mapping (for example `, invite: true`).
fn repo(handle: &SandboxHandle, people: &str, members: &str, provider_extra: &str) -> Repo {
    let base = handle.base_url();
    let root = format!(
        "version: 1\nproviders:\n  pb: {{kind: pixiebrix, organization: {ORG}, endpoint: \"{base}\", token_env: TEAMSYNC_LIFECYCLE_TOKEN{provider_extra}}}\n  docs: {{kind: gitbook, organization: acme, endpoint: \"{base}/v1\", token_env: TEAMSYNC_LIFECYCLE_TOKEN{provider_extra}}}\n  cms: {{kind: contentful, organization: c1, endpoint: \"{base}\", token_env: TEAMSYNC_LIFECYCLE_TOKEN{provider_extra}}}\npolicy:\n  allowed_email_domains: [acme.com]\ninclude: [c.yaml]\n"
    );
    let c = format!(
        "people:\n{people}groups:\n  - provider: pb\n    name: G\n    members: [{members}]\nteams:\n  - provider: docs\n    name: T\n    members: [{members}]\n  - provider: cms\n    name: T\n    members: [{members}]\n"
    );
    Repo::new(&[("teamsync.yaml", &root), ("c.yaml", &c)])
}

fn roster(extra: &str) -> String {
    let mut out: String = (0..4)
        .map(|i| format!("  p{i}: {{email: {}}}\n", email(i)))
        .collect();
    out.push_str(extra);
    out
}

async fn run(repo: &Repo, args: &[&str]) -> (Option<i32>, String, String) {
    run_async(repo, ("TEAMSYNC_LIFECYCLE_TOKEN", TOKEN), args).await
}

async fn plan_json(repo: &Repo, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(repo, &args).await;
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str(&out).expect("plan JSON")
}

fn held(plan: &Value, list: &str) -> Vec<(String, String)> {
    plan[list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let r = &b["resource"];
            (
                format!(
                    "{}.{}",
                    r["provider"].as_str().unwrap_or(""),
                    r["kind"].as_str().unwrap_or("")
                ),
                b["change"]["member"]["email"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect()
}

fn invites(plan: &Value) -> Vec<String> {
    member_changes(plan)
        .into_iter()
        .filter(|(_, _, a)| a == "invite")
        .map(|(k, e, _)| format!("{k} {e}"))
        .collect()
}

fn day(offset: i64) -> String {
    let today = teamsync::engine::today_date();
    today
        .checked_add(jiff::Span::new().days(offset))
        .expect("a day")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_hire_is_invited_and_placed_on_all_three_providers() {
    let handle = sandbox().world(world()).start().await;
    let new = "  hire: {email: hire@acme.com}\n";
    let repo = repo(&handle, &roster(new), "p0, p1, p2, hire", ", invite: true");
    let plan = plan_json(&repo, &[]).await;
    assert_eq!(
        invites(&plan),
        vec![
            "cms.organization[c1] hire@acme.com".to_string(),
            "docs.organization[acme] hire@acme.com".into(),
            format!("pb.organization[{ORG}] hire@acme.com"),
        ],
        "{plan:#}"
    );
    // Contentful's invitation makes a pending membership that may join teams at once;
    // GitBook and PixieBrix invitees join once they accept.
    assert!(member_changes(&plan).contains(&(
        "cms.team[T]".into(),
        "hire@acme.com".into(),
        "add".into()
    )));
    assert_eq!(
        held(&plan, "waiting"),
        vec![
            ("docs.team".to_string(), "hire@acme.com".to_string()),
            ("pb.group".into(), "hire@acme.com".into())
        ]
    );
    assert_eq!(plan["summary"]["invites"], 3);
    let notes = plan["notes"].to_string();
    assert!(notes.contains("GitBook lists no invitations"), "{notes}");
    let (code, text, err) = run(&repo, &["plan"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(text.contains("waiting"), "{text}");

    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let world = handle.world();
    let world = serde_json::to_value(&world).expect("world JSON");
    assert!(world["contentful"].to_string().contains("hire@acme.com"));
    assert!(
        world["pixiebrix"]["organizations"][0]["invitations"]
            .to_string()
            .contains("hire@acme.com")
    );

    // Next plan: Contentful is done, PixieBrix knows the open invitation (no second
    // invite), GitBook cannot list it and invites again; both still wait.
    let again = plan_json(&repo, &[]).await;
    assert_eq!(
        invites(&again),
        vec!["docs.organization[acme] hire@acme.com".to_string()]
    );
    assert_eq!(held(&again, "waiting").len(), 2, "{again:#}");
    // Once the invitee joins GitBook, the next plan adds them to the team.
    assert!(handle.accept_gitbook_invite("hire@acme.com").is_some());
    let joined = plan_json(&repo, &[]).await;
    assert!(member_changes(&joined).contains(&(
        "docs.team[T]".into(),
        "hire@acme.com".into(),
        "add".into()
    )));
    assert_eq!(
        held(&joined, "waiting"),
        vec![("pb.group".to_string(), "hire@acme.com".to_string())]
    );
    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let done = plan_json(&repo, &[]).await;
    assert_eq!(done["changes"], json!([]), "{done:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitbook_invitations_unavailable_to_the_token_are_blocked_not_failed() {
    let handle = sandbox()
        .world(world())
        .knobs(|k| k.gitbook_invites = GitbookInvites::Forbidden)
        .start()
        .await;
    let new = "  hire: {email: hire@acme.com}\n";
    let repo = repo(&handle, &roster(new), "p0, p1, p2, hire", ", invite: true");
    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        err.contains("invitations are not available to this token")
            && err.contains("invite them in GitBook"),
        "{err}"
    );
    assert!(err.contains("Not carried out"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_may_not_join_is_blocked_and_the_rest_applies() {
    let handle = sandbox().world(world()).start().await;
    let outsider = "  stranger: {email: stranger@acme.com}\n";
    let repo = repo(&handle, &roster(outsider), "p0, p1, p2, p3, stranger", "");
    let plan = plan_json(&repo, &[]).await;
    assert_eq!(
        held(&plan, "blocked"),
        vec![
            ("cms.team".to_string(), "stranger@acme.com".to_string()),
            ("docs.team".into(), "stranger@acme.com".into()),
            ("pb.group".into(), "stranger@acme.com".into()),
        ],
        "{plan:#}"
    );
    for b in plan["blocked"].as_array().expect("blocked") {
        let reason = b["reason"].as_str().unwrap_or("");
        assert!(
            reason.contains("not a member of the") && reason.contains("`invite: true`"),
            "{reason}"
        );
    }
    let (_, text, _) = run(&repo, &["plan"]).await;
    assert!(
        text.contains("stranger@acme.com"),
        "the terminal view shows the blocked person: {text}"
    );
    let (_, md, _) = run(&repo, &["plan", "--format", "markdown"]).await;
    assert!(
        md.contains("stranger@acme.com"),
        "the Markdown view shows the blocked person: {md}"
    );

    // One ineligible person never fails the others: GitBook's bulk request carries only
    // eligible members, and apply exits 0 with the blocked person listed.
    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        err.contains("Not carried out") && err.contains("stranger@acme.com"),
        "{err}"
    );
    assert!(
        handle
            .events()
            .iter()
            .all(|e| !e.detail.to_string().contains("stranger")),
        "nothing was sent for the blocked person: {:?}",
        handle.events()
    );
    // Only blocked changes remain: the detailed exit code says there is nothing to do.
    let (code, _, err) = run(&repo, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(code, Some(0), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_expires_on_its_day_and_is_warned_about_before() {
    let handle = sandbox().world(world()).start().await;
    // p1's access ends with 2027-01-10 everywhere; p2's Contentful membership alone ends
    // with 2027-01-05 (a membership entry's own `until`).
    let people = roster("").replace(
        "  p1: {email: p1@acme.com}\n",
        "  p1: {email: p1@acme.com, until: 2027-01-10}\n",
    );
    let repo = repo(&handle, &people, "p0, p1, p2", "");
    let c = std::fs::read_to_string(repo.path().join("c.yaml")).expect("c.yaml");
    // The Contentful team is the last container in the file.
    let cms_at = c.rfind("members: [p0, p1, p2]").expect("cms team");
    let c = format!(
        "{}members: [p0, p1, {{person: p2, until: 2027-01-05}}]\n",
        &c[..cms_at]
    );
    repo.write("c.yaml", &c);

    // Well before: nothing. Within 14 days: a warning per membership, not a change.
    let early = plan_json(&repo, &["--at", "2026-12-01"]).await;
    assert_eq!(early["changes"], json!([]));
    assert!(early.get("expiring").is_none(), "{early:#}");
    let soon = plan_json(&repo, &["--at", "2027-01-03"]).await;
    assert_eq!(soon["changes"], json!([]));
    let expiring: Vec<(String, String, u64)> = soon["expiring"]
        .as_array()
        .expect("expiring")
        .iter()
        .map(|e| {
            (
                e["resource"]["provider"].as_str().unwrap_or("").to_string(),
                e["member"]["email"].as_str().unwrap_or("").to_string(),
                e["days"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    assert_eq!(
        expiring,
        vec![
            ("cms".to_string(), "p1@acme.com".to_string(), 7),
            ("cms".into(), "p2@acme.com".into(), 2),
            ("docs".into(), "p1@acme.com".into(), 7),
            ("pb".into(), "p1@acme.com".into(), 7),
        ]
    );
    let (_, text, _) = run(&repo, &["plan", "--at", "2027-01-03"]).await;
    assert!(text.contains("expires in 2 days"), "{text}");
    // The last day still has access; the next day removes it, flagged `expired`.
    let last = plan_json(&repo, &["--at", "2027-01-10"]).await;
    let last_removals: Vec<_> = member_changes(&last)
        .into_iter()
        .filter(|(_, e, a)| e == "p1@acme.com" && a == "remove")
        .collect();
    assert!(last_removals.is_empty(), "{last:#}");
    let after = plan_json(&repo, &["--at", "2027-01-11"]).await;
    let removed: Vec<(String, String)> = member_changes(&after)
        .into_iter()
        .filter(|(_, _, a)| a == "remove")
        .map(|(k, e, _)| (k, e))
        .collect();
    assert_eq!(
        removed,
        vec![
            ("cms.team[T]".to_string(), "p1@acme.com".to_string()),
            ("cms.team[T]".into(), "p2@acme.com".into()),
            ("docs.team[T]".into(), "p1@acme.com".into()),
            ("pb.group[G]".into(), "p1@acme.com".into()),
        ]
    );
    assert_eq!(after["summary"]["expiries"], 4);
    assert!(after["risks"].to_string().contains("expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_only_expired_removes_expired_access_and_nothing_else() {
    let handle = sandbox().world(world()).start().await;
    let yesterday = day(-1);
    let people = roster("").replace(
        "  p1: {email: p1@acme.com}\n",
        &format!("  p1: {{email: p1@acme.com, until: {yesterday}}}\n"),
    );
    // p3 is new to every container: drift that `--only expired` must leave alone.
    let repo = repo(&handle, &people, "p0, p1, p2, p3", "");
    let (code, out, err) = run(&repo, &["apply", "--only", "expired", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let plan = plan_json(&repo, &[]).await;
    let left: Vec<(String, String, String)> = member_changes(&plan);
    assert!(
        left.iter().all(|(_, e, _)| e == "p3@acme.com"),
        "only the drift is left: {left:?}"
    );
    assert_eq!(left.len(), 3, "{left:?}");
    let removed = removed_emails(&handle.events());
    assert!(
        removed.iter().all(|(_, e)| e == "p1@acme.com"),
        "{removed:?}"
    );
    assert_eq!(removed.len(), 3, "{removed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offboarded_person_is_removed_from_everything() {
    let handle = sandbox().world(world()).start().await;
    // p1 leaves: one line in the roster, though the containers still list them.
    let people = roster("").replace(
        "  p1: {email: p1@acme.com}\n",
        "  p1: {email: p1@acme.com, offboarded: true}\n",
    );
    let repo = repo(&handle, &people, "p0, p1, p2", "");
    let plan = plan_json(&repo, &[]).await;
    let gone: Vec<String> = member_changes(&plan)
        .into_iter()
        .filter(|(_, e, a)| e == "p1@acme.com" && a == "remove")
        .map(|(k, _, _)| k)
        .collect();
    assert_eq!(
        gone,
        vec![
            "cms.organization[c1]".to_string(),
            "cms.team[T]".into(),
            "docs.organization[acme]".into(),
            "docs.team[T2]".into(),
            "docs.team[T]".into(),
            "pb.group[G]".into(),
            "pb.group[Old]".into(),
            format!("pb.organization[{ORG}]"),
        ],
        "{plan:#}"
    );
    let offboarded = plan["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["members"].as_array().cloned().unwrap_or_default())
        .filter(|m| m["member"]["email"] == "p1@acme.com")
        .all(|m| m["risks"].to_string().contains("offboarded"));
    assert!(offboarded, "{plan:#}");
    let (_, md, _) = run(&repo, &["plan", "--format", "markdown"]).await;
    assert!(md.contains("p1@acme.com"), "{md}");

    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let after = plan_json(&repo, &[]).await;
    assert_eq!(after["changes"], json!([]), "{after:#}");
    let world = serde_json::to_value(handle.world()).expect("world JSON");
    let pb = world["pixiebrix"].to_string();
    let gb = world["gitbook"]["organizations"]["acme"].to_string();
    assert!(!gb.contains("\"u1\""), "p1 left GitBook: {gb}");
    let pb_users_in_groups = world["pixiebrix"]["organizations"][0]["groups"].to_string();
    assert!(!pb_users_in_groups.contains("p1@acme.com"), "{pb}");
}

/// GitBook refuses a whole bulk request for one member it will not take. A plan from the
/// diff never sends such a member, but the organization may change between plan and
/// apply: the member GitBook names fails alone, and the rest is sent again without them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gitbook_refusal_naming_one_member_fails_only_that_member() {
    // SAFETY: the only variable any test here sets, always to the same value; the other
    // tests give it to their child processes explicitly and never read it themselves.
    unsafe { std::env::set_var("TEAMSYNC_LIFECYCLE_TOKEN", TOKEN) };
    let handle = sandbox().world(world()).start().await;
    let repo = repo(&handle, &roster(""), "p0, p1, p2, p3", "");
    let loaded = teamsync::config::load(repo.path()).expect("config");
    let conns =
        teamsync::engine::Connections::open(&loaded, teamsync::providers::ClientOptions::default())
            .await
            .expect("connections");
    let mut plan = teamsync::engine::plan(&loaded, &conns, &[], teamsync::engine::today_date())
        .await
        .expect("plan");
    let docs = plan
        .changes
        .iter_mut()
        .find(|c| c.key.provider == "docs")
        .expect("a GitBook change");
    let mut stranger = docs.members[0].clone();
    stranger.member = teamsync::model::MemberRef {
        email: Some(teamsync::model::Email::parse("gone@acme.com").expect("email")),
        ..Default::default()
    };
    docs.members.push(stranger);
    let report =
        teamsync::engine::execute::execute(&plan, &conns, &loaded.desired, &loaded.policy, &|_| {})
            .await;
    let docs_steps: Vec<_> = report
        .steps
        .iter()
        .filter(|s| s.key.provider == "docs" && s.member.is_some())
        .collect();
    assert_eq!(docs_steps.len(), 2, "{docs_steps:?}");
    for s in docs_steps {
        let who = s
            .member
            .as_ref()
            .and_then(|m| m.member.email.clone())
            .expect("email");
        match (who.as_str(), &s.outcome) {
            ("gone@acme.com", teamsync::engine::execute::Outcome::Failed(f)) => {
                assert!(
                    f.message.contains("400") && f.message.contains("gone@acme.com"),
                    "{}",
                    f.message
                )
            }
            ("p3@acme.com", teamsync::engine::execute::Outcome::Applied) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offboarding_the_tokens_own_account_never_removes_it_from_an_organization() {
    let handle = sandbox().world(world()).start().await;
    // p0 is whose token teamsync runs with on GitBook (`me`) and on Contentful (the
    // first owner): its containers let it go, its organizations never.
    let people = roster("").replace(
        "  p0: {email: p0@acme.com}\n",
        "  p0: {email: p0@acme.com, offboarded: true}\n",
    );
    let repo = repo(&handle, &people, "p0, p1, p2", "");
    let plan = plan_json(&repo, &[]).await;
    let org_removals: Vec<String> = member_changes(&plan)
        .into_iter()
        .filter(|(k, e, a)| e == "p0@acme.com" && a == "remove" && k.contains(".organization"))
        .map(|(k, _, _)| k)
        .collect();
    assert!(
        !org_removals
            .iter()
            .any(|k| k.starts_with("docs.") || k.starts_with("cms.")),
        "{org_removals:?}"
    );
    let blocked = held(&plan, "blocked");
    assert!(
        blocked.contains(&("docs.organization".to_string(), "p0@acme.com".to_string())),
        "{blocked:?}"
    );
    assert!(
        blocked.contains(&("cms.organization".to_string(), "p0@acme.com".to_string())),
        "{blocked:?}"
    );
    let reasons = plan["blocked"].to_string();
    assert!(reasons.contains("lock teamsync out"), "{reasons}");
    assert!(member_changes(&plan).contains(&(
        "docs.team[T]".into(),
        "p0@acme.com".into(),
        "remove".into()
    )));
}

/// Where the token may not read its own account (every who-am-I route answers 403; the
/// ADDENDUM infers a GitBook token without `user:read` does), teamsync cannot know which
/// member it runs as, so it removes nobody from any organization: an offboarded person's
/// organization removals are blocked with the reason, their container removals go ahead,
/// and no organization membership is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_cannot_read_itself_removes_nobody_from_an_organization() {
    let handle = sandbox()
        .world(world())
        .knobs(|k| k.who_am_i_forbidden = true)
        .start()
        .await;
    let people = roster("").replace(
        "  p1: {email: p1@acme.com}\n",
        "  p1: {email: p1@acme.com, offboarded: true}\n",
    );
    let repo = repo(&handle, &people, "p0, p1, p2", "");
    let plan = plan_json(&repo, &[]).await;
    let mut blocked = held(&plan, "blocked");
    blocked.sort();
    assert_eq!(
        blocked,
        [
            ("cms.organization".to_string(), "p1@acme.com".to_string()),
            ("docs.organization".into(), "p1@acme.com".into()),
            ("pb.organization".into(), "p1@acme.com".into()),
        ],
        "{plan:#}"
    );
    for b in plan["blocked"].as_array().into_iter().flatten() {
        assert!(
            b["reason"]
                .as_str()
                .is_some_and(|r| r.contains("could not ask whose account its token is")),
            "{b}"
        );
    }
    let removed: Vec<String> = member_changes(&plan)
        .into_iter()
        .filter(|(_, _, a)| a == "remove")
        .map(|(k, _, _)| k)
        .collect();
    assert!(
        !removed.is_empty() && removed.iter().all(|k| !k.contains(".organization[")),
        "{removed:?}"
    );
    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let events = handle.events();
    let org_removals: Vec<&str> = events
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| ["membership.delete", "member.remove", "membership.remove"].contains(a))
        .collect();
    assert!(org_removals.is_empty(), "{org_removals:?}");
    assert!(
        events.iter().any(|e| e.action == "team_member.remove"),
        "the container removals went ahead: {events:?}"
    );
}
