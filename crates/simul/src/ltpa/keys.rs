//! `simul ltpa generate|show|export|domino generate`.

use std::path::{Path, PathBuf};

use clap::Args;
use ltpa::{DominoSecret, KeyFile, Overwrite, secret_file};
use serde::Serialize;

use chrono::{DateTime, SecondsFormat, Utc};

use super::inputs::{NewPasswordArgs, PasswordArgs, Prompt, parse_duration_ms, read_key_file};
use crate::Outcome;
use crate::data::{DataArgs, DataDir};
use simul_service::key_files::{Replaced, Replacement, host_name};

/// Arguments of `simul ltpa generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Realm of the user registry the tokens will name (for LDAP, often
    /// `host:port`; for WebSphere's federated repositories,
    /// `defaultWIMFileBasedRealm`). Must equal the realm the other servers use.
    #[arg(long)]
    realm: String,
    /// Host name recorded as the creator (default: this machine's name).
    #[arg(long)]
    host: Option<String>,
    #[command(flatten)]
    password: PasswordArgs,
    /// File to write (mode 0600).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

/// Arguments of `simul ltpa show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The ltpa.keys file; without it, the deployment's keys (`--data`/
    /// `--config`): the current set, the previous sets still accepted and
    /// until when, and the realm the deployment's tokens carry.
    #[arg(conflicts_with_all = ["data", "config"])]
    file: Option<PathBuf>,
    #[command(flatten)]
    password: PasswordArgs,
    #[command(flatten)]
    deployment: DataArgs,
    /// Print JSON (keys realm, version, creation_date, creation_host,
    /// shared_key_fingerprint, public_key_fingerprint; for the deployment
    /// also token_realm and previous, each with not_use_after).
    #[arg(long)]
    json: bool,
}

/// Arguments of `simul ltpa export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The ltpa.keys file to export; without it, the deployment's keys
    /// (`--data`/`--config`), and `--password-file` then protects the output.
    #[arg(conflicts_with_all = ["data", "config"])]
    file: Option<PathBuf>,
    #[command(flatten)]
    password: PasswordArgs,
    #[command(flatten)]
    new_password: NewPasswordArgs,
    #[command(flatten)]
    deployment: DataArgs,
    /// File to write (mode 0600).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    force: bool,
}

/// Arguments of `simul ltpa import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An ltpa.keys file exported by WebSphere, Liberty, Domino or another Simul.
    file: PathBuf,
    #[command(flatten)]
    password: PasswordArgs,
    #[command(flatten)]
    deployment: DataArgs,
    #[command(flatten)]
    previous: PreviousArgs,
}

/// Arguments of `simul ltpa rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    #[command(flatten)]
    deployment: DataArgs,
    #[command(flatten)]
    previous: PreviousArgs,
}

/// What becomes of the keys that `rotate` or `import` replaces.
#[derive(Debug, Args)]
pub struct PreviousArgs {
    /// How long tokens made with the replaced keys are still accepted
    /// (like 7d or 12h): time for the other servers of the SSO domain to
    /// take the new keys.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms, default_value = "7d")]
    keep_previous: i64,
    /// Refuse tokens of the replaced keys, and of every earlier set, at
    /// once: for keys that may be known to someone else.
    #[arg(long, conflicts_with = "keep_previous")]
    discard_previous: bool,
}

impl PreviousArgs {
    fn replaced(&self) -> Replaced {
        if self.discard_previous {
            return Replaced::Discard;
        }
        Replaced::KeepUntil(Utc::now() + chrono::Duration::milliseconds(self.keep_previous))
    }
}

/// Arguments of `simul ltpa domino generate`.
#[derive(Debug, Args)]
pub struct DominoGenerateArgs {
    /// File to write the Base64 secret to (mode 0600).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

fn overwrite(force: bool) -> Overwrite {
    if force { Overwrite::Replace } else { Overwrite::Refuse }
}

fn exists_error(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{} already exists; choose another file or pass --force to replace it",
        path.display()
    )
}

/// Fails before any prompting when the output exists and --force is absent
/// (the final write checks again, atomically).
fn refuse_existing(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        return Err(exists_error(path));
    }
    Ok(())
}

/// `simul ltpa generate`.
pub fn generate(args: GenerateArgs) -> anyhow::Result<Outcome> {
    refuse_existing(&args.out, args.force)?;
    let password = args
        .password
        .password(&format!("new password for {}", args.out.display()), Prompt::Confirm)?;
    let host = args.host.unwrap_or_else(host_name);
    let file = KeyFile::generate(&args.realm, &host);
    file.write(&args.out, &password, overwrite(args.force))?;
    println!(
        "Wrote new LTPA keys for realm {:?} to {} (mode 0600)",
        file.realm,
        args.out.display()
    );
    print_fingerprints(&file);
    Ok(Outcome::Success)
}

/// `simul ltpa show`.
pub fn show(args: ShowArgs) -> anyhow::Result<Outcome> {
    let Some(path) = &args.file else { return show_deployment(&args) };
    let file = read_key_file(path, &args.password)?;
    let summary = Summary::of(&file);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(Outcome::Success);
    }
    println!("File:        {}", path.display());
    print_summary(&file);
    Ok(Outcome::Success)
}

/// `simul ltpa show` of the deployment's key sets.
fn show_deployment(args: &ShowArgs) -> anyhow::Result<Outcome> {
    let config = args.deployment.config()?;
    let data = args.deployment.deployment_dir()?;
    let ring = data.keys().read(Utc::now())?;
    let token_realm = ring.token_realm(config.token_realm());
    if args.json {
        let previous: Vec<_> = ring
            .previous
            .iter()
            .map(|set| PreviousSummary {
                keys: Summary::of(&set.file),
                not_use_after: time(set.not_use_after),
            })
            .collect();
        let deployment = DeploymentSummary {
            current: Summary::of(&ring.current),
            token_realm: &token_realm,
            previous,
        };
        println!("{}", serde_json::to_string_pretty(&deployment)?);
        return Ok(Outcome::Success);
    }
    println!("File:        {}", data.keys().current_path().display());
    print_summary(&ring.current);
    println!("Tokens name: realm {token_realm:?}");
    for set in &ring.previous {
        println!();
        println!(
            "Previous:    {} (accepted until {})",
            set.path.display(),
            time(set.not_use_after)
        );
        print_fingerprints(&set.file);
    }
    for note in &ring.notes {
        println!("warning: {note}");
    }
    Ok(Outcome::Success)
}

fn print_summary(file: &KeyFile) {
    let summary = Summary::of(file);
    println!("Realm:       {}", summary.realm);
    println!("Version:     {}", summary.version);
    println!("Created:     {} on {}", summary.creation_date, summary.creation_host);
    print_fingerprints(file);
    for (key, value) in &file.other_properties {
        println!("Property:    {key}={value}");
    }
}

/// `simul ltpa export`.
pub fn export(args: ExportArgs) -> anyhow::Result<Outcome> {
    refuse_existing(&args.out, args.force)?;
    let purpose = format!("password to protect {}", args.out.display());
    let (file, password) = match &args.file {
        Some(path) => (read_key_file(path, &args.password)?, args.new_password.password(&purpose)?),
        // The deployment's keys need no password from the user, so the
        // one given protects the output (DESIGN: `export --data DIR --password-file F`).
        None if args.new_password.is_given() => {
            (deployment_keys(&args.deployment)?, args.new_password.password(&purpose)?)
        }
        None => {
            (deployment_keys(&args.deployment)?, args.password.password(&purpose, Prompt::Confirm)?)
        }
    };
    file.write(&args.out, &password, overwrite(args.force))?;
    if args.file.is_none() {
        // The deployment's keys left it: the console's overview stops
        // warning that they never did.
        audit(&args.deployment.deployment_dir()?, "export-ltpa-keys", &file)?;
    }
    println!(
        "Exported the keys of realm {:?} to {} (mode 0600); import it with the new password",
        file.realm,
        args.out.display()
    );
    print_fingerprints(&file);
    Ok(Outcome::Success)
}

/// The deployment's current keys as the other servers need them: naming
/// the realm its tokens carry, whatever realm the file was made for.
fn deployment_keys(deployment: &DataArgs) -> anyhow::Result<KeyFile> {
    let config = deployment.config()?;
    deployment.deployment_dir()?.keys().for_export(config.token_realm())
}

/// `simul ltpa import`: the file's keys become the deployment's; the
/// replaced ones keep verifying for a while.
pub fn import(args: ImportArgs) -> anyhow::Result<Outcome> {
    let file = read_key_file(&args.file, &args.password)?;
    let config = args.deployment.config()?;
    let data = args.deployment.data_dir()?;
    let realm_before =
        data.keys().read(Utc::now()).ok().map(|ring| ring.token_realm(config.token_realm()));
    let replacement = data.keys().replace(&file, args.previous.replaced())?;
    audit(&data, "import-ltpa-keys", &file)?;
    println!(
        "Imported the keys of realm {:?} from {} into {}",
        file.realm,
        args.file.display(),
        data.keys().current_path().display()
    );
    print_fingerprints(&file);
    report_replacement(&replacement);
    let realm = config.token_realm().unwrap_or_else(|| file.realm.clone());
    let source = if config.token_realm().is_some() {
        "the configuration's directory.realm, or the LDAP server's host:port"
    } else {
        "the key file's, as directory.realm is not set"
    };
    println!("Tokens name: realm {realm:?} ({source})");
    match realm_before {
        Some(before) if before != realm => println!(
            "warning: tokens named realm {before:?} before: restart `simul serve` to use realm \
             {realm:?}; everyone signs in again then. To keep {before:?}, set directory.realm = \
             {before:?} in the configuration."
        ),
        _ => println!(
            "A running `simul serve` uses the new keys within seconds (at once on SIGHUP)."
        ),
    }
    Ok(Outcome::Success)
}

/// `simul ltpa rotate`: a new key set for the deployment; the replaced
/// one keeps verifying for a while.
pub fn rotate(args: RotateArgs) -> anyhow::Result<Outcome> {
    let config = args.deployment.config()?;
    let data = args.deployment.data_dir()?;
    let realm = data.keys().deployment_realm(config.token_realm())?;
    let (file, replacement) = data.keys().rotate(&realm, args.previous.replaced())?;
    audit(&data, "rotate-ltpa-keys", &file)?;
    println!("New LTPA keys for realm {realm:?} in {}", data.keys().current_path().display());
    print_fingerprints(&file);
    report_replacement(&replacement);
    println!(
        "A running `simul serve` signs with them within seconds (at once on SIGHUP). Give them to \
         the other servers of the SSO domain: simul ltpa export --data {} --password-file F --out \
         for-others.keys",
        data.root().display()
    );
    Ok(Outcome::Success)
}

/// Notes a change of the deployment's keys in its audit log, as the
/// console's does (a data directory without a database has no log yet).
fn audit(data: &DataDir, action: &str, file: &KeyFile) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let Some(store) = data.existing_store().await? else { return Ok(()) };
        let target = file.keys.shared_key_fingerprint();
        let actor = crate::user::command_line_actor();
        Ok(simul_service::record_audit(&store, &actor, action, &target).await?)
    })
}

/// What became of the replaced keys.
fn report_replacement(replacement: &Replacement) {
    let Some(before) = &replacement.before else { return };
    let fingerprint = before.keys.shared_key_fingerprint();
    match replacement.kept_until {
        Some(until) => {
            println!("Previous:    shared key {fingerprint}, accepted until {}", time(until))
        }
        None => println!("Discarded:   shared key {fingerprint}; its tokens are refused now"),
    }
    if replacement.removed > 0 {
        println!("Removed:     {} older key set(s)", replacement.removed);
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `simul ltpa domino generate`.
pub fn domino_generate(args: DominoGenerateArgs) -> anyhow::Result<Outcome> {
    let secret = DominoSecret::generate();
    let mut text = secret.to_base64();
    text.push('\n');
    secret_file::write(&args.out, text.as_bytes(), overwrite(args.force)).map_err(|error| {
        match error {
            secret_file::WriteError::Exists => exists_error(&args.out),
            secret_file::WriteError::Io(error) => {
                anyhow::Error::new(error).context(format!("cannot write {}", args.out.display()))
            }
        }
    })?;
    println!(
        "Wrote a new Domino Web SSO secret to {} (mode 0600); its content is the LTPA_DominoSecret value",
        args.out.display()
    );
    Ok(Outcome::Success)
}

/// What `show --json` prints of the deployment's keys.
#[derive(Debug, Serialize)]
struct DeploymentSummary<'a> {
    #[serde(flatten)]
    current: Summary<'a>,
    token_realm: &'a str,
    previous: Vec<PreviousSummary<'a>>,
}

/// A previous key set in `show --json`.
#[derive(Debug, Serialize)]
struct PreviousSummary<'a> {
    #[serde(flatten)]
    keys: Summary<'a>,
    not_use_after: String,
}

/// What `show --json` prints: properties and fingerprints, never a key.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    realm: &'a str,
    version: &'a str,
    creation_date: &'a str,
    creation_host: &'a str,
    shared_key_fingerprint: String,
    public_key_fingerprint: String,
}

impl<'a> Summary<'a> {
    fn of(file: &'a KeyFile) -> Self {
        Self {
            realm: &file.realm,
            version: &file.version,
            creation_date: &file.creation_date,
            creation_host: &file.creation_host,
            shared_key_fingerprint: file.keys.shared_key_fingerprint(),
            public_key_fingerprint: file.keys.public_key_fingerprint(),
        }
    }
}

fn print_fingerprints(file: &KeyFile) {
    println!("Shared key:  {}", file.keys.shared_key_fingerprint());
    println!("Public key:  {}", file.keys.public_key_fingerprint());
}
