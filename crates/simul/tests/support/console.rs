//! What the console's tests share: a deployment with an administrator,
//! console pages and forms as the administrator's browser sends them.

use reqwest::StatusCode;
use reqwest::header::COOKIE;

use super::{Server, deployment_with_names, simul};

/// A deployment with an administrator `boss` and users alice and mallory
/// (whose display name is markup), all with the password "long enough".
pub fn console_deployment() -> tempfile::TempDir {
    let dir = deployment_with_names(&[
        ("alice", "Alice Liddell"),
        ("mallory", "<script>alert(1)</script>"),
    ]);
    let out = simul(
        dir.path(),
        &["user", "add", "boss", "--admin", "--password-file", "pw", "--data", "data"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("boss is an administrator"));
    dir
}

/// A client that does not follow redirects, so each answer is seen.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A console request as `token`'s user (with `form` for a POST): the
/// status and the body.
pub async fn request(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut request = client().request(method.clone(), server.url(path));
    if let Some(token) = token {
        request = request.header(COOKIE, format!("LtpaToken2={token}"));
    }
    if method == reqwest::Method::POST {
        request = request.form(form);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The console page `path` as `token`'s user (GET).
pub async fn page(server: &Server, path: &str, token: &str) -> String {
    let (status, body) = request(server, reqwest::Method::GET, path, Some(token), &[]).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// The CSRF token a console page's forms carry.
pub fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a form") + 19;
    page[start..].split('"').next().unwrap().to_owned()
}

/// Posts a console form as `token`'s user; where the answer sends the
/// browser back to.
pub async fn submit(server: &Server, path: &str, token: &str, form: &[(&str, &str)]) -> String {
    let response = client()
        .post(server.url(path))
        .header(COOKIE, format!("LtpaToken2={token}"))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    response.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned()
}

/// `simul policy ARGS --data data` in `dir`: its status and output.
pub fn policy(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["policy"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data", "data"]);
    let out = simul(dir, &all);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}
