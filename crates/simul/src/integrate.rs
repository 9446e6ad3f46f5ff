//! `simul integrate connections|portal|inotes|bpm`: what an administrator
//! pastes into HCL Connections, WebSphere Portal, iNotes (Domino) or IBM
//! BPM so that their pages show Simul's awareness and sign people in to
//! Simul with their LTPA token, filled in with this deployment's values,
//! and the manual steps around it as a numbered checklist that ends with
//! how to verify the result.
//!
//! The steps and console paths follow the Sametime integration guides in
//! the seeds (Sametime 9.0.1 Integration Guide, HCL's Connections and
//! iNotes topics, BPM 8.0.1). The output is deterministic (golden tests
//! compare it byte for byte): nothing here reads the clock, and nothing
//! but the configuration (and, for the embedded realm, the realm of the
//! deployment's LTPA keys) decides it.

use std::net::{IpAddr, Ipv6Addr};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use ltpa::SsoSettings;
use ltpa::sso::USE_DOMAIN_FROM_URL;
use simul_directory::ldap::Preset;

use crate::Outcome;
use crate::config::{Config, DirectoryKind, Listen};
use crate::data::DataDir;

/// Where lines of prose are wrapped.
const WIDTH: usize = 88;
/// The file `simul ltpa export` writes in the checklists.
const KEYS_FILE: &str = "simul-ltpa.keys";
/// The one-line file holding the export password in the checklists.
const PASSWORD_FILE: &str = "ltpa-export.pw";

/// `simul integrate`: configuration snippets and checklists for the
/// products that show Simul's awareness.
#[derive(Debug, Subcommand)]
pub enum IntegrateCommand {
    /// HCL Connections: the sametimeProxy service reference
    /// (LotusConnections-config.xml), the Profiles awareness element
    /// (profiles-config.xml), the AJAX proxy policy (proxy-config.tpl) and
    /// the WebSphere single sign-on steps
    #[command(after_help = "Examples:\n  \
        simul integrate connections --config /etc/simul/simul.toml\n  \
        simul integrate connections --config simul.toml --url https://chat.example.com > connections.txt")]
    Connections(IntegrateArgs),
    /// WebSphere Portal: the WP CommonComponentConfigService custom
    /// properties, the theme profile's wp_sametime_proxy module, the shared
    /// LDAP repository and the single sign-on steps
    #[command(after_help = "Examples:\n  \
        simul integrate portal --config /etc/simul/simul.toml\n  \
        simul integrate portal --config simul.toml --url https://chat.example.com:8443")]
    Portal(IntegrateArgs),
    /// HCL iNotes on Domino: the notes.ini lines, the Web SSO configuration
    /// document (with the imported LTPA keys) and the server settings
    #[command(after_help = "Examples:\n  \
        simul integrate inotes --config /etc/simul/simul.toml\n  \
        simul integrate inotes --config simul.toml --url https://chat.example.com")]
    Inotes(IntegrateArgs),
    /// IBM BPM Process Portal: the shared registry and realm, the shared
    /// LTPA keys and the SSO domain in Simul's allowed domains
    #[command(after_help = "Examples:\n  \
        simul integrate bpm --config /etc/simul/simul.toml\n  \
        simul integrate bpm --config simul.toml --url https://chat.example.com")]
    Bpm(IntegrateArgs),
}

/// Arguments of every `simul integrate` product.
#[derive(Debug, Args)]
pub struct IntegrateArgs {
    /// Configuration file (TOML); SIMUL_* variables override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The address users reach Simul at, when it is not
    /// https://{server.domain}:{https port} (a reverse proxy, a load
    /// balancer): http:// or https://, a host name, an optional port, no
    /// path.
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    url: Option<PublicUrl>,
}

impl IntegrateCommand {
    /// Prints the snippets and the checklist of the chosen product.
    pub fn run(self) -> anyhow::Result<Outcome> {
        let (product, args) = match self {
            Self::Connections(args) => (Product::Connections, args),
            Self::Portal(args) => (Product::Portal, args),
            Self::Inotes(args) => (Product::Inotes, args),
            Self::Bpm(args) => (Product::Bpm, args),
        };
        let config = Config::load(args.config.as_deref())?;
        let facts = Facts::gather(&config, args.url, product)?;
        print!("{}", render(&facts));
        Ok(Outcome::Success)
    }
}

/// The product an integration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Product {
    Connections,
    Portal,
    Inotes,
    Bpm,
}

impl Product {
    /// The name used in running text.
    fn name(self) -> &'static str {
        match self {
            Self::Connections => "Connections",
            Self::Portal => "Portal",
            Self::Inotes => "Domino",
            Self::Bpm => "BPM",
        }
    }
}

/// A public base URL: scheme, host and port, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    https: bool,
    /// As written; an IPv6 address in brackets.
    host: String,
    /// Written only when given (`--url`) or not the scheme's default.
    port: Option<u16>,
}

impl PublicUrl {
    fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// The port, the scheme's default when none is written.
    fn port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// The host without IPv6 brackets, in lower case.
    fn bare_host(&self) -> String {
        self.host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
    }

    /// `localhost` or a loopback address: reachable from this machine only.
    fn is_local(&self) -> bool {
        let host = self.bare_host();
        host == "localhost"
            || host.ends_with(".localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The URL of a listener on `server.domain`.
    fn of_listener(domain: &str, https: bool, port: u16) -> Self {
        let host =
            if domain.parse::<Ipv6Addr>().is_ok() { format!("[{domain}]") } else { domain.into() };
        let default = if https { 443 } else { 80 };
        Self { https, host, port: (port != default).then_some(port) }
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme(), self.host)?;
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

/// `--url`: `http(s)://HOST[:PORT][/]`, kept as written but for the slash.
fn parse_url(text: &str) -> Result<PublicUrl, String> {
    let problem = || {
        format!(
            "{text:?} is not a base URL: use http:// or https://, a host name and an optional \
             port, no path (e.g. https://chat.example.com or https://chat.example.com:8443)"
        )
    };
    let lower = text.to_ascii_lowercase();
    let (https, rest) = if lower.starts_with("https://") {
        (true, &text["https://".len()..])
    } else if lower.starts_with("http://") {
        (false, &text["http://".len()..])
    } else {
        return Err(problem());
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = match rest.strip_prefix('[') {
        Some(inner) => {
            let (address, after) = inner.split_once(']').ok_or_else(problem)?;
            address.parse::<Ipv6Addr>().map_err(|_| problem())?;
            let port = match after {
                "" => None,
                after => Some(after.strip_prefix(':').ok_or_else(problem)?),
            };
            (format!("[{address}]"), port)
        }
        None => match rest.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (rest.to_owned(), None),
        },
    };
    let host_ok = host.starts_with('[')
        || (!host.is_empty()
            && !host.starts_with(['.', '-'])
            && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !host_ok {
        return Err(problem());
    }
    let port = match port {
        None => None,
        Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => match port.parse::<u16>() {
            Ok(port) if port > 0 => Some(port),
            _ => return Err(problem()),
        },
        Some(_) => return Err(problem()),
    };
    Ok(PublicUrl { https, host, port })
}

/// The LDAP repository, as WebSphere's "Federated repositories" pages name it.
struct LdapFacts {
    repository_id: String,
    preset: Preset,
    primary_url: String,
    primary_host: String,
    primary_port: String,
    ldaps: bool,
    bind_dn: Option<String>,
    bases: Vec<String>,
    login_attributes: Vec<String>,
}

/// Everything the output is made of.
struct Facts {
    product: Product,
    /// The address users reach Simul at.
    base: PublicUrl,
    /// The http variant (or `base`, said in `notes`).
    http: PublicUrl,
    /// The https variant (or `base`, said in `notes`).
    https: PublicUrl,
    /// How values were derived.
    notes: Vec<String>,
    /// What stops the integration from working until it is fixed.
    warnings: Vec<String>,
    sso: SsoSettings,
    /// The cookie domain the product must share, leading dot included.
    sso_domain: Option<String>,
    /// The realm name, when known.
    realm: Option<String>,
    /// Where the realm name comes from.
    realm_origin: String,
    /// `config.data`, quoted for a shell when needed.
    data: String,
    ldap: Option<LdapFacts>,
    self_signed: bool,
}

impl Facts {
    fn gather(config: &Config, url: Option<PublicUrl>, product: Product) -> anyhow::Result<Self> {
        let mut notes = Vec::new();
        let mut warnings = Vec::new();
        let domain = config.server.domain.as_str();
        let behind_proxy = url.is_some();
        let (base, http, https) = match (url, config.server.http, config.server.https) {
            (Some(url), _, _) => {
                notes.push(format!(
                    "--url gives one address, so the http and the https settings both use {url}"
                ));
                (url.clone(), url.clone(), url)
            }
            (None, Listen::At(plain), Listen::At(secure)) => {
                let http = PublicUrl::of_listener(domain, false, plain.port());
                let https = PublicUrl::of_listener(domain, true, secure.port());
                (https.clone(), http, https)
            }
            (None, Listen::Off, Listen::At(secure)) => {
                let https = PublicUrl::of_listener(domain, true, secure.port());
                notes.push(format!(
                    "server.http is off, so the http settings use the https address {https} too"
                ));
                (https.clone(), https.clone(), https)
            }
            (None, Listen::At(plain), Listen::Off) => {
                let http = PublicUrl::of_listener(domain, false, plain.port());
                notes.push(format!(
                    "server.https is off, so the https settings use the http address {http} too \
                     (the LTPA cookie then crosses the network unencrypted)"
                ));
                (http.clone(), http.clone(), http)
            }
            (None, Listen::Off, Listen::Off) => {
                anyhow::bail!("server.http and server.https are both off: turn one on")
            }
        };
        for url in [&http, &https] {
            if url.port == Some(0) {
                warnings.push(format!(
                    "{url} has port 0 (the listener takes any free port), which no other server \
                     can be told: set a fixed port in server.{} or pass --url",
                    url.scheme()
                ));
            }
        }
        if base.is_local() {
            warnings.push(format!(
                "the URL {base} uses localhost, which only this machine reaches: set \
                 server.domain or --url to the host name users reach"
            ));
        }

        let host = base.bare_host();
        let sso = config.sso.clone();
        if !sso.enabled {
            warnings.push(
                "sso.enabled is false: Simul issues and accepts no LTPA cookies, so nobody is \
                 signed in from another product; set sso.enabled = true"
                    .into(),
            );
        }
        let named: Vec<&String> =
            sso.domains.iter().filter(|d| !d.eq_ignore_ascii_case(USE_DOMAIN_FROM_URL)).collect();
        let sso_domain = match sso.cookie_domain(&host) {
            Some(domain) => Some(domain),
            None if sso.domains.is_empty() => {
                let example = parent_domain(&host).unwrap_or_else(|| ".example.com".into());
                warnings.push(format!(
                    "sso.domains is empty: set sso.domains = [\"{example}\"]; without a shared \
                     cookie domain there is no SSO"
                ));
                None
            }
            None => {
                let first = named.first().map(|d| format!(".{}", d.trim_start_matches('.')));
                let shown = first.clone().unwrap_or_else(|| USE_DOMAIN_FROM_URL.into());
                warnings.push(format!(
                    "{host} is not in the SSO domain {shown}: browsers send the LTPA cookies only \
                     to hosts whose names end in it; reach Simul by a name under it (--url or \
                     server.domain) or add that name's domain to sso.domains"
                ));
                first
            }
        };
        if sso.requires_ssl && !http.https {
            warnings.push(format!(
                "sso.requires_ssl is true: the LTPA cookies travel over https only, so pages that \
                 reach Simul at {http} get no single sign-on"
            ));
        }

        let ldap = match config.directory.kind {
            DirectoryKind::Ldap => Some(ldap_facts(config)?),
            DirectoryKind::Embedded => {
                let theirs = match product {
                    Product::Inotes => "the Domino Directory",
                    _ => "its LDAP directory",
                };
                warnings.push(format!(
                    "directory.kind is \"embedded\": {} signs people in against {theirs} and \
                     Simul knows only the users of its own store, so their tokens name people \
                     Simul does not have; set directory.kind = \"ldap\" and [directory.ldap] to \
                     the directory {} uses",
                    product.name(),
                    product.name()
                ));
                None
            }
        };
        let (realm, realm_origin) = match (&config.directory.realm, &ldap) {
            (Some(realm), _) => (Some(realm.clone()), "directory.realm".to_owned()),
            (None, Some(_)) => (
                config.token_realm(),
                format!(
                    "the LDAP primary's host:port; set directory.realm if {} names the realm \
                     otherwise",
                    product.name()
                ),
            ),
            (None, None) => match keys_realm(&config.data) {
                Some(realm) => (
                    Some(realm),
                    format!("the realm of the LTPA keys in {}", config.data.display()),
                ),
                None => (None, String::new()),
            },
        };
        if product == Product::Inotes && sso.ltpa2_cookie_name != "LtpaToken2" {
            warnings.push(format!(
                "sso.ltpa2_cookie_name is {:?}, but Domino always names its cookie LtpaToken2: \
                 set sso.ltpa2_cookie_name = \"LtpaToken2\"",
                sso.ltpa2_cookie_name
            ));
        }
        Ok(Self {
            product,
            base,
            http,
            https,
            notes,
            warnings,
            sso,
            sso_domain,
            realm,
            realm_origin,
            data: shell_word(&config.data.display().to_string()),
            ldap,
            self_signed: !behind_proxy && config.server.tls_certificate.is_none(),
        })
    }

    /// The SSO domain for running text and settings.
    fn domain(&self) -> String {
        self.sso_domain.clone().unwrap_or_else(|| "(none yet: set sso.domains first)".into())
    }

    /// The realm for running text and settings.
    fn realm(&self) -> String {
        self.realm.clone().unwrap_or_else(|| {
            format!(
                "the realm `simul ltpa show {KEYS_FILE} --password-file {PASSWORD_FILE}` prints"
            )
        })
    }

    /// WebSphere's "Domain name" field: every SSO domain, `;` between them.
    fn websphere_domains(&self) -> String {
        if self.sso.domains.is_empty() {
            return self.domain();
        }
        self.sso.domains.join(";")
    }

    fn yes_no(value: bool) -> &'static str {
        if value { "yes" } else { "no" }
    }

    /// "LtpaToken2", or both names in interoperability mode.
    fn cookies(&self) -> String {
        if self.sso.interoperability_mode {
            format!(
                "{} and {} (interoperability mode is on)",
                self.sso.ltpa2_cookie_name, self.sso.ltpa1_cookie_name
            )
        } else {
            format!(
                "{} (interoperability mode is off, so no {})",
                self.sso.ltpa2_cookie_name, self.sso.ltpa1_cookie_name
            )
        }
    }
}

/// `.example.com` for `chat.example.com`, if the host has such a parent.
fn parent_domain(host: &str) -> Option<String> {
    if host.parse::<IpAddr>().is_ok() {
        return None;
    }
    let (_, parent) = host.split_once('.')?;
    parent.contains('.').then(|| format!(".{parent}"))
}

fn ldap_facts(config: &Config) -> anyhow::Result<LdapFacts> {
    let resolved = config.directory.ldap.resolve()?;
    let authority = resolved.default_realm();
    let (host, port) = authority.rsplit_once(':').unwrap_or((&authority, "389"));
    let primary_url = resolved.hosts.first().cloned().unwrap_or_default();
    Ok(LdapFacts {
        repository_id: resolved.repository_id.clone(),
        preset: config.directory.ldap.preset,
        ldaps: primary_url.to_ascii_lowercase().starts_with("ldaps://"),
        primary_url,
        primary_host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
        primary_port: port.to_owned(),
        bind_dn: resolved.bind.as_ref().map(|(dn, _)| dn.clone()),
        bases: resolved.bases.clone(),
        login_attributes: resolved.login_attributes.clone(),
    })
}

/// The realm of the deployment's LTPA keys, if the data directory has them.
fn keys_realm(data: &Path) -> Option<String> {
    let file = DataDir::open_existing(data)?.keys().read_current().ok()?;
    Some(file.realm).filter(|realm| !realm.is_empty())
}

/// `text` as one shell word.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "._-/:=@%+,".contains(c));
    if plain { text.to_owned() } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

/// `text` inside an XML attribute or element.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Appends `text` wrapped at [`WIDTH`]: the first line after `first`, the
/// others after `rest`.
fn wrap_into(out: &mut String, text: &str, first: &str, rest: &str) {
    let mut line = String::from(first);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.len() + 1 + word.len() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    if !empty {
        out.push_str(&line);
        out.push('\n');
    }
}

/// Rows of `name  value`, the values aligned.
fn table(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0) + 2;
    rows.iter().map(|(name, value)| format!("{name:<width$}{value}\n")).collect()
}

/// One step of a checklist: a title, then paragraphs and verbatim lines.
struct Step {
    title: String,
    body: Vec<Piece>,
}

enum Piece {
    Text(String),
    Code(String),
}

impl Step {
    fn new(title: impl Into<String>) -> Self {
        Self { title: title.into(), body: Vec::new() }
    }

    fn text(mut self, text: impl Into<String>) -> Self {
        self.body.push(Piece::Text(text.into()));
        self
    }

    /// Lines printed as they are (commands, settings).
    fn code(mut self, lines: impl Into<String>) -> Self {
        self.body.push(Piece::Code(lines.into()));
        self
    }
}

/// The output, built in order.
#[derive(Default)]
struct Page {
    out: String,
}

impl Page {
    fn para(&mut self, text: &str) {
        wrap_into(&mut self.out, text, "", "");
        self.out.push('\n');
    }

    fn snippet(&mut self, name: &str, intro: &str, body: &str) {
        if !intro.is_empty() {
            wrap_into(&mut self.out, intro, "", "");
        }
        self.out.push_str(&format!("--- {name} ---\n"));
        self.out.push_str(body.trim_end());
        self.out.push_str(&format!("\n--- end of {name} ---\n\n"));
    }

    fn checklist(&mut self, steps: Vec<Step>) {
        self.out.push_str("Checklist (in this order; the last steps verify)\n");
        for (number, step) in steps.into_iter().enumerate() {
            let number = format!("{:>2}. ", number + 1);
            wrap_into(&mut self.out, &step.title, &number, "    ");
            for piece in step.body {
                match piece {
                    Piece::Text(text) => wrap_into(&mut self.out, &text, "    ", "    "),
                    Piece::Code(lines) => {
                        for line in lines.lines() {
                            self.out.push_str(format!("      {line}").trim_end());
                            self.out.push('\n');
                        }
                    }
                }
            }
        }
    }
}

/// The whole output for `facts.product`.
fn render(facts: &Facts) -> String {
    let mut page = Page::default();
    let (title, what) = match facts.product {
        Product::Connections => (
            "HCL Connections and Simul: awareness and chat on profiles and business cards",
            "Connections",
        ),
        Product::Portal => {
            ("WebSphere Portal and Simul: awareness and chat in the Portal theme", "Portal")
        }
        Product::Inotes => {
            ("HCL iNotes and Simul: awareness and chat in iNotes mail", "Domino and its notes.ini")
        }
        Product::Bpm => (
            "IBM BPM Process Portal and Simul: awareness of experts and team members",
            "the BPM cell",
        ),
    };
    page.out.push_str(&format!("{title}\n\n"));
    page.para(&format!(
        "Paste the snippets into {what} and work through the checklist at the end. The values \
         come from this deployment's configuration: run the command again after changing it."
    ));
    values(&mut page, facts);
    match facts.product {
        Product::Connections => connections(&mut page, facts),
        Product::Portal => portal(&mut page, facts),
        Product::Inotes => inotes(&mut page, facts),
        Product::Bpm => bpm(&mut page, facts),
    }
    page.out
}

/// "This deployment", its notes and warnings.
fn values(page: &mut Page, facts: &Facts) {
    let realm = match &facts.realm {
        Some(realm) => format!("{realm} ({})", facts.realm_origin),
        None => format!(
            "the realm of Simul's LTPA key file: `simul ltpa show {KEYS_FILE} --password-file \
             {PASSWORD_FILE}` prints it after step 1"
        ),
    };
    let mut rows = vec![
        ("Simul, https", facts.https.to_string()),
        ("Simul, http", facts.http.to_string()),
        ("SSO domain", facts.sso_domain.clone().unwrap_or_else(|| "none (see below)".into())),
        ("Realm", realm),
    ];
    if let Some(ldap) = &facts.ldap {
        rows.push((
            "Directory",
            format!("{}: {}, base {}", ldap.repository_id, ldap.primary_url, ldap.bases.join("; ")),
        ));
    }
    rows.extend([
        ("LTPA cookies", facts.cookies()),
        ("Requires SSL", Facts::yes_no(facts.sso.requires_ssl).to_owned()),
        ("Token expiration", format!("{} minutes", facts.sso.expiration_minutes)),
    ]);
    page.out.push_str("This deployment\n");
    for line in table(&rows).lines() {
        page.out.push_str(&format!("  {line}\n"));
    }
    page.out.push('\n');
    for note in &facts.notes {
        wrap_into(&mut page.out, note, "note: ", "      ");
    }
    for warning in &facts.warnings {
        wrap_into(&mut page.out, warning, "warning: ", "         ");
    }
    if !facts.notes.is_empty() || !facts.warnings.is_empty() {
        page.out.push('\n');
    }
}

/// The https URLs worth a policy or a certificate, without repeats.
fn distinct_urls(facts: &Facts) -> Vec<&PublicUrl> {
    let mut urls = vec![&facts.https];
    if facts.http != facts.https {
        urls.push(&facts.http);
    }
    urls
}

// ---------------------------------------------------------------- steps

fn export_step(facts: &Facts, destination: &str) -> Step {
    let step = Step::new(format!(
        "Export Simul's LTPA keys, protected by a password of your choice (write it on one line \
         of {PASSWORD_FILE}):"
    ))
    .code(format!(
        "simul ltpa export --data {} --password-file {PASSWORD_FILE} --out {KEYS_FILE}",
        facts.data
    ))
    .text(format!(
        "Copy {KEYS_FILE} to {destination}. The password is the one the import asks for."
    ));
    match facts.product {
        Product::Inotes => step,
        product => {
            let why = if product == Product::Connections {
                " (HCL's Connections guide has Connections generate them)"
            } else {
                ""
            };
            step.text(format!(
                "To use the keys {name} already has instead{why}: click Export keys on the LTPA \
                 page of the next step, then run `simul ltpa import {file}.keys --password-file F \
                 --data {data}` and restart Simul, and skip the import of the next step.",
                name = product.name(),
                file = product.name().to_ascii_lowercase(),
                data = facts.data
            ))
        }
    }
}

fn websphere_import_step(console: &str) -> Step {
    Step::new(format!(
        "Import the keys in {console}: Security > Global security > LTPA > Cross-cell single \
         sign-on:"
    ))
    .code(table(&[
        ("Password, Confirm password", format!("the password in {PASSWORD_FILE}")),
        ("Fully qualified key file name", format!("the full path of {KEYS_FILE}")),
    ]))
    .text("Click Import keys, then OK, then Save in the \"Messages\" box.")
}

fn websphere_sso_step(facts: &Facts, propagation: &str, interoperability: &str) -> Step {
    Step::new(
        "Single sign-on: Security > Global security > Web and SIP security > Single sign-on \
         (SSO):",
    )
    .code(table(&[
        ("Enabled", "yes".into()),
        ("Requires SSL", Facts::yes_no(facts.sso.requires_ssl).into()),
        ("Domain name", facts.websphere_domains()),
        ("Interoperability mode", interoperability.into()),
        ("LTPA V1 cookie name", facts.sso.ltpa1_cookie_name.clone()),
        ("LTPA V2 cookie name", facts.sso.ltpa2_cookie_name.clone()),
        ("Web inbound security attribute propagation", propagation.into()),
    ]))
    .text(format!(
        "Click Apply, then Save. These are Simul's [sso] settings; keep LTPA > LTPA timeout at \
         {} minutes, Simul's sso.expiration_minutes.",
        facts.sso.expiration_minutes
    ))
}

/// Interoperability mode as Simul has it.
fn interoperability(facts: &Facts) -> &'static str {
    Facts::yes_no(facts.sso.interoperability_mode)
}

fn ldap_summary(facts: &Facts) -> String {
    match &facts.ldap {
        Some(ldap) => format!("{}, base {}", ldap.primary_url, ldap.bases.join("; ")),
        None => "none yet: see the warning about directory.kind".into(),
    }
}

fn websphere_realm_step(facts: &Facts) -> Step {
    let name = facts.product.name();
    Step::new("The realm: Security > Global security > Federated repositories > Configure:")
        .code(table(&[("Realm name", facts.realm())]))
        .text(format!(
            "Click Apply, then Save. {name} and Simul must read the same LDAP directory (Simul's: \
             {}) and give it the same realm name, or tokens are refused. If {name} already uses \
             another realm name, set directory.realm to it in Simul's configuration instead and \
             restart Simul.",
            ldap_summary(facts)
        ))
}

/// WebSphere's name for a directory type.
fn directory_type(preset: Preset) -> &'static str {
    match preset {
        Preset::Openldap => "Custom (OpenLDAP)",
        Preset::ActiveDirectory => "Microsoft Windows Server Active Directory",
        Preset::Domino => "IBM Lotus Domino",
        Preset::Tivoli => "IBM Tivoli Directory Server",
    }
}

fn trust_step(facts: &Facts, product: &str) -> Option<Step> {
    let secure: Vec<&PublicUrl> = distinct_urls(facts).into_iter().filter(|u| u.https).collect();
    let url = secure.first()?;
    Some(
        Step::new(format!(
            "Let {product} trust Simul's certificate for its server-to-server calls: Security > \
             SSL certificate and key management > Key stores and certificates > \
             NodeDefaultTrustStore > Signer certificates > Retrieve from port:"
        ))
        .code(table(&[
            ("Host", url.bare_host()),
            ("Port", url.port().to_string()),
            ("Alias", "simul".into()),
        ]))
        .text(
            "Click Retrieve signer information, check that it is Simul's certificate, then Apply \
             and Save. Without it WebSphere logs \"CWPKI0022E: SSL HANDSHAKE FAILURE\".",
        ),
    )
}

fn sync_step() -> Step {
    Step::new(
        "Synchronize the nodes: System administration > Nodes, select every node, click \
         Synchronize. A node agent that is stopped needs a manual syncNode before it starts.",
    )
}

fn verify_token_step(facts: &Facts, product: &str) -> Step {
    let realm = match &facts.realm {
        Some(realm) => format!("--realm {} ", shell_word(realm)),
        None => String::new(),
    };
    Step::new(format!(
        "Verify single sign-on: signed in to {product}, copy the value of the {} cookie (the \
         browser's developer tools, cookies of the page) into token.txt and check it with the \
         exported keys:",
        facts.sso.ltpa2_cookie_name
    ))
    .code(format!(
        "simul ltpa token verify - --keys {KEYS_FILE} --password-file {PASSWORD_FILE} \\\n  \
         {realm}< token.txt"
    ))
    .text(format!(
        "It must say \"valid ltpa2 token\" and name the person in realm {}. wrong_key: the keys \
         were not imported (or another import replaced them); wrong_realm: the realm names \
         differ.",
        facts.realm()
    ))
}

fn verify_awareness_step(facts: &Facts, from: &str, user: &str) -> Step {
    let insecure = if facts.base.https && facts.self_signed { "-k " } else { "" };
    let mut step = Step::new(format!(
        "Verify awareness at Simul itself, the call {from} makes (jdoe: a colleague's {user}):"
    ))
    .code(format!(
        "curl -sS {insecure}--cookie \"{}=$(cat token.txt)\" \\\n  \
         '{}/stwebapi/getstatus?userId=jdoe'",
        facts.sso.ltpa2_cookie_name, facts.base
    ))
    .text(
        "It answers JSON with the person's status (1 available, 2 away, 3 do not disturb, \
         5 in a meeting, 0 offline).",
    );
    if !insecure.is_empty() {
        step = step.text(
            "-k accepts Simul's self-signed certificate; with server.tls_certificate set to a \
             certificate users' browsers trust, leave it out.",
        );
    }
    step
}

// ---------------------------------------------------------- connections

fn connections(page: &mut Page, facts: &Facts) {
    let (http, https) = (xml(&facts.http.to_string()), xml(&facts.https.to_string()));
    page.snippet(
        "LotusConnections-config.xml",
        "Replace the sametimeProxy serviceReference (enabled=\"false\" as installed) with:",
        &format!(
            "<sloc:serviceReference enabled=\"true\" isConnectClient=\"false\" \
             serviceName=\"sametimeProxy\" ssl_enabled=\"{ssl}\">\n  \
             <sloc:href>\n    \
             <sloc:hrefPathPrefix/>\n    \
             <sloc:static href=\"{http}\"\n      \
             ssl_href=\"{https}\"/>\n    \
             <sloc:interService href=\"{https}\"/>\n  \
             </sloc:href>\n\
             </sloc:serviceReference>",
            ssl = facts.https.https
        ),
    );
    page.snippet(
        "profiles-config.xml",
        "Replace the sametimeAwareness element with this one. Simul answers the Connect client's \
         web API (/stwebapi/) itself, so it points at Simul rather than at a Connect client on \
         each desktop (port 59449):",
        &format!(
            "<sametimeAwareness enabled=\"true\" href=\"{http}/stwebapi/\"\n    \
             ssl_href=\"{https}/stwebapi/\" sametimeInputType=\"uid\"/>"
        ),
    );
    let policies: Vec<String> = distinct_urls(facts)
        .into_iter()
        .map(|url| {
            format!(
                "<proxy:policy url=\"{url}/*\" acf=\"none\" basic-auth-support=\"true\">\n  \
                 <proxy:actions>\n    \
                 <proxy:method>GET</proxy:method>\n    \
                 <proxy:method>POST</proxy:method>\n  \
                 </proxy:actions>\n  \
                 <proxy:headers>\n    \
                 <proxy:header>User-Agent</proxy:header>\n    \
                 <proxy:header>Accept.*</proxy:header>\n    \
                 <proxy:header>Content.*</proxy:header>\n    \
                 <proxy:header>X-ST-CSRF-Token</proxy:header>\n    \
                 <proxy:header>X-CSRF-Token</proxy:header>\n  \
                 </proxy:headers>\n  \
                 <proxy:cookies>\n    \
                 <proxy:cookie>{ltpa1}</proxy:cookie>\n    \
                 <proxy:cookie>{ltpa2}</proxy:cookie>\n    \
                 <proxy:cookie>JSESSIONID</proxy:cookie>\n  \
                 </proxy:cookies>\n\
                 </proxy:policy>\n",
                url = xml(&url.to_string()),
                ltpa1 = xml(&facts.sso.ltpa1_cookie_name),
                ltpa2 = xml(&facts.sso.ltpa2_cookie_name),
            )
        })
        .collect();
    page.snippet(
        "proxy-config.tpl",
        "Add this policy next to the other <proxy:policy> elements, so that Connections' AJAX \
         proxy passes the LTPA cookies and the CSRF headers on to Simul:",
        &policies.join("\n"),
    );

    let mut sso = websphere_sso_step(
        facts,
        "as it is (Simul does not use it)",
        interoperability(facts),
    )
    .text(
        "Make sure security cookies are not HTTP only: Security > Global security > Web and \
             SIP security > General settings, \"Set security cookies to HTTPOnly\" cleared \
             (HCL's guide asks for it: the Sametime code in Connections' pages reads the token).",
    );
    if facts.sso.http_only {
        sso = sso.text(
            "Simul marks its own LTPA cookies HttpOnly (sso.http_only = true): if the status \
             appears only after signing in to Connections, not to Simul first, set sso.http_only \
             = false as well.",
        );
    }
    let mut steps = vec![
        export_step(facts, "the Connections deployment manager"),
        websphere_import_step(
            "the Integrated Solutions Console of the Connections deployment manager",
        ),
        sso,
        websphere_realm_step(facts),
    ];
    steps.extend(trust_step(facts, "Connections"));
    steps.extend([
        Step::new(
            "Edit the three files with wsadmin on the deployment manager, checking them in \
             during the same wsadmin session (wsadmin.bat on Windows):",
        )
        .code(
            "cd <app_server_root>/profiles/<dm_profile_root>/bin\n\
             ./wsadmin.sh -lang jython\n\
             execfile(\"connectionsConfig.py\")\n\
             LCConfigService.checkOutConfig(\"/tmp/simul-lc\", AdminControl.getCell())\n\
             LCConfigService.checkOutProxyConfig(\"/tmp/simul-lc\", AdminControl.getCell())",
        )
        .text(
            "In /tmp/simul-lc, put the LotusConnections-config.xml snippet into \
             LotusConnections-config.xml and the proxy-config.tpl snippet into proxy-config.tpl, \
             then:",
        )
        .code(
            "LCConfigService.checkInConfig(\"/tmp/simul-lc\", AdminControl.getCell())\n\
             LCConfigService.checkInProxyConfig(\"/tmp/simul-lc\", AdminControl.getCell())\n\
             execfile(\"profilesAdmin.py\")\n\
             ProfilesConfigService.checkOutConfig(\"/tmp/simul-profiles\", AdminControl.getCell())",
        )
        .text(
            "Put the profiles-config.xml snippet into /tmp/simul-profiles/profiles-config.xml, \
             then:",
        )
        .code("ProfilesConfigService.checkInConfig()\nsynchAllNodes()\nexit"),
        sync_step()
            .text("synchAllNodes() above did it for the files; this covers the console changes."),
        Step::new(
            "Restart Connections: the deployment manager, the node agents, then every \
             Connections application server.",
        ),
        Step::new(
            "Verify in a browser: sign in to Connections and open a profile or a business card. \
             The person's Sametime status (the green dot) and the chat icon appear, and stay when \
             you move to Blogs or Wikis; start a chat from the business card.",
        ),
        verify_token_step(facts, "Connections"),
        verify_awareness_step(facts, "the business card", "uid"),
    ]);
    page.checklist(steps);
}

// --------------------------------------------------------------- portal

fn portal(page: &mut Page, facts: &Facts) {
    let base = &facts.base;
    page.snippet(
        "WP CommonComponentConfigService custom properties",
        "The resource environment provider's custom properties (name=value). Version 8.5.2 is \
         the theme's direct mode: the browser loads the Sametime proxy toolkit from Simul and \
         signs in with the LTPA token.",
        &format!(
            "cc.sametime.proxy.enabled=true\n\
             cc.sametime.proxy.scheme={}\n\
             cc.sametime.proxy.host={}\n\
             cc.sametime.proxy.port={}\n\
             cc.sametime.connect.client=false\n\
             cc.sametime.proxy.version=8.5.2",
            base.scheme(),
            base.bare_host(),
            base.port()
        ),
    );
    page.snippet(
        "profile_full.json",
        "Add wp_sametime_proxy to the theme profile's moduleIDs, after the modules already there:",
        "\"moduleIDs\": [\n    \
         ... the modules already listed ...,\n    \
         \"wp_sametime_proxy\"\n\
         ]",
    );

    let registry = match &facts.ldap {
        Some(ldap) => Step::new(
            "The user registry: Security > Global security > Available realm definitions: \
             Federated repositories > Configure > Manage repositories > Add (or open the \
             repository there), so that Portal reads Simul's LDAP directory:",
        )
        .code(table(&[
            ("Repository identifier", ldap.repository_id.clone()),
            ("Directory type", directory_type(ldap.preset).into()),
            ("Primary host name", ldap.primary_host.clone()),
            ("Port", ldap.primary_port.clone()),
            ("Require SSL communications", Facts::yes_no(ldap.ldaps).into()),
            (
                "Bind distinguished name",
                ldap.bind_dn.clone().unwrap_or_else(|| "(none: anonymous)".into()),
            ),
            ("Bind password", "the one in directory.ldap.bind_password_file".into()),
            ("Login properties", ldap.login_attributes.join(";")),
        ]))
        .text("Apply, Save; then Add Base entry to Realm:")
        .code(table(&[
            ("Distinguished name of a base entry", ldap.bases.join("; ")),
            ("Base entry in this repository", ldap.bases.join("; ")),
        ]))
        .text("Apply, Save."),
        None => Step::new(
            "The user registry: Portal and Simul must read the same LDAP directory; Simul has \
             none yet (see the warning about directory.kind).",
        ),
    };
    let mut steps = vec![
        export_step(facts, "the Portal deployment manager"),
        websphere_import_step("the Integrated Solutions Console of the Portal deployment manager"),
        websphere_sso_step(facts, "no (not selected)", interoperability(facts)),
        registry,
        Step::new(
            "The realm: Security > Global security > Available realm definitions: Federated \
             repositories > Configure:",
        )
        .code(table(&[("Realm name", facts.realm())]))
        .text(
            "OK, Save; then, back on Global security with Federated repositories selected, Set \
             as current, Apply, Save. If Portal already uses another realm name, set \
             directory.realm to it in Simul's configuration instead and restart Simul.",
        ),
        Step::new(
            "Point the theme at Simul: Resources > Resource Environment Providers > WP \
             CommonComponentConfigService > Custom properties.",
        )
        .text(
            "Set each property of the first snippet (New... for the missing ones), then OK and \
             Save. Delete cc.sametime.proxy.url if it is there: it switches the theme to the \
             older 8.5.1 mode through Portal's AJAX proxy.",
        ),
        Step::new(
            "Add the module to the theme profile over WebDAV (e.g. \
             https://PORTAL/wps/mycontenthandler/dav/fs-type1/): open \
             themes/Portal8.0/profiles (your theme's folder for a custom theme), keep a copy of \
             profile_full.json under another name, add wp_sametime_proxy as in the second \
             snippet, and copy the file back. Pages with another profile need it there too.",
        ),
    ];
    steps.extend(trust_step(facts, "Portal"));
    steps.extend([
        sync_step(),
        Step::new(
            "Restart the cell: stop every process (deployment manager, node agents, Portal \
             servers), start the deployment manager and the node agents, then the Portal \
             servers.",
        ),
        Step::new(format!(
            "Verify in a browser: sign in to Portal and open a page that shows people; names \
             carry their Sametime status (the green dot). The page source has \"var \
             stproxyConfig\" with server: \"{}://{}:{}\".",
            base.scheme(),
            base.bare_host(),
            base.port()
        )),
        verify_token_step(facts, "Portal"),
        verify_awareness_step(facts, "a person's status icon", "login name"),
    ]);
    page.checklist(steps);
}

// --------------------------------------------------------------- inotes

fn inotes(page: &mut Page, facts: &Facts) {
    let single_sign_on = facts.sso.enabled && facts.sso_domain.is_some();
    let login = if single_sign_on { 0 } else { 1 };
    let protocol = facts.https.scheme();
    page.snippet(
        "notes.ini",
        "The lines for the notes.ini of every Domino server that serves iNotes:",
        &format!(
            "iNotes_WA_SametimeProxy=1\n\
             iNotes_WA_SametimeProxyServer={}\n\
             iNotes_WA_SametimeProxyServerSSL={}\n\
             iNotes_WA_SametimeProxyLogin={login}\n\
             iNotes_WA_SametimeProtocol={protocol}",
            facts.http, facts.https
        ),
    );
    let mut explained = String::from(if single_sign_on {
        "iNotes_WA_SametimeProxyLogin=0: people are signed in to Simul by Domino's LtpaToken2 \
         (single sign-on). Set 1, a Simul login prompt in iNotes, only where there is no SSO \
         between Domino and Simul."
    } else {
        "iNotes_WA_SametimeProxyLogin=1: without a shared SSO domain (see the warnings) iNotes \
         cannot sign people in to Simul with Domino's token, so it asks for their Simul login; \
         set 0 once single sign-on works."
    });
    explained.push_str(&format!(
        " iNotes_WA_SametimeProtocol={protocol}: iNotes reaches Simul over {protocol} whatever \
         the protocol of the iNotes page (the value is the protocol, http or https)."
    ));
    page.para(&explained);

    let format =
        if facts.sso.interoperability_mode { "LtpaToken and LtpaToken2" } else { "LtpaToken2" };
    let realm = match &facts.realm {
        Some(realm) => realm.clone(),
        None => "as the import fills it in".into(),
    };
    let enabled = |on: bool| if on { "Enabled" } else { "Disabled" };
    page.snippet(
        "Web SSO Configuration",
        &format!(
            "The fields of the Domino Directory's Web SSO Configuration document \"{}\". The \
             key import fills in LDAP Realm and LTPA Version: correct LDAP Realm if it differs.",
            facts.sso.ltpa1_cookie_name
        ),
        &table(&[
            ("Configuration Name", facts.sso.ltpa1_cookie_name.clone()),
            ("DNS Domain", facts.domain()),
            ("Map names in LTPA tokens", "Disabled".into()),
            ("Require SSL protected communication (HTTPS)", enabled(facts.sso.requires_ssl).into()),
            ("Restrict use of the SSO token to HTTP/HTTPS", enabled(facts.sso.http_only).into()),
            ("Expiration (minutes)", facts.sso.expiration_minutes.to_string()),
            ("Domino Server Names", "every iNotes server (e.g. mail01/Renovations)".into()),
            ("Token Format", format.into()),
            ("LDAP Realm", realm),
            ("LTPA Version", "as the import fills it in".into()),
        ]),
    );
    if let Some(ldap) = &facts.ldap
        && ldap.preset != Preset::Domino
    {
        page.para(
            "Domino writes each person's Notes name into the token (as a DN: CN=Alice \
             Allen,O=Renovations). Simul finds that person only in a directory with those DNs: \
             the Domino Directory over LDAP (directory.ldap.preset = \"domino\"). Otherwise \
             enable \"Map names in LTPA tokens\" so that Domino writes the LDAP DN instead (it \
             needs Directory Assistance to that LDAP directory).",
        );
    }

    let steps = vec![
        export_step(facts, "the computer with the Domino Administrator client"),
        Step::new(
            "Import the keys into Domino (Domino Administrator): File > Open Server, the server \
             with the Domino Directory; Configuration > Web > Web Server Configurations; under \
             \"Web SSO Configurations\" open the Web SSO Configuration for LtpaToken and click \
             Edit Document.",
        )
        .text(
            "Click Keys > Import WebSphere LTPA Keys, choose the key file and type its password. \
             Set the fields as in the Web SSO Configuration snippet, then Save & Close. No such \
             document yet: Create Web SSO Configuration, named as in the snippet.",
        ),
        Step::new(
            "In the Server document of each iNotes server: Internet Protocols > Domino Web \
             Engine, Session authentication \"Multiple Servers (SSO)\" and Web SSO Configuration \
             \"LtpaToken\"; Save & Close.",
        ),
        Step::new(
            "Let the Domino Directory replicate to every server of the domain: each one that \
             takes part in single sign-on needs the Web SSO document.",
        ),
        Step::new(
            "Add the notes.ini snippet to the notes.ini of every Domino server that serves \
             iNotes (a text editor; save and close it).",
        ),
        Step::new(
            "Turn instant messaging on for iNotes users: the Configuration Settings document of \
             the iNotes servers, iNotes tab, instant messaging settings (or each user's \
             preference).",
        ),
        Step::new("Restart the Domino servers: \"restart server\" at each server's console."),
        Step::new(
            "Verify in a browser: open iNotes. The status icon shows next to \"Welcome\" and the \
             user's name, and next to people's names in mail, views and folders; click one to \
             chat. If sign-on fails, add debug_sso_trace_level=2 to notes.ini and read the \
             server console.",
        ),
        verify_token_step(facts, "iNotes"),
        verify_awareness_step(facts, "iNotes", "login name"),
    ];
    page.checklist(steps);
}

// ------------------------------------------------------------------ bpm

fn bpm(page: &mut Page, facts: &Facts) {
    page.snippet(
        "WebSphere settings of the BPM cell",
        "BPM's Integrated Solutions Console, Security > Global security, must say:",
        &table(&[
            ("Federated repositories > Realm name", facts.realm()),
            ("Single sign-on (SSO) > Enabled", "yes".into()),
            ("Single sign-on (SSO) > Requires SSL", Facts::yes_no(facts.sso.requires_ssl).into()),
            ("Single sign-on (SSO) > Domain name", facts.websphere_domains()),
            ("Single sign-on (SSO) > Interoperability mode", "yes".into()),
            ("Single sign-on (SSO) > LTPA V1 cookie name", facts.sso.ltpa1_cookie_name.clone()),
            ("Single sign-on (SSO) > LTPA V2 cookie name", facts.sso.ltpa2_cookie_name.clone()),
            ("LTPA > Cross-cell single sign-on", format!("{KEYS_FILE} imported")),
        ]),
    );
    let domains = if facts.sso.domains.is_empty() {
        vec![parent_domain(&facts.base.bare_host()).unwrap_or_else(|| ".example.com".into())]
    } else {
        facts.sso.domains.clone()
    };
    let listed = domains.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", ");
    page.snippet(
        "simul.toml",
        "Simul's allowed domains, the Sametime Proxy Server's \"Domain list\": BPM's SSO domain \
         must be among them. BPM's guide also turns interoperability mode on, on both sides:",
        &format!("[sso]\ndomains = [{listed}]\ninteroperability_mode = true"),
    );
    let simul_side = match (facts.sso.domains.is_empty(), facts.sso.interoperability_mode) {
        (false, true) => "Simul's configuration already says what the simul.toml snippet says.",
        _ => "put the simul.toml snippet into Simul's configuration and restart Simul.",
    };
    let host = facts.base.bare_host();
    let steps = vec![
        websphere_realm_step(facts),
        websphere_sso_step(facts, "as it is (Simul does not use it)", "yes"),
        export_step(facts, "the BPM deployment manager"),
        websphere_import_step("the Integrated Solutions Console of the BPM deployment manager"),
        Step::new(format!(
            "Simul's allowed domains: {simul_side} From now on users \
             must reach Process Portal and Simul by host names that end in {}; Simul's is \
             {host}.",
            facts.domain()
        )),
        sync_step(),
        Step::new("Restart every WebSphere server of the BPM cell."),
        Step::new(
            "In Process Designer, enable the process applications whose Process Portal pages \
             should show Sametime awareness; where Process Portal asks for the Sametime server, \
             give Simul's address.",
        )
        .code(facts.base.to_string()),
        Step::new(
            "Verify in a browser: open Process Portal. The Sametime icons show next to experts \
             and team members; click one to chat.",
        ),
        verify_token_step(facts, "Process Portal"),
        verify_awareness_step(facts, "Process Portal", "login name"),
    ];
    page.checklist(steps);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_a_scheme_a_host_and_a_port() {
        let url = parse_url("https://st.example.com/").unwrap();
        assert_eq!(url.to_string(), "https://st.example.com");
        assert_eq!(url.port(), 443);
        let url = parse_url("HTTP://st.example.com:8080").unwrap();
        assert_eq!(url.to_string(), "http://st.example.com:8080");
        assert_eq!(parse_url("https://[::1]:8443").unwrap().bare_host(), "::1");
        assert!(parse_url("https://[::1]:8443").unwrap().is_local());
        for bad in [
            "ftp://x",
            "st.example.com",
            "https://",
            "https://st.example.com/chat",
            "https://st.example.com:0",
            "https://st.example.com:99999",
            "https://user@st.example.com",
            "https://st.example.com?x=1",
            "https://[nope]",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn listener_urls_leave_out_default_ports() {
        assert_eq!(
            PublicUrl::of_listener("chat.example.com", true, 443).to_string(),
            "https://chat.example.com"
        );
        assert_eq!(
            PublicUrl::of_listener("chat.example.com", false, 8080).to_string(),
            "http://chat.example.com:8080"
        );
        assert_eq!(PublicUrl::of_listener("::1", true, 8443).to_string(), "https://[::1]:8443");
    }

    #[test]
    fn prose_wraps_at_the_width() {
        let mut out = String::new();
        let text = "word ".repeat(40);
        wrap_into(&mut out, &text, " 1. ", "    ");
        assert!(out.lines().all(|line| line.len() <= WIDTH), "{out}");
        assert!(out.starts_with(" 1. word"));
        assert!(out.lines().skip(1).all(|line| line.starts_with("    word")));
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("simul-data"), "simul-data");
        assert_eq!(shell_word("my data"), "'my data'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
