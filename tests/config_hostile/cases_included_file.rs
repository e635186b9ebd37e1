//! Corpus cases in an included file: YAML, schema, references, emails, roles and members.

use super::*;

fn nested(depth: usize) -> String {
    let mut s = String::from("x-deep: ");
    s.push_str(&"[".repeat(depth));
    s.push_str(&"]".repeat(depth));
    s.push('\n');
    s
}

fn alias_bomb() -> String {
    let mut s = String::from("x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let prev = i - 1;
        s.push_str(&format!("x-a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
    }
    s
}

pub(super) fn cases() -> Vec<Case> {
    let p = PEOPLE;
    vec![
        case(
            "malformed yaml",
            "groups:\n  - name: [unclosed\n",
            ("more.yaml", 2, 11, "invalid YAML: unclosed bracket"),
        ),
        case(
            "wrong type for a list",
            "groups: {name: x}\n",
            (
                "more.yaml",
                1,
                9,
                "`groups` must be a list, found a mapping",
            ),
        ),
        case(
            "typo in a key",
            "groups:\n  - name: X\n    membres: [a]\n",
            ("more.yaml", 3, 5, "unknown key `membres`"),
        ),
        case(
            "unknown top-level key",
            "team: []\n",
            ("more.yaml", 1, 1, "unknown key `team`"),
        ),
        case(
            "alias bomb",
            &alias_bomb(),
            ("more.yaml", 0, 0, "invalid YAML"),
        ),
        case(
            "200-level nesting",
            &nested(200),
            ("more.yaml", 1, 0, "invalid YAML"),
        ),
        case(
            "name must be a string",
            "groups:\n  - name: 12\n",
            (
                "more.yaml",
                2,
                11,
                "`groups[0].name` must be a string, found a number",
            ),
        ),
        case(
            "unknown person",
            &format!("{p}groups:\n  - name: G\n    members: [alice, bobb]\n"),
            ("more.yaml", 6, 22, "unknown person `bobb`"),
        ),
        case(
            "unknown provider",
            &format!("{p}teams:\n  - name: T\n    provider: dcos\n"),
            ("more.yaml", 6, 15, "unknown provider `dcos`"),
        ),
        case(
            "provider without that kind",
            &format!("{p}groups:\n  - name: G\n    provider: docs\n"),
            (
                "more.yaml",
                6,
                15,
                "provider `docs` is gitbook, which has no groups",
            ),
        ),
        case(
            "ambiguous provider",
            &format!("{p}teams:\n  - name: T\n    members: [alice]\n"),
            ("more.yaml", 5, 5, "more than one provider manages teams"),
        ),
        case(
            "invalid email",
            "people:\n  zed: {email: zed@@acme.com}\n",
            (
                "more.yaml",
                2,
                16,
                "`zed@@acme.com` is not a valid email address",
            ),
        ),
        case(
            "email outside allowed domains",
            "people:\n  zed: {email: zed@evil.com}\n",
            (
                "more.yaml",
                2,
                16,
                "zed@evil.com is outside the allowed email domains (acme.com)",
            ),
        ),
        case(
            "raw email outside allowed domains",
            "groups:\n  - name: G\n    members: [eve@evil.com]\n",
            (
                "more.yaml",
                3,
                15,
                "eve@evil.com is outside the allowed email domains",
            ),
        ),
        case(
            "gitbook role that does not exist there",
            &format!(
                "{p}teams:\n  - name: T\n    provider: docs\n    members: [{{person: alice, role: admin}}]\n"
            ),
            (
                "more.yaml",
                7,
                37,
                "role `admin` is not valid for a gitbook team",
            ),
        ),
        case(
            "role on a contentful team",
            &format!(
                "{p}teams:\n  - name: T\n    provider: cms\n    members:\n      - {{person: alice, role: owner}}\n"
            ),
            (
                "more.yaml",
                8,
                31,
                "role `owner` is not valid for a contentful team",
            ),
        ),
        case(
            "data on a group member",
            &format!(
                "{p}groups:\n  - name: G\n    members:\n      - {{person: alice, data: {{a: 1}}}}\n"
            ),
            ("more.yaml", 7, 31, "`data` is only for campaign members"),
        ),
        case(
            "two identities in one member",
            &format!(
                "{p}groups:\n  - name: G\n    members:\n      - {{person: alice, email: alice@acme.com}}\n"
            ),
            ("more.yaml", 7, 9, "exactly one of person, email, user_id"),
        ),
        case(
            "empty member mapping",
            &format!("{p}groups:\n  - name: G\n    members:\n      - {{}}\n"),
            ("more.yaml", 7, 9, "needs `person`, `email` or `user_id`"),
        ),
        case(
            "member listed twice",
            &format!("{p}groups:\n  - name: G\n    members: [alice, alice@acme.com]\n"),
            ("more.yaml", 6, 22, "alice@acme.com is listed twice"),
        ),
        case(
            "same email for two handles",
            "people:\n  a: {email: x@acme.com}\n  b: {email: X@Acme.com}\n",
            (
                "more.yaml",
                3,
                14,
                "`b` and `a` have the same email x@acme.com",
            ),
        ),
        case(
            "unknown role value",
            &format!(
                "{p}teams:\n  - name: T\n    provider: docs\n    members: [{{person: alice, role: owenr}}]\n"
            ),
            (
                "more.yaml",
                7,
                37,
                "`teams[0].members[0].role` must be one of member, admin, developer, restricted, manager, owner, found `owenr`",
            ),
        ),
        case(
            "unknown mode",
            "groups:\n  - name: G\n    mode: exactly\n",
            (
                "more.yaml",
                3,
                11,
                "`groups[0].mode` must be one of exact, additive, observe, found `exactly`",
            ),
        ),
        case(
            "multiple documents",
            "people: {}\n---\ngroups: []\n",
            ("more.yaml", 2, 1, "invalid YAML"),
        ),
        case(
            "unsupported tag",
            "groups: !!python/object:os.system [x]\n",
            (
                "more.yaml",
                1,
                9,
                "invalid YAML: unsupported tag `!!python/object:os.system`",
            ),
        ),
        case(
            "a list instead of a mapping",
            "- a\n- b\n",
            ("more.yaml", 1, 1, "must be a mapping"),
        ),
        case(
            "version in an included file",
            "version: 1\n",
            (
                "more.yaml",
                1,
                1,
                "`version` is only allowed in the root file",
            ),
        ),
        case(
            "include in an included file",
            "include: [\"x.yaml\"]\n",
            (
                "more.yaml",
                1,
                1,
                "`include` is only allowed in the root file",
            ),
        ),
    ]
}
