//! The Certificates page: the server's certificate (shown, and imported
//! as PEM or PKCS#12), the signers trusted for outgoing TLS, and
//! "Retrieve from port". Each act is the service function `simul cert`
//! and `simul trust` call ([`simul_service::certificates::Certificates`]);
//! every change asks for the administrator's password again. A refused
//! change shows the page with the service's sentence, nothing changed.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use simul_service::ServiceError;
use simul_service::certificates::{CertificateSummary, Upload, pem};

use super::Admin;
use super::actions::{Confirmed, RefusablePage, bad_form, refused};
use super::form::Fields;
use super::pages::{Nav, render, time};
use crate::AppState;

/// The longest host name a retrieval takes (DNS's limit).
const MAX_HOST_CHARS: usize = 253;

/// A certificate as a row of a table.
struct Row {
    subject: String,
    names: String,
    issuer: String,
    sha256: String,
    not_after: String,
    /// `expired`, `expires soon` or empty.
    warning: &'static str,
}

impl Row {
    fn of(summary: &CertificateSummary) -> Self {
        let now = Utc::now();
        let warning = if summary.expired(now) {
            "expired"
        } else if summary.expires_soon(now) {
            "expires within 30 days"
        } else {
            ""
        };
        Self {
            subject: summary.subject.clone(),
            names: summary.names.join(", "),
            issuer: summary.issuer.clone(),
            sha256: summary.sha256.clone(),
            not_after: time(summary.not_after),
            warning,
        }
    }
}

/// What a retrieval found, for the page.
struct RetrievedView {
    address: String,
    /// Whether Simul's roots (the system's and the added signers) trust it.
    trusted: bool,
    /// Why not, or why nothing came.
    problem: String,
    chain: Vec<Row>,
    /// The top certificate, as PEM, for the confirmation form.
    signer_pem: String,
    signer_subject: String,
}

#[derive(Template)]
#[template(path = "console/certificates.html")]
pub(super) struct CertificatesPage {
    nav: Nav,
    csrf: String,
    /// `configured`, `self-signed` or `imported`.
    origin: &'static str,
    file: String,
    configured: bool,
    chain: Vec<Row>,
    signers: Vec<Row>,
    unreadable: Vec<String>,
    retrieved: Option<RetrievedView>,
    /// The retrieval form's fields, kept.
    host: String,
    port: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// `?done=` after a change.
#[derive(Debug, Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

/// `GET /console/certificates`.
pub(super) async fn page(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Query(done): Query<Done>,
) -> Response {
    let mut page = CertificatesPage::new(&state, &admin);
    page.notice = done.done.as_deref().and_then(notice);
    render(StatusCode::OK, &page)
}

impl RefusablePage for CertificatesPage {
    fn current(state: &AppState, admin: &Admin) -> Self {
        Self::new(state, admin)
    }

    fn refuse(&mut self, why: String) {
        self.error = Some(why);
    }
}

impl CertificatesPage {
    fn new(state: &AppState, admin: &Admin) -> Self {
        let mut page = Self {
            nav: Nav::of(admin, "certificates"),
            csrf: admin.csrf.clone(),
            origin: "",
            file: String::new(),
            configured: false,
            chain: Vec::new(),
            signers: Vec::new(),
            unreadable: Vec::new(),
            retrieved: None,
            host: String::new(),
            port: String::new(),
            notice: None,
            error: None,
        };
        let Some(certificates) = state.service.certificates() else {
            page.error = Some("This server keeps no certificates to show.".into());
            return page;
        };
        page.configured = certificates.dir().configured;
        match certificates.server() {
            Ok(None) => {}
            Ok(Some(server)) => {
                page.origin = server.origin;
                page.file = server.file.display().to_string();
                page.chain = server.chain.iter().map(Row::of).collect();
            }
            Err(error) => {
                page.error = Some(format!("The server certificate cannot be read: {error}"))
            }
        }
        match certificates.trust_store() {
            Ok(trust) => {
                page.signers = trust.signers.iter().map(|s| Row::of(&s.summary)).collect();
                page.unreadable = trust.unreadable;
            }
            Err(error) => page.error = Some(format!("The trust store cannot be read: {error}")),
        }
        page
    }
}

/// `POST /console/certificates/import`: a PEM chain with its key, or a
/// PKCS#12 file with its password, after the administrator's password.
pub(super) async fn import(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Confirmed(fields, _): Confirmed<CertificatesPage>,
) -> Response {
    let file = fields.bytes("file");
    if file.is_empty() {
        return refused::<CertificatesPage>(
            &state,
            &admin,
            "Choose the certificate file to import: nothing was changed.",
        );
    }
    let key = Some(fields.bytes("key")).filter(|key| !key.is_empty());
    let upload = Upload { file, key, password: fields.text("password") };
    let Some(certificates) = state.service.certificates() else {
        return no_certificates(&state, &admin);
    };
    changed(&state, &admin, certificates.import(&admin.actor(), &upload).await, "imported")
}

/// `POST /console/certificates/retrieve`: the chain `host:port`
/// presents, with the form to trust its top certificate.
pub(super) async fn retrieve(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(fields) = Fields::read(&headers, body).await else {
        return bad_form::<CertificatesPage>(&state, &admin);
    };
    let host = fields.text("host").trim().trim_start_matches('[').trim_end_matches(']');
    let port_text = fields.text("port").trim();
    let mut page = CertificatesPage::new(&state, &admin);
    page.host = host.to_owned();
    page.port = port_text.to_owned();
    let port = port_text.parse::<u16>().ok().filter(|port| *port > 0);
    let host_ok = !host.is_empty()
        && host.len() <= MAX_HOST_CHARS
        && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:_".contains(c));
    let (true, Some(port)) = (host_ok, port) else {
        page.error = Some("Give a host name or address and a port (1 to 65535).".into());
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let retrieved = match state.service.retrieve_certificate(&admin.user, host, port).await {
        Ok(retrieved) => retrieved,
        Err(error) => return failed(&state, &admin, &error),
    };
    let chain: Vec<Row> = retrieved
        .chain
        .iter()
        .filter_map(|der| CertificateSummary::of(der).ok())
        .map(|summary| Row::of(&summary))
        .collect();
    let signer = retrieved.signer();
    page.retrieved = Some(RetrievedView {
        address: format!("{host}:{port}"),
        trusted: retrieved.verdict.is_ok(),
        problem: retrieved.verdict.clone().err().unwrap_or_default(),
        signer_pem: signer.map(|der| pem("CERTIFICATE", der)).unwrap_or_default(),
        signer_subject: chain.last().map(|row| row.subject.clone()).unwrap_or_default(),
        chain,
    });
    render(StatusCode::OK, &page)
}

/// `POST /console/certificates/trust/add`: a signer from a retrieval's
/// confirmation (`certificate`, PEM) or an uploaded file (`file`).
pub(super) async fn add_signer(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Confirmed(fields, _): Confirmed<CertificatesPage>,
) -> Response {
    let bytes = match (fields.bytes("certificate"), fields.bytes("file")) {
        (pasted, _) if !pasted.is_empty() => pasted,
        (_, file) if !file.is_empty() => file,
        _ => {
            return refused::<CertificatesPage>(
                &state,
                &admin,
                "Choose the signer's certificate file: nothing was changed.",
            );
        }
    };
    let Some(certificates) = state.service.certificates() else {
        return no_certificates(&state, &admin);
    };
    changed(&state, &admin, certificates.add_signer(&admin.actor(), bytes).await, "trusted")
}

/// `POST /console/certificates/trust/remove`: the signer of that fingerprint.
pub(super) async fn remove_signer(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<Admin>,
    Confirmed(fields, _): Confirmed<CertificatesPage>,
) -> Response {
    let Some(certificates) = state.service.certificates() else {
        return no_certificates(&state, &admin);
    };
    let removed = certificates.remove_signer(&admin.actor(), fields.text("fingerprint")).await;
    changed(&state, &admin, removed, "untrusted")
}

/// Back to the page saying what was done (`code`), or the page saying
/// why nothing was.
fn changed<T>(
    state: &AppState,
    admin: &Admin,
    result: Result<T, ServiceError>,
    code: &'static str,
) -> Response {
    match result {
        Ok(_) => super::actions::redirect(&format!("/console/certificates?done={code}")),
        Err(error) => failed(state, admin, &error),
    }
}

fn no_certificates(state: &AppState, admin: &Admin) -> Response {
    refused::<CertificatesPage>(state, admin, "This server keeps no certificates to change.")
}

/// The sentence for a `done=` code.
fn notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "imported" => {
            "Imported. The HTTPS and XMPP listeners serve the new certificate from the next \
             connection on, and after a restart."
        }
        "trusted" => {
            "Signer added. Simul's connections (LDAP) trust it from their next connection."
        }
        "untrusted" => "Signer removed. Simul's connections no longer trust it.",
        _ => return None,
    })
}

/// A refusal of the service, in its own words (never a key or a
/// password), else the log's.
fn failed(state: &AppState, admin: &Admin, error: &ServiceError) -> Response {
    let why = match error {
        ServiceError::Invalid(why) => sentence(why),
        ServiceError::TooMany(too_many) => sentence(&too_many.to_string()),
        other => {
            tracing::warn!(error = %other, "console: a certificate action failed");
            "That did not work; the server log says why. Nothing was changed.".to_owned()
        }
    };
    refused::<CertificatesPage>(state, admin, &why)
}

/// `why` as a sentence: a capital first, a full stop last.
fn sentence(why: &str) -> String {
    let mut chars = why.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}
