//! `Email`: an address that has been checked and normalised once, when parsed, so that
//! every comparison elsewhere is a plain string comparison.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An email address, trimmed and lower-cased. Equality is therefore case-insensitive.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Email(String);

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
        Ok(Email(trimmed.to_lowercase()))
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
