//! The name cache: every person of the repository in memory, reloaded
//! whole at each refresh, so that presence, cards, search and token checks
//! never wait on LDAP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::dn;
use crate::Person;

/// How long a name the directory did not know stays unknown before it is
/// asked again.
const MISS_TTL: Duration = Duration::from_secs(60);
/// Most remembered misses; beyond them the list starts over (it only
/// saves lookups).
const MAX_MISSES: usize = 10_000;

/// A person and the login names that lead to them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    /// The person (`id` is the DN as the server spells it).
    pub(crate) person: Person,
    /// Values of the login attributes, in lower case.
    pub(crate) logins: Vec<String>,
}

/// What a refresh changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    /// People now known.
    pub people: usize,
    /// People gone from the directory since the last load.
    pub removed: usize,
    /// People enabled before and disabled now.
    pub disabled: usize,
    /// People disabled now, all told.
    pub disabled_now: usize,
}

/// The cache.
/// An entry and what search compares, in lower case once and for all.
#[derive(Debug)]
struct Cached {
    entry: Arc<Entry>,
    /// Display name (also the sort key).
    name: String,
    /// Mail and login names, one a line.
    keys: String,
}

#[derive(Debug, Default)]
pub(crate) struct NameCache {
    /// Normalized DN -> entry. The DN keys are shared with `by_login`.
    by_dn: HashMap<Arc<str>, Cached>,
    /// Login name -> normalized DNs (several: that name is ambiguous).
    by_login: HashMap<String, Vec<Arc<str>>>,
    misses: HashMap<String, Instant>,
    loaded: Option<Instant>,
}

impl NameCache {
    /// Replaces everything with a fresh load of the whole repository.
    pub(crate) fn replace(&mut self, entries: Vec<Entry>) -> Changes {
        let mut fresh = NameCache { loaded: Some(Instant::now()), ..NameCache::default() };
        for entry in entries {
            fresh.insert(entry);
        }
        let removed = self.by_dn.keys().filter(|key| !fresh.by_dn.contains_key(*key)).count();
        let disabled = fresh
            .by_dn
            .iter()
            .filter(|(key, cached)| {
                cached.entry.person.disabled
                    && self.by_dn.get(*key).is_some_and(|old| !old.entry.person.disabled)
            })
            .count();
        *self = fresh;
        let disabled_now = self.by_dn.values().filter(|c| c.entry.person.disabled).count();
        Changes { people: self.by_dn.len(), removed, disabled, disabled_now }
    }

    /// How many of the people now cached are not among `entries`.
    pub(crate) fn missing_from(&self, entries: &[Entry]) -> usize {
        let kept: std::collections::HashSet<String> =
            entries.iter().map(|entry| dn::normalize(&entry.person.id)).collect();
        self.by_dn.keys().filter(|key| !kept.contains(&***key)).count()
    }

    /// Adds or updates one person (found at login or on a miss).
    pub(crate) fn insert(&mut self, entry: Entry) {
        let key: Arc<str> = dn::normalize(&entry.person.id).into();
        self.misses.remove(&*key);
        if let Some(old) = self.by_dn.remove(&key) {
            for login in &old.entry.logins {
                if let Some(keys) = self.by_login.get_mut(login) {
                    keys.retain(|k| *k != key);
                }
            }
        }
        for login in &entry.logins {
            let keys = self.by_login.entry(login.clone()).or_default();
            if !keys.contains(&key) {
                keys.push(key.clone());
            }
        }
        let name = entry.person.display_name.to_lowercase();
        let mut keys = entry.person.mail.to_lowercase();
        for login in &entry.logins {
            keys.push('\n');
            keys.push_str(login);
        }
        self.by_dn.insert(key, Cached { entry: Arc::new(entry), name, keys });
    }

    /// The person with this DN, or the one person with this login name.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Entry>> {
        if let Some(cached) = self.by_dn.get(dn::normalize(id).as_str()) {
            return Some(cached.entry.clone());
        }
        match self.by_login.get(&id.trim().to_lowercase()).map(Vec::as_slice) {
            Some([only]) => self.by_dn.get(only).map(|cached| cached.entry.clone()),
            _ => None,
        }
    }

    /// Remembers that the directory does not know `id`.
    pub(crate) fn remember_miss(&mut self, id: &str) {
        if self.misses.len() >= MAX_MISSES {
            self.misses.clear();
        }
        self.misses.insert(miss_key(id), Instant::now());
    }

    /// Whether `id` was looked up and not found a short while ago.
    pub(crate) fn recently_missed(&self, id: &str) -> bool {
        self.misses.get(&miss_key(id)).is_some_and(|at| at.elapsed() < MISS_TTL)
    }

    /// Enabled people whose display name, mail or a login name contains
    /// `query` (any case), or whose DN it is, by display name, at most
    /// `limit`. Parts of DNs do not count: every DN contains `dc=`.
    pub(crate) fn search(&self, query: &str, limit: usize) -> Vec<Person> {
        let query = query.trim().to_lowercase();
        let as_dn = dn::normalize(&query);
        let mut found: Vec<&Cached> = self
            .by_dn
            .iter()
            .filter(|(key, cached)| {
                !cached.entry.person.disabled
                    && (***key == *as_dn
                        || cached.name.contains(&query)
                        || cached.keys.contains(&query))
            })
            .map(|(_, cached)| cached)
            .collect();
        // Only the first `limit` need ordering.
        let by_name = |a: &&Cached, b: &&Cached| {
            (&a.name, &a.entry.person.id).cmp(&(&b.name, &b.entry.person.id))
        };
        if found.len() > limit && limit > 0 {
            found.select_nth_unstable_by(limit - 1, by_name);
            found.truncate(limit);
        }
        found.sort_unstable_by(by_name);
        found.into_iter().take(limit).map(|cached| cached.entry.person.clone()).collect()
    }

    /// How many people are known.
    pub(crate) fn len(&self) -> usize {
        self.by_dn.len()
    }

    /// When the whole repository was last loaded.
    pub(crate) fn loaded(&self) -> Option<Instant> {
        self.loaded
    }
}

fn miss_key(id: &str) -> String {
    dn::normalize(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, name: &str, logins: &[&str], disabled: bool) -> Entry {
        Entry {
            person: Person {
                id: dn.into(),
                display_name: name.into(),
                mail: format!("{}@example.com", logins[0]),
                disabled,
                ..Person::default()
            },
            logins: logins.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn people_are_found_by_any_spelling_of_their_dn_and_by_login() {
        let mut cache = NameCache::default();
        cache.replace(vec![entry("uid=alice,dc=example", "Alice", &["alice"], false)]);
        assert_eq!(cache.get("UID=Alice, DC=example").unwrap().person.display_name, "Alice");
        assert_eq!(cache.get(" ALICE ").unwrap().person.id, "uid=alice,dc=example");
        assert!(cache.get("bob").is_none());
    }

    #[test]
    fn an_ambiguous_login_name_finds_nobody() {
        let mut cache = NameCache::default();
        cache.replace(vec![
            entry("uid=carol1,dc=example", "Carol One", &["carol1", "carol@example.com"], false),
            entry("uid=carol2,dc=example", "Carol Two", &["carol2", "carol@example.com"], false),
        ]);
        assert!(cache.get("carol@example.com").is_none());
        assert_eq!(cache.get("carol2").unwrap().person.display_name, "Carol Two");
    }

    #[test]
    fn a_refresh_counts_removals_and_new_disables() {
        let mut cache = NameCache::default();
        cache.replace(vec![
            entry("uid=a,dc=x", "A", &["a"], false),
            entry("uid=b,dc=x", "B", &["b"], false),
            entry("uid=c,dc=x", "C", &["c"], true),
        ]);
        let changes = cache.replace(vec![
            entry("uid=b,dc=x", "B", &["b"], true),
            entry("uid=c,dc=x", "C", &["c"], true),
        ]);
        // b is newly disabled; c was already: two are disabled now.
        assert_eq!(changes, Changes { people: 2, removed: 1, disabled: 1, disabled_now: 2 });
        assert!(cache.get("a").is_none());
        assert!(cache.get("b").unwrap().person.disabled);
        assert_eq!(cache.missing_from(&[entry("uid=c,dc=x", "C", &["c"], true)]), 1);
    }

    #[test]
    fn updating_a_person_drops_their_old_login_names() {
        let mut cache = NameCache::default();
        cache.insert(entry("uid=a,dc=x", "A", &["old"], false));
        cache.insert(entry("uid=a,dc=x", "A", &["new"], false));
        assert!(cache.get("old").is_none());
        assert!(cache.get("new").is_some());
    }

    #[test]
    fn search_skips_disabled_people_and_sorts_by_name() {
        let mut cache = NameCache::default();
        cache.replace(vec![
            entry("uid=zed,dc=x", "Zed Builder", &["zed"], false),
            entry("uid=bob,dc=x", "Bob Builder", &["bob"], false),
            entry("uid=dan,dc=x", "Dan Builder", &["dan"], true),
        ]);
        let names: Vec<_> =
            cache.search("builder", 10).into_iter().map(|p| p.display_name).collect();
        assert_eq!(names, ["Bob Builder", "Zed Builder"]);
        assert_eq!(cache.search("BUILDER", 1).len(), 1);
        assert_eq!(cache.search("zed@example", 10).len(), 1);
        assert!(cache.search("dc=x", 10).is_empty(), "every DN has that part");
        assert_eq!(cache.search("UID=bob, DC=x", 10).len(), 1, "a whole DN finds its person");
    }

    #[test]
    fn misses_are_remembered_for_a_while() {
        let mut cache = NameCache::default();
        assert!(!cache.recently_missed("nobody"));
        cache.remember_miss("nobody");
        assert!(cache.recently_missed("NOBODY"));
        cache.insert(entry("nobody", "N", &["nobody"], false));
        assert!(!cache.recently_missed("nobody"), "found since");
    }
}
