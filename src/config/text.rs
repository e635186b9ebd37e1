//! The alphabets of names a person writes (handles, provider names, ids, variable names)
//! and the checks shared by the schema and semantic stages, so a refused name is explained
//! the same way wherever it is caught. Text shown back in a message goes through `shown`,
//! so a newline or a bidi control in a name cannot forge lines in a terminal or a comment.

use crate::model::{describe_char, is_hidden};

/// People handles.
pub const HANDLE_PATTERN: &str = "^[a-z0-9_][a-z0-9._-]{0,63}$";
/// Provider names (no `.`: a resource key is written `provider.kind["name"]`).
pub const PROVIDER_NAME_PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,63}$";
/// Organization ids, for every kind; PixieBrix further requires a UUID.
pub const ORGANIZATION_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";
/// `token_env`.
pub const TOKEN_ENV_PATTERN: &str = "^[A-Z_][A-Z0-9_]*$";

/// `s` as it may be printed: invisible, control and non-ASCII space characters written as
/// `\u{…}` escapes, and at most 200 characters.
pub fn shown(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == 200 {
            out.push('…');
            break;
        }
        out.push_str(&shown_char(c));
    }
    out
}

/// `s` with control, invisible and non-ASCII space characters written as `\u{…}` (or
/// `\n`, `\r`, `\t`) escapes; nothing else changes and nothing is cut.
pub fn escape_hidden(s: &str) -> String {
    if !s
        .chars()
        .any(|c| is_hidden(c) || (c.is_whitespace() && c != ' '))
    {
        return s.to_string();
    }
    s.chars().map(shown_char).collect()
}

fn shown_char(c: char) -> String {
    match c {
        '\n' => "\\n".to_string(),
        '\r' => "\\r".to_string(),
        '\t' => "\\t".to_string(),
        c if is_hidden(c) || (c.is_whitespace() && c != ' ') => {
            format!("\\u{{{:04X}}}", c as u32)
        }
        c => c.to_string(),
    }
}

/// What the name of a thing is called in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Handle,
    Provider,
}

impl NameKind {
    fn noun(self) -> &'static str {
        match self {
            NameKind::Handle => "handle",
            NameKind::Provider => "provider name",
        }
    }

    fn alphabet(self) -> &'static str {
        match self {
            NameKind::Handle => {
                "lower-case ASCII letters, digits, `.`, `_` and `-`, starting with a letter, digit or `_`, at most 64 characters"
            }
            NameKind::Provider => {
                "lower-case ASCII letters, digits, `_` and `-`, starting with a letter or digit, at most 64 characters"
            }
        }
    }

    fn allowed(self, c: char, first: bool) -> bool {
        let base = c.is_ascii_lowercase() || c.is_ascii_digit();
        match (self, first) {
            (NameKind::Handle, true) => base || c == '_',
            (NameKind::Handle, false) => base || matches!(c, '.' | '_' | '-'),
            (NameKind::Provider, true) => base,
            (NameKind::Provider, false) => base || matches!(c, '_' | '-'),
        }
    }
}

/// Whether `name` is in the alphabet of its kind.
pub fn valid_name(kind: NameKind, name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .enumerate()
            .all(|(i, c)| kind.allowed(c, i == 0))
}

/// Why `name` is not a valid handle or provider name: (message, hint).
pub fn explain_name(kind: NameKind, name: &str) -> (String, String) {
    let noun = kind.noun();
    let fixed = suggestion(kind, name);
    let fix = match &fixed {
        Some(f) => format!("write `{f}`; {noun}s use {}", kind.alphabet()),
        None => format!("{noun}s use {}", kind.alphabet()),
    };
    let message = if name.is_empty() {
        format!("the {noun} is empty")
    } else if name.trim() != name {
        format!(
            "{noun} `{}` has spaces around it",
            shown(name).replace(' ', "␠")
        )
    } else if name.chars().count() > 64 {
        format!("{noun} `{}` is longer than 64 characters", shown(name))
    } else {
        let (i, c) = name
            .chars()
            .enumerate()
            .find(|(i, c)| !kind.allowed(*c, *i == 0))
            .unwrap_or((0, '?'));
        let what = if c.is_ascii_uppercase() {
            format!("an upper-case letter `{c}`")
        } else if is_hidden(c) {
            describe_char(c)
        } else if c.is_ascii() {
            format!("`{c}`")
        } else {
            describe_char(c)
        };
        if i == 0 {
            format!("{noun} `{}` starts with {what}", shown(name))
        } else {
            format!(
                "{noun} `{}` contains {what} at character {}",
                shown(name),
                i + 1
            )
        }
    };
    (message, fix)
}

/// The name made valid by the obvious edits (trim, lower-case, spaces to `-`), if that
/// gives a valid name.
fn suggestion(kind: NameKind, name: &str) -> Option<String> {
    let s: String = name
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == ' ' { '-' } else { c })
        .collect();
    (valid_name(kind, &s) && s != name).then_some(s)
}

/// A container name (group, campaign, team, earlier name) checked: surrounding spaces are
/// trimmed (the caller warns), while control, invisible and bidi characters and any space
/// but U+0020 are refused. Ok: the trimmed name. Err: (message, hint).
pub fn check_free_name(name: &str) -> Result<&str, (String, String)> {
    if let Some((i, c)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| is_hidden(*c) || (c.is_whitespace() && *c != ' '))
    {
        return Err((
            format!(
                "name `{}` contains {} at character {}",
                shown(name),
                describe_char(c),
                i + 1
            ),
            if c == '\n' || c == '\r' {
                "a name is one line: remove the line break (in YAML, a quoted \"\\n\" or a `|` block makes one)".to_string()
            } else if c.is_whitespace() {
                "use plain spaces (U+0020) only".to_string()
            } else {
                "remove the character: names may not carry control, invisible or text-direction characters".to_string()
            },
        ));
    }
    let trimmed = name.trim_matches(' ');
    if trimmed.is_empty() {
        return Err((
            "the name is empty".to_string(),
            "write the name of the group, campaign or team".to_string(),
        ));
    }
    Ok(trimmed)
}

/// Well-known environment variables that never hold an API token: naming one as
/// `token_env` would send its value (the PATH, the home folder…) as a token.
pub fn non_secret_env(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "OLDPWD", "TERM", "LANG", "LANGUAGE",
        "LC_ALL", "LC_CTYPE", "TMPDIR", "TMP", "TEMP", "HOSTNAME", "EDITOR", "VISUAL", "PAGER",
        "CI", "DISPLAY", "MAIL", "SHLVL", "TZ", "_",
    ];
    NAMES.contains(&name)
        || name.starts_with("GITHUB_")
        || name.starts_with("RUNNER_")
        || name.starts_with("LC_")
        || name.starts_with("XDG_")
}

/// Whether `id` is a UUID (8-4-4-4-12 hexadecimal digits).
pub fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Whether `id` fits `ORGANIZATION_PATTERN`.
pub fn valid_organization(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Why an organization id is refused: (message, hint).
pub fn explain_organization(id: &str) -> (String, String) {
    let what = match id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        Some(c) if c.is_ascii() && !c.is_ascii_control() => format!("contains `{c}`"),
        Some(c) => format!("contains {}", describe_char(c)),
        None if id.is_empty() => "is empty".to_string(),
        None => "is longer than 64 characters".to_string(),
    };
    (
        format!("organization id `{}` {what}", shown(id)),
        "write the organization's id as the provider shows it (ASCII letters, digits, `_` and `-`, for PixieBrix a UUID); it is never a path or a URL".to_string(),
    )
}

/// Why a `token_env` value is refused: (message, hint).
pub fn explain_token_env(name: &str) -> (String, String) {
    let upper = name.to_ascii_uppercase();
    let hint = if upper != name && valid_token_env(&upper) {
        format!("write `{upper}`: variable names are upper-case ASCII letters, digits and `_`")
    } else {
        "variable names are upper-case ASCII letters, digits and `_`, for example PIXIEBRIX_TOKEN"
            .to_string()
    };
    (
        format!(
            "`{}` is not an environment variable name teamsync reads",
            shown(name)
        ),
        hint,
    )
}

/// Whether `name` fits `TOKEN_ENV_PATTERN`.
pub fn valid_token_env(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A printable ASCII character in backquotes, any other by its name (`a line feed`).
fn printable_or_described(c: char) -> String {
    if c.is_ascii() && !c.is_ascii_control() {
        format!("`{c}`")
    } else {
        describe_char(c)
    }
}

/// The longest GitHub username (and organization name) GitHub allows.
pub const GITHUB_NAME_MAX: usize = 39;

/// Why `name` is not a GitHub username (or organization name; `noun` says which, as
/// "GitHub username"): (message, hint), or `None` when it is one. A username is 1 to 39
/// ASCII letters, digits and single hyphens, and neither starts nor ends with a hyphen.
pub fn explain_github_name(noun: &str, name: &str) -> Option<(String, String)> {
    let s = shown(name);
    let letters = "ASCII letters, digits and single hyphens, at most 39 characters";
    if name.is_empty() {
        return Some((
            format!("the {noun} is empty"),
            format!("write the name as it appears in github.com/NAME: {letters}"),
        ));
    }
    if let Some(rest) = name.strip_prefix('@') {
        return Some((
            format!("{noun} `{s}` starts with `@`"),
            format!("drop the `@`: write `{}`", shown(rest)),
        ));
    }
    if let Some((i, c)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        let what = printable_or_described(c);
        return Some((
            format!("{noun} `{s}` contains {what} at character {}", i + 1),
            format!("a {noun} holds {letters}"),
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        let trimmed = name.trim_matches('-');
        return Some((
            format!(
                "{noun} `{s}` {} with a hyphen",
                if name.starts_with('-') {
                    "starts"
                } else {
                    "ends"
                }
            ),
            if trimmed.is_empty() {
                format!("a {noun} holds {letters}")
            } else {
                format!("remove the hyphen at the edge: `{trimmed}`")
            },
        ));
    }
    if name.contains("--") {
        let mut single = name.to_string();
        while single.contains("--") {
            single = single.replace("--", "-");
        }
        return Some((
            format!("{noun} `{s}` has two hyphens in a row"),
            format!("GitHub allows single hyphens only: `{single}`"),
        ));
    }
    let length = name.chars().count();
    if length > GITHUB_NAME_MAX {
        return Some((
            format!("{noun} `{s}` is {length} characters long"),
            format!("a {noun} has at most {GITHUB_NAME_MAX} characters: check it on github.com"),
        ));
    }
    None
}

/// Why `slug` is not a GitHub team's slug (the `team` of `@org/team`): (message, hint),
/// or `None`. A slug is what GitHub makes of a team's name: ASCII letters, digits, `-`
/// and `_`, starting with a letter or digit.
pub fn explain_team_slug(slug: &str) -> Option<(String, String)> {
    let hint = "write the team's slug as in github.com/orgs/ORG/teams/SLUG: ASCII letters, digits, `-` and `_`";
    if slug.is_empty() {
        return Some(("the team's slug is empty".into(), hint.into()));
    }
    let bad = slug
        .chars()
        .enumerate()
        .find(|(i, c)| !(c.is_ascii_alphanumeric() || (*i > 0 && matches!(c, '-' | '_'))));
    if let Some((i, c)) = bad {
        let what = printable_or_described(c);
        return Some((
            format!(
                "team slug `{}` contains {what} at character {}",
                shown(slug),
                i + 1
            ),
            hint.into(),
        ));
    }
    if slug.chars().count() > 255 {
        return Some((
            format!("team slug `{}` is longer than 255 characters", shown(slug)),
            hint.into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_explanations() {
        for ok in ["alice", "bob.smith", "_bot", "a-1", "x9"] {
            assert!(valid_name(NameKind::Handle, ok), "{ok}");
        }
        for bad in [
            "Alice",
            "al ice",
            "alice\n",
            "-a",
            ".a",
            "",
            "ali\u{202E}ce",
        ] {
            assert!(!valid_name(NameKind::Handle, bad), "{bad:?}");
        }
        assert!(!valid_name(NameKind::Provider, "p.b"));
        let (m, h) = explain_name(NameKind::Handle, "ali\nce");
        assert!(m.contains("ali\\nce") && m.contains("U+000A"), "{m}");
        assert!(!m.contains('\n'));
        assert!(h.contains("lower-case"), "{h}");
        let (m, h) = explain_name(NameKind::Handle, "Alice");
        assert!(m.contains("upper-case letter `A`"), "{m}");
        assert!(h.starts_with("write `alice`"), "{h}");
        assert_eq!(shown("a\u{202E}b"), "a\\u{202E}b");
        assert!(is_uuid("0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11"));
        assert!(!is_uuid("o1"));
        assert!(non_secret_env("PATH") && non_secret_env("GITHUB_TOKEN"));
        assert!(!non_secret_env("PIXIEBRIX_TOKEN"));
        assert_eq!(check_free_name("  Sales "), Ok("Sales"));
        assert!(check_free_name("Sa\u{202E}les").is_err());
        assert!(check_free_name("Sales\nOps").is_err());
        assert!(check_free_name("Sales\u{00A0}Ops").is_err());
    }
    #[test]
    fn github_names_follow_githubs_rules() {
        let noun = "GitHub username";
        for ok in ["alice", "alice-acme", "A1", "a-b-c", &"a".repeat(39)] {
            assert_eq!(explain_github_name(noun, ok), None, "{ok}");
        }
        let refused = |name: &str| explain_github_name(noun, name).expect(name);
        let (m, h) = refused("@alice");
        assert!(
            m.contains("starts with `@`") && h == "drop the `@`: write `alice`",
            "{m} / {h}"
        );
        let (m, h) = refused("-bob");
        assert!(
            m.contains("starts with a hyphen") && h.contains("`bob`"),
            "{m} / {h}"
        );
        let (m, _) = refused("bob-");
        assert!(m.contains("ends with a hyphen"), "{m}");
        let (m, h) = refused("a--b");
        assert!(
            m.contains("two hyphens") && h.contains("`a-b`"),
            "{m} / {h}"
        );
        let (m, _) = refused(&"a".repeat(40));
        assert!(m.contains("40 characters"), "{m}");
        let (m, _) = refused("al ice");
        assert!(m.contains("` `") && m.contains("character 3"), "{m}");
        let (m, _) = refused("al\nice");
        assert!(!m.contains('\n') && m.contains("line feed"), "{m}");
        assert!(refused("").0.contains("empty"));
        assert!(refused("al_ice").0.contains("`_`"));
        assert_eq!(explain_team_slug("access-admins"), None);
        assert_eq!(explain_team_slug("ops_team2"), None);
        assert!(explain_team_slug("").is_some());
        assert!(explain_team_slug("-x").is_some());
        assert!(explain_team_slug("a b").is_some());
        assert!(explain_team_slug("a/b").is_some());
    }
}
