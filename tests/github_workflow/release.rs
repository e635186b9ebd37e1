//! Releases: archive names, the tag checked against Cargo.toml, and attestation.

use super::*;

#[test]
fn releases_are_the_archives_binstall_and_the_action_download() {
    let release = yaml(".github/workflows/release.yml");
    assert_eq!(release["on"]["push"]["tags"], serde_json::json!(["v*"]));
    let mut targets: Vec<&str> = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        [
            "aarch64-apple-darwin",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc",
            "x86_64-unknown-linux-musl"
        ]
    );
    let text = serde_json::to_string(&release).unwrap();
    assert!(text.contains("teamsync-${GITHUB_REF_NAME}-${TARGET}"));
    assert!(text.contains("sha256sum teamsync-* > SHA256SUMS"));
    // The tag is v{version}, so binstall's template names the same file.
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    assert!(
        manifest
            .contains("/releases/download/v{ version }/{ name }-v{ version }-{ target }.tar.gz")
    );
    assert!(manifest.contains("{ name }-v{ version }-{ target }/{ bin }{ binary-ext }"));
}

#[test]
fn a_release_tag_must_be_v_and_the_cargo_toml_version() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/check-release-version");
    let run = |script: &Path, tag: &str| {
        let out = Command::new("bash").arg(script).arg(tag).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let version = env!("CARGO_PKG_VERSION");
    let (code, stderr) = run(Path::new(script), &format!("v{version}"));
    assert_eq!(code, Some(0), "{stderr}");
    for wrong in ["v0.0.0-not-this", version, ""] {
        let (code, stderr) = run(Path::new(script), wrong);
        assert_eq!(code, Some(1), "{wrong:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "error: tag {wrong} does not match Cargo.toml version {version}; bump Cargo.toml or tag v{version}"
            )),
            "{stderr}"
        );
    }
    // Only [package]'s version counts: dependency tables have `version` keys too.
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join("scripts")).unwrap();
    let copy = repo.path().join("scripts/check-release-version");
    std::fs::copy(script, &copy).unwrap();
    std::fs::write(
        repo.path().join("Cargo.toml"),
        "[dependencies.serde]\nversion = \"9.9.9\"\n\n[package] # the crate\nname = \"x\"\n\
         version = \"1.2.3\" # bump when tagging\n\n[workspace.package]\nversion = \"7.7.7\"\n",
    )
    .unwrap();
    assert_eq!(run(&copy, "v1.2.3").0, Some(0));
    for wrong in ["v9.9.9", "v7.7.7", "1.2.3"] {
        let (code, stderr) = run(&copy, wrong);
        assert_eq!(code, Some(1), "{wrong}");
        assert!(stderr.contains("Cargo.toml version 1.2.3"), "{stderr}");
    }

    // The release workflow checks the tag before it builds anything.
    let release = yaml(".github/workflows/release.yml");
    let check = &release["jobs"]["check-version"];
    assert_eq!(check["runs-on"], "ubuntu-24.04");
    let steps = serde_json::to_string(&check["steps"]).unwrap();
    assert!(
        steps.contains("actions/checkout@v")
            && steps.contains(r#"scripts/check-release-version \"$GITHUB_REF_NAME\""#),
        "{steps}"
    );
    let needs = &release["jobs"]["build"]["needs"];
    assert!(
        needs == "check-version"
            || needs
                .as_array()
                .is_some_and(|n| n.contains(&"check-version".into())),
        "build needs: {needs}"
    );
    assert_eq!(release["jobs"]["release"]["needs"], "build");
}

#[test]
fn releases_are_attested_and_the_action_installs_only_an_attested_archive() {
    let release = yaml(".github/workflows/release.yml");
    let job = &release["jobs"]["release"];
    for (permission, level) in [
        ("contents", "write"),
        ("id-token", "write"),
        ("attestations", "write"),
    ] {
        assert_eq!(job["permissions"][permission], level, "{permission}");
    }
    let steps = job["steps"].as_array().unwrap();
    let at = |pred: &dyn Fn(&Value) -> bool| steps.iter().position(pred).unwrap();
    let sums = at(&|s| s["name"] == "SHA256SUMS");
    let attest = at(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/attest-build-provenance@v3"))
    });
    let publish = at(&|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("gh release create"))
    });
    assert!(
        sums < attest && attest < publish,
        "{sums} {attest} {publish}"
    );
    assert_eq!(steps[attest]["with"]["subject-path"], "dist/teamsync-*");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.github/workflows/release.yml"
    ))
    .unwrap();
    for line in text.lines().filter(|l| l.contains("uses: ")) {
        assert!(
            line.contains("# version tag: SHA not verified here"),
            "{line}"
        );
    }

    // The action verifies the attestation after the checksum, before unpacking.
    let install = install_script();
    let download = &install[install.find("curl ").unwrap()..];
    let verify = download
        .find(r#"gh attestation verify "$name.$ext" --repo teamsync/teamsync"#)
        .expect("verifies the attestation");
    assert!(download.find("sha256sum -c").unwrap() < verify);
    assert!(verify < download.find("tar -xzf").unwrap());
    assert!(verify < download.find("GITHUB_PATH").unwrap());
    assert_eq!(
        action()["runs"]["steps"][0]["env"]["GH_TOKEN"],
        "${{ github.token }}"
    );

    // And so it does, run: an attested archive is installed ...
    let tag = [(
        "GITHUB_ACTION_PATH",
        "/runner/_work/_actions/teamsync/teamsync/v0.1.0",
    )];
    let archive = "teamsync-v0.1.0-x86_64-unknown-linux-musl.tar.gz";
    let good = run_install(&tag, false);
    assert!(good.ok, "{}", good.output);
    assert!(
        good.calls.contains(&format!(
            "gh attestation verify {archive} --repo teamsync/teamsync token=the-job-token"
        )),
        "{}",
        good.calls
    );
    let installed = good
        .temp
        .join("teamsync-v0.1.0/teamsync-v0.1.0-x86_64-unknown-linux-musl");
    assert_eq!(good.path, format!("{}\n", installed.display()));
    assert!(
        good.output.contains("teamsync 0.1.0 (fake)"),
        "{}",
        good.output
    );
    // ... one gh does not verify is not, and the error names it ...
    let unattested = run_install(&[tag[0], ("FAKE_GH_EXIT", "1")], false);
    assert!(!unattested.ok);
    assert!(
        unattested
            .output
            .contains(&format!("::error::{archive} is not installed")),
        "{}",
        unattested.output
    );
    assert_eq!(unattested.path, "");
    // ... and one whose checksum is wrong never gets that far.
    let tampered = run_install(&tag, true);
    assert!(!tampered.ok, "{}", tampered.output);
    assert!(!tampered.calls.contains("gh "), "{}", tampered.calls);
    assert_eq!(tampered.path, "");
}
