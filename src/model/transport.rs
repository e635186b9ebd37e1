//! Where a token may travel: https anywhere, plain http only to loopback (the sandbox on
//! this machine), so a token never crosses a network in clear text. The one copy of that
//! rule: the config refuses such an endpoint where it is written, and the HTTP layer
//! refuses to build a client for one whatever the config said.

use url::{Host, Url};

/// Why a URL may not carry a token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InsecureUrl {
    #[error("plain http to a host that is not loopback")]
    PlainHttp,
    #[error("the scheme `{0}` is neither https nor http")]
    Scheme(String),
}

/// `Ok` when a request with a token may be sent to `url`.
pub fn check_transport(url: &Url) -> Result<(), InsecureUrl> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host().as_ref().is_some_and(is_loopback) => Ok(()),
        "http" => Err(InsecureUrl::PlainHttp),
        other => Err(InsecureUrl::Scheme(other.to_string())),
    }
}

/// `localhost` (any case), `127.0.0.0/8` or `::1`.
pub fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str) -> Result<(), InsecureUrl> {
        check_transport(&Url::parse(raw).unwrap())
    }

    #[test]
    fn https_anywhere_and_http_only_to_loopback() {
        assert_eq!(check("https://api.gitbook.com/v1"), Ok(()));
        for raw in [
            "http://127.0.0.1:9/",
            "http://LOCALHOST/",
            "http://[::1]:8080",
        ] {
            assert_eq!(check(raw), Ok(()), "{raw}");
        }
        assert_eq!(check("http://10.0.0.1/"), Err(InsecureUrl::PlainHttp));
        assert_eq!(
            check("http://localhost.example/"),
            Err(InsecureUrl::PlainHttp)
        );
        assert_eq!(
            check("ftp://127.0.0.1/"),
            Err(InsecureUrl::Scheme("ftp".into()))
        );
    }
}
