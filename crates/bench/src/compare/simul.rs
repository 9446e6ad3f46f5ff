//! Simul as a server under comparison: `simul serve` with its XMPP door,
//! the population's contact lists set through the web API, and an
//! LtpaToken2 per user as the PLAIN password (how Simul's users sign in
//! across a single-sign-on domain); users `user1`… of `--password-users`
//! also get the population's password in the embedded realm, for the
//! login storm by password.

use std::path::Path;

use anyhow::Context as _;
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::json;

use super::population::Population;
use super::running::{Archive, Endpoint, Owner, Running, Secrets};
use crate::Common;
use crate::server::Server;
use crate::tokens::Minter;

/// Contact lists set at once while the server starts.
const PROVISIONING_CONCURRENCY: usize = 32;

/// Starts `simul serve` on a fresh data directory under `dir` with
/// `population`, the first `password_users` of them in the embedded realm.
pub async fn start(
    common: &Common,
    dir: &Path,
    population: &Population,
    password_users: usize,
) -> anyhow::Result<Running> {
    let data = dir.join("data");
    let names = population.names();
    if password_users > 0 {
        eprintln!("simul: adding {password_users} users with passwords (argon2id, one at a time)");
        let added = &names[..password_users.min(names.len())];
        tokio::task::block_in_place(|| {
            crate::scenario::add_users(&common.simul, &data, added, &population.password)
        })?;
    }
    let server = Server::start_with_xmpp(&common.simul, &data, &dir.join("serve.log")).await?;
    let minter = Minter::from_data_dir(&data)?;
    let tokens = tokio::task::block_in_place(|| minter.mint_all(&names));
    set_contact_lists(&server, population, &tokens).await?;
    let (starttls, direct_tls) =
        server.xmpp_addresses().context("the XMPP door is not listening")?;
    let ca_pem = std::fs::read(data.join("tls-certificate.pem"))
        .context("simul serve wrote no tls-certificate.pem")?;
    let version = std::process::Command::new(&common.simul).arg("--version").output()?;
    Ok(Running {
        name: "simul",
        version: String::from_utf8_lossy(&version.stdout)
            .trim()
            .trim_start_matches("simul ")
            .to_owned(),
        endpoint: Endpoint {
            domain: "localhost".to_owned(),
            starttls,
            direct_tls,
            cleartext: server.xmpp_cleartext_address(),
            ca_pem,
            secrets: Secrets::PerUser(tokens),
        },
        settings: vec![
            "SQLite store (WAL), log level warn to a file".to_owned(),
            "rate and connection limits lifted (the bench is one client)".to_owned(),
            "listen backlog: tokio's default, 1,024".to_owned(),
            "sign-in: PLAIN with an LtpaToken2 (RSA verify); by password: argon2id".to_owned(),
            "history kept (Simul always archives 1:1 messages)".to_owned(),
        ],
        collect_garbage: None,
        owner: Owner::Simul(server),
        archive: Some(Archive {
            database: data.join("simul.db"),
            count: "SELECT COUNT(*) FROM messages",
        }),
    })
}

/// Gives every user its ring of contacts, in one group, through
/// `PUT /api/v1/contacts` with the user's token.
async fn set_contact_lists(
    server: &Server,
    population: &Population,
    tokens: &[String],
) -> anyhow::Result<()> {
    if population.roster == 0 {
        return Ok(());
    }
    let http = reqwest::Client::new();
    let url = server.url("/api/v1/contacts");
    futures_util::stream::iter(0..population.users)
        .map(|i| {
            let contacts: Vec<String> = population.contacts(i).map(Population::name).collect();
            let body = json!({ "groups": [{ "name": "Contacts", "contacts": contacts }] });
            let request = http.put(&url).bearer_auth(&tokens[i]).json(&body).send();
            async move {
                let response = request.await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "PUT /api/v1/contacts answered {}",
                    response.status()
                );
                anyhow::Ok(())
            }
        })
        .buffer_unordered(PROVISIONING_CONCURRENCY)
        .try_collect::<()>()
        .await
        .context("cannot set the contact lists")
}
