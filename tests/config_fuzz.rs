//! The config loader under arbitrary bytes and mutated valid YAML: it answers with
//! diagnostics or a config, never a panic. Case count: TEAMSYNC_PROPTEST_CASES.

use proptest::prelude::*;

const ROOT: &str = "version: 1\nproviders:\n  pb: {kind: pixiebrix, organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11, token_env: PB_TOKEN}\n  docs: {kind: gitbook, organization: acme, token_env: GB_TOKEN}\ninclude: [\"more.yaml\"]\n";

fn valid_more() -> &'static str {
    "people:\n  alice: {email: alice@acme.com, data: {Location: NYC}}\n  bob: {email: bob@acme.com}\ngroups:\n  - name: Sales\n    previously: [Old]\n    mode: additive\n    members: [alice, {person: bob}]\ncampaigns:\n  - name: Q3\n    members: [{person: alice, data: {x: 1}}]\nteams:\n  - name: Docs\n    members: [{person: bob, role: owner}, alice]\norganization:\n  roster: exact\n  keep: [service_accounts]\n"
}

fn load(more: &[u8]) -> Result<(), usize> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("teamsync.yaml"), ROOT).expect("write");
    std::fs::write(dir.path().join("more.yaml"), more).expect("write");
    match teamsync::config::load(&dir.path().join("teamsync.yaml")) {
        Ok(_) => Ok(()),
        Err(diags) => {
            // Every error says where it is.
            assert!(diags.iter().all(|d| d.location.is_some()), "{diags:?}");
            Err(diags.len())
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(vec![
        b':', b'-', b'[', b']', b'{', b'}', b'&', b'*', b'!', b'\n', b' ', b'\t', b'"', b'\'',
        b'#', b'|', b'>', 0xff, b'%', b'@', b'?', b',',
    ]);
    prop_oneof![
        (any::<usize>(), special.clone()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), special).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match *m {
            Mutation::Replace(i, b) => bytes[i % len] = b,
            Mutation::Insert(i, b) => bytes.insert(i % (len + 1), b),
            Mutation::Delete(i) => {
                bytes.remove(i % len);
            }
            Mutation::Duplicate(i, n) => {
                let start = i % len;
                let end = (start + n).min(len);
                let chunk = bytes[start..end].to_vec();
                bytes.splice(start..start, chunk);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("TEAMSYNC_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = load(&bytes);
    }

    #[test]
    fn mutated_valid_yaml_never_panics(mutations in prop::collection::vec(mutation(), 1..8)) {
        let _ = load(&apply(valid_more().as_bytes().to_vec(), &mutations));
    }
}

#[test]
fn the_unmutated_file_is_valid() {
    assert_eq!(load(valid_more().as_bytes()), Ok(()));
}
