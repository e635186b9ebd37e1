use super::*;

fn parse(text: &str) -> Result<Parsed, YamlError> {
    parse_with(text, Spans::Recorded)
}

#[test]
fn yaml_1_2_scalars_stay_strings() {
    let p = parse("name: no\nmode: 0755\nn: 1_000\nyes: true\n").unwrap();
    assert_eq!(p.value["name"], "no");
    assert_eq!(p.value["mode"], "0755");
    assert_eq!(p.value["n"], "1_000");
    assert_eq!(p.value["yes"], true);
}

#[test]
fn an_unclosed_bracket_is_reported_where_it_opens() {
    let e = parse("groups:\n  - name: G\n    members: [al, bo\n  - name: H\n").unwrap_err();
    assert_eq!(
        e.position,
        Some(Position {
            line: 3,
            column: 14
        }),
        "{}",
        e.message
    );
    assert!(
        e.message
            .starts_with("`[` at line 3, column 14 is never closed"),
        "{}",
        e.message
    );
    let e = parse("a: {b: 1, c: \"}\" # }\nd: 2\n").unwrap_err();
    assert_eq!(
        e.position,
        Some(Position { line: 1, column: 4 }),
        "{}",
        e.message
    );
    // A key given twice inside braces that close is reported as itself.
    let e = parse("p:\n  pb: {kind: x, token_env: T, kind: y}\n").unwrap_err();
    assert_eq!(e.message, "key `kind` is given twice in this mapping");
    assert_eq!(
        e.position,
        Some(Position {
            line: 2,
            column: 31
        }),
        "{}",
        e.message
    );
    // Brackets inside plain scalars and quotes open nothing.
    assert!(
        unclosed_flow(
            "a: x[1\nb: 'it''s [' # {\n",
            Position { line: 3, column: 1 }
        )
        .is_none()
    );
}

#[test]
fn only_core_tags_are_accepted() {
    for text in [
        "name: !!binary YWxpY2U=\n",
        "name: !!timestamp 2001-12-14\n",
        "name: !custom x\n",
        "a: 1\nb: ! x\n",
        "x: !!python/object:os.system [ls]\n",
        "m: !!set {a: null}\n",
    ] {
        let e = parse(text).unwrap_err();
        assert!(
            e.message.starts_with("unsupported tag `!"),
            "{text}: {}",
            e.message
        );
        assert!(e.position.is_some(), "{text}");
    }
    let e = parse("a: 1\nname: !!binary YWxpY2U=\n").unwrap_err();
    assert_eq!(
        e.position,
        Some(Position { line: 2, column: 7 }),
        "{}",
        e.message
    );
    let p = parse("a: !!str 1\nb: !!int 2\nc: !!seq [x]\nd: !!map {k: v}\ne: !!null\nf: !!bool true\ng: !!float 1.5\nh: \"hi!\"\n").unwrap();
    assert_eq!(p.value["a"], "1");
    assert_eq!(p.value["b"], 2);
}

#[test]
fn both_ways_give_the_same_value_and_refuse_the_same_text() {
    let text = "x-base: &base {role: member, data: {n: 1}}\n\
                people:\n  al: {email: Al@Example.com, until: 2027-01-31}\n\
                groups:\n  - <<: *base\n    name: \"G \"\n    members: [al, ~, 'b']\n\
                nums: [1, -2, 18446744073709551615, 1.5, .nan, -.inf, 0755, 1_000, no, true]\n\
                empty: {}\nnothing:\n";
    let recorded = parse_with(text, Spans::Recorded).unwrap();
    let skipped = parse_with(text, Spans::Skipped).unwrap();
    assert_eq!(recorded.value, skipped.value);
    assert_eq!(recorded.value["nums"][4], "NaN");
    assert_eq!(recorded.value["groups"][0]["role"], "member");
    assert!(recorded.position("/groups/0/members/2").is_some());
    assert_eq!(skipped.position("/groups/0/members/2"), None);
    assert_eq!(skipped.key_position("/people/al"), None);

    let deep = format!(
        "{}x{}",
        "[".repeat(MAX_DEPTH + 2),
        "]".repeat(MAX_DEPTH + 2)
    );
    for bad in [
        "a: [1, 2\nb: 3\n",
        "a: b: c\n",
        "a: 1\n---\nb: 2\n",
        "again: 1\nagain: 2\n",
        "name: !!binary YWxpY2U=\n",
        deep.as_str(),
    ] {
        let recorded = parse_with(bad, Spans::Recorded).unwrap_err();
        let skipped = parse_with(bad, Spans::Skipped).unwrap_err();
        assert_eq!(recorded, skipped, "{bad}");
    }
}

#[test]
fn lines_span_a_node_and_everything_under_it() {
    let text = "groups:\n  - name: G\n    members:\n      - al\n      - person: bo\n        role: owner\n        data: {a: 1,\n          b: 2}\n      - {person: cy}\n";
    let p = parse(text).unwrap();
    assert_eq!(p.lines("/groups/0/members/0"), Some((4, 4)));
    assert_eq!(p.lines("/groups/0/members/1"), Some((5, 8)));
    assert_eq!(p.lines("/groups/0/members/2"), Some((9, 9)));
    assert_eq!(p.lines("/groups/0/members/3"), None);
    let skipped = parse_with(text, Spans::Skipped).unwrap();
    assert_eq!(skipped.lines("/groups/0/members/0"), None);
}

#[test]
fn positions_of_nodes_and_keys() {
    let p = parse("groups:\n  - name: Sales\n    members: [a, b]\n").unwrap();
    assert_eq!(
        p.position("/groups/0/members/1"),
        Some(Position {
            line: 3,
            column: 18
        })
    );
    assert_eq!(
        p.key_position("/groups/0/members"),
        Some(Position { line: 3, column: 5 })
    );
    assert_eq!(
        p.position("/groups/0/name/nothing"),
        Some(Position {
            line: 2,
            column: 11
        })
    );
}
