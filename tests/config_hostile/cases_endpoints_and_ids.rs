//! Issue 14 corpus cases in the root file: endpoints, ids, token_env, provider names and domains.

use super::*;

pub(super) fn cases() -> Vec<Case> {
    vec![
        root_case(
            "endpoint with a user name and password",
            &ROOT.replace(
                "token_env: GB_TOKEN",
                "token_env: GB_TOKEN, endpoint: \"https://user:s3cret@api.gitbook.com/v1\"",
            ),
            (
                "teamsync.yaml",
                4,
                76,
                "endpoint `https://…@api.gitbook.com` carries a user name or password",
            ),
        ),
        root_case(
            "endpoint with a query and a fragment",
            &ROOT.replace(
                "token_env: GB_TOKEN",
                "token_env: GB_TOKEN, endpoint: \"https://api.gitbook.com/v1?query#fragment\"",
            ),
            (
                "teamsync.yaml",
                4,
                76,
                "has a query (`?…`) and a fragment (`#…`)",
            ),
        ),
        root_case(
            "endpoint with a line break",
            &ROOT.replace(
                "token_env: GB_TOKEN",
                "token_env: GB_TOKEN, endpoint: \"https://api.git\\nbook.com\"",
            ),
            ("teamsync.yaml", 4, 76, "contains U+000A (a line feed)"),
        ),
        root_case(
            "organization id that walks the URL",
            &ROOT.replace("organization: acme", "organization: \"../../other/x\""),
            (
                "teamsync.yaml",
                4,
                39,
                "organization id `../../other/x` contains `.`",
            ),
        ),
        root_case(
            "PixieBrix organization that is not a UUID",
            &ROOT.replace("0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11", "acme"),
            (
                "teamsync.yaml",
                3,
                39,
                "PixieBrix organization id `acme` is not a UUID",
            ),
        ),
        root_case(
            "absolute sandbox path",
            &ROOT.replace(
                ", token_env: GB_TOKEN",
                ", endpoint: \"sandbox:/etc/passwd\"",
            ),
            (
                "teamsync.yaml",
                4,
                55,
                "sandbox state file `/etc/passwd` is outside the repository",
            ),
        ),
        root_case(
            "sandbox path with ..",
            &ROOT.replace(", token_env: GB_TOKEN", ", endpoint: \"sandbox:../x.json\""),
            (
                "teamsync.yaml",
                4,
                55,
                "sandbox state file `../x.json` is outside the repository",
            ),
        ),
        root_case(
            "token_env naming PATH",
            &ROOT.replace("token_env: GB_TOKEN", "token_env: PATH"),
            (
                "teamsync.yaml",
                4,
                56,
                "`token_env: PATH` names a well-known variable that holds no token",
            ),
        ),
        root_case(
            "token_env naming a GitHub Actions variable",
            &ROOT.replace("token_env: GB_TOKEN", "token_env: GITHUB_TOKEN"),
            ("teamsync.yaml", 4, 56, "names a well-known variable"),
        ),
        root_case(
            "token_env in lower case",
            &ROOT.replace("token_env: GB_TOKEN", "token_env: gb_token"),
            (
                "teamsync.yaml",
                4,
                56,
                "`gb_token` is not an environment variable name teamsync reads",
            ),
        ),
        root_case(
            "provider name with an upper-case letter",
            &ROOT.replace("  docs: {", "  Docs: {"),
            (
                "teamsync.yaml",
                4,
                3,
                "provider name `Docs` starts with an upper-case letter `D`",
            ),
        ),
        root_case(
            "provider name with a dot",
            &ROOT.replace("  docs: {", "  do.cs: {"),
            (
                "teamsync.yaml",
                4,
                3,
                "provider name `do.cs` contains `.` at character 3",
            ),
        ),
        root_case(
            "allowed domain written as a wildcard",
            &ROOT.replace("[acme.com]", "[\"*.acme.com\"]"),
            (
                "teamsync.yaml",
                7,
                27,
                "`*.acme.com` is a wildcard, which teamsync does not read",
            ),
        ),
        root_case(
            "allowed domain with a trailing dot",
            &ROOT.replace("[acme.com]", "[acme.com.]"),
            ("teamsync.yaml", 7, 27, "`acme.com.` ends with a dot"),
        ),
        root_case(
            "allowed domain written as a URL",
            &ROOT.replace("[acme.com]", "[\"https://acme.com\"]"),
            (
                "teamsync.yaml",
                7,
                27,
                "`https://acme.com` is a URL (`https://`), not a domain",
            ),
        ),
        root_case(
            "allowed domain in upper case",
            &ROOT.replace("[acme.com]", "[Acme.com]"),
            ("teamsync.yaml", 7, 27, "`Acme.com` has upper-case letters"),
        ),
        root_case(
            "allowed domain with spaces",
            &ROOT.replace("[acme.com]", "[\" acme.com\"]"),
            ("teamsync.yaml", 7, 27, "contains white space"),
        ),
        root_case(
            "allowed domain written as an email",
            &ROOT.replace("[acme.com]", "[\"@acme.com\"]"),
            ("teamsync.yaml", 7, 27, "`@acme.com` is not a domain"),
        ),
    ]
}
