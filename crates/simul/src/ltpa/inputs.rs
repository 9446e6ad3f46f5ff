//! Where secrets and moments come from: password files, environment
//! variables, prompts, key files, times on the command line.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::DateTime;
use clap::Args;
use ltpa::{DominoSecret, KeyFile, Password};
use zeroize::Zeroizing;

pub use simul_service::parse_duration_ms;

/// How the key-file password is given. Never on the command line itself,
/// where other users could read it in the process list.
#[derive(Debug, Args, Default)]
pub struct PasswordArgs {
    /// Read the key-file password from FILE (one trailing line break is ignored).
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    password_file: Option<PathBuf>,
    /// Read the key-file password from environment variable VAR.
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
}

/// How the new password of `export` is given.
#[derive(Debug, Args)]
pub struct NewPasswordArgs {
    /// Read the new password from FILE (one trailing line break is ignored).
    #[arg(long, value_name = "FILE", conflicts_with = "new_password_env")]
    new_password_file: Option<PathBuf>,
    /// Read the new password from environment variable VAR.
    #[arg(long, value_name = "VAR")]
    new_password_env: Option<String>,
}

/// A Domino Web SSO secret file.
#[derive(Debug, Args)]
pub struct SecretKeyArgs {
    /// File holding the Domino Web SSO secret (Base64, as LTPA_DominoSecret).
    #[arg(long, value_name = "FILE")]
    domino_secret_file: Option<PathBuf>,
}

/// Whether a prompted password must be typed twice (a new one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Ask once (opening an existing file).
    Once,
    /// Ask twice and compare (protecting a new file).
    Confirm,
}

impl PasswordArgs {
    /// The password, from the file, the variable or a prompt.
    pub fn password(&self, purpose: &str, prompt: Prompt) -> anyhow::Result<Password> {
        read_password(
            self.password_file.as_deref(),
            self.password_env.as_deref(),
            purpose,
            prompt,
            "--password-file or --password-env",
        )
    }
}

impl NewPasswordArgs {
    /// Whether a file or variable was named.
    pub fn is_given(&self) -> bool {
        self.new_password_file.is_some() || self.new_password_env.is_some()
    }

    /// The new password, from the file, the variable or a prompt.
    pub fn password(&self, purpose: &str) -> anyhow::Result<Password> {
        read_password(
            self.new_password_file.as_deref(),
            self.new_password_env.as_deref(),
            purpose,
            Prompt::Confirm,
            "--new-password-file or --new-password-env",
        )
    }
}

impl SecretKeyArgs {
    /// The Domino secret, if a file was given.
    pub fn secret(&self) -> anyhow::Result<Option<DominoSecret>> {
        self.domino_secret_file.as_deref().map(read_domino_secret).transpose()
    }
}

fn read_password(
    file: Option<&Path>,
    env: Option<&str>,
    purpose: &str,
    prompt: Prompt,
    options: &str,
) -> anyhow::Result<Password> {
    let text: Zeroizing<String> = if let Some(file) = file {
        let text = Zeroizing::new(
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the password file {}", file.display()))?,
        );
        Zeroizing::new(strip_line_break(&text).to_owned())
    } else if let Some(var) = env {
        Zeroizing::new(
            std::env::var(var).with_context(|| format!("environment variable {var} is not set"))?,
        )
    } else if std::io::stdin().is_terminal() {
        let first = Zeroizing::new(rpassword::prompt_password(format!("{purpose}: "))?);
        if prompt == Prompt::Confirm {
            let again = Zeroizing::new(rpassword::prompt_password(format!("{purpose} (again): "))?);
            if *first != *again {
                bail!("the two passwords differ");
            }
        }
        first
    } else {
        bail!("no password given for the {purpose}: use {options} (no terminal to prompt on)");
    };
    if text.is_empty() {
        bail!("the password for the {purpose} is empty");
    }
    Ok(Password::new(&text))
}

fn strip_line_break(text: &str) -> &str {
    text.strip_suffix('\n').map_or(text, |t| t.strip_suffix('\r').unwrap_or(t))
}

/// Reads and decrypts a key file, for the commands that need keys.
pub fn read_key_file(path: &Path, password: &PasswordArgs) -> anyhow::Result<KeyFile> {
    let password = password.password(&format!("password of {}", path.display()), Prompt::Once)?;
    Ok(KeyFile::read(path, &password)?)
}

fn read_domino_secret(path: &Path) -> anyhow::Result<DominoSecret> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the Domino secret file {}", path.display()))?,
    );
    DominoSecret::from_base64(&text).with_context(|| format!("{}", path.display()))
}

/// A moment given as milliseconds since the Unix epoch or as RFC 3339.
pub fn parse_moment_ms(text: &str) -> Result<i64, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| format!("{text} is out of range"));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| format!("{text:?} is neither milliseconds since 1970 nor an RFC 3339 time like 2026-11-23T10:00:00Z"))
}

/// A moment given as seconds since the Unix epoch or as RFC 3339.
pub fn parse_moment_s(text: &str) -> Result<i64, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| format!("{text} is out of range"));
    }
    parse_moment_ms(text).map(|ms| ms.div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_parse() {
        assert_eq!(parse_moment_ms("1696698581000"), Ok(1_696_698_581_000));
        assert_eq!(parse_moment_ms("2023-10-07T17:09:41Z"), Ok(1_696_698_581_000));
        assert_eq!(parse_moment_s("2023-10-07T17:09:41Z"), Ok(1_696_698_581));
        assert_eq!(parse_moment_s("1234567890"), Ok(1_234_567_890));
        assert!(parse_moment_ms("yesterday").is_err());
    }

    #[test]
    fn one_trailing_line_break_is_ignored() {
        assert_eq!(strip_line_break("pw\n"), "pw");
        assert_eq!(strip_line_break("pw\r\n"), "pw");
        assert_eq!(strip_line_break("pw\n\n"), "pw\n");
        assert_eq!(strip_line_break(" pw "), " pw ");
    }
}
