//! The promises under answers the notes only infer (issue 13): for each sandbox variant, a
//! plan and an apply of all three providers over real HTTP either converge exactly as
//! with the documented answers, or refuse with a clear error and no write; in every case
//! no declared member is ever removed (the sandbox's event log), and apply never says
//! "Apply complete" while the live state differs from the configuration.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{Value, json};
use teamsync::sandbox::{SandboxHandle, Variant};

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";
const TOKEN: &str = "variant-secret-token-0451";
/// p0..p9 are declared and live; p10 is live but not declared; p11 is declared, not live.
const PEOPLE: usize = 12;

fn email(i: usize) -> String {
    format!("p{i}@acme.com")
}

fn declared(i: usize) -> bool {
    i != 10
}

fn live(i: usize) -> bool {
    i != 11
}

/// Every API with 12 people, a service account in the PixieBrix roster, and one container
/// each holding the live people.
fn world() -> Value {
    let mut members: Vec<(String, u8, &str)> =
        (0..PEOPLE).map(|i| (email(i), 1, "human")).collect();
    members.push(("svc@acme.com".into(), 2, "service"));
    let refs: Vec<(&str, u8, &str)> = members
        .iter()
        .map(|(e, r, k)| (e.as_str(), *r, *k))
        .collect();
    let mut org = pixiebrix_org(ORG, &refs);
    let group: Vec<Value> = (0..PEOPLE)
        .filter(|i| live(*i))
        .map(|i| json!({"id": uuid(500 + i as u32), "email": email(i)}))
        .collect();
    org["groups"] = json!([{"id": uuid(900), "name": "G", "members": group}]);
    let gb_members: Vec<Value> = (0..PEOPLE)
        .map(|i| json!({"id": format!("u{i}"), "name": format!("P{i}"), "email": email(i), "role": "edit"}))
        .collect();
    let gb_team: Vec<Value> = (0..PEOPLE)
        .filter(|i| live(*i))
        .map(|i| json!({"user": format!("u{i}"), "role": if i == 0 {"owner"} else {"member"}}))
        .collect();
    let cf_users: Vec<Value> = (0..PEOPLE)
        .map(|i| json!({"id": format!("U{i}"), "email": email(i)}))
        .collect();
    let cf_mems: Vec<Value> = (0..PEOPLE)
        .map(|i| json!({"id": format!("OM{i}"), "user": format!("U{i}")}))
        .collect();
    let cf_team: Vec<Value> = (0..PEOPLE)
        .filter(|i| live(*i))
        .map(|i| json!({"id": format!("TM{i}"), "membership": format!("OM{i}")}))
        .collect();
    json!({
        "pixiebrix": {"organizations": [org]},
        "gitbook": {"organizations": {"acme": {"members": gb_members,
            "teams": [{"id": "t1", "title": "T", "members": gb_team}]}}},
        "contentful": {"organizations": {"c1": {"users": cf_users, "memberships": cf_mems,
            "teams": [{"id": "T1", "name": "T", "members": cf_team}]}}}
    })
}

fn repo(handle: &SandboxHandle) -> Repo {
    let declared: Vec<usize> = (0..PEOPLE).filter(|i| declared(*i)).collect();
    let names: Vec<String> = declared.iter().map(|i| format!("p{i}")).collect();
    let gb = names.iter().map(|n| match n.as_str() {
        "p0" => "{person: p0, role: owner}",
        n => n,
    });
    let mut config = a_config();
    for (name, kind, organization) in [
        ("pb", "pixiebrix", ORG),
        ("docs", "gitbook", "acme"),
        ("cms", "contentful", "c1"),
    ] {
        config = config
            .provider(name, kind, organization)
            .served_by(handle)
            .token_env("TEAMSYNC_VARIANT_TOKEN");
    }
    config
        .in_file("c.yaml")
        .people(declared.iter().map(|i| (format!("p{i}"), email(*i))))
        .organization("pb", &names)
        .mode("exact")
        .set("keep", "[service_accounts]")
        .group("pb", "G", &names)
        .team("docs", "T", gb)
        .team("cms", "T", &names)
        .write()
}

async fn run(repo: &Repo, args: &[&str]) -> (Option<i32>, String, String) {
    run_async(repo, ("TEAMSYNC_VARIANT_TOKEN", TOKEN), args).await
}

/// The sandbox of `world()` answering under `variants`, with small pages, so that every
/// list takes several.
fn under(variants: &[Variant]) -> SandboxBuilder {
    sandbox()
        .world(world())
        .page_size(4)
        .variants(variants.iter().copied())
}

/// The promise that holds whatever the API answers: no declared member removed, from a
/// container or from the organization, and the token never printed.
fn assert_nothing_declared_removed(handle: &SandboxHandle, outputs: &[&str]) {
    let events = handle.events();
    let declared_emails: BTreeSet<String> =
        (0..PEOPLE).filter(|i| declared(*i)).map(email).collect();
    for (api, who) in removed_emails(&events) {
        assert!(
            !declared_emails.contains(&who),
            "{api} removed declared {who}"
        );
    }
    let declared_users: BTreeSet<String> = (0..PEOPLE)
        .filter(|i| declared(*i))
        .map(|i| uuid(i as u32 + 1))
        .collect();
    for e in events.iter().filter(|e| e.action == "membership.delete") {
        let user = e.detail["user"].as_str().unwrap_or("");
        assert!(
            !declared_users.contains(user),
            "roster removed declared {user}"
        );
        assert_ne!(
            user,
            uuid(PEOPLE as u32 + 1),
            "roster removed the service account"
        );
    }
    for text in outputs {
        assert!(!text.contains(TOKEN), "the token was printed: {text}");
    }
}

/// Under a variant teamsync copes with, plan → apply → plan converges exactly as it does
/// against the documented answers.
async fn converges(variants: &[Variant]) {
    let handle = under(variants).start().await;
    let repo = repo(&handle);
    // Values teamsync does not know need a person's look: exit 3 ("needs attention")
    // where the documented answers give 2, 0 and 0, with the same changes.
    let attention = variants.contains(&Variant::UnknownRoles);
    let (code, plan, err) = run(&repo, &["plan", "--format", "json", "--detailed-exitcode"]).await;
    assert_eq!(
        code,
        Some(if attention { 3 } else { 2 }),
        "{variants:?}: {err}"
    );
    let plan: Value = serde_json::from_str(&plan).expect("plan JSON");
    let changes = member_changes(&plan);
    let expected: Vec<(String, String, String)> = [
        ("cms.team[T]", "p10@acme.com", "remove"),
        ("cms.team[T]", "p11@acme.com", "add"),
        ("docs.team[T]", "p10@acme.com", "remove"),
        ("docs.team[T]", "p11@acme.com", "add"),
        ("pb.group[G]", "p10@acme.com", "remove"),
        ("pb.group[G]", "p11@acme.com", "add"),
        (
            "pb.organization[0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11]",
            "p10@acme.com",
            "remove",
        ),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(changes, expected, "{variants:?}");
    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    if attention {
        assert_eq!(code, Some(3), "{variants:?}: {out}{err}");
        assert!(err.contains("Apply needs attention: 7 applied"), "{err}");
    } else {
        assert_eq!(code, Some(0), "{variants:?}: {out}{err}");
        assert!(err.contains("Apply complete"), "{err}");
    }
    let (code, after, err2) =
        run(&repo, &["plan", "--format", "json", "--detailed-exitcode"]).await;
    assert_eq!(
        code,
        Some(if attention { 3 } else { 0 }),
        "{variants:?}: converged: {err2}"
    );
    let after: Value = serde_json::from_str(&after).expect("plan JSON");
    assert!(member_changes(&after).is_empty(), "{variants:?}: {after:#}");
    if attention {
        // No changes left, but live is not what the configuration says it is: the views
        // never say it matches, and say why the plan exits 3.
        for format in ["text", "markdown"] {
            let (_, view, _) = run(&repo, &["plan", "--format", format]).await;
            assert!(
                !view.contains("matches the configuration")
                    && view.contains("the live state holds values teamsync does not know")
                    && view.contains("Needs attention: ")
                    && view.contains("exits 3"),
                "{format}:\n{view}"
            );
        }
    }
    assert_nothing_declared_removed(&handle, &[&out, &err, &err2]);
}

/// Under a variant whose answers cannot be trusted, plan fails with `needle` in its error,
/// apply changes nothing, and the sandbox saw no write at all.
async fn refuses(variants: &[Variant], needle: &str) {
    let handle = under(variants).start().await;
    let repo = repo(&handle);
    let (code, out, err) = run(&repo, &["plan"]).await;
    assert_eq!(code, Some(1), "{variants:?}: {out}{err}");
    assert!(
        err.contains(needle),
        "{variants:?}: expected {needle:?} in: {err}"
    );
    assert!(
        err.contains("nothing is planned") || needle.contains("larger"),
        "{err}"
    );
    let (code, out2, err2) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(1), "{out2}{err2}");
    assert!(
        handle.events().is_empty(),
        "no write: {:?}",
        handle.events()
    );
    assert_nothing_declared_removed(&handle, &[&out, &err, &out2, &err2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_answers_converge() {
    converges(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contentful_without_includes_resolves_users_and_converges() {
    converges(&[Variant::NoIncludes]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_lists_without_emails_resolve_through_the_directory_and_converge() {
    converges(&[Variant::HiddenEmails]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_pages_are_read_whole() {
    converges(&[Variant::ShortPages]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uneven_pages_are_read_whole() {
    // Short pages make every list span pages, so each one after the first is uneven.
    converges(&[Variant::UnevenPages, Variant::ShortPages]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pixiebrix_without_link_headers_pages_by_its_count() {
    converges(&[Variant::NoLink]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_items_refuse_the_plan() {
    refuses(&[Variant::DuplicateItems], "appears twice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_that_lies_refuses_the_plan() {
    refuses(&[Variant::LyingCount], "(read twice)").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_paging_ends_with_an_error() {
    refuses(&[Variant::EndlessPaging], "nothing is planned").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compression_bomb_ends_with_bounded_memory_and_an_error() {
    refuses(&[Variant::OversizedBody], "larger than 32 MiB").await;
}

/// No email anywhere: nobody can be told apart, so nothing is removed or re-roled; the
/// plan lists them as unresolved (not failures), and apply cannot find anyone to add by
/// email either, so those adds fail and apply exits 1 instead of claiming success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_emails_anywhere_removes_nobody_and_never_claims_success() {
    let handle = under(&[Variant::NoEmails]).start().await;
    let repo = repo(&handle);
    let (code, plan, err) = run(&repo, &["plan", "--format", "json", "--detailed-exitcode"]).await;
    assert_eq!(code, Some(2), "{err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan JSON");
    assert!(
        member_changes(&plan)
            .iter()
            .all(|(_, _, action)| action != "remove"),
        "{plan:#}"
    );
    let unresolved = plan["unresolved"].as_array().expect("unresolved members");
    assert!(unresolved.iter().any(|u| u["blocking"] == true), "{plan:#}");
    let (code, text, _) = run(&repo, &["plan"]).await;
    assert_eq!(code, Some(0));
    assert!(
        text.contains("unresolved:") && text.contains("never removes"),
        "{text}"
    );
    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        err.contains("Apply incomplete") && !err.contains("Apply complete"),
        "{err}"
    );
    assert!(err.contains("Not carried out"), "{err}");
    assert!(
        err.contains("check that the token may read members' emails"),
        "{err}"
    );
    assert!(
        handle
            .events()
            .iter()
            .all(|e| !e.action.ends_with(".remove") && !e.action.ends_with(".delete")),
        "{:?}",
        handle.events()
    );
    assert_nothing_declared_removed(&handle, &[&out, &err]);
}

/// Account flags missing: the roster cannot tell a person from a service account, so it
/// removes neither the service account nor the undeclared person, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_account_flags_protect_the_roster() {
    let handle = under(&[Variant::NoAccountFlags]).start().await;
    let repo = repo(&handle);
    let (code, plan, err) = run(&repo, &["plan", "--format", "json", "--detailed-exitcode"]).await;
    assert_eq!(code, Some(2), "{err}");
    let plan: Value = serde_json::from_str(&plan).expect("plan JSON");
    let roster_removals: Vec<_> = member_changes(&plan)
        .into_iter()
        .filter(|(k, _, a)| k.starts_with("pb.organization") && a == "remove")
        .collect();
    assert!(roster_removals.is_empty(), "{roster_removals:?}");
    let unknown: Vec<&str> = plan["unresolved"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| u["why"] == "unknown_account_kind")
        .filter_map(|u| u["member"]["email"].as_str())
        .collect();
    assert_eq!(unknown, vec!["p10@acme.com", "svc@acme.com"]);
    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    // The roster cannot be made exact: listed as not carried out, not a failure.
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(err.contains("Not carried out"), "{err}");
    assert!(err.contains("person or a service account"), "{err}");
    assert_nothing_declared_removed(&handle, &[&out, &err]);
    assert!(
        handle
            .events()
            .iter()
            .all(|e| e.action != "membership.delete"),
        "{:?}",
        handle.events()
    );
}

/// A server that quotes the Authorization header in its error body cannot make teamsync
/// print the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_body_that_echoes_the_token_is_scrubbed() {
    let handle = under(&[Variant::EchoAuthorization]).start().await;
    let repo = repo(&handle);
    // An organization that does not exist: every API answers 404, quoting the header.
    let root = std::fs::read_to_string(repo.path().join("teamsync.yaml")).expect("root");
    repo.write(
        "teamsync.yaml",
        &root.replace("organization: acme", "organization: nobody"),
    );
    let (code, out, err) = run(&repo, &["plan", "-v"]).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        err.contains("you sent Authorization: Bearer [redacted]"),
        "{err}"
    );
    assert_nothing_declared_removed(&handle, &[&out, &err]);
}

/// Contentful pages shorter than asked for: when apply adds more people than the
/// organization's memberships take pages, it reads all of them at once, stepping by what
/// each page really held (not by the limit it asked for), so nobody is missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_pages_do_not_hide_organization_members_from_a_bulk_add() {
    let mut w = world();
    w["contentful"]["organizations"]["c1"]["teams"][0]["members"] = json!([]);
    let handle = under(&[Variant::ShortPages]).world(w).start().await;
    let repo = repo(&handle);
    let (code, out, err) = run(&repo, &["apply", "--auto-approve"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, _, err) = run(&repo, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(code, Some(0), "converged: {err}");
    let team = &handle.world().contentful.organizations["c1"].teams[0];
    assert_eq!(team.members.len(), 11, "p0..p9 and p11, none missed");
    assert_nothing_declared_removed(&handle, &[&out, &err]);
}

/// Roles teamsync never saw (issue 31): a PixieBrix roster role `9` (p0) and a GitBook team
/// role `admin` (p1). Each is shown verbatim as unknown, kept while the configuration
/// states no role for that member, and everything else plans and applies as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_roles_are_shown_verbatim_and_kept_unless_the_config_states_one() {
    // Everyone else converges exactly as with the documented answers.
    converges(&[Variant::UnknownRoles]).await;

    let handle = under(&[Variant::UnknownRoles]).start().await;
    let repo = repo(&handle);
    let (code, text, err) = run(&repo, &["plan"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        text.contains("p0@acme.com: role: 9 (unknown to teamsync) is kept as it is"),
        "{text}"
    );
    // Beside the changes, the plan says how many values need a person's look.
    let line = text
        .lines()
        .find(|l| l.starts_with("Needs attention: "))
        .unwrap_or_else(|| panic!("no attention line:\n{text}"));
    assert!(line.starts_with("Needs attention: 4 live values"), "{line}");
    // Contentful's role and status grow too: the member's own items only.
    assert!(
        text.contains("status: suspended (unknown to teamsync); teamsync plans for them as for an active member"),
        "{text}"
    );
    assert!(
        text.contains("p1@acme.com: role: admin (unknown to teamsync) is kept as it is"),
        "{text}"
    );
    // A directory's member (Contentful's organization, whose roles teamsync does not
    // manage) is shown too, not only listed in the JSON: every value that makes the plan
    // "need attention" is in the text a reviewer reads.
    assert!(
        text.contains(
            "role: billing_admin (unknown to teamsync) is kept as it is; teamsync does not manage roles here"
        ),
        "{text}"
    );
    let (_, json, _) = run(&repo, &["plan", "--format", "json"]).await;
    let plan: Value = serde_json::from_str(&json).expect("plan JSON");
    // Each value is listed for a person to look at, naming the item.
    let attention: Vec<(String, String)> = plan["attention"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["resource"].as_str().unwrap_or("").to_string(),
                a["value"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for want in [
        (r#"cms.organization["c1"]"#, "role: billing_admin"),
        (r#"cms.organization["c1"]"#, "status: suspended"),
        (r#"docs.team["T"]"#, "role: admin"),
        (
            r#"pb.organization["0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11"]"#,
            "role: 9",
        ),
    ] {
        assert!(
            attention.iter().any(|(r, v)| r == want.0 && v == want.1),
            "{want:?} is not listed: {attention:?}"
        );
    }
    assert!(
        !member_changes(&plan)
            .iter()
            .any(|(_, who, action)| action == "set_role"
                && (who == "p0@acme.com" || who == "p1@acme.com")),
        "an unknown role was overwritten by default: {plan:#}"
    );
    // The access review shows them as they came, too.
    let (code, csv, err) = run(&repo, &["report", "--format", "csv"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(csv.contains("admin (unknown to teamsync)"), "{csv}");
    assert!(csv.contains("9 (unknown to teamsync)"), "{csv}");
    // Stated in the configuration, it is replaced, saying what it replaces, flagged.
    let c = std::fs::read_to_string(repo.path().join("c.yaml")).expect("c.yaml");
    let c = c.replacen(
        "members: [{person: p0, role: owner}, p1,",
        "members: [{person: p0, role: owner}, {person: p1, role: member},",
        1,
    );
    repo.write("c.yaml", &c);
    // Changes, and values still to look at (the other members'): 3 before 2.
    let (code, text, err) = run(&repo, &["plan", "--detailed-exitcode"]).await;
    assert_eq!(code, Some(3), "{c}\n{err}");
    assert!(
        text.contains("p1@acme.com (p1): role admin (unknown to teamsync) → member"),
        "{text}"
    );
    let (_, json, _) = run(&repo, &["plan", "--format", "json"]).await;
    let plan: Value = serde_json::from_str(&json).expect("plan JSON");
    let set_role = plan["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["members"].as_array().cloned().unwrap_or_default())
        .find(|m| m["action"]["type"] == "set_role")
        .expect("a role change");
    assert_eq!(set_role["member"]["unknown_role"], "admin", "{set_role:#}");
    assert!(
        set_role["risks"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r == "unknown_value")),
        "{set_role:#}"
    );
    let (code, out, err) = run(&repo, &["apply", "--auto-approve", "--format", "json"]).await;
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(err.contains("Needs attention"), "{err}");
    assert!(
        err.contains("status: suspended (unknown to teamsync)"),
        "{err}"
    );
    let result: Value = serde_json::from_str(&out).expect("the JSON result");
    assert_eq!(result["status"], "needs_attention", "{result}");
    assert_eq!(result["failed"], 0, "{result}");
    assert!(
        result["attention"].as_array().is_some_and(|a| a
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("role: 9")))),
        "{result}"
    );
    let (code, json, err) = run(&repo, &["plan", "--format", "json", "--detailed-exitcode"]).await;
    assert_eq!(
        code,
        Some(3),
        "converged, and still listing the values: {err}"
    );
    let plan: Value = serde_json::from_str(&json).expect("plan JSON");
    assert!(member_changes(&plan).is_empty(), "{plan:#}");
    assert_nothing_declared_removed(&handle, &[&out, &err]);
}
