//! The `simul` binary: command line, configuration and wiring.

mod announce;
mod audit;
mod backup;
mod cert;
mod cli;
mod config;
mod config_file;
mod data;
mod directory;
mod doctor;
mod integrate;
mod keyring;
mod listen;
mod logs;
mod ltpa;
mod policy;
mod serve;
mod tls;
mod user;

use std::process::ExitCode;

use clap::Parser as _;

/// What a command concluded, beyond "it worked".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; exit status 0.
    Success,
    /// The command ran but the thing it checked is invalid (a token); exit status 1.
    Invalid,
}

/// Exit status for usage, file and configuration errors (clap uses it too).
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.run() {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
