//! Corpus cases in the root file: provider kinds, version, endpoints, tokens, includes and prune.

use super::*;

pub(super) fn cases() -> Vec<Case> {
    vec![
        root_case(
            "provider kind typo",
            &ROOT.replace("kind: gitbook", "kind: gitbok"),
            ("teamsync.yaml", 4, 16, "unknown provider kind `gitbok`"),
        ),
        root_case(
            "unsupported version",
            &ROOT.replace("version: 1", "version: 2"),
            ("teamsync.yaml", 1, 10, "version"),
        ),
        root_case(
            "missing version",
            &ROOT.replace("version: 1\n", ""),
            ("teamsync.yaml", 1, 1, "the root file has no `version`"),
        ),
        root_case(
            "plain http to a remote host",
            &ROOT.replace(
                "token_env: PB_TOKEN",
                "token_env: PB_TOKEN, endpoint: http://pixiebrix.example.com",
            ),
            (
                "teamsync.yaml",
                3,
                108,
                "plain http to a host that is not loopback",
            ),
        ),
        root_case(
            "missing sandbox file",
            &ROOT.replace("token_env: PB_TOKEN", "endpoint: sandbox:nope.json"),
            (
                "teamsync.yaml",
                3,
                87,
                "sandbox state file `nope.json` does not exist",
            ),
        ),
        root_case(
            "missing token_env",
            &ROOT.replace(", token_env: GB_TOKEN", ""),
            ("teamsync.yaml", 4, 3, "provider `docs` has no `token_env`"),
        ),
        root_case(
            "include escapes the root",
            &ROOT.replace("[\"more.yaml\"]", "[\"more.yaml\", \"../outside.yaml\"]"),
            ("teamsync.yaml", 8, 24, "reaches outside the repository"),
        ),
        root_case(
            "absolute include",
            &ROOT.replace("[\"more.yaml\"]", "[\"more.yaml\", \"/etc/passwd\"]"),
            ("teamsync.yaml", 8, 24, "reaches outside the repository"),
        ),
        root_case(
            "include matches nothing",
            &ROOT.replace("[\"more.yaml\"]", "[\"more.yaml\", \"teams/*.yaml\"]"),
            ("teamsync.yaml", 8, 24, "matches no file"),
        ),
        root_case(
            "prune a kind the provider lacks",
            &ROOT.replace("token_env: GB_TOKEN", "token_env: GB_TOKEN, prune: [group]"),
            ("teamsync.yaml", 4, 74, "gitbook does not manage groups"),
        ),
    ]
}
