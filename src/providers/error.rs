//! `ProviderError`: one line that names the provider, says what failed and what to do.
//! Never carries a token: messages are built from statuses, API error texts and paths.

use crate::model::ProviderKind;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "{provider} ({kind}): the token variable {var} is not set; export {var} with an API token"
    )]
    MissingToken {
        provider: String,
        kind: ProviderKind,
        var: String,
    },
    #[error(
        "{provider} ({kind}): authentication failed ({status}: {message}); check the token in {var}"
    )]
    Auth {
        provider: String,
        kind: ProviderKind,
        status: u16,
        message: String,
        var: String,
    },
    #[error("{provider} ({kind}): {what} failed with {status}: {message}")]
    Api {
        provider: String,
        kind: ProviderKind,
        what: String,
        status: u16,
        message: String,
    },
    #[error("{provider} ({kind}): {what} failed: {message}")]
    Transport {
        provider: String,
        kind: ProviderKind,
        what: String,
        message: String,
    },
    #[error("{provider} ({kind}): {what}: unexpected response: {message}")]
    Protocol {
        provider: String,
        kind: ProviderKind,
        what: String,
        message: String,
    },
    #[error(
        "refusing plain http to {url}: use https (plain http is allowed only to 127.0.0.1, localhost and [::1])"
    )]
    Insecure { url: String },
    /// A task of teamsync's own ended abnormally (a bug): the change may or may not have
    /// been sent.
    #[error(
        "teamsync's task for this change crashed ({message}); the next plan shows whether it took effect"
    )]
    Crashed { message: String },
    /// The API does not offer this to this token (GitBook's invite route answering 401,
    /// 403 or 404): the change is blocked, not failed, and a person must do it by hand.
    #[error("{provider} ({kind}): {message}")]
    Unavailable {
        provider: String,
        kind: ProviderKind,
        message: String,
    },
    #[error("{provider} ({kind}): {message}")]
    Config {
        provider: String,
        kind: ProviderKind,
        message: String,
    },
}

impl ProviderError {
    pub fn config(settings: &crate::model::ProviderSettings, message: impl Into<String>) -> Self {
        ProviderError::Config {
            provider: settings.name.clone(),
            kind: settings.kind,
            message: message.into(),
        }
    }

    /// Whether running again may succeed: a lost answer, a throttle or a server error.
    /// A 4xx other than 429, a protocol error or a configuration error stays as it is.
    pub fn is_transient(&self) -> bool {
        match self {
            ProviderError::Transport { .. } | ProviderError::Crashed { .. } => true,
            ProviderError::Api { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// Whether a write that ended in this error may have taken effect all the same: a lost
    /// answer, a crash, or a server error other than 503 (a 502 or 504 from a proxy whose
    /// upstream may have done the work; a 500 thrown after it). A 429 or a 503 says the
    /// request was not taken on (docs/trust.md, "Lost answers").
    pub fn may_have_applied(&self) -> bool {
        match self {
            ProviderError::Transport { .. } | ProviderError::Crashed { .. } => true,
            ProviderError::Api { status, .. } => *status >= 500 && *status != 503,
            _ => false,
        }
    }

    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ProviderError::Auth { status, .. } | ProviderError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}
