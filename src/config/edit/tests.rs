use super::*;

fn list(text: &str, pointer: &str) -> (Span, Vec<Layout>, Layout) {
    let layout = yaml::layout(text).unwrap();
    let container = layout.at(pointer).unwrap();
    let Shape::Map { entries, .. } = &container.shape else {
        panic!("{container:?}")
    };
    let (_, key, value) = entries.iter().find(|(k, _, _)| k == "members").unwrap();
    let Shape::Seq { items, .. } = &value.shape else {
        panic!("{value:?}")
    };
    (*key, items.clone(), value.clone())
}

fn apply(text: &str, splices: Vec<Splice>) -> String {
    let layout = yaml::layout(text).unwrap();
    Source {
        text: text.to_string(),
        layout,
        splices,
    }
    .edited()
    .unwrap()
}

const TEAM: &str = "teams:\n  - name: W   # the writers\n    members:\n      - alice  # lead\n      # bob joined in May\n      - { person: bob,  role: owner }\n      - person: carol\n        until: 2030-01-01\n\n      # end\n    mode: exact\n";

#[test]
fn a_block_list_is_edited_line_by_line() {
    let (key, items, _) = list(TEAM, "/teams/0");
    let drops = BTreeSet::from([0]);
    let roles = BTreeMap::from([(1, Role::Member), (2, Role::Owner)]);
    let joins = vec![
        "erin".to_string(),
        "{ person: frank, role: owner }".to_string(),
    ];
    let wanted = Wanted {
        drops: &drops,
        roles: &roles,
        joins: &joins,
    };
    let out = apply(TEAM, in_place(TEAM, key, &items, &wanted).unwrap());
    assert_eq!(
        out,
        "teams:\n  - name: W   # the writers\n    members:\n      # bob joined in May\n      - { person: bob,  role: member }\n      - person: carol\n        role: owner\n        until: 2030-01-01\n      - erin\n      - { person: frank, role: owner }\n\n      # end\n    mode: exact\n"
    );
    // A plain entry gains a mapping; a flow one without a role gains `role:`.
    let text = "teams:\n- name: X\n  members:\n  - \"alice\"\n  - {person: bob}\n";
    let (key, items, _) = list(text, "/teams/0");
    let roles = BTreeMap::from([(0, Role::Owner), (1, Role::Owner)]);
    let wanted = Wanted {
        drops: &BTreeSet::new(),
        roles: &roles,
        joins: &[],
    };
    assert_eq!(
        apply(text, in_place(text, key, &items, &wanted).unwrap()),
        "teams:\n- name: X\n  members:\n  - { person: \"alice\", role: owner }\n  - {person: bob, role: owner}\n"
    );
}

#[test]
fn a_mapping_entry_goes_with_all_its_lines_and_nothing_else() {
    let (key, items, _) = list(TEAM, "/teams/0");
    let drops = BTreeSet::from([1, 2]);
    let wanted = Wanted {
        drops: &drops,
        roles: &BTreeMap::new(),
        joins: &[],
    };
    assert_eq!(
        apply(TEAM, in_place(TEAM, key, &items, &wanted).unwrap()),
        "teams:\n  - name: W   # the writers\n    members:\n      - alice  # lead\n      # bob joined in May\n\n      # end\n    mode: exact\n"
    );
}

#[test]
fn a_container_without_members_gains_the_key() {
    let text = "teams:\n  - name: X  # new\n    mode: exact\n# after\n";
    let layout = yaml::layout(text).unwrap();
    let container = layout.at("/teams/0").unwrap();
    let splice = new_members_key(text, container, &["erin".to_string()]);
    assert_eq!(
        apply(text, vec![splice]),
        "teams:\n  - name: X  # new\n    mode: exact\n    members:\n      - erin\n# after\n"
    );
}

#[test]
fn a_list_left_empty_is_written_as_an_empty_flow_list() {
    let text = "teams:\n  - name: X\n    members: # nobody soon\n      - alice\n    mode: exact\n";
    let (key, items, _) = list(text, "/teams/0");
    let drops = BTreeSet::from([0]);
    let wanted = Wanted {
        drops: &drops,
        roles: &BTreeMap::new(),
        joins: &[],
    };
    assert_eq!(
        apply(text, in_place(text, key, &items, &wanted).unwrap()),
        "teams:\n  - name: X\n    members: [] # nobody soon\n    mode: exact\n"
    );
}

#[test]
fn a_flow_list_is_rewritten_in_block_style() {
    let text = "teams:\n  - name: X\n    members: [alice, \"bob\", {person: carol, role: owner}]  # three\n    mode: exact\n";
    let (key, items, value) = list(text, "/teams/0");
    let drops = BTreeSet::from([0]);
    let roles = BTreeMap::from([(2, Role::Member)]);
    let joins = vec!["dan".to_string()];
    let wanted = Wanted {
        drops: &drops,
        roles: &roles,
        joins: &joins,
    };
    let splice = rewrite(text, key, &value, &items, &wanted).unwrap();
    assert_eq!(
        apply(text, vec![splice]),
        "teams:\n  - name: X\n    members:  # three\n      - \"bob\"\n      - { person: carol, role: member }\n      - dan\n    mode: exact\n"
    );
    // A block item that starts on the line after its dash is not edited in place.
    let odd = "teams:\n- name: X\n  members:\n  -\n    alice\n  - bob\n";
    let (key, items, _) = list(odd, "/teams/0");
    assert!(in_place(odd, key, &items, &wanted).is_none());
}

#[test]
fn new_people_follow_the_last_person_in_its_style() {
    let erin = Email::parse("erin@acme.com").unwrap();
    let flow = "people:\n  alice: { email: alice@acme.com }  # lead\n# end\n";
    let layout = yaml::layout(flow).unwrap();
    let splice = people_after_last(flow, &layout, &[("erin".into(), erin.clone())]).unwrap();
    assert_eq!(
        apply(flow, vec![splice]),
        "people:\n  alice: { email: alice@acme.com }  # lead\n  erin: { email: erin@acme.com }\n# end\n"
    );
    let block = "people:\n  alice:\n    email: alice@acme.com";
    let layout = yaml::layout(block).unwrap();
    let splice = people_after_last(block, &layout, &[("erin".into(), erin)]).unwrap();
    assert_eq!(
        apply(block, vec![splice]),
        "people:\n  alice:\n    email: alice@acme.com\n  erin:\n    email: erin@acme.com\n"
    );
}

#[test]
fn scalars_are_quoted_only_when_plain_would_read_otherwise() {
    assert_eq!(scalar("alice"), "alice");
    assert_eq!(scalar("a.b+c@acme.com"), "a.b+c@acme.com");
    for odd in ["123", "true", "null", "-x", "o'brien@acme.com", ""] {
        assert!(scalar(odd).starts_with('"'), "{odd}");
    }
}
