//! [`Service`]: one live community for every front door of a process.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use ltpa::LtpaKeys;
use simul_core::UserId;
use simul_directory::Realm;
use simul_store::{Store, StoreError};

use crate::certificates::{CertificateDir, Certificates, LiveCertificate, Retrieved};
use crate::file_links::LinkKey;
use crate::flood::UserLimit;
use crate::key_files::KeyDir;
use crate::reserved_files::Reservations;
use crate::{
    DEFAULT_INVALID_TOKENS_PER_MINUTE, FailureLimit, FloodLimits, Hub, Keyring, LoginLimits,
    MessageLimits, PolicyCache, Rates, Revocations, SIGN_UPS_PER_MINUTE, ServiceError,
};

/// Locks that contact-list saves take by their user's id
/// (`Service::contact_saves`).
const CONTACT_SAVE_LOCKS: usize = 64;

/// WebSphere's default token lifetime, 120 minutes.
const DEFAULT_TOKEN_LIFETIME_MS: i64 = 120 * 60_000;

/// The community every front door serves: its store and directory, the
/// LTPA keys in use, the limits that hold on every door, the revoked
/// tokens, and the hub of live sessions. A front door holds it in an
/// `Arc` and translates its protocol into calls of it.
pub struct Service {
    store: Store,
    realm: Arc<dyn Realm>,
    keys: Keyring,
    realm_name: String,
    /// Realms whose tokens are accepted: `realm_name`, then the trusted ones.
    accepted_realms: Vec<String>,
    /// How long tokens live (`sso.expiration_minutes`): a WebSphere token
    /// carries only its expiry, and its issue time is that less this.
    token_lifetime_ms: i64,
    login_limits: LoginLimits,
    /// Invalid tokens per client address.
    token_limits: FailureLimit<IpAddr>,
    /// Sign-ups per client network.
    sign_up_limits: FailureLimit<IpAddr>,
    revocations: Revocations,
    flood: FloodLimits,
    message_limits: MessageLimits,
    /// Searches per user, over every door.
    search_limits: UserLimit,
    /// The largest file a user may send (`[files] max_mb`).
    max_file_bytes: u64,
    /// The key of file links without a sign-in.
    link_key: LinkKey,
    /// Files reserved for uploads whose conversation comes later.
    reservations: Reservations,
    /// Directory groups whose members are administrators.
    admin_groups: Vec<String>,
    /// The policies as last read.
    policy_cache: PolicyCache,
    /// The deployment's LTPA key files, when the console may change them.
    key_files: Option<KeyDir>,
    /// The deployment's certificates and the listeners' live one.
    certificates: Option<(CertificateDir, Option<Arc<LiveCertificate>>)>,
    /// "Retrieve from port" per administrator: it connects anywhere the
    /// server reaches.
    retrieve_limits: UserLimit,
    /// Logins and messages per second, for the console.
    rates: Rates,
    /// Held while a contact list is saved and its change told
    /// (`set_contact_list`), so that each change is told against the list
    /// the save before it kept: one lock for all the users whose id hashes
    /// alike, so one user's saves wait for each other and seldom for
    /// anyone else's.
    contact_saves: [tokio::sync::Mutex<()>; CONTACT_SAVE_LOCKS],
    hub: Hub,
}

impl Service {
    /// The community of a deployment: its store, its directory, the LTPA
    /// keys that sign new tokens, and the realm name its users' tokens carry.
    pub async fn new(
        store: Store,
        realm: Arc<dyn Realm>,
        keys: LtpaKeys,
        realm_name: String,
    ) -> Result<Self, StoreError> {
        let last_chat = store.last_chat_id().await?;
        let last_message = store.last_message_id().await?;
        let revocations = Revocations::load(store.clone()).await?;
        let link_key = LinkKey::load_or_create(&store).await?;
        Ok(Self {
            realm,
            store,
            keys: Keyring::new(keys, Vec::new()),
            accepted_realms: vec![realm_name.clone()],
            realm_name,
            token_lifetime_ms: DEFAULT_TOKEN_LIFETIME_MS,
            login_limits: LoginLimits::default(),
            token_limits: FailureLimit::per_minute(DEFAULT_INVALID_TOKENS_PER_MINUTE),
            sign_up_limits: FailureLimit::per_minute(SIGN_UPS_PER_MINUTE),
            revocations,
            flood: FloodLimits::default(),
            message_limits: MessageLimits::new(&FloodLimits::default()),
            search_limits: crate::search::search_limits(),
            max_file_bytes: crate::files::DEFAULT_MAX_FILE_BYTES,
            link_key,
            reservations: Reservations::default(),
            admin_groups: Vec::new(),
            policy_cache: PolicyCache::default(),
            key_files: None,
            certificates: None,
            retrieve_limits: crate::certificates::retrieve_limits(),
            rates: Rates::default(),
            contact_saves: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            hub: Hub::continuing_after(last_chat, last_message),
        })
    }

    /// Tokens live `lifetime_ms` (as the SSO settings say), and tokens of
    /// `accepted_realms` are accepted (`SsoSettings::accepted_realms`:
    /// the deployment's own realm and the trusted ones).
    pub fn with_tokens(mut self, lifetime_ms: i64, accepted_realms: Vec<String>) -> Self {
        self.token_lifetime_ms = lifetime_ms;
        self.accepted_realms = accepted_realms;
        self
    }

    /// Refuses tokens from a client address for a while after this many
    /// invalid ones in a minute.
    pub fn with_invalid_tokens_per_minute(mut self, per_minute: u32) -> Self {
        self.token_limits = FailureLimit::per_minute(per_minute);
        self
    }

    /// Limits what a session or user may send and hold.
    pub fn with_flood_limits(mut self, limits: FloodLimits) -> Self {
        self.hub.set_limits(limits.community);
        self.message_limits = MessageLimits::new(&limits);
        self.flood = limits;
        self
    }

    /// Takes files of at most `bytes` (default
    /// [`crate::files::DEFAULT_MAX_FILE_BYTES`]).
    pub fn with_max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes;
        self
    }

    /// Makes the members of these directory groups (DNs) administrators
    /// (`[console] admin_groups`).
    pub fn with_admin_groups(mut self, groups: Vec<String>) -> Self {
        self.admin_groups = groups;
        self
    }

    /// Keeps the LTPA keys in `files` (the data directory's), so that the
    /// console can rotate, import and export them.
    pub fn with_key_files(mut self, files: KeyDir) -> Self {
        self.key_files = Some(files);
        self
    }

    /// Keeps the certificates of `dir`, serving the server's through
    /// `live` (none with HTTPS and XMPP off), so that the console can show
    /// and change them.
    pub fn with_certificates(
        mut self,
        dir: CertificateDir,
        live: Option<Arc<LiveCertificate>>,
    ) -> Self {
        self.certificates = Some((dir, live));
        self
    }

    /// The acts on the deployment's certificates, if this server keeps them.
    pub fn certificates(&self) -> Option<Certificates<'_>> {
        let (dir, live) = self.certificates.as_ref()?;
        Some(Certificates::new(&self.store, dir, live.as_deref()))
    }

    /// "Retrieve from port" for the administrator `admin`, within their
    /// limit of retrievals a minute.
    pub async fn retrieve_certificate(
        &self,
        admin: &str,
        host: &str,
        port: u16,
    ) -> Result<Retrieved, ServiceError> {
        let certificates = self.certificates().ok_or_else(|| {
            ServiceError::Invalid("this server keeps no certificates to show".into())
        })?;
        self.retrieve_limits.check(admin)?;
        Ok(certificates.retrieve(host, port).await)
    }

    /// The deployment's LTPA key files, if this server keeps any.
    pub fn key_files(&self) -> Option<&KeyDir> {
        self.key_files.as_ref()
    }

    /// Directory groups whose members are administrators.
    pub(crate) fn admin_groups(&self) -> &[String] {
        &self.admin_groups
    }

    /// Logins and messages per second over the last minute.
    pub fn throughput(&self) -> crate::Throughput {
        self.rates.throughput()
    }

    /// The counters behind [`Service::throughput`].
    pub(crate) fn rates(&self) -> &Rates {
        &self.rates
    }

    /// The largest file a user may send.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes
    }

    /// From now on signs new tokens with `signing` and accepts tokens of
    /// it and of `previous`: a key rotation or import, applied while the
    /// server runs. Sessions whose tokens one of them verifies go on.
    pub fn replace_keys(&self, signing: LtpaKeys, previous: Vec<LtpaKeys>) {
        self.keys.replace(signing, previous);
    }

    /// The store.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The directory.
    pub(crate) fn realm(&self) -> &Arc<dyn Realm> {
        &self.realm
    }

    /// The LTPA keys in use.
    pub fn keys(&self) -> &Keyring {
        &self.keys
    }

    /// The realm name this deployment's tokens carry.
    pub fn realm_name(&self) -> &str {
        &self.realm_name
    }

    /// Realms whose tokens are accepted, the deployment's own first.
    pub(crate) fn accepted_realms(&self) -> &[String] {
        &self.accepted_realms
    }

    /// How long tokens live, in milliseconds.
    pub(crate) fn token_lifetime_ms(&self) -> i64 {
        self.token_lifetime_ms
    }

    /// Wrong passwords per account and per address.
    pub(crate) fn login_limits(&self) -> &LoginLimits {
        &self.login_limits
    }

    /// Sign-ups per client network.
    pub(crate) fn sign_up_limits(&self) -> &FailureLimit<IpAddr> {
        &self.sign_up_limits
    }

    /// Invalid tokens per client address.
    pub(crate) fn token_limits(&self) -> &FailureLimit<IpAddr> {
        &self.token_limits
    }

    /// The revoked tokens.
    pub(crate) fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    /// What a session or user may send and hold.
    pub fn flood(&self) -> &FloodLimits {
        &self.flood
    }

    /// Messages per user, over every door.
    pub(crate) fn message_limits(&self) -> &MessageLimits {
        &self.message_limits
    }

    /// Searches per user, over every door.
    pub(crate) fn search_limits(&self) -> &UserLimit {
        &self.search_limits
    }

    /// The live sessions.
    pub(crate) fn link_key(&self) -> &LinkKey {
        &self.link_key
    }

    pub(crate) fn policy_cache(&self) -> &PolicyCache {
        &self.policy_cache
    }

    pub(crate) fn reservations(&self) -> &Reservations {
        &self.reservations
    }

    pub(crate) fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Held while `user`'s contact list is saved and its change told.
    pub(crate) fn contact_saves(&self, user: &str) -> &tokio::sync::Mutex<()> {
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(user, &mut hasher);
        let at = std::hash::Hasher::finish(&hasher) % CONTACT_SAVE_LOCKS as u64;
        &self.contact_saves[usize::try_from(at).unwrap_or_default()]
    }

    /// Ends the sessions (awareness widgets' too), on every door, of
    /// everyone whom the realm no longer lets in (disabled, or removed
    /// from a shared directory); run after each directory refresh. Returns
    /// how many people were signed out. People the realm cannot be asked
    /// about now keep their sessions.
    pub async fn end_departed_sessions(&self) -> usize {
        let connected = self.hub.inspect(simul_core::Community::users_with_sessions);
        let mut ended = 0;
        for user in connected {
            let refused = matches!(
                crate::admission(self.realm.as_ref(), user.as_str()).await,
                Ok(crate::Admission::Unknown | crate::Admission::Disabled(_))
            );
            if refused && self.hub.end_sessions_of(&user) > 0 {
                tracing::info!(%user, "signed out: disabled or gone from the directory");
                ended += 1;
            }
        }
        ended
    }

    /// Reads what was revoked since the last look (by this server or by
    /// `simul user`) and tells the sessions of the users it concerns.
    pub(crate) async fn catch_up_revocations(&self) -> Result<(), StoreError> {
        let concerned = self.revocations.catch_up().await?;
        self.tell_revoked(concerned);
        Ok(())
    }

    /// Tells every session of these users, on every door, that a token of
    /// theirs was revoked ([`simul_core::Event::TokensRevoked`]): each
    /// checks whether it may go on.
    pub(crate) fn tell_revoked(&self, users: HashSet<String>) {
        for user in users {
            let user = UserId::new(&user);
            // Nothing to refuse: the community only names the sessions.
            let _ = self.hub.run(|community| Ok(community.tokens_revoked(&user)));
        }
    }

    /// Keeps the revoked tokens in step with the store (`simul user`
    /// writes there from another process): every second, so that a
    /// disabled or removed user's sessions end at once, and forgets
    /// logged-out tokens once they have expired. Runs until the process ends.
    pub async fn follow_revocations(self: Arc<Self>) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            ticks += 1;
            if let Err(error) = self.catch_up_revocations().await {
                tracing::warn!(%error, "cannot read revoked tokens from the store");
            }
            if ticks.is_multiple_of(3600) {
                let now = chrono::Utc::now().timestamp_millis();
                if let Err(error) =
                    self.revocations.forget_expired(now, ltpa::token::DEFAULT_CLOCK_SKEW_MS).await
                {
                    tracing::warn!(%error, "cannot forget expired revoked tokens");
                }
            }
        }
    }
}
