//! The LDAP realm: a federated repository as WebSphere, Domino and
//! Connections use it, so that all of them and Simul share one user
//! registry and one realm name (seeds 000, 001, 003, 004).
//!
//! - Logins are checked by binding as the user (search, then bind on a
//!   connection of its own), never by reading password attributes.
//! - The user's DN is their id, in tokens (`u:user\:REALM/DN`) and in the
//!   community.
//! - Everyone is held in a [name cache](cache) reloaded every
//!   `refresh_minutes`, so presence, cards, search and token checks never
//!   wait on LDAP. A reload notices people removed or disabled; one that
//!   fails keeps the cache as it was, and a login never turns a disabled
//!   person back on.

mod cache;
mod connect;
mod dn;
mod filter;
mod health;
mod range;
mod settings;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapError, ResultEntry, Scope, SearchEntry};

use self::cache::{Entry, NameCache};
use self::connect::{Connection, Connector};
use crate::{DirectoryError, Person, Realm, RealmFuture};

pub use self::cache::Changes;
pub use self::dn::{is_under, looks_like_dn, normalize as normalize_dn};
pub use self::health::Health;
pub use self::range::{RangeEnd, range_end, ranged};
pub use self::settings::{
    BaseDns, BindPassword, CardAttributes, LdapSettings, Preset, PresetDefaults, Resolved,
    ResolvedCard, SettingsError,
};

/// Result code of a search whose base entry does not exist.
const NO_SUCH_OBJECT: u32 = 32;
/// How deep nested groups are followed.
const MAX_GROUP_NESTING: usize = 8;
/// Lookups of names missing from the cache that may run at once; more
/// wait their turn rather than pile onto the directory.
const CONCURRENT_LOOKUPS: usize = 4;
/// Cached people below which any share may go at once.
const MASS_REMOVAL_MINIMUM: usize = 20;
/// The attribute list that asks for no attributes (RFC 4511 4.5.1.8).
const NO_ATTRIBUTES: &str = "1.1";

/// The LDAP realm.
pub struct LdapRealm {
    settings: Arc<Resolved>,
    connector: Connector,
    service: tokio::sync::Mutex<Option<Connection>>,
    cache: RwLock<NameCache>,
    lookups: tokio::sync::Semaphore,
    health: Health,
    /// Where the cache is kept between runs, if anywhere.
    snapshot: Option<simul_store::Store>,
}

impl std::fmt::Debug for LdapRealm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapRealm").field("repository", &self.settings.repository_id).finish()
    }
}

impl LdapRealm {
    /// The realm for these settings. It does not connect yet: call
    /// [`refresh`](Self::refresh) to load the name cache.
    pub fn new(settings: &LdapSettings) -> Result<Self, DirectoryError> {
        let settings = Arc::new(settings.resolve()?);
        Ok(Self {
            connector: Connector::new(settings.clone())?,
            health: Health::new(&settings.repository_id),
            settings,
            service: tokio::sync::Mutex::new(None),
            cache: RwLock::new(NameCache::default()),
            snapshot: None,
            lookups: tokio::sync::Semaphore::new(CONCURRENT_LOOKUPS),
        })
    }

    /// The settings in use, defaults filled in.
    pub fn settings(&self) -> &Resolved {
        &self.settings
    }

    /// Whether the directory answers, as last seen.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Tries every configured server on its own (primary and failovers):
    /// how long each took to answer, or why it did not.
    pub async fn probe_hosts(&self) -> Vec<(String, Result<std::time::Duration, String>)> {
        self.connector.probe().await
    }

    /// How many people the name cache holds, and when it was last loaded.
    pub fn cached(&self) -> (usize, Option<Instant>) {
        let cache = self.read_cache();
        (cache.len(), cache.loaded())
    }

    /// Reloads the whole name cache (paged searches under every base). On
    /// failure the cache stays as it was.
    pub async fn refresh(&self) -> Result<Changes, DirectoryError> {
        let result = self.load_everyone().await;
        let entries = match self.health.track(result) {
            Ok(entries) => entries,
            Err(error) => {
                self.fall_back_to_snapshot().await;
                return Err(error);
            }
        };
        let rows = self.snapshot.as_ref().map(|_| snapshot_rows(&entries));
        let changes = {
            let mut cache = self.write_cache();
            let (known, removed) = (cache.len(), cache.missing_from(&entries));
            // Small caches are exempt: removing 2 of 3 people is no accident.
            let limit = usize::from(self.settings.max_removed_percent);
            if known >= MASS_REMOVAL_MINIMUM && removed * 100 > known * limit {
                return Err(DirectoryError::MassRemoval {
                    repository: self.settings.repository_id.clone(),
                    removed,
                    known,
                    limit: self.settings.max_removed_percent,
                });
            }
            cache.replace(entries)
        };
        if let (Some(store), Some(rows)) = (&self.snapshot, rows)
            && let Err(error) =
                store.save_directory_snapshot(&self.settings.repository_id, &rows).await
        {
            tracing::warn!(%error, "cannot keep the LDAP name cache in the store");
        }
        metrics::gauge!("simul_directory_people", "repository" => self.settings.repository_id.clone())
            .set(changes.people as f64);
        tracing::info!(
            repository = %self.settings.repository_id,
            people = changes.people,
            removed = changes.removed,
            // Those disabled since the last load, and all that are now.
            newly_disabled = changes.disabled,
            disabled = changes.disabled_now,
            "LDAP name cache loaded"
        );
        Ok(changes)
    }

    /// Keeps the name cache in `store` after every refresh that worked, and
    /// reads it back when LDAP does not answer before the cache was ever
    /// loaded (a restart during an outage): known people can then be
    /// looked up, shown and reached, and their tokens are accepted.
    pub fn keeping_snapshot_in(mut self, store: simul_store::Store) -> Self {
        self.snapshot = Some(store);
        self
    }

    /// After a failed load: the snapshot, if the cache is still empty.
    async fn fall_back_to_snapshot(&self) {
        let Some(store) = &self.snapshot else { return };
        if self.read_cache().loaded().is_some() {
            return;
        }
        let documents = match store.directory_snapshot(&self.settings.repository_id).await {
            Ok(documents) => documents,
            Err(error) => {
                tracing::warn!(%error, "cannot read the LDAP name cache from the store");
                return;
            }
        };
        let entries: Vec<Entry> =
            documents.iter().filter_map(|document| serde_json::from_str(document).ok()).collect();
        if entries.is_empty() {
            return;
        }
        let changes = self.write_cache().replace(entries);
        tracing::warn!(
            repository = %self.settings.repository_id,
            people = changes.people,
            "LDAP does not answer: the name cache comes from the store until it does"
        );
    }

    /// Finds a person in the directory itself (not the cache) by DN or
    /// login name: the first login attribute that matches wins. A name
    /// matching several people is an error naming the attribute.
    pub async fn find(&self, name: &str) -> Result<Option<Person>, DirectoryError> {
        let entry = self.health.track(self.find_entry(name).await)?;
        Ok(entry.map(|entry| entry.person))
    }

    /// People whose display name, mail or login name contains `query`,
    /// asked of the directory itself (not the cache).
    pub async fn search_directory(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Person>, DirectoryError> {
        let escaped = ldap3::ldap_escape(query.trim()).into_owned();
        let card = &self.settings.card;
        let attributes = self
            .settings
            .login_attributes
            .iter()
            .map(String::as_str)
            .chain([card.display_name.as_str()])
            .chain(card.mail.as_deref());
        // An empty query matches everyone, as in the cache: `(uid=**)` is no filter.
        let pattern = if escaped.is_empty() { "*".to_owned() } else { format!("*{escaped}*") };
        let matching = filter::any(attributes.map(|a| format!("({a}={pattern})")));
        let wanted = filter::all([self.settings.user_filter.as_str(), &matching]);
        let result = self.people_matching(&wanted).await;
        let mut people: Vec<Person> =
            self.health.track(result)?.into_iter().map(|entry| entry.person).collect();
        people.sort_by_key(|person| person.display_name.to_lowercase());
        people.truncate(limit);
        Ok(people)
    }

    /// The DNs of the groups `dn` belongs to, directly or through groups
    /// in groups (static groups, followed up to 8 levels).
    pub async fn groups_of(&self, dn: &str) -> Result<Vec<String>, DirectoryError> {
        let result = self.nested_groups(dn).await;
        self.health.track(result)
    }

    /// The member DNs of a group, however many: Active Directory's range
    /// retrieval is followed past its 1,500 values per answer.
    pub async fn members_of(&self, group: &str) -> Result<Vec<String>, DirectoryError> {
        let result = self.group_members(group).await;
        self.health.track(result)
    }

    /// Logs in: finds the person, refuses disabled ones, then binds as them.
    async fn login(&self, name: &str, password: &str) -> Result<Option<Person>, DirectoryError> {
        if password.is_empty() || name.trim().is_empty() {
            return Ok(None);
        }
        let entry = match self.health.track(self.find_entry(name).await) {
            Ok(Some(entry)) => entry,
            Ok(None) => return Ok(None),
            Err(error @ DirectoryError::Ambiguous { .. }) => {
                tracing::warn!(repository = %self.settings.repository_id, "login refused: {error}");
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        if entry.person.disabled {
            tracing::info!(user = %entry.person.id, "login refused: disabled in the directory");
            // Disabled since the last refresh: their tokens stop working now.
            self.write_cache().insert(entry);
            return Ok(None);
        }
        let matches = self.connector.password_matches(&entry.person.id, password).await;
        if !self.health.track(matches)? {
            return Ok(None);
        }
        let person = entry.person.clone();
        self.write_cache().insert(entry);
        Ok(Some(person))
    }

    /// A person from the cache; a name it lacks is looked up once in a
    /// while (someone added since the last refresh).
    async fn cached_person(&self, id: &str) -> Result<Option<Person>, DirectoryError> {
        {
            let cache = self.read_cache();
            if let Some(entry) = cache.get(id) {
                return Ok(Some(entry.person.clone()));
            }
            if cache.recently_missed(id) {
                return Ok(None);
            }
        }
        // At most a few lookups at a time reach the directory; the others
        // wait, and may then find what an earlier one loaded.
        let Ok(_permit) = self.lookups.acquire().await else { return Ok(None) };
        if let Some(entry) = self.read_cache().get(id) {
            return Ok(Some(entry.person.clone()));
        }
        match self.health.track(self.find_entry(id).await) {
            Ok(Some(entry)) => {
                let person = entry.person.clone();
                self.write_cache().insert(entry);
                Ok(Some(person))
            }
            Ok(None) | Err(DirectoryError::Ambiguous { .. }) => {
                self.write_cache().remember_miss(id);
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    async fn load_everyone(&self) -> Result<Vec<Entry>, DirectoryError> {
        self.people_matching(&self.settings.user_filter).await
    }

    async fn find_entry(&self, name: &str) -> Result<Option<Entry>, DirectoryError> {
        let name = name.trim();
        if dn::looks_like_dn(name) {
            if !self.settings.bases.iter().any(|base| dn::is_under(name, base)) {
                return Ok(None);
            }
            let found =
                self.search(name, Scope::Base, &self.settings.user_filter, self.attributes()).await;
            return match found {
                Ok(mut found) if !found.is_empty() => {
                    let found = found.swap_remove(0);
                    let disabled = self.is_disabled(&found.dn).await?;
                    Ok(Some(self.entry(found, disabled)))
                }
                Ok(_) | Err(DirectoryError::BaseNotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            };
        }
        for attribute in &self.settings.login_attributes {
            let wanted =
                filter::all([self.settings.user_filter.clone(), filter::equals(attribute, name)]);
            let mut found = self.people_matching(&wanted).await?;
            match found.len() {
                0 => continue,
                1 => return Ok(found.pop()),
                count => {
                    return Err(DirectoryError::Ambiguous {
                        attribute: attribute.clone(),
                        name: name.to_owned(),
                        count,
                    });
                }
            }
        }
        Ok(None)
    }

    /// Entries matching a filter under every base, with their disabled
    /// state: two searches a base (the people, then which of them the
    /// disabled filter matches), however many people.
    async fn people_matching(&self, wanted: &str) -> Result<Vec<Entry>, DirectoryError> {
        let mut entries = Vec::new();
        for base in &self.settings.bases {
            let disabled: std::collections::HashSet<String> = match &self.settings.disabled_filter {
                Some(disabled) => {
                    let both = filter::all([wanted, disabled.as_str()]);
                    let dns = self
                        .search_into(base, Scope::Subtree, &both, vec![NO_ATTRIBUTES], |found| {
                            dn::normalize(&found.dn)
                        })
                        .await?;
                    dns.into_iter().collect()
                }
                None => Default::default(),
            };
            // Each entry becomes a cache entry as it arrives: a directory of
            // 100,000 people is never held twice, raw and converted.
            let people = self
                .search_into(base, Scope::Subtree, wanted, self.attributes(), |found| {
                    let is_disabled = disabled.contains(&dn::normalize(&found.dn));
                    self.entry(found, is_disabled)
                })
                .await?;
            entries.extend(people);
        }
        Ok(entries)
    }

    /// Whether the disabled filter matches this person. An error is an
    /// error, never "enabled".
    async fn is_disabled(&self, person: &str) -> Result<bool, DirectoryError> {
        let Some(disabled) = &self.settings.disabled_filter else { return Ok(false) };
        let found = self.search(person, Scope::Base, disabled, vec![NO_ATTRIBUTES]).await?;
        Ok(!found.is_empty())
    }

    async fn nested_groups(&self, person: &str) -> Result<Vec<String>, DirectoryError> {
        let mut groups: Vec<String> = Vec::new();
        let mut frontier = vec![person.to_owned()];
        for _ in 0..MAX_GROUP_NESTING {
            if frontier.is_empty() {
                break;
            }
            let members = frontier.iter().flat_map(|member| {
                self.settings.group_member_attributes.iter().map(|a| filter::equals(a, member))
            });
            let wanted = filter::all([self.settings.group_filter.clone(), filter::any(members)]);
            let mut next = Vec::new();
            for base in &self.settings.bases {
                for group in self.search(base, Scope::Subtree, &wanted, vec![NO_ATTRIBUTES]).await?
                {
                    let key = dn::normalize(&group.dn);
                    if key != dn::normalize(person)
                        && !groups.iter().any(|known| dn::normalize(known) == key)
                    {
                        groups.push(group.dn.clone());
                        next.push(group.dn);
                    }
                }
            }
            frontier = next;
        }
        Ok(groups)
    }

    async fn group_members(&self, group: &str) -> Result<Vec<String>, DirectoryError> {
        let mut members = Vec::new();
        for attribute in &self.settings.group_member_attributes {
            let mut start = 0;
            loop {
                let asked =
                    if start == 0 { attribute.clone() } else { range::ranged(attribute, start) };
                let found = self
                    .search(group, Scope::Base, &self.settings.group_filter, vec![asked.as_str()])
                    .await?;
                let Some(entry) = found.into_iter().next() else { return Ok(members) };
                let mut next = None;
                for (returned, values) in entry.attrs {
                    match range::range_end(&returned, attribute) {
                        Some(end) => {
                            members.extend(values);
                            if let range::RangeEnd::Continue(at) = end {
                                next = Some(at);
                            }
                        }
                        None => continue,
                    }
                }
                match next {
                    Some(at) if at > start => start = at,
                    _ => break,
                }
            }
        }
        Ok(members)
    }

    /// A search on the service connection, paged under the bases, with one
    /// retry on a fresh connection (and so the next server) if the
    /// connection broke.
    async fn search(
        &self,
        base: &str,
        scope: Scope,
        wanted: &str,
        attributes: Vec<&str>,
    ) -> Result<Vec<SearchEntry>, DirectoryError> {
        self.search_into(base, scope, wanted, attributes, |found| found).await
    }

    /// The same, each entry converted as it arrives.
    async fn search_into<T>(
        &self,
        base: &str,
        scope: Scope,
        wanted: &str,
        attributes: Vec<&str>,
        convert: impl Fn(SearchEntry) -> T,
    ) -> Result<Vec<T>, DirectoryError> {
        let attributes: Vec<String> = attributes.into_iter().map(str::to_owned).collect();
        let mut retried = false;
        loop {
            let mut ldap = self.service_ldap().await?;
            let settings = &self.settings;
            let outcome = paged_search(
                &mut ldap,
                settings,
                base,
                scope,
                wanted,
                attributes.clone(),
                &convert,
            )
            .await;
            match outcome {
                Ok(entries) => return Ok(entries),
                Err(LdapError::LdapResult { result }) if result.rc == NO_SUCH_OBJECT => {
                    return Err(DirectoryError::BaseNotFound {
                        repository: self.settings.repository_id.clone(),
                        base: base.to_owned(),
                    });
                }
                Err(error) if !retried && broken_connection(&error) => {
                    retried = true;
                    *self.service.lock().await = None;
                }
                Err(error) => return Err(self.connector.failed("search", error)),
            }
        }
    }

    /// The shared service connection, (re)opened as needed.
    async fn service_ldap(&self) -> Result<Ldap, DirectoryError> {
        let mut slot = self.service.lock().await;
        if let Some(connection) = slot.as_mut()
            && !connection.ldap.is_closed()
        {
            return Ok(connection.ldap.clone());
        }
        let connection = self.connector.service().await?;
        self.health.reached(&connection.url);
        let ldap = connection.ldap.clone();
        *slot = Some(connection);
        Ok(ldap)
    }

    /// Drops the service connection if it is not to the primary, so the
    /// next operation tries the primary again (WebSphere returns to it too).
    async fn prefer_primary(&self) {
        self.connector.prefer_primary();
        let mut slot = self.service.lock().await;
        if slot.as_ref().is_some_and(|c| Some(&c.url) != self.settings.hosts.first()) {
            *slot = None;
        }
    }

    fn attributes(&self) -> Vec<&str> {
        let mut attributes: Vec<&str> = self.settings.card.attributes().collect();
        attributes.extend(self.settings.login_attributes.iter().map(String::as_str));
        attributes
    }

    fn entry(&self, found: SearchEntry, disabled: bool) -> Entry {
        let attrs = by_lowercase_name(found.attrs);
        let first = |name: Option<&String>| -> String {
            name.and_then(|n| attrs.get(&n.to_lowercase()))
                .and_then(|v| v.first())
                .cloned()
                .unwrap_or_default()
        };
        let card = &self.settings.card;
        let display_name = Some(first(Some(&card.display_name)))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| found.dn.clone());
        let logins = self
            .settings
            .login_attributes
            .iter()
            .filter_map(|a| attrs.get(&a.to_lowercase()))
            .flatten()
            .map(|value| value.to_lowercase())
            .collect();
        Entry {
            person: Person {
                display_name,
                mail: first(card.mail.as_ref()),
                title: first(card.title.as_ref()),
                phone: first(card.phone.as_ref()),
                location: first(card.location.as_ref()),
                photo_url: first(card.photo_url.as_ref()),
                id: found.dn,
                disabled,
                must_change_password: false,
            },
            logins,
        }
    }

    fn read_cache(&self) -> std::sync::RwLockReadGuard<'_, NameCache> {
        // The cache is rebuilt whole; a panic elsewhere leaves a usable one.
        self.cache.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_cache(&self) -> std::sync::RwLockWriteGuard<'_, NameCache> {
        self.cache.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Realm for LdapRealm {
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> RealmFuture<'a, Option<Person>> {
        Box::pin(self.login(name, password))
    }

    fn person<'a>(&'a self, id: &'a str) -> RealmFuture<'a, Option<Person>> {
        Box::pin(self.cached_person(id))
    }

    fn groups_of<'a>(&'a self, id: &'a str) -> RealmFuture<'a, Vec<String>> {
        Box::pin(LdapRealm::groups_of(self, id))
    }

    fn search<'a>(&'a self, query: &'a str, limit: u32) -> RealmFuture<'a, Vec<Person>> {
        Box::pin(async move { Ok(self.read_cache().search(query, limit as usize)) })
    }

    fn change_password<'a>(
        &'a self,
        _id: &'a str,
        _current: &'a str,
        _new: &'a str,
    ) -> RealmFuture<'a, ()> {
        Box::pin(async {
            Err(DirectoryError::Unsupported(
                "passwords of LDAP users are changed in the directory, not in Simul",
            ))
        })
    }

    fn refresh(&self) -> RealmFuture<'_, ()> {
        Box::pin(async move {
            self.prefer_primary().await;
            LdapRealm::refresh(self).await.map(drop)
        })
    }

    fn refuses_strangers(&self) -> bool {
        true
    }

    fn refuses_tokens_now(&self) -> bool {
        !self.settings.accept_tokens_while_down && self.health.up() == Some(false)
    }

    fn answering(&self) -> Option<bool> {
        self.health.up()
    }

    fn failover(&self) -> Option<String> {
        self.connector.failover()
    }
}

/// One search, paged (RFC 2696) so directories larger than the server's
/// size limit come through whole; referrals are ignored.
async fn paged_search<T>(
    ldap: &mut Ldap,
    settings: &Resolved,
    base: &str,
    scope: Scope,
    wanted: &str,
    attributes: Vec<String>,
    convert: &impl Fn(SearchEntry) -> T,
) -> Result<Vec<T>, LdapError> {
    let adapters: Vec<Box<dyn Adapter<'_, String, Vec<String>>>> = if scope == Scope::Base {
        vec![Box::new(EntriesOnly::new())]
    } else {
        vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(settings.page_size))]
    };
    let mut stream = ldap
        .with_timeout(settings.timeout)
        .streaming_search_with(adapters, base, scope, wanted, attributes)
        .await?;
    let mut entries = Vec::new();
    while let Some(found) = stream.next().await? {
        entries.push(convert(construct(found)?));
    }
    // A referral instead of an answer (result code 10) finds nobody here:
    // referrals are ignored, as WebSphere's "Support referrals" defaults.
    stream.finish().await.non_error()?;
    Ok(entries)
}

/// ldap3's entry parser panics on shapes it does not expect; a server
/// sending one gets an error, not a crash.
fn construct(found: ResultEntry) -> Result<SearchEntry, LdapError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| SearchEntry::construct(found)))
        .map_err(|_| LdapError::EndOfStream)
}

fn broken_connection(error: &LdapError) -> bool {
    matches!(
        error,
        LdapError::Io { .. }
            | LdapError::OpSend { .. }
            | LdapError::ResultRecv { .. }
            | LdapError::EndOfStream
            | LdapError::Timeout { .. }
    )
}

fn by_lowercase_name(attrs: HashMap<String, Vec<String>>) -> HashMap<String, Vec<String>> {
    attrs.into_iter().map(|(name, values)| (name.to_lowercase(), values)).collect()
}

/// The snapshot's rows: each person's DN and their entry as JSON.
fn snapshot_rows(entries: &[Entry]) -> Vec<(String, String)> {
    entries
        .iter()
        .filter_map(|entry| Some((entry.person.id.clone(), serde_json::to_string(entry).ok()?)))
        .collect()
}
