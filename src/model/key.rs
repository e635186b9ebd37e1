//! Resource identity: a resource is keyed by (provider name, kind, name), as DESIGN.md says.
//! The key's text form (`docs.team["Writers"]`) is what `--target` takes and plans show.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which API a configured provider speaks.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// PixieBrix: organization roster, groups and campaigns.
    Pixiebrix,
    /// GitBook: organization teams with owner/member roles.
    Gitbook,
    /// Contentful: organization teams and team memberships.
    Contentful,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 3] = [Self::Pixiebrix, Self::Gitbook, Self::Contentful];

    /// The resource kinds this provider can manage.
    pub fn supported_kinds(self) -> &'static [ResourceKind] {
        match self {
            Self::Pixiebrix => &[
                ResourceKind::Organization,
                ResourceKind::Group,
                ResourceKind::Campaign,
            ],
            Self::Gitbook | Self::Contentful => &[ResourceKind::Team],
        }
    }

    pub fn supports(self, kind: ResourceKind) -> bool {
        self.supported_kinds().contains(&kind)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pixiebrix => "pixiebrix",
            Self::Gitbook => "gitbook",
            Self::Contentful => "contentful",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}[{:?}]", self.provider, self.kind, self.name)
    }
}

/// A `--target` that does not read as a resource key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseKeyError(pub String);

impl FromStr for ResourceKey {
    type Err = ParseKeyError;

    /// Accepts `provider.kind["name"]` (as plans print it) and `provider.kind.name`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hint = || {
            ParseKeyError(format!(
                "`{s}` is not a resource key: write it as provider.kind[\"name\"], \
                 for example docs.team[\"Writers\"]"
            ))
        };
        let (provider, rest) = s.split_once('.').ok_or_else(hint)?;
        let (kind, name) = if let Some(open) = rest.find('[') {
            let inner = rest[open + 1..].strip_suffix(']').ok_or_else(hint)?;
            let name = inner
                .strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .unwrap_or(inner);
            (&rest[..open], name.replace("\\\"", "\""))
        } else {
            let (kind, name) = rest.split_once('.').ok_or_else(hint)?;
            (kind, name.to_string())
        };
        if provider.is_empty() || name.is_empty() {
            return Err(hint());
        }
        Ok(ResourceKey::new(provider, kind.parse()?, name))
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
        assert!("pixiebrix".parse::<ResourceKey>().is_err());
        assert!("pb.gruop.x".parse::<ResourceKey>().is_err());
    }
}
