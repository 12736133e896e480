//! Checks an impCentral endpoint URL before it is used, so a typo gets a message naming the
//! problem instead of a connection failure or a 404 from the server.

use crate::error::{ImptError, Result};

const EXAMPLE: &str = "https://api.electricimp.com/v5";

/// `Ok` for an `http(s)://HOST[:PORT]/.../v5` URL (a trailing `/` allowed).
pub fn check(endpoint: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(ImptError::msg(format!(
            "Invalid endpoint \"{endpoint}\": {why} (for example {EXAMPLE}, or the URL `impt sim` prints)."
        )))
    };
    let Ok(url) = url::Url::parse(endpoint) else {
        return bad("it must be a URL starting with https:// or http://");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return bad("it must start with https:// or http://");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return bad("it has no host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return bad("it must not have a query or a fragment");
    }
    if !url.path().trim_end_matches('/').ends_with("/v5") {
        return bad("the impCentral API path /v5 is missing at its end");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn good_endpoints_pass() {
        for e in [
            "https://api.electricimp.com/v5",
            "https://api.electricimp.com/v5/",
            "http://127.0.0.1:8080/v5",
            "https://example.com/impcentral/v5",
        ] {
            assert!(check(e).is_ok(), "{e}");
        }
    }

    #[test]
    fn each_mistake_is_named() {
        let msg = |e: &str| check(e).unwrap_err().to_string();
        assert!(msg("api.electricimp.com/v5").contains("must be a URL starting with https://"));
        assert!(msg("ftp://api.electricimp.com/v5").contains("must start with https://"));
        assert!(msg("https://api.electricimp.com").contains("/v5 is missing"));
        assert!(msg("https://api.electricimp.com/v4").contains("/v5 is missing"));
        assert!(msg("http://x/v5?a=1").contains("query"));
    }
}
