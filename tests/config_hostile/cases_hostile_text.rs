//! Issue 14 corpus cases: invisible characters, lookalikes, tags, handles and names.

use super::*;

pub(super) fn cases() -> Vec<Case> {
    let p = PEOPLE;
    vec![
        // Issue 14: invisible characters, lookalikes, tags, names, endpoints and ids.
        case(
            "zero-width space in an email",
            "people:\n  ana: {email: \"ana\u{200B}@acme.com\"}\n",
            (
                "more.yaml",
                2,
                16,
                "contains U+200B (zero width space), invisible, at character 4",
            ),
        ),
        case(
            "byte order mark in an email",
            "groups:\n  - name: G\n    members: [\"\u{FEFF}ana@acme.com\"]\n",
            (
                "more.yaml",
                3,
                15,
                "U+FEFF (zero width no-break space (BOM))",
            ),
        ),
        case(
            "bidi control in an email",
            "people:\n  ana: {email: \"ana\u{202E}@acme.com\"}\n",
            ("more.yaml", 2, 16, "U+202E (right-to-left override)"),
        ),
        case(
            "Cyrillic lookalike in the local part",
            "people:\n  ana: {email: \u{0430}na@acme.com}\n",
            (
                "more.yaml",
                2,
                16,
                "U+0430 'а', which looks like the ASCII `a`, at character 1; it must be ASCII",
            ),
        ),
        case(
            "Cyrillic lookalike in the domain",
            "people:\n  ana: {email: ana@\u{0430}cme.com}\n",
            (
                "more.yaml",
                2,
                16,
                "mixes Latin and Cyrillic letters (U+0430 'а' is Cyrillic)",
            ),
        ),
        case(
            "domain spelled in lookalike letters",
            "people:\n  ana: {email: ana@\u{0430}\u{0441}\u{0435}.com}\n",
            (
                "more.yaml",
                2,
                16,
                "written in Cyrillic letters that look like the ASCII `ace`",
            ),
        ),
        case(
            "binary tag",
            "people:\n  ana: {email: !!binary YW5hQGFjbWUuY29t}\n",
            ("more.yaml", 2, 16, "unsupported tag `!!binary`"),
        ),
        case(
            "timestamp tag",
            "groups:\n  - name: !!timestamp 2001-12-14\n",
            ("more.yaml", 2, 11, "unsupported tag `!!timestamp`"),
        ),
        case(
            "handle with a newline",
            "people:\n  \"al\\nice\": {email: alice@acme.com}\n",
            (
                "more.yaml",
                2,
                3,
                "handle `al\\nice` contains U+000A (a line feed) at character 3",
            ),
        ),
        case(
            "handle with an upper-case letter",
            "people:\n  Alice: {email: alice@acme.com}\n",
            (
                "more.yaml",
                2,
                3,
                "handle `Alice` starts with an upper-case letter `A`",
            ),
        ),
        case(
            "reference with a newline is shown escaped",
            &format!("{p}groups:\n  - name: G\n    members: [\"bob\\nwarning: forged\"]\n"),
            ("more.yaml", 6, 15, "unknown person `bob\\nwarning: forged`"),
        ),
        case(
            "name with a right-to-left override",
            "groups:\n  - name: \"Sales\u{202E}spO\"\n",
            (
                "more.yaml",
                2,
                11,
                "name `Sales\\u{202E}spO` contains U+202E (right-to-left override) at character 6",
            ),
        ),
        case(
            "name with a NUL",
            "groups:\n  - name: \"Sales\\0\"\n",
            ("more.yaml", 2, 11, "contains U+0000 (NUL) at character 6"),
        ),
        case(
            "name with a newline",
            "teams:\n  - name: \"Writers\\nOps\"\n    provider: docs\n",
            (
                "more.yaml",
                2,
                11,
                "contains U+000A (a line feed) at character 8",
            ),
        ),
        case(
            "earlier name with a zero-width joiner",
            "groups:\n  - name: Sales\n    previously: [\"Sa\u{200D}les\"]\n",
            ("more.yaml", 3, 18, "U+200D (zero width joiner)"),
        ),
        case(
            "two teams that differ only in case",
            "teams:\n  - name: Writers\n    provider: docs\n  - name: writers\n    provider: docs\n",
            (
                "more.yaml",
                4,
                11,
                "team `writers` and `Writers` on provider `docs` differ only in case",
            ),
        ),
        case(
            "user id that walks the URL",
            "groups:\n  - name: G\n    members: [{user_id: ../groups/1}]\n",
            ("more.yaml", 3, 25, "user id `../groups/1` contains `.`"),
        ),
    ]
}
