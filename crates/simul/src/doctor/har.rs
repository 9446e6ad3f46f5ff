//! What the browser sent, from a HAR file saved in its developer tools.

use std::path::Path;

use anyhow::{Context as _, bail};
use ltpa::SsoSettings;
use serde_json::Value;
use simul_service::sso_doctor::{Sent, SetCookie, Source, cookie_pairs, is_ltpa};

/// The first request of a HAR file that carries an LTPA cookie; when none
/// does, every cookie name that was sent and the first request's address.
pub(super) fn from_har(file: &Path, sso: &SsoSettings) -> anyhow::Result<Sent> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let har: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a HAR file (JSON)", file.display()))?;
    let Some(entries) = har["log"]["entries"].as_array() else {
        bail!(
            "{} has no log.entries: save it with DevTools ▸ Network ▸ Save all as HAR",
            file.display()
        );
    };
    let requests: Vec<Request> =
        entries.iter().map(|entry| request_cookies(&entry["request"])).collect();
    let mut sent = Sent {
        set: har_set_cookies(entries, sso),
        source: Source::Har(file.to_owned()),
        ..Sent::nothing()
    };
    match requests.iter().find(|(_, cookies)| cookies.iter().any(|(name, _)| is_ltpa(sso, name))) {
        Some((url, cookies)) => {
            sent.url = url.clone();
            sent.cookies = cookies.clone();
            sent.names = cookies.iter().map(|(name, _)| name.clone()).collect();
        }
        None => {
            sent.url = requests
                .iter()
                .find_map(|(url, _)| url.clone().filter(|url| url.starts_with("http")));
            for (name, _) in requests.iter().flat_map(|(_, cookies)| cookies) {
                if !sent.names.contains(name) {
                    sent.names.push(name.clone());
                }
            }
        }
    }
    Ok(sent)
}

/// A request of a HAR: its address, and its cookies by name.
type Request = (Option<String>, Vec<(String, String)>);

/// A HAR request's address and cookies (from `cookies`, else the header).
fn request_cookies(request: &Value) -> Request {
    let url = request["url"].as_str().map(str::to_owned);
    let mut cookies: Vec<(String, String)> = request["cookies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c["name"].as_str()?.to_owned(), c["value"].as_str()?.to_owned())))
        .collect();
    if cookies.is_empty() {
        let header = request["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|h| h["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("cookie")));
        cookies = header.and_then(|h| h["value"].as_str()).map(cookie_pairs).unwrap_or_default();
    }
    (url, cookies)
}

/// The LTPA cookies the HAR's answers set (not those they clear), each once.
fn har_set_cookies(entries: &[Value], sso: &SsoSettings) -> Vec<SetCookie> {
    let mut set: Vec<SetCookie> = Vec::new();
    for entry in entries {
        let set_by = entry["request"]["url"].as_str().map(str::to_owned);
        for cookie in entry["response"]["cookies"].as_array().into_iter().flatten() {
            let Some(name) = cookie["name"].as_str().filter(|name| is_ltpa(sso, name)) else {
                continue;
            };
            if cookie["value"].as_str().is_some_and(str::is_empty) {
                continue;
            }
            let text =
                |key: &str| cookie[key].as_str().filter(|t| !t.is_empty()).map(str::to_owned);
            let found = SetCookie {
                name: name.to_owned(),
                domain: text("domain"),
                path: text("path"),
                secure: cookie["secure"].as_bool().unwrap_or(false),
                set_by: set_by.clone(),
            };
            // The same cookie set again (each page refreshes it) says nothing new.
            if !set.iter().any(|seen| seen.same_cookie(&found)) {
                set.push(found);
            }
        }
    }
    set
}
