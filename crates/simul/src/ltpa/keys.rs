//! `simul ltpa generate|show|export|domino generate`.

use std::path::{Path, PathBuf};

use clap::Args;
use ltpa::{DominoSecret, KeyFile, Overwrite, secret_file};
use serde::Serialize;

use super::inputs::{NewPasswordArgs, PasswordArgs, Prompt, read_key_file};
use crate::Outcome;
use crate::data::DataArgs;

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
    /// The ltpa.keys file.
    file: PathBuf,
    #[command(flatten)]
    password: PasswordArgs,
    /// Print JSON (keys realm, version, creation_date, creation_host,
    /// shared_key_fingerprint, public_key_fingerprint).
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
    let file = read_key_file(&args.file, &args.password)?;
    let summary = Summary::of(&file);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(Outcome::Success);
    }
    println!("File:        {}", args.file.display());
    println!("Realm:       {}", summary.realm);
    println!("Version:     {}", summary.version);
    println!("Created:     {} on {}", summary.creation_date, summary.creation_host);
    print_fingerprints(&file);
    for (key, value) in &file.other_properties {
        println!("Property:    {key}={value}");
    }
    Ok(Outcome::Success)
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
            (args.deployment.data_dir()?.read_ltpa_keys()?, args.new_password.password(&purpose)?)
        }
        None => (
            args.deployment.data_dir()?.read_ltpa_keys()?,
            args.password.password(&purpose, Prompt::Confirm)?,
        ),
    };
    file.write(&args.out, &password, overwrite(args.force))?;
    println!(
        "Exported the keys of realm {:?} to {} (mode 0600); import it with the new password",
        file.realm,
        args.out.display()
    );
    print_fingerprints(&file);
    Ok(Outcome::Success)
}

/// `simul ltpa import`: the file's keys become the deployment's.
pub fn import(args: ImportArgs) -> anyhow::Result<Outcome> {
    let file = read_key_file(&args.file, &args.password)?;
    let data = args.deployment.data_dir()?;
    let previous = data.read_ltpa_keys().ok();
    data.install_ltpa_keys(&file)?;
    println!(
        "Imported the keys of realm {:?} from {} into {}; restart the server to use them",
        file.realm,
        args.file.display(),
        data.ltpa_keys_path().display()
    );
    if let Some(previous) = previous {
        println!("Replaced:    shared key {}", previous.keys.shared_key_fingerprint());
    }
    print_fingerprints(&file);
    Ok(Outcome::Success)
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

/// This machine's host name, as WebSphere records it in CreationHost.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
