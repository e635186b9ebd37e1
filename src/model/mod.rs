//! Provider-neutral types shared by the desired state (from config), the live state (from
//! providers) and the plan. This module imports nothing else of ours and knows no URL or
//! wire field of any API: it is the contract every other module speaks.

mod adoption;
mod change;
mod email;
mod key;
pub mod parallel;
pub mod redact;
mod spec;
mod state;
mod transport;

pub use adoption::{Adoption, Joiner, LeftAlone};
pub use change::{FieldChange, MemberAction, MemberChange, ResourceAction, ResourceChange, Risk};
pub use email::{
    DomainError, Email, EmailError, StrictEmailError, describe_char, is_hidden, looks_like_ascii,
    normalise_domain,
};
pub use key::{ParseKeyError, ResourceKey, ResourceKind, key_text};
pub use spec::{ProviderKind, ProviderSpec, SPECS};
pub use state::{
    AccountKind, DesiredMember, DesiredResource, DesiredState, Endpoint, InviteRole, LiveMember,
    LiveResource, LiveState, MemberKey, MemberRef, Mode, OrgOptions, Policy, ProviderSettings,
    RequestsPerSecond, Role, Standing, WhoAmI, hash_of, role_drifts, role_to_set,
};
pub use transport::{InsecureUrl, check_transport, is_loopback};

mod data;
pub use data::Data;

/// Today, as a UTC day: what `until` dates are compared with, in the config's rules and in
/// the plan alike.
pub fn today_utc() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}
