//! The secrets of this run, so that no message can carry one: every token the providers
//! read from the environment is registered here, and every message that leaves teamsync
//! (errors, relayed API texts, logs) passes through [`scrub`]. A server that echoes the
//! `Authorization` header in an error body cannot make teamsync print the token.

use std::sync::{Mutex, OnceLock};

fn secrets() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Secrets shorter than this are not registered: scrubbing a 3-character token would
/// mangle ordinary words, and no real API token is that short.
const MIN_SECRET: usize = 6;

/// Remembers a secret for [`scrub`].
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET {
        return;
    }
    let mut all = secrets().lock().unwrap_or_else(|p| p.into_inner());
    if !all.iter().any(|s| s == secret) {
        all.push(secret.to_string());
        // Longest first, so that a secret containing another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every registered secret replaced by `[redacted]`.
pub fn scrub(text: &str) -> String {
    let all = secrets().lock().unwrap_or_else(|p| p.into_inner());
    let mut out = text.to_string();
    for secret in all.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "[redacted]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{register, scrub};

    #[test]
    fn registered_secrets_never_survive() {
        register("s3cr3t-token-value");
        register("abc");
        assert_eq!(
            scrub("Authorization: Bearer s3cr3t-token-value was refused"),
            "Authorization: Bearer [redacted] was refused"
        );
        assert_eq!(scrub("abc stays"), "abc stays");
    }
}
