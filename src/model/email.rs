//! `Email`: an address that has been checked and normalised once, when parsed, so that
//! every comparison elsewhere is a plain string comparison.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An email address, trimmed and lower-cased. Equality is therefore case-insensitive.
/// Shared, not copied: a plan of a million memberships names the same twenty thousand
/// people over and over, and each clone is a reference count, not an allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(std::sync::Arc<str>);

/// Why a string is not an acceptable email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("an email address cannot be empty")]
    Empty,
    #[error("an email address needs exactly one '@'")]
    At,
    #[error("the part before '@' is empty")]
    EmptyLocal,
    #[error("the domain after '@' must contain a dot and no empty labels")]
    Domain,
    #[error("an email address cannot contain spaces or control characters")]
    Whitespace,
    #[error("an email address is at most 254 characters")]
    TooLong,
}

impl Email {
    /// Parses and normalises an address: surrounding white space is trimmed and the whole
    /// address is case-folded (the providers treat addresses case-insensitively).
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > 254 {
            return Err(EmailError::TooLong);
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Whitespace);
        }
        let mut parts = trimmed.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailError::At);
        };
        if local.is_empty() {
            return Err(EmailError::EmptyLocal);
        }
        let labels_ok = domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if !domain.contains('.') || !labels_ok {
            return Err(EmailError::Domain);
        }
        // An internationalised domain is compared in its A-label form (`xn--…`), the form
        // `parse_strict` gives the configuration's addresses; one IDNA refuses stays as
        // written (this parser never refuses more than it did).
        if !domain.is_ascii()
            && let Ok(ascii) = idna::domain_to_ascii(domain)
        {
            return Ok(Email(format!("{}@{ascii}", local.to_lowercase()).into()));
        }
        Ok(Email(trimmed.to_lowercase().into()))
    }

    /// `parse`, and then the rules for addresses a person wrote in the configuration, where
    /// a lookalike or an invisible character would grant access to someone else: no
    /// control or format character anywhere (zero-width space, joiners, BOM, soft hyphen,
    /// bidi controls), an ASCII local part, and a domain that IDNA normalises, stored as
    /// its A-label (`xn--…`) form, whose labels neither mix scripts nor spell an ASCII word
    /// in lookalike letters. Addresses read from an API keep going through `parse`.
    pub fn parse_strict(raw: &str) -> Result<Email, StrictEmailError> {
        let trimmed = raw.trim();
        if let Some((index, ch)) = trimmed.chars().enumerate().find(|(_, c)| is_hidden(*c)) {
            return Err(StrictEmailError::Hidden { ch, index });
        }
        let basic = Email::parse(trimmed).map_err(StrictEmailError::Basic)?;
        let (local, domain) = trimmed.rsplit_once('@').unwrap_or((trimmed, ""));
        if let Some((index, ch)) = local.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            return Err(StrictEmailError::NonAsciiLocal {
                ch,
                index,
                looks_like: looks_like_ascii(ch),
            });
        }
        if domain.is_ascii() && !domain.to_ascii_lowercase().contains("xn--") {
            return Ok(basic);
        }
        let ascii = normalise_domain(domain).map_err(StrictEmailError::Domain)?;
        Ok(Email(format!("{}@{ascii}", local.to_lowercase()).into()))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain part, lower-case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

/// Why an address written in the configuration is refused (see `Email::parse_strict`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictEmailError {
    #[error("{0}")]
    Basic(EmailError),
    #[error("it contains {}, invisible, at character {}", describe_char(*ch), index + 1)]
    Hidden { ch: char, index: usize },
    #[error("the part before '@' contains {}{}, at character {}; it must be ASCII", describe_char(*ch), looks_like.map(|a| format!(", which looks like the ASCII `{a}`")).unwrap_or_default(), index + 1)]
    NonAsciiLocal {
        ch: char,
        index: usize,
        looks_like: Option<char>,
    },
    #[error("{0}")]
    Domain(DomainError),
}

/// Why a domain is refused: it must survive IDNA normalisation, and no label may mix
/// scripts or be spelled entirely in letters that look like ASCII ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the domain `{0}` is not a valid internationalised domain name")]
    Idna(String),
    #[error("it contains {}, invisible", describe_char(*ch))]
    Hidden { ch: char },
    #[error("the domain label `{label}` mixes {first} and {second} letters ({} is {second})", describe_char(*ch))]
    MixedScripts {
        label: String,
        first: String,
        second: String,
        ch: char,
    },
    #[error("the domain label `{label}` is written in {script} letters that look like the ASCII `{ascii}` ({} looks like `{}`)", describe_char(*ch), looks_like_ascii(*ch).unwrap_or('?'))]
    Lookalike {
        label: String,
        script: String,
        ascii: String,
        ch: char,
    },
}

/// A domain as the configuration may write it, normalised: lower-case ASCII, or the
/// A-label (`xn--…`) form of an internationalised domain that passes the script checks.
pub fn normalise_domain(domain: &str) -> Result<String, DomainError> {
    if let Some(ch) = domain.chars().find(|c| is_hidden(*c)) {
        return Err(DomainError::Hidden { ch });
    }
    let ascii = idna::domain_to_ascii_strict(domain)
        .or_else(|_| idna::domain_to_ascii(domain))
        .map_err(|_| DomainError::Idna(domain.to_string()))?;
    let (unicode, result) = idna::domain_to_unicode(&ascii);
    if result.is_err() {
        return Err(DomainError::Idna(domain.to_string()));
    }
    for label in unicode.split('.') {
        check_label(label)?;
    }
    Ok(ascii)
}

fn check_label(label: &str) -> Result<(), DomainError> {
    use icu_properties::CodePointMapData;
    use icu_properties::props::Script;
    if label.is_ascii() {
        return Ok(());
    }
    let scripts = CodePointMapData::<Script>::new();
    let mut seen: Vec<(Script, char)> = Vec::new();
    for ch in label.chars() {
        let script = scripts.get(ch);
        if script == Script::Common || script == Script::Inherited {
            continue;
        }
        if !seen.iter().any(|(s, _)| *s == script) {
            seen.push((script, ch));
        }
    }
    // Japanese, Chinese and Korean domains legitimately mix Han with their own scripts
    // and with Latin; every other mix is refused (UTS #39, "highly restrictive").
    let cjk_or_latin = |s: Script| {
        matches!(
            s,
            Script::Latin
                | Script::Han
                | Script::Hiragana
                | Script::Katakana
                | Script::Hangul
                | Script::Bopomofo
        )
    };
    if seen.len() > 1 && !seen.iter().all(|(s, _)| cjk_or_latin(*s)) {
        // Name a letter of the odd script: the first that is not Latin when Latin is in
        // the mix (the lookalike in `аcme`), otherwise the second script's first letter.
        let (second, ch) = if seen.iter().any(|(s, _)| *s == Script::Latin) {
            seen.iter()
                .find(|(s, _)| !cjk_or_latin(*s))
                .copied()
                .unwrap_or(seen[1])
        } else {
            seen[1]
        };
        let first = if second == seen[0].0 {
            seen[1].0
        } else {
            seen[0].0
        };
        return Err(DomainError::MixedScripts {
            label: label.to_string(),
            first: script_name(first),
            second: script_name(second),
            ch,
        });
    }
    // One script: refuse a label every letter of which mimics ASCII (`асе` in Cyrillic).
    let non_ascii: Vec<char> = label.chars().filter(|c| !c.is_ascii()).collect();
    let all_mimic = label
        .chars()
        .all(|c| c.is_ascii() || looks_like_ascii(c).is_some());
    if all_mimic && let Some(ch) = non_ascii.first().copied() {
        let ascii: String = label
            .chars()
            .map(|c| looks_like_ascii(c).unwrap_or(c))
            .collect();
        return Err(DomainError::Lookalike {
            label: label.to_string(),
            script: script_name(scripts.get(ch)),
            ascii,
            ch,
        });
    }
    Ok(())
}

fn script_name(script: icu_properties::props::Script) -> String {
    icu_properties::PropertyNamesLong::<icu_properties::props::Script>::new()
        .get(script)
        .unwrap_or("another")
        .to_string()
}

/// A control, format (Unicode general category Cc or Cf: zero-width space, joiners,
/// BOM, soft hyphen, bidi controls), line or paragraph separator, or non-character: text
/// a reader does not see, or sees as something else.
pub fn is_hidden(ch: char) -> bool {
    use icu_properties::CodePointMapData;
    use icu_properties::props::GeneralCategory as G;
    if ch.is_ascii() {
        return ch.is_ascii_control();
    }
    matches!(
        CodePointMapData::<G>::new().get(ch),
        G::Control
            | G::Format
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::Unassigned
            | G::PrivateUse
    ) || matches!(
        ch,
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}'
    )
}

/// `U+200B (zero width space)`, or `U+0430 'а'` for a visible character.
pub fn describe_char(ch: char) -> String {
    let name = match ch {
        '\0' => Some("NUL"),
        '\n' => Some("a line feed"),
        '\r' => Some("a carriage return"),
        '\t' => Some("a tab"),
        '\u{00A0}' => Some("no-break space"),
        '\u{00AD}' => Some("soft hyphen"),
        '\u{034F}' => Some("combining grapheme joiner"),
        '\u{061C}' => Some("Arabic letter mark"),
        '\u{180E}' => Some("Mongolian vowel separator"),
        '\u{200B}' => Some("zero width space"),
        '\u{200C}' => Some("zero width non-joiner"),
        '\u{200D}' => Some("zero width joiner"),
        '\u{200E}' => Some("left-to-right mark"),
        '\u{200F}' => Some("right-to-left mark"),
        '\u{2028}' => Some("line separator"),
        '\u{2029}' => Some("paragraph separator"),
        '\u{202A}' => Some("left-to-right embedding"),
        '\u{202B}' => Some("right-to-left embedding"),
        '\u{202C}' => Some("pop directional formatting"),
        '\u{202D}' => Some("left-to-right override"),
        '\u{202E}' => Some("right-to-left override"),
        '\u{2060}' => Some("word joiner"),
        '\u{2066}' => Some("left-to-right isolate"),
        '\u{2067}' => Some("right-to-left isolate"),
        '\u{2068}' => Some("first strong isolate"),
        '\u{2069}' => Some("pop directional isolate"),
        '\u{FEFF}' => Some("zero width no-break space (BOM)"),
        _ => None,
    };
    let code = format!("U+{:04X}", ch as u32);
    match name {
        Some(n) => format!("{code} ({n})"),
        None if is_hidden(ch) || ch.is_whitespace() => format!("{code} (invisible)"),
        None => format!("{code} '{ch}'"),
    }
}

/// The ASCII letter or digit a non-ASCII character is easily mistaken for (Unicode
/// confusables of a-z and 0-9 from the scripts most used to spoof them).
pub fn looks_like_ascii(ch: char) -> Option<char> {
    let a = match ch {
        // Cyrillic
        'а' | 'А' => 'a',
        'в' | 'В' | 'Ь' => 'b',
        'с' | 'С' | 'ϲ' | 'Ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'Е' | 'ё' | 'Ё' => 'e',
        'һ' | 'Һ' | 'Н' => 'h',
        'і' | 'І' | 'ӏ' | 'Ӏ' | 'ι' | 'ı' | 'Ι' => 'i',
        'ј' | 'Ј' | 'ϳ' => 'j',
        'к' | 'К' | 'κ' | 'Κ' => 'k',
        'м' | 'М' | 'Μ' => 'm',
        'п' | 'η' | 'ո' => 'n',
        'о' | 'О' | 'ο' | 'Ο' | 'օ' | 'Օ' | 'σ' => 'o',
        'р' | 'Р' | 'ρ' | 'Ρ' => 'p',
        'ԛ' | 'Ԛ' => 'q',
        'г' => 'r',
        'ѕ' | 'Ѕ' => 's',
        'т' | 'Т' | 'τ' | 'Τ' => 't',
        'υ' | 'ս' | 'Ս' => 'u',
        'ѵ' | 'Ѵ' | 'ν' => 'v',
        'ԝ' | 'Ԝ' | 'ω' => 'w',
        'х' | 'Х' | 'χ' | 'Χ' => 'x',
        'у' | 'У' | 'ү' | 'γ' | 'Υ' => 'y',
        'Ζ' => 'z',
        'α' | 'Α' | 'ɑ' => 'a',
        'Β' => 'b',
        'Ε' => 'e',
        'Η' => 'h',
        'Ν' => 'n',
        'հ' => 'h',
        'ց' => 'g',
        'ɡ' => 'g',
        'ӧ' => 'o',
        'З' | 'з' => '3',
        'б' => '6',
        _ => return None,
    };
    Some(a)
}

/// An address is found by its text in sets of addresses: it hashes and compares as its
/// (normalized) text does, since the derived `Hash` and `Eq` are those of the one field.
impl std::borrow::Borrow<str> for Email {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Email::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_space() {
        let e = Email::parse("  Bob@Acme.COM ").unwrap();
        assert_eq!(e.as_str(), "bob@acme.com");
        assert_eq!(e.domain(), "acme.com");
        assert_eq!(e, Email::parse("bob@acme.com").unwrap());
    }

    #[test]
    fn strict_refuses_invisible_and_lookalike_characters() {
        let e = Email::parse_strict("ana\u{200B}@acme.com").unwrap_err();
        assert_eq!(
            e,
            StrictEmailError::Hidden {
                ch: '\u{200B}',
                index: 3
            }
        );
        assert!(e.to_string().contains("U+200B (zero width space)"), "{e}");
        for raw in [
            "a\u{FEFF}na@acme.com",
            "ana@ac\u{00AD}me.com",
            "ana\u{202E}@acme.com",
            "an\u{2066}a@acme.com",
            "a\u{200D}na@acme.com",
        ] {
            assert!(
                matches!(
                    Email::parse_strict(raw),
                    Err(StrictEmailError::Hidden { .. })
                ),
                "{raw}"
            );
        }
        let e = Email::parse_strict("\u{0430}na@acme.com").unwrap_err();
        assert!(
            e.to_string()
                .contains("U+0430 'а', which looks like the ASCII `a`"),
            "{e}"
        );
        let e = Email::parse_strict("ana@\u{0430}cme.com").unwrap_err();
        assert!(e.to_string().contains("mixes Latin and Cyrillic"), "{e}");
        assert!(e.to_string().contains("U+0430"), "{e}");
        let e = Email::parse_strict("ana@\u{0430}\u{0441}\u{0435}.com").unwrap_err();
        assert!(e.to_string().contains("look like the ASCII `ace`"), "{e}");
        // The A-label of the lookalike is refused too.
        let puny = idna::domain_to_ascii("\u{0430}cme.com").unwrap();
        assert!(Email::parse_strict(&format!("ana@{puny}")).is_err());
        // A real internationalised domain is kept in its A-label form.
        let ok = Email::parse_strict("Ana@Bücher.de").unwrap();
        assert_eq!(ok.as_str(), "ana@xn--bcher-kva.de");
        let ok = Email::parse_strict("ana@пример.рф").unwrap();
        assert_eq!(ok.domain(), "xn--e1afmkfd.xn--p1ai");
        assert_eq!(
            Email::parse_strict("Bob@Acme.COM").unwrap().as_str(),
            "bob@acme.com"
        );
        // Live answers keep parsing as before, with an internationalised domain in the
        // same A-label form, so a live address equals the configured one.
        assert!(Email::parse("\u{0430}na@acme.com").is_ok());
        assert_eq!(Email::parse("Ana@Bücher.de").unwrap(), ok_idn());
        assert_eq!(Email::parse_strict("ana@bücher.de").unwrap(), ok_idn());
    }

    fn ok_idn() -> Email {
        Email("ana@xn--bcher-kva.de".into())
    }

    #[test]
    fn rejects_malformed_addresses() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("bob"), Err(EmailError::At));
        assert_eq!(Email::parse("a@b@c.com"), Err(EmailError::At));
        assert_eq!(Email::parse("@acme.com"), Err(EmailError::EmptyLocal));
        assert_eq!(Email::parse("bob@acme"), Err(EmailError::Domain));
        assert_eq!(Email::parse("bob@acme..com"), Err(EmailError::Domain));
        assert_eq!(Email::parse("bo b@acme.com"), Err(EmailError::Whitespace));
    }
}
