//! `simul ltpa ...`: LTPA key files and tokens.
//!
//! The argument names and outputs are a contract outside tests rely on
//! (see README.md); change them only together with the README.

mod inputs;
mod keys;
mod tokens;

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::Outcome;
pub use inputs::{PasswordArgs, Prompt, SecretKeyArgs};

/// LTPA key and token commands.
#[derive(Debug, Subcommand)]
pub enum LtpaCommand {
    /// Generate a new LTPA key set (shared key and 1024-bit RSA key pair) in
    /// WebSphere's ltpa.keys format, protected by a password.
    Generate(keys::GenerateArgs),
    /// Show a key file's properties and key fingerprints (never the keys).
    Show(keys::ShowArgs),
    /// Write the same keys protected by another password, for importing into
    /// WebSphere ("Cross-cell single sign-on"), Liberty or Domino.
    Export(keys::ExportArgs),
    /// Make a key file exported by WebSphere, Liberty, Domino or another
    /// Simul the deployment's keys (kept 0600 in the data directory); the
    /// keys it replaces are still accepted for `--keep-previous`.
    Import(keys::ImportArgs),
    /// Give the deployment a new key set; the replaced one is still
    /// accepted for `--keep-previous` (a running server follows within
    /// seconds, at once on SIGHUP).
    Rotate(keys::RotateArgs),
    /// Domino Web SSO secrets (Domino-format LtpaToken).
    #[command(subcommand)]
    Domino(DominoCommand),
    /// Create, verify and decode tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// Domino Web SSO commands.
#[derive(Debug, Subcommand)]
pub enum DominoCommand {
    /// Generate a new Domino Web SSO secret (Base64 of 20 random bytes, the
    /// LTPA_DominoSecret value).
    Generate(keys::DominoGenerateArgs),
}

/// Token commands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it.
    Create(tokens::CreateArgs),
    /// Verify a token: exit 0 when valid, 1 when invalid, 2 on a usage or key-file error.
    Verify(tokens::VerifyArgs),
    /// Decode a token and show every field; checks are reported, not fatal.
    Decode(tokens::DecodeArgs),
}

/// The key material a token command uses: a key file, a Domino secret, or both.
#[derive(Debug, Args)]
pub struct TokenKeyArgs {
    /// WebSphere/Liberty ltpa.keys file (for ltpa2 and ltpa1 tokens).
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    #[command(flatten)]
    password: PasswordArgs,
    #[command(flatten)]
    domino: SecretKeyArgs,
}

impl LtpaCommand {
    /// Runs the command.
    pub fn run(self) -> anyhow::Result<Outcome> {
        match self {
            Self::Generate(args) => keys::generate(args),
            Self::Show(args) => keys::show(args),
            Self::Export(args) => keys::export(args),
            Self::Import(args) => keys::import(args),
            Self::Rotate(args) => keys::rotate(args),
            Self::Domino(DominoCommand::Generate(args)) => keys::domino_generate(args),
            Self::Token(TokenCommand::Create(args)) => tokens::create(args),
            Self::Token(TokenCommand::Verify(args)) => tokens::verify(args),
            Self::Token(TokenCommand::Decode(args)) => tokens::decode(args),
        }
    }
}
