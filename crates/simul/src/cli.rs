//! The top-level command line.

use clap::{Parser, Subcommand};

use crate::Outcome;
use crate::data::DataArgs;
use crate::directory::DirectoryCommand;
use crate::ltpa::LtpaCommand;
use crate::serve::ServeArgs;
use crate::user::UserCommand;

/// Simul: awareness, instant messaging, chat rooms and meetings in one
/// server, with single sign-on shared with WebSphere, Liberty, Domino and
/// Sametime through LTPA tokens.
#[derive(Debug, Parser)]
#[command(name = "simul", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: the browser chat client and the HTTP API
    ///
    /// The first start creates the data directory (SQLite database, LTPA
    /// keys, a self-signed HTTPS certificate) and, for the embedded realm,
    /// an `admin` user whose one-time password it prints once. With
    /// `directory.kind = "ldap"` people come from LDAP: their names are
    /// loaded at start and every `directory.ldap.refresh_minutes`. SIGHUP
    /// reloads the directory now and signs out whoever is disabled or
    /// gone, and applies changed LTPA keys at once (`simul ltpa rotate` or
    /// `import`; otherwise within seconds). Stop it with Ctrl-C or SIGTERM.
    #[command(after_help = "Examples:\n  \
        simul serve                                   # http://127.0.0.1:8080 and https://127.0.0.1:8443\n  \
        simul serve --http 0.0.0.0:80 --https 0.0.0.0:443 --data /var/lib/simul\n  \
        simul serve --config /etc/simul/simul.toml   # listeners, certificate, SSO, LDAP from the file\n  \
        kill -HUP $(pidof simul)                      # reload the directory and keys now")]
    Serve(ServeArgs),
    /// LTPA single sign-on: key files and tokens shared with WebSphere,
    /// Liberty and Domino.
    #[command(subcommand, after_help = LTPA_EXAMPLES)]
    Ltpa(LtpaCommand),
    /// Users of the embedded realm.
    #[command(subcommand)]
    User(UserCommand),
    /// Policies: what users may do (n-way chats, files, contacts, history)
    ///
    /// `default` applies to everyone in the directory without another
    /// policy, `anonymous` to people outside it; custom policies are
    /// assigned to users or groups with a weight (the heaviest wins) and
    /// take from `default` what they do not set. They work while the
    /// server runs: it applies a change at once.
    #[command(subcommand)]
    Policy(crate::policy::PolicyCommand),
    /// The administrators' acts (console and commands), newest first.
    Audit(crate::audit::AuditArgs),
    /// Send an announcement to everyone online, a directory group or
    /// chosen people (a banner on the web, the Sametime announcement, an
    /// XMPP headline); the running server shows it within two seconds.
    Announce(crate::announce::AnnounceArgs),
    /// The server's HTTPS and XMPP certificate: show it, import one (PEM or
    /// PKCS#12); a running server serves an import within two seconds.
    #[command(subcommand)]
    Cert(crate::cert::CertCommand),
    /// The signers Simul trusts for its own TLS connections (LDAP):
    /// list, add, retrieve from a port, remove
    ///
    /// They are kept in the data directory (trust/*.pem) and trusted in
    /// addition to the system's trust store, or to directory.ldap.ca_file
    /// when it is set (which replaces the system's).
    #[command(subcommand)]
    Trust(crate::cert::TrustCommand),
    /// The LDAP directory: check the configuration, search it
    ///
    /// Both read `[directory.ldap]` from `--config FILE` (and SIMUL_*
    /// variables) and talk to the directory itself, not a running server.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Configuration for Connections, Portal, iNotes or BPM, filled in for
    /// this deployment, and the checklist of manual steps.
    #[command(subcommand)]
    Integrate(crate::integrate::IntegrateCommand),
    /// Single sign-on: explain why it works or fails with another application.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// The configuration file and SIMUL_* variables.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Copy the deployment into one file while the server runs
    ///
    /// The archive (a gzip'd tar, mode 0600) holds a consistent copy of
    /// the database, taken with SQLite while the server keeps writing, and
    /// the data directory's key files: the LTPA keys (current and previous)
    /// and their password, the HTTPS certificate and its key (self-signed
    /// or imported), the trusted signers. Protect it like a password.
    /// Not in it: the configuration file and a certificate it names.
    #[command(after_help = "Examples:\n  \
        simul backup --data /var/lib/simul --out /backup/simul-$(date +%F).tar.gz\n  \
        simul backup --config /etc/simul/simul.toml --out /backup/simul.tar.gz --force")]
    Backup(crate::backup::BackupArgs),
    /// Put a backup back into a data directory (with the server stopped)
    ///
    /// Every file is checked against the archive's manifest before
    /// anything changes. A data directory that holds something is only
    /// replaced with --force, and its contents are moved to
    /// DIR.before-restore-TIME, not deleted. An archive from a newer
    /// Simul (a newer database schema) is refused.
    #[command(after_help = "Examples:\n  \
        simul restore /backup/simul-2026-05-01.tar.gz --data /var/lib/simul-new\n  \
        systemctl stop simul && simul restore simul.tar.gz --data /var/lib/simul --force")]
    Restore(crate::backup::RestoreArgs),
}

#[derive(Debug, Subcommand)]
enum SsoCommand {
    /// Explain, in plain words, why SSO with another application works or
    /// fails: a missing LTPA cookie, keys, realm, expiry and clocks, cookie
    /// names and domain, the Secure flag, whether the directory lets the
    /// token's user in, and an https application's certificate
    ///
    /// Give what the browser sent: a token, a `Cookie` header or a HAR
    /// file, and the other application's address. It only reads: without
    /// a deployment here it creates none. Exit status 0 when no problem is
    /// found, 1 when one is, 2 for bad input.
    #[command(after_help = "Examples:\n  \
        simul sso doctor \"$LTPA_TOKEN2_VALUE\" --config /etc/simul/simul.toml\n  \
        simul sso doctor --cookie-header 'JSESSIONID=0000x; LtpaToken2=AbC...' --url https://connections.example.com/\n  \
        simul sso doctor --har connections.har\n  \
        simul sso doctor --url https://portal.example.com:10041/ --save-chain portal-signer.pem")]
    Doctor(crate::doctor::DoctorArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Check the configuration and print it with every default filled in
    ///
    /// Beyond the keys themselves it checks the certificate files, how
    /// `sso.requires_ssl` and `server.https` go together, and whether
    /// `server.domain` is inside `sso.domains` and the certificate's names:
    /// errors (exit status 2) for what cannot work, warnings for what may
    /// be meant. The LDAP preset's filters are printed in full. It reads
    /// only: nothing is created.
    Check(DataArgs),
}

/// The usual sequence, shown under `simul ltpa --help`.
const LTPA_EXAMPLES: &str = "\
Examples:
  simul ltpa generate --realm defaultWIMFileBasedRealm --password-file pw --out ltpa.keys
  simul ltpa export ltpa.keys --password-file pw --new-password-file was.pw --out for-websphere.keys
  simul ltpa token create --keys ltpa.keys --password-file pw --user 'uid=jdoe,o=example' > token
  simul ltpa token verify - --keys for-websphere.keys --password-file was.pw --json < token
  simul ltpa rotate --data /var/lib/simul          # new keys; the old ones accepted 7 more days
  simul ltpa show --data /var/lib/simul            # the deployment's key sets and token realm";

impl Cli {
    /// Runs the chosen command.
    pub fn run(self) -> anyhow::Result<Outcome> {
        match self.command {
            Command::Serve(args) => args.run(),
            Command::Ltpa(command) => command.run(),
            Command::User(command) => command.run(),
            Command::Policy(command) => command.run(),
            Command::Audit(args) => args.run(),
            Command::Announce(args) => args.run(),
            Command::Cert(command) => command.run(),
            Command::Trust(command) => command.run(),
            Command::Directory(command) => command.run(),
            Command::Integrate(command) => command.run(),
            Command::Sso(SsoCommand::Doctor(args)) => args.run(),
            Command::Backup(args) => args.run(),
            Command::Restore(args) => args.run(),
            Command::Config(ConfigCommand::Check(args)) => config_check(&args),
        }
    }
}

/// `simul config check`: the review's warnings and errors on standard
/// error, then the configuration in full.
fn config_check(args: &DataArgs) -> anyhow::Result<Outcome> {
    let config = args.config()?;
    let review = config.review();
    for warning in &review.warnings {
        eprintln!("warning: {warning}");
    }
    for error in &review.errors {
        eprintln!("error: {error}");
    }
    if !review.errors.is_empty() {
        anyhow::bail!(
            "the configuration cannot work: fix the {} error(s) above",
            review.errors.len()
        );
    }
    println!("# The configuration is valid. In full, with every default:");
    print!("{}", toml::to_string_pretty(&config.in_full())?);
    Ok(Outcome::Success)
}
