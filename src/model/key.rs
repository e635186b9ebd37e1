//! Resource identity: a resource is keyed by (provider name, kind, name), as
//! `docs/design.md` says. The key has one text form, `docs.team["Writers"]`: every view
//! prints it, `--target` and saved plans' fingerprints parse it back.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::is_hidden;

/// What sort of membership container a resource is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// The organization roster itself (PixieBrix).
    Organization,
    /// A PixieBrix group.
    Group,
    /// A PixieBrix campaign.
    Campaign,
    /// A GitBook or Contentful team.
    Team,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 4] =
        [Self::Organization, Self::Group, Self::Campaign, Self::Team];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organization => "organization",
            Self::Group => "group",
            Self::Campaign => "campaign",
            Self::Team => "team",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResourceKind {
    type Err = ParseKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ParseKeyError(format!("unknown resource kind `{s}`")))
    }
}

/// (provider name as configured, kind, resource name). Ordered, so plans sort by it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceKey {
    pub provider: String,
    pub kind: ResourceKind,
    pub name: String,
}

impl ResourceKey {
    /// A container name as it is compared for "the same name but for case or surrounding
    /// spaces": the read scope finds such a live container, the diff refuses to create a
    /// second one beside it.
    pub fn folded_name(name: &str) -> String {
        name.trim().to_lowercase()
    }

    pub fn new(provider: impl Into<String>, kind: ResourceKind, name: impl Into<String>) -> Self {
        ResourceKey {
            provider: provider.into(),
            kind,
            name: name.into(),
        }
    }
}

/// The text form: `provider.kind["name"]`. Inside the quotes `"` is written `\"`, `\` is
/// written `\\`, and a character a terminal would not show faithfully (a control,
/// invisible or text-direction character, any white space but U+0020) is written
/// `\u{XXXX}` in hexadecimal; everything else, `[`, `]`, `.` and non-ASCII letters
/// included, stands as itself. `FromStr` reads exactly this back. Configured names never
/// hold the escaped characters (`config::text::check_free_name`), but live names of
/// pruned containers may.
impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}[\"", self.provider, self.kind)?;
        for c in self.name.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if is_hidden(c) || (c.is_whitespace() && c != ' ') => {
                    write!(f, "\\u{{{:04X}}}", c as u32)?
                }
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"]")
    }
}

/// Text that does not read as a resource key: a `--target`, or a key in a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseKeyError(pub String);

impl FromStr for ResourceKey {
    type Err = ParseKeyError;

    /// Accepts the text form `provider.kind["name"]` (see `Display`) and, for typing on a
    /// command line, `provider.kind.name` with the name taken literally.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hint = || {
            ParseKeyError(format!(
                "`{s}` is not a resource key: write it as provider.kind[\"name\"], \
                 for example docs.team[\"Writers\"]"
            ))
        };
        let (provider, rest) = s.split_once('.').ok_or_else(hint)?;
        let (kind, name) = match rest.split_once('[') {
            Some((kind, quoted)) if !kind.contains('.') => {
                let quoted = quoted.strip_suffix(']').ok_or_else(hint)?;
                (
                    kind,
                    unquote(quoted).map_err(|why| {
                        ParseKeyError(format!("`{s}` is not a resource key: {why}"))
                    })?,
                )
            }
            _ => {
                let (kind, name) = rest.split_once('.').ok_or_else(hint)?;
                (kind, name.to_string())
            }
        };
        if provider.is_empty() || name.is_empty() {
            return Err(hint());
        }
        Ok(ResourceKey::new(provider, kind.parse()?, name))
    }
}

/// The name inside `["…"]`: one quoted string, escapes as `Display` writes them.
fn unquote(quoted: &str) -> Result<String, String> {
    let body = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .ok_or("the name in brackets is written in double quotes, as in [\"Writers\"]")?;
    let mut name = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => name.push(unescape(&mut chars)?),
            '"' => return Err("a `\"` inside the name is written `\\\"`".to_string()),
            c => name.push(c),
        }
    }
    Ok(name)
}

/// The character of the escape after a `\`: `\"`, `\\` or `\u{XXXX}`.
fn unescape(chars: &mut std::str::Chars<'_>) -> Result<char, String> {
    match chars.next() {
        Some('"') => Ok('"'),
        Some('\\') => Ok('\\'),
        Some('u') => {
            let rest = chars.as_str();
            let hex = rest
                .strip_prefix('{')
                .and_then(|r| r.split_once('}'))
                .map(|(hex, _)| hex)
                .ok_or("`\\u` is followed by a hexadecimal code in braces, as in \\u{200B}")?;
            let c = Some(hex)
                .filter(|h| (1..=6).contains(&h.len()) && h.chars().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
                .ok_or_else(|| format!("`\\u{{{hex}}}` is not a Unicode character"))?;
            *chars = rest[hex.len() + 2..].chars();
            Ok(c)
        }
        Some(other) => Err(format!(
            "`\\{other}` is not an escape: inside the quotes write `\\\"`, `\\\\` or `\\u{{XXXX}}`"
        )),
        None => Err("the name ends in a lone `\\`; write a backslash as `\\\\`".to_string()),
    }
}

/// Serde adapters that write a `ResourceKey` as its text form, for fields where the saved
/// plan has always held that string (a change's own `key` stays a `{provider, kind, name}`
/// object). Use as `#[serde(with = "crate::model::key_text")]`, or `key_text::map` for a
/// map keyed by resources: its keys are written in the order of their text, as the plan
/// format has always had them.
pub mod key_text {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::ResourceKey;

    pub fn serialize<S: Serializer>(key: &ResourceKey, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_str(key)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<ResourceKey, D::Error> {
        String::deserialize(de)?.parse().map_err(D::Error::custom)
    }

    /// `BTreeMap<ResourceKey, V>` as a JSON object keyed by the keys' text form.
    pub mod map {
        use super::*;

        pub fn serialize<S, V>(map: &BTreeMap<ResourceKey, V>, ser: S) -> Result<S::Ok, S::Error>
        where
            S: Serializer,
            V: Serialize,
        {
            let by_text: BTreeMap<String, &V> =
                map.iter().map(|(k, v)| (k.to_string(), v)).collect();
            by_text.serialize(ser)
        }

        pub fn deserialize<'de, D, V>(de: D) -> Result<BTreeMap<ResourceKey, V>, D::Error>
        where
            D: Deserializer<'de>,
            V: Deserialize<'de>,
        {
            BTreeMap::<String, V>::deserialize(de)?
                .into_iter()
                .map(|(k, v)| Ok((k.parse().map_err(D::Error::custom)?, v)))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trips_through_its_display_form() {
        let key = ResourceKey::new("docs", ResourceKind::Team, "Writers \"A\"");
        assert_eq!(key.to_string().parse::<ResourceKey>().unwrap(), key);
        let dotted: ResourceKey = "pixiebrix.group.Sales Ops".parse().unwrap();
        assert_eq!(
            dotted,
            ResourceKey::new("pixiebrix", ResourceKind::Group, "Sales Ops")
        );
        let backslash = ResourceKey::new("x", ResourceKind::Team, "R&D\\Ops");
        assert_eq!(backslash.to_string(), r#"x.team["R&D\\Ops"]"#);
        let hidden = ResourceKey::new("x", ResourceKind::Team, "a\nb\u{200B}");
        assert_eq!(hidden.to_string(), r#"x.team["a\u{000A}b\u{200B}"]"#);
        assert_eq!(hidden.to_string().parse::<ResourceKey>().unwrap(), hidden);
        assert_eq!(
            "pb.group.a[b]".parse::<ResourceKey>().unwrap().name,
            "a[b]",
            "a dotted key takes its name literally"
        );
        for bad in [
            r#"x.team["a\qb"]"#,
            r#"x.team["a\"]"#,
            r#"x.team["a"b"]"#,
            r#"x.team["\u{+41}"]"#,
            r#"x.team["\u{D800}"]"#,
            "x.team[Writers]",
        ] {
            assert!(bad.parse::<ResourceKey>().is_err(), "{bad}");
        }
        assert!("pixiebrix".parse::<ResourceKey>().is_err());
        assert!("pb.gruop.x".parse::<ResourceKey>().is_err());
    }
}
