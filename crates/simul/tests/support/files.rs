//! Files sent by web users in the tests: `POST /api/v1/files` with a
//! form written by hand.

use reqwest::StatusCode;
use serde_json::Value;

use super::Server;

/// The boundary of the forms.
pub const BOUNDARY: &str = "simul-test-boundary";

/// One part of a form: a text field, or a file with its name and type.
pub enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

/// A multipart/form-data body, written by hand so that names can be
/// anything a client might send.
pub fn form(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            ),
            Part::File(name, content_type, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                         Content-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts a form to `/api/v1/files` with a bearer token: status and JSON.
pub async fn upload(server: &Server, token: &str, parts: &[Part<'_>]) -> (StatusCode, Value) {
    try_upload(server, token, parts).await.unwrap()
}

/// The same, or the error of a connection the server closed before the
/// client sent it all.
pub async fn try_upload(
    server: &Server,
    token: &str,
    parts: &[Part<'_>],
) -> Result<(StatusCode, Value), reqwest::Error> {
    let answer = reqwest::Client::new()
        .post(server.url("/api/v1/files"))
        .bearer_auth(token)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(form(parts))
        .send()
        .await?;
    let status = answer.status();
    Ok((status, answer.json().await.unwrap_or(Value::Null)))
}
