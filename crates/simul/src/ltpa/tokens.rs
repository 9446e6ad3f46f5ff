//! `simul ltpa token create|verify|decode`.

use std::collections::BTreeMap;
use std::io::Read as _;

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::{Args, ValueEnum};
use ltpa::token::{human_duration, rfc3339};
use ltpa::{
    AccessId, Identity, Inspection, Invalid, TokenFormat, UserData, Verifier, VerifyOptions,
    domino, ltpa1, ltpa2,
};
use serde_json::{Value, json};

use super::TokenKeyArgs;
use super::inputs::{parse_duration_ms, parse_moment_ms, parse_moment_s, read_key_file};
use crate::Outcome;

/// A token format on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// LtpaToken2 (WebSphere 7+, Liberty).
    Ltpa2,
    /// LtpaToken, WebSphere version 1 (interoperability mode).
    Ltpa1,
    /// LtpaToken, Domino format (Domino Web SSO secret).
    Domino,
}

impl From<Format> for TokenFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Ltpa2 => Self::Ltpa2,
            Format::Ltpa1 => Self::Ltpa1,
            Format::Domino => Self::Domino,
        }
    }
}

/// A token format to expect, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatChoice {
    /// Whichever format the token is in.
    Auto,
    /// LtpaToken2 only.
    Ltpa2,
    /// WebSphere version-1 LtpaToken only.
    Ltpa1,
    /// Domino LtpaToken only.
    Domino,
}

impl FormatChoice {
    fn format(self) -> Option<TokenFormat> {
        match self {
            Self::Auto => None,
            Self::Ltpa2 => Some(TokenFormat::Ltpa2),
            Self::Ltpa1 => Some(TokenFormat::Ltpa1),
            Self::Domino => Some(TokenFormat::Domino),
        }
    }
}

/// Arguments of `simul ltpa token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The user's unique id: LDAP DN, Notes canonical name (Domino) or login name.
    #[arg(long, value_name = "ID")]
    user: String,
    /// Realm in the token (default: the key file's realm).
    #[arg(long)]
    realm: Option<String>,
    /// Token format.
    #[arg(long, value_enum, default_value = "ltpa2")]
    format: Format,
    /// Lifetime from the creation time, like 120m, 2h or 1d.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms, default_value = "120m")]
    expires: i64,
    /// Fixed expiry in milliseconds since 1970 (or RFC 3339): the output is then deterministic.
    #[arg(long, value_name = "MS", value_parser = parse_moment_ms, conflicts_with = "expires")]
    expires_at: Option<i64>,
    /// Creation time in seconds since 1970 (or RFC 3339); default now.
    #[arg(long, value_name = "S", value_parser = parse_moment_s)]
    created_at: Option<i64>,
    /// Extra attribute for ltpa2/ltpa1 tokens (repeatable), e.g. `host=chat.example.com`.
    #[arg(long = "attribute", value_name = "KEY=VALUE")]
    attributes: Vec<String>,
    #[command(flatten)]
    keys: TokenKeyArgs,
}

/// Options shared by `verify` and `decode`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The token, or `-` to read it from standard input.
    token: String,
    /// The format to expect.
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatChoice,
    /// Evaluate at this moment (milliseconds since 1970 or RFC 3339) instead of now.
    #[arg(long, value_name = "WHEN", value_parser = parse_moment_ms)]
    at: Option<i64>,
    /// Trusted realm (repeatable); default: the key file's realm.
    #[arg(long = "realm", value_name = "REALM")]
    realms: Vec<String>,
    /// Tolerated clock difference between servers.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms, default_value = "60s")]
    clock_skew: i64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    keys: TokenKeyArgs,
}

/// Arguments of `simul ltpa token verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    check: CheckArgs,
}

/// Arguments of `simul ltpa token decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    check: CheckArgs,
}

/// `simul ltpa token create`.
pub fn create(args: CreateArgs) -> anyhow::Result<Outcome> {
    let created_ms =
        args.created_at.map_or_else(|| Utc::now().timestamp_millis(), |s| s.saturating_mul(1000));
    let expires_ms = args.expires_at.unwrap_or(created_ms.saturating_add(args.expires));
    let token = match args.format {
        Format::Domino => {
            if args.realm.is_some() || !args.attributes.is_empty() {
                bail!(
                    "--realm and --attribute apply to ltpa2 and ltpa1 tokens; Domino tokens carry only the user name"
                );
            }
            let secret = args
                .keys
                .domino
                .secret()?
                .context("a Domino token needs --domino-secret-file FILE")?;
            domino::create(&secret, &args.user, seconds(created_ms)?, seconds(expires_ms)?)
        }
        Format::Ltpa2 | Format::Ltpa1 => {
            let path = args.keys.keys.as_deref().context(
                "an ltpa2 or ltpa1 token needs --keys FILE (and --password-file or --password-env)",
            )?;
            let file = read_key_file(path, &args.keys.password)?;
            let realm = args.realm.as_deref().unwrap_or(&file.realm);
            let mut data = UserData::for_user(&AccessId::user(realm, &args.user));
            for attribute in &args.attributes {
                let (key, value) = attribute
                    .split_once('=')
                    .with_context(|| format!("--attribute {attribute:?} is not KEY=VALUE"))?;
                if key == "u" || key == "expire" || key.is_empty() {
                    bail!(
                        "--attribute {key:?}: the user and expiry attributes are set by --user and --expires"
                    );
                }
                data.set(key, vec![value.to_owned()]);
            }
            if args.format == Format::Ltpa2 {
                ltpa2::create(&file.keys, &data, expires_ms)
            } else {
                ltpa1::create(&file.keys, &data, expires_ms)
            }
        }
    };
    println!("{token}");
    Ok(Outcome::Success)
}

/// Domino's 32-bit seconds.
fn seconds(ms: i64) -> anyhow::Result<u32> {
    u32::try_from(ms.div_euclid(1000))
        .with_context(|| format!("{} is outside Domino's time range (1970-2106)", rfc3339(ms)))
}

/// What `verify` and `decode` need: the token, a verifier, options.
struct Check {
    token: String,
    format: Option<TokenFormat>,
    verifier: Verifier,
    options: VerifyOptions,
    json: bool,
}

impl CheckArgs {
    fn prepare(self) -> anyhow::Result<Check> {
        let mut verifier = Verifier::new();
        let mut realms = self.realms;
        if let Some(path) = &self.keys.keys {
            let file = read_key_file(path, &self.keys.password)?;
            if realms.is_empty() && !file.realm.is_empty() {
                realms.push(file.realm.clone());
            }
            verifier = verifier.with_keys(file.keys);
        }
        if let Some(secret) = self.keys.domino.secret()? {
            verifier = verifier.with_domino_secret(secret);
        }
        if self.keys.keys.is_none() && self.keys.domino.secret()?.is_none() {
            bail!(
                "no keys: give --keys FILE (with --password-file or --password-env) and/or --domino-secret-file FILE"
            );
        }
        let token = if self.token == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the token from standard input")?;
            text.trim().to_owned()
        } else {
            self.token
        };
        let mut options =
            VerifyOptions::at(self.at.unwrap_or_else(|| Utc::now().timestamp_millis()))
                .trusting(realms);
        options.clock_skew_ms = self.clock_skew;
        Ok(Check { token, format: self.format.format(), verifier, options, json: self.json })
    }
}

/// `simul ltpa token verify`.
pub fn verify(args: VerifyArgs) -> anyhow::Result<Outcome> {
    let check = args.check.prepare()?;
    let result = check.verifier.verify(&check.token, check.format, &check.options);
    let now_ms = check.options.now_ms;
    Ok(report(
        result,
        check.json,
        identity_json,
        |identity| print_identity(identity, now_ms),
        "invalid token",
    ))
}

/// `simul ltpa token decode`.
pub fn decode(args: DecodeArgs) -> anyhow::Result<Outcome> {
    let check = args.check.prepare()?;
    let result = check.verifier.inspect(&check.token, check.format, &check.options);
    Ok(report(result, check.json, inspection_json, print_inspection, "cannot decode"))
}

/// Prints a result as JSON or text; an invalid token is `Outcome::Invalid`.
fn report<T>(
    result: Result<T, Invalid>,
    json: bool,
    to_json: impl Fn(&T) -> Value,
    print: impl Fn(&T),
    failure: &str,
) -> Outcome {
    let result_is_ok = result.is_ok();
    match result {
        Ok(value) if json => println!("{}", to_json(&value)),
        Ok(value) => print(&value),
        Err(invalid) if json => println!("{}", invalid_json(&invalid)),
        Err(invalid) => println!("{failure}: {}: {invalid}", invalid.reason()),
    }
    if result_is_ok { Outcome::Success } else { Outcome::Invalid }
}

fn identity_json(identity: &Identity) -> Value {
    let attributes: BTreeMap<&String, Value> = identity
        .attributes
        .iter()
        .map(|(key, values)| {
            let value = match values.as_slice() {
                [one] => json!(one),
                many => json!(many),
            };
            (key, value)
        })
        .collect();
    let mut value = json!({
        "valid": true,
        "format": identity.format.as_str(),
        "user": identity.user,
        "realm": identity.realm,
        "expires": rfc3339(identity.expires_ms),
        "expires_ms": identity.expires_ms,
        "attributes": attributes,
    });
    if let Some(created_ms) = identity.created_ms {
        value["created"] = json!(rfc3339(created_ms));
        value["created_ms"] = json!(created_ms);
    }
    value
}

fn invalid_json(invalid: &Invalid) -> Value {
    json!({"valid": false, "reason": invalid.reason(), "detail": invalid.to_string()})
}

fn inspection_json(inspection: &Inspection) -> Value {
    let checks: Vec<Value> = inspection
        .checks
        .iter()
        .map(|check| match &check.outcome {
            Ok(()) => json!({"name": check.name, "ok": true}),
            Err(invalid) => json!({"name": check.name, "ok": false, "reason": invalid.reason(), "detail": invalid.to_string()}),
        })
        .collect();
    let fields: Vec<Value> = inspection
        .fields
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    json!({
        "format": inspection.format.as_str(),
        "valid": inspection.checks.iter().all(|c| c.outcome.is_ok()),
        "fields": fields,
        "checks": checks,
        "identity": inspection.identity.as_ref().map(identity_json),
    })
}

fn print_identity(identity: &Identity, now_ms: i64) {
    println!("valid {} token", identity.format);
    println!("user:      {}", identity.user);
    if let Some(realm) = &identity.realm {
        println!("realm:     {realm}");
    }
    if let Some(created_ms) = identity.created_ms {
        println!("created:   {}", rfc3339(created_ms));
    }
    println!(
        "expires:   {} (in {})",
        rfc3339(identity.expires_ms),
        human_duration(identity.expires_ms - now_ms)
    );
    for (key, values) in &identity.attributes {
        println!("attribute: {key}={}", values.join("|"));
    }
}

fn print_inspection(inspection: &Inspection) {
    let width =
        inspection.fields.iter().map(|(name, _)| name.len()).max().unwrap_or(0).max("format".len());
    println!("{:<width$}  {}", "format", inspection.format);
    for (name, value) in &inspection.fields {
        println!("{name:<width$}  {value}");
    }
    println!("checks:");
    for check in &inspection.checks {
        match &check.outcome {
            Ok(()) => println!("  ok      {}", check.name),
            Err(invalid) => println!("  FAILED  {}: {}: {invalid}", check.name, invalid.reason()),
        }
    }
}
