//! Every example file validates against the committed schema with a second, independent
//! stack: YAML read straight by serde-saphyr (not our positioned loader) and checked by
//! the `boon` validator (not the `jsonschema` crate the product uses). If the two stacks
//! disagreed, editors and `teamsync validate` could give different answers.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.file_name().is_some_and(|n| n == ".teamsync") {
            continue;
        }
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
}

fn validator() -> (boon::Schemas, boon::SchemaIndex) {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let path = root().join("schemas/teamsync.schema.json");
    let index = compiler
        .compile(path.to_str().unwrap(), &mut schemas)
        .expect("the committed schema compiles in boon");
    (schemas, index)
}

#[test]
fn every_example_file_validates_with_an_independent_validator() {
    let (schemas, index) = validator();
    let mut files = Vec::new();
    yaml_files(&root().join("examples/acme"), &mut files);
    yaml_files(&root().join("tests/fixtures/design"), &mut files);
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let value: Value =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if let Err(e) = schemas.validate(&value, index) {
            panic!("{} does not validate: {e:#}", file.display());
        }
    }
}

#[test]
fn the_independent_validator_rejects_what_teamsync_rejects() {
    let (schemas, index) = validator();
    for bad in [
        "groups:\n  - name: G\n    membres: [a]\n",
        "providers:\n  x: {kind: gitbok, organization: o}\n",
        "teams:\n  - name: T\n    members: [{person: a, role: emperor}]\n",
        "version: one\n",
    ] {
        let value: Value = serde_saphyr::from_str(bad).unwrap();
        assert!(
            schemas.validate(&value, index).is_err(),
            "boon accepted:\n{bad}"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("teamsync.yaml"), bad).unwrap();
        assert!(
            teamsync::config::load(dir.path()).is_err(),
            "teamsync accepted:\n{bad}"
        );
    }
}
