//! The LDAP realm against a real OpenLDAP `slapd` (simul-testkit's fixture
//! directory): logins, the name cache, groups, failover, TLS and the
//! errors an administrator sees.

use std::fmt::Write as _;

use simul_directory::ldap::{BaseDns, BindPassword, Changes};
use simul_directory::{DirectoryError, LdapRealm, LdapSettings, Person, Realm};
use simul_testkit::{
    ALICE_DN, BOB_DN, BUILDERS_DN, CAROL1_DN, CAROL2_DN, DAVE_DN, EVERYONE_DN, PEOPLE_DN, ROOT_DN,
    ROOT_PASSWORD, SITE_MANAGERS_DN, SIZE_LIMIT, SUFFIX, Slapd, ZOE_DN, closed_port,
};

/// People in the fixture directory.
const FIXTURE_PEOPLE: usize = 6;

/// Settings for the fixture: bound as the root DN, dave disabled by his
/// `employeeType`, short timeouts.
fn settings(hosts: Vec<String>) -> LdapSettings {
    LdapSettings {
        hosts,
        base_dn: BaseDns::One(SUFFIX.into()),
        bind_dn: Some(ROOT_DN.into()),
        bind_password: Some(BindPassword(ROOT_PASSWORD.into())),
        disabled_filter: Some("(employeeType=disabled)".into()),
        timeout_seconds: 2,
        ..LdapSettings::default()
    }
}

fn realm(slapd: &Slapd) -> LdapRealm {
    LdapRealm::new(&settings(vec![slapd.url()])).unwrap()
}

async fn login(realm: &LdapRealm, name: &str, password: &str) -> Option<Person> {
    realm.authenticate(name, password).await.unwrap()
}

fn ids(people: &[Person]) -> Vec<&str> {
    people.iter().map(|person| person.id.as_str()).collect()
}

fn same_set(mut found: Vec<String>, expected: &[&str]) {
    found.sort();
    let mut expected: Vec<String> = expected.iter().map(|dn| (*dn).to_owned()).collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_log_in_by_uid_or_mail_with_their_password_only() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);

    let alice = login(&realm, "alice", "alice-secret").await.expect("alice logs in by uid");
    assert_eq!(
        alice,
        Person {
            id: ALICE_DN.into(),
            display_name: "Alice Allen".into(),
            mail: "alice@renovations.com".into(),
            title: "Site Manager".into(),
            phone: "+1 617 555 0101".into(),
            photo_url: String::new(),
            location: "Boston".into(),
            disabled: false,
            must_change_password: false,
        }
    );
    let by_mail = login(&realm, "alice@renovations.com", "alice-secret").await;
    assert_eq!(by_mail.as_ref(), Some(&alice), "by mail");
    let by_dn = login(&realm, ALICE_DN, "alice-secret").await;
    assert_eq!(by_dn.map(|p| p.id).as_deref(), Some(ALICE_DN), "by DN");
    assert_eq!(
        login(&realm, " ALICE ", "alice-secret").await.map(|p| p.id).as_deref(),
        Some(ALICE_DN)
    );

    assert_eq!(login(&realm, "alice", "bob-secret").await, None, "wrong password");
    assert_eq!(login(&realm, "alice", "Alice-secret").await, None, "passwords are case-sensitive");
    assert_eq!(login(&realm, "alice", "").await, None, "empty password: unauthenticated bind");
    assert_eq!(login(&realm, ALICE_DN, "").await, None, "empty password by DN");
    assert_eq!(login(&realm, "alice", " ").await, None, "a blank password is a wrong one");
    assert_eq!(login(&realm, "nobody", "alice-secret").await, None, "unknown user");
    assert_eq!(login(&realm, "nobody", "").await, None);
    assert_eq!(login(&realm, "", "alice-secret").await, None);
    assert_eq!(realm.health().up(), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_users_cannot_log_in_and_a_login_never_reenables_them() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);

    assert_eq!(login(&realm, "dave", "dave-secret").await, None, "disabled, right password");
    // Looked up on a cache miss (no refresh yet): disabled too.
    let looked_up = realm.person(DAVE_DN).await.unwrap().expect("dave is known");
    assert!(looked_up.disabled, "{looked_up:?}");

    let changes = realm.refresh().await.unwrap();
    assert_eq!(changes.people, FIXTURE_PEOPLE);
    let dave = realm.person(DAVE_DN).await.unwrap().expect("disabled people are still known");
    assert!(dave.disabled);
    assert_eq!(dave.display_name, "Dave Disabled");
    assert!(realm.search("dave", 10).await.unwrap().is_empty(), "search skips disabled people");
    let everyone = realm.search("", 100).await.unwrap();
    assert!(ids(&everyone).contains(&ALICE_DN), "{everyone:?}");
    assert!(!ids(&everyone).contains(&DAVE_DN), "{everyone:?}");
    assert_eq!(everyone.len(), FIXTURE_PEOPLE - 1);

    // The re-activation trap: neither a login nor a sync turns him back on.
    assert_eq!(login(&realm, "dave", "dave-secret").await, None);
    assert_eq!(login(&realm, DAVE_DN, "dave-secret").await, None);
    assert!(realm.person(DAVE_DN).await.unwrap().unwrap().disabled, "after his login");
    assert!(realm.person("dave").await.unwrap().unwrap().disabled, "by login name");
    let changes = realm.refresh().await.unwrap();
    assert_eq!(
        changes,
        Changes { people: FIXTURE_PEOPLE, removed: 0, disabled: 0, disabled_now: 1 }
    );
    assert!(realm.person(DAVE_DN).await.unwrap().unwrap().disabled, "after a second refresh");
    assert!(realm.search("dave", 10).await.unwrap().is_empty());
    assert_eq!(login(&realm, "dave", "dave-secret").await, None);
    assert!(realm.find("dave").await.unwrap().unwrap().disabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ascii_names_round_trip_and_are_found_in_any_case() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);

    let zoe = login(&realm, "zoe", "zoe-secret").await.expect("zoe logs in");
    assert_eq!(zoe.id, ZOE_DN);
    assert_eq!(zoe.display_name, "Zoë Ångström-Łukasiewicz");

    realm.refresh().await.unwrap();
    for query in ["ångström", "ÅNGSTRÖM", "łukasiewicz", "Zoë"] {
        let found = realm.search(query, 10).await.unwrap();
        assert_eq!(ids(&found), [ZOE_DN], "{query}");
        assert_eq!(found[0].display_name, "Zoë Ångström-Łukasiewicz");
    }
    let directory = realm.search_directory("Ångström", 10).await.unwrap();
    assert_eq!(ids(&directory), [ZOE_DN]);
    assert_eq!(directory[0].display_name, "Zoë Ångström-Łukasiewicz");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_name_two_people_share_logs_nobody_in() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);

    assert_eq!(login(&realm, "carol@renovations.com", "carol1-secret").await, None);
    assert_eq!(login(&realm, "carol@renovations.com", "carol2-secret").await, None);
    match realm.find("carol@renovations.com").await {
        Err(DirectoryError::Ambiguous { attribute, name, count }) => {
            assert_eq!(
                (attribute.as_str(), name.as_str(), count),
                ("mail", "carol@renovations.com", 2)
            );
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    assert_ne!(realm.health().up(), Some(false), "an ambiguous name is no outage");

    let carol2 = login(&realm, "carol2", "carol2-secret").await.expect("carol2 by uid");
    assert_eq!((carol2.id.as_str(), carol2.display_name.as_str()), (CAROL2_DN, "Carol Two"));
    assert_eq!(login(&realm, "carol2", "carol1-secret").await, None);
    assert_eq!(
        login(&realm, "carol1", "carol1-secret").await.map(|p| p.id).as_deref(),
        Some(CAROL1_DN)
    );

    realm.refresh().await.unwrap();
    assert_eq!(
        realm.person("carol@renovations.com").await.unwrap(),
        None,
        "ambiguous in the cache"
    );
    assert_eq!(realm.person("carol2").await.unwrap().map(|p| p.id).as_deref(), Some(CAROL2_DN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_characters_in_names_match_themselves() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);

    for name in [
        "*",
        "alice)(uid=*",
        "*)(|(uid=*",
        "al*",
        "*)",
        "alice)(|(objectClass=*)",
        "uid=*,ou=people,dc=renovations,dc=com",
    ] {
        for password in ["alice-secret", "x", "*"] {
            assert_eq!(login(&realm, name, password).await, None, "{name:?} / {password:?}");
        }
        assert_eq!(realm.find(name).await.unwrap(), None, "{name:?}");
    }
    // The service account is not a person.
    assert_eq!(login(&realm, ROOT_DN, ROOT_PASSWORD).await, None);
    assert_eq!(login(&realm, "admin", ROOT_PASSWORD).await, None);

    // The directory search works, and '*' is a literal in it.
    let allen = realm.search_directory("Allen", 10).await.unwrap();
    assert_eq!(ids(&allen), [ALICE_DN]);
    assert!(realm.search_directory("*", 100).await.unwrap().is_empty());
    assert!(realm.search_directory("a*e", 100).await.unwrap().is_empty());
    assert!(realm.search_directory("*)(uid=*", 100).await.unwrap().is_empty());

    assert_eq!(realm.person("*").await.unwrap(), None);
    realm.refresh().await.unwrap();
    assert_eq!(realm.person("*").await.unwrap(), None);
    assert!(realm.search("*", 100).await.unwrap().is_empty());
    assert_eq!(realm.health().up(), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_found_by_any_spelling_of_their_dn_and_by_login_name() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);
    let spelling = "UID=alice, OU=People, DC=renovations, DC=com";

    // A cache miss, looked up in the directory.
    let alice = realm.person(spelling).await.unwrap().expect("found by another spelling");
    assert_eq!(alice.id, ALICE_DN, "the server's spelling is the id");
    assert_eq!(alice.display_name, "Alice Allen");
    assert_eq!(realm.find(spelling).await.unwrap().map(|p| p.id).as_deref(), Some(ALICE_DN));

    realm.refresh().await.unwrap();
    assert_eq!(realm.person(spelling).await.unwrap().map(|p| p.id).as_deref(), Some(ALICE_DN));
    let bob = realm.person("bob").await.unwrap().expect("bob by uid");
    assert_eq!((bob.id.as_str(), bob.location.as_str()), (BOB_DN, "Cambridge"));
    assert_eq!(realm.person("BOB").await.unwrap().map(|p| p.id).as_deref(), Some(BOB_DN));
    assert_eq!(
        realm.person("bob@renovations.com").await.unwrap().map(|p| p.id).as_deref(),
        Some(BOB_DN)
    );
    assert_eq!(realm.person("uid=alice,dc=elsewhere,dc=com").await.unwrap(), None);
    assert_eq!(realm.person("nobody").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_groups_and_their_members() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);

    same_set(
        realm.groups_of(ALICE_DN).await.unwrap(),
        &[SITE_MANAGERS_DN, BUILDERS_DN, EVERYONE_DN],
    );
    same_set(realm.groups_of(BOB_DN).await.unwrap(), &[BUILDERS_DN, EVERYONE_DN]);
    same_set(realm.groups_of(SITE_MANAGERS_DN).await.unwrap(), &[BUILDERS_DN, EVERYONE_DN]);
    assert!(realm.groups_of(ZOE_DN).await.unwrap().is_empty());

    same_set(realm.members_of(BUILDERS_DN).await.unwrap(), &[BOB_DN, SITE_MANAGERS_DN]);
    same_set(realm.members_of(SITE_MANAGERS_DN).await.unwrap(), &[ALICE_DN]);
    same_set(realm.members_of(EVERYONE_DN).await.unwrap(), &[BUILDERS_DN]);
    assert!(realm.members_of(ALICE_DN).await.unwrap().is_empty(), "a person is no group");

    // And a group is no person.
    assert!(realm.search_directory("builders", 10).await.unwrap().is_empty());
    assert!(realm.search_directory("site-managers", 10).await.unwrap().is_empty());
    assert_eq!(realm.find(BUILDERS_DN).await.unwrap(), None);
    assert_eq!(realm.person(BUILDERS_DN).await.unwrap(), None);
    realm.refresh().await.unwrap();
    assert!(realm.search("builders", 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_servers_take_over_and_the_cache_outlives_an_outage() {
    let mut primary = Slapd::start();
    let mut secondary = Slapd::start();
    let realm = LdapRealm::new(&settings(vec![primary.url(), secondary.url()])).unwrap();

    assert_eq!(realm.refresh().await.unwrap().people, FIXTURE_PEOPLE);
    assert_eq!(realm.health().server(), Some(primary.url()));

    primary.stop();
    let alice = login(&realm, "alice", "alice-secret").await.expect("through the secondary");
    assert_eq!(alice.id, ALICE_DN);
    assert_eq!(realm.health().server(), Some(secondary.url()));
    assert_eq!(realm.health().up(), Some(true));

    secondary.stop();
    match realm.authenticate("alice", "alice-secret").await {
        Err(error @ DirectoryError::Unreachable { .. }) => {
            let message = error.to_string();
            assert!(message.contains(&primary.url()), "{message}");
            assert!(message.contains(&secondary.url()), "{message}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert_eq!(realm.health().up(), Some(false));
    assert!(realm.health().problem().is_some_and(|p| p.contains(&secondary.url())));
    assert!(matches!(realm.refresh().await, Err(DirectoryError::Unreachable { .. })));
    // The cache is kept while the directory is down.
    assert_eq!(realm.cached().0, FIXTURE_PEOPLE);
    let cached = realm.person(ALICE_DN).await.unwrap().expect("still cached");
    assert_eq!(cached.display_name, "Alice Allen");
    assert_eq!(ids(&realm.search("builder", 10).await.unwrap()), [BOB_DN]);

    secondary.restart();
    assert_eq!(
        login(&realm, "alice", "alice-secret").await.map(|p| p.id).as_deref(),
        Some(ALICE_DN)
    );
    assert_eq!(realm.health().up(), Some(true));
    assert_eq!(realm.health().server(), Some(secondary.url()));

    // Once the primary is back, the periodic refresh returns to it.
    primary.restart();
    Realm::refresh(&realm).await.unwrap();
    assert_eq!(realm.health().server(), Some(primary.url()));
    assert_eq!(realm.cached().0, FIXTURE_PEOPLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_named_in_the_error() {
    let url = format!("ldap://127.0.0.1:{}", closed_port());
    let realm = LdapRealm::new(&settings(vec![url.clone()])).unwrap();

    match realm.refresh().await {
        Err(error @ DirectoryError::Unreachable { .. }) => {
            assert!(error.is_outage());
            assert!(error.to_string().contains(&url), "{error}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert_eq!(realm.health().up(), Some(false));
    assert_eq!(realm.cached(), (0, None));
    // A login while the directory is down is an error, not a wrong password.
    assert!(matches!(
        realm.authenticate("alice", "alice-secret").await,
        Err(DirectoryError::Unreachable { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_bind_password_is_a_service_bind_error() {
    let slapd = Slapd::start();
    let realm = LdapRealm::new(&LdapSettings {
        bind_password: Some(BindPassword("not-the-password".into())),
        ..settings(vec![slapd.url()])
    })
    .unwrap();

    match realm.refresh().await {
        Err(error @ DirectoryError::ServiceBind { .. }) => {
            let message = error.to_string();
            assert!(message.contains(ROOT_DN), "{message}");
            assert!(message.contains("invalidCredentials"), "{message}");
            assert!(message.contains("bind_dn"), "{message}");
            assert!(!message.contains("not-the-password"), "{message}");
        }
        other => panic!("expected ServiceBind, got {other:?}"),
    }
    assert_eq!(realm.health().up(), Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_base_entry_is_named() {
    let slapd = Slapd::start();
    let realm = LdapRealm::new(&LdapSettings {
        base_dn: BaseDns::One("dc=nowhere,dc=com".into()),
        ..settings(vec![slapd.url()])
    })
    .unwrap();

    match realm.refresh().await {
        Err(error @ DirectoryError::BaseNotFound { .. }) => {
            assert!(error.to_string().contains("dc=nowhere,dc=com"), "{error}");
        }
        other => panic!("expected BaseNotFound, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_notices_removed_and_disabled_people() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);
    assert!(realm.refuses_strangers());

    let first = realm.refresh().await.unwrap();
    assert_eq!(first, Changes { people: FIXTURE_PEOPLE, removed: 0, disabled: 0, disabled_now: 1 });
    assert!(realm.cached().1.is_some());
    assert!(realm.person(BOB_DN).await.unwrap().is_some());

    slapd.modify(&format!("dn: {BOB_DN}\nchangetype: delete\n"));
    assert!(realm.person(BOB_DN).await.unwrap().is_some(), "cached until the next refresh");
    let changes = realm.refresh().await.unwrap();
    assert_eq!(
        changes,
        Changes { people: FIXTURE_PEOPLE - 1, removed: 1, disabled: 0, disabled_now: 1 }
    );
    assert_eq!(realm.person(BOB_DN).await.unwrap(), None);
    assert_eq!(realm.person("bob").await.unwrap(), None);
    assert!(realm.search("bob", 10).await.unwrap().is_empty());
    assert_eq!(login(&realm, "bob", "bob-secret").await, None);

    slapd.modify(&format!(
        "dn: {ALICE_DN}\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n"
    ));
    let changes = realm.refresh().await.unwrap();
    assert_eq!(
        changes,
        Changes { people: FIXTURE_PEOPLE - 1, removed: 0, disabled: 1, disabled_now: 2 }
    );
    assert!(realm.person(ALICE_DN).await.unwrap().unwrap().disabled);
    assert_eq!(login(&realm, "alice", "alice-secret").await, None);
    assert!(realm.search("alice", 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_searches_load_more_people_than_the_size_limit() {
    const EXTRA: usize = 1_200;
    let mut ldif = String::new();
    for n in 1..=EXTRA {
        writeln!(
            ldif,
            "dn: uid=user{n:04},{PEOPLE_DN}\nobjectClass: top\nobjectClass: person\n\
             objectClass: organizationalPerson\nobjectClass: inetOrgPerson\nuid: user{n:04}\n\
             cn: User {n:04}\nsn: {n:04}\nuserPassword: user{n:04}-secret\n"
        )
        .unwrap();
    }
    let slapd = Slapd::start_with(&ldif);
    // Anonymous: the root DN would not be subject to the size limit.
    let anonymous = LdapSettings {
        bind_dn: None,
        bind_password: None,
        page_size: 200,
        ..settings(vec![slapd.url()])
    };

    // The control: without paging, this search is cut off at the limit.
    let (connection, mut ldap) = ldap3::LdapConnAsync::new(&slapd.url()).await.unwrap();
    ldap3::drive!(connection);
    let unpaged = ldap
        .search(SUFFIX, ldap3::Scope::Subtree, "(objectClass=inetOrgPerson)", vec!["1.1"])
        .await
        .unwrap();
    assert_eq!(unpaged.1.rc, 4, "sizeLimitExceeded: {}", unpaged.1);
    assert_eq!(unpaged.0.len(), SIZE_LIMIT);

    let realm = LdapRealm::new(&anonymous).unwrap();
    let changes = realm.refresh().await.unwrap();
    assert_eq!(changes.people, FIXTURE_PEOPLE + EXTRA);
    assert_eq!(realm.cached().0, FIXTURE_PEOPLE + EXTRA);
    let last = realm.person("user1200").await.unwrap().expect("the last user");
    assert_eq!(last.display_name, "User 1200");
    assert!(realm.person(DAVE_DN).await.unwrap().unwrap().disabled);
    assert_eq!(realm.search("user", 5000).await.unwrap().len(), EXTRA);
    assert_eq!(realm.search_directory("User 1", 5000).await.unwrap().len(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_servers_are_trusted_through_the_ca_file_only() {
    let slapd = Slapd::start();
    let with_ca = |url: String, starttls: bool, ca: bool| LdapSettings {
        starttls,
        ca_file: ca.then(|| slapd.ca_pem_path()),
        ..settings(vec![url])
    };

    let ldaps = LdapRealm::new(&with_ca(slapd.ldaps_url(), false, true)).unwrap();
    assert_eq!(
        login(&ldaps, "alice", "alice-secret").await.map(|p| p.id).as_deref(),
        Some(ALICE_DN)
    );
    assert_eq!(ldaps.refresh().await.unwrap().people, FIXTURE_PEOPLE);
    assert_eq!(ldaps.health().server(), Some(slapd.ldaps_url()));

    let starttls = LdapRealm::new(&with_ca(slapd.url(), true, true)).unwrap();
    assert_eq!(
        login(&starttls, "alice", "alice-secret").await.map(|p| p.id).as_deref(),
        Some(ALICE_DN)
    );
    assert_eq!(starttls.refresh().await.unwrap().people, FIXTURE_PEOPLE);

    // The system trust store lacks the test CA, over LDAPS and StartTLS alike
    // (so StartTLS really is negotiated).
    for (url, starttls) in [(slapd.ldaps_url(), false), (slapd.url(), true)] {
        let untrusted = LdapRealm::new(&with_ca(url.clone(), starttls, false)).unwrap();
        match untrusted.refresh().await {
            Err(error @ DirectoryError::Unreachable { .. }) => {
                let message = error.to_string();
                assert!(message.contains(&url), "{message}");
                assert!(message.contains("directory.ldap.ca_file"), "{message}");
            }
            other => panic!("expected Unreachable for {url}, got {other:?}"),
        }
        assert!(untrusted.authenticate("alice", "alice-secret").await.is_err());
    }

    let missing = LdapSettings {
        ca_file: Some(slapd.ca_pem_path().with_file_name("no-such-ca.pem")),
        ..settings(vec![slapd.ldaps_url()])
    };
    match LdapRealm::new(&missing) {
        Err(DirectoryError::Settings(error)) => assert_eq!(error.key, "ca_file"),
        other => panic!("expected a ca_file settings error, got {other:?}"),
    }
}

/// The data directory's trust store (`simul trust add`, the console's
/// Certificates page): a signer added while the realm runs is trusted
/// from its next connection, beside the system's signers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signers_added_to_the_trust_store_are_trusted_while_the_realm_runs() {
    let slapd = Slapd::start();
    let trust = tempfile::tempdir().unwrap();
    let settings = LdapSettings {
        trust_dir: Some(trust.path().to_owned()),
        ..settings(vec![slapd.ldaps_url()])
    };
    let realm = LdapRealm::new(&settings).unwrap();
    match realm.refresh().await {
        Err(error @ DirectoryError::Unreachable { .. }) => {
            assert!(error.to_string().contains("simul trust retrieve"), "{error}");
        }
        other => panic!("expected Unreachable before the signer is added, got {other:?}"),
    }
    std::fs::copy(slapd.ca_pem_path(), trust.path().join("test-ca.pem")).unwrap();
    assert_eq!(realm.refresh().await.unwrap().people, FIXTURE_PEOPLE);
    assert_eq!(
        login(&realm, "alice", "alice-secret").await.map(|p| p.id).as_deref(),
        Some(ALICE_DN)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_missing_from_the_cache_is_looked_up_once() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);
    realm.refresh().await.unwrap();

    let newbie = "uid=newbie,ou=people,dc=renovations,dc=com";
    slapd.modify(&format!(
        "dn: {newbie}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: newbie\ncn: New Bie\n\
         sn: Bie\nmail: newbie@renovations.com\n"
    ));
    let found = realm.person(newbie).await.unwrap().expect("looked up without a refresh");
    assert_eq!((found.id.as_str(), found.display_name.as_str()), (newbie, "New Bie"));
    assert!(!found.disabled);
    assert_eq!(realm.cached().0, FIXTURE_PEOPLE + 1, "and kept in the cache");
    assert_eq!(realm.person("newbie").await.unwrap().map(|p| p.id).as_deref(), Some(newbie));

    // A name the directory did not know is not asked again at once...
    let ghost = "uid=ghost,ou=people,dc=renovations,dc=com";
    assert_eq!(realm.person(ghost).await.unwrap(), None);
    slapd.modify(&format!(
        "dn: {ghost}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: ghost\ncn: Ghost\nsn: Ghost\n"
    ));
    assert_eq!(realm.person(ghost).await.unwrap(), None, "the miss is remembered");
    // ...but the next refresh finds them.
    assert_eq!(realm.refresh().await.unwrap().people, FIXTURE_PEOPLE + 2);
    assert_eq!(realm.person(ghost).await.unwrap().map(|p| p.id).as_deref(), Some(ghost));
}

#[tokio::test]
async fn passwords_are_not_changed_through_simul() {
    let realm =
        LdapRealm::new(&settings(vec![format!("ldap://127.0.0.1:{}", closed_port())])).unwrap();
    assert!(matches!(
        realm.change_password(ALICE_DN, "alice-secret", "a-new-secret").await,
        Err(DirectoryError::Unsupported(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_directory_search_matches_everyone_and_is_no_outage() {
    let slapd = Slapd::start();
    let realm = realm(&slapd);

    for query in ["", "  "] {
        let everyone = realm.search_directory(query, 100).await.unwrap();
        assert_eq!(everyone.len(), FIXTURE_PEOPLE, "{query:?}");
        assert!(everyone.iter().any(|p| p.id == DAVE_DN && p.disabled), "{everyone:?}");
        assert_eq!(realm.search_directory(query, 2).await.unwrap().len(), 2, "the limit");
    }
    assert_eq!(realm.health().up(), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_accepts_but_never_answers_is_failed_over() {
    let slapd = Slapd::start();
    // Connections land in the backlog of a socket nobody serves: a hung server.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_url = format!("ldap://127.0.0.1:{}", hung.local_addr().unwrap().port());
    let with_hosts = |hosts: Vec<String>| LdapSettings { timeout_seconds: 1, ..settings(hosts) };

    let realm = LdapRealm::new(&with_hosts(vec![hung_url.clone(), slapd.url()])).unwrap();
    assert_eq!(realm.refresh().await.unwrap().people, FIXTURE_PEOPLE);
    assert_eq!(realm.health().server(), Some(slapd.url()));
    assert_eq!(
        login(&realm, "alice", "alice-secret").await.map(|p| p.id).as_deref(),
        Some(ALICE_DN)
    );
    assert_eq!(login(&realm, "alice", "wrong").await, None);

    let alone = LdapRealm::new(&with_hosts(vec![hung_url.clone()])).unwrap();
    match alone.refresh().await {
        Err(error @ DirectoryError::Unreachable { .. }) => {
            let message = error.to_string();
            assert!(message.contains(&hung_url), "{message}");
            assert!(message.contains("did not answer in time"), "{message}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    let anonymous = LdapRealm::new(&LdapSettings {
        bind_dn: None,
        bind_password: None,
        ..with_hosts(vec![hung_url, slapd.url()])
    })
    .unwrap();
    assert_eq!(anonymous.refresh().await.unwrap().people, FIXTURE_PEOPLE, "anonymous too");
}

#[tokio::test]
async fn a_refresh_that_would_remove_most_people_is_refused_and_the_cache_kept() {
    let extra: String = (0..30)
        .map(|i| {
            format!(
                "dn: uid=temp{i},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: temp{i}\n\
                 cn: Temp {i}\nsn: {i}\n\n"
            )
        })
        .collect();
    let slapd = Slapd::start_with(&extra);
    let realm = realm(&slapd);
    assert_eq!(realm.refresh().await.unwrap().people, FIXTURE_PEOPLE + 30);

    // 25 of 36 gone (69 %, over the default 50 %): most likely a mistake.
    let deletions: String = (0..25)
        .map(|i| format!("dn: uid=temp{i},ou=people,{SUFFIX}\nchangetype: delete\n\n"))
        .collect();
    slapd.modify(&deletions);
    match realm.refresh().await {
        Err(error @ DirectoryError::MassRemoval { removed: 25, known: 36, limit: 50, .. }) => {
            assert!(error.to_string().contains("max_removed_percent"), "{error}");
        }
        other => panic!("expected MassRemoval, got {other:?}"),
    }
    assert!(realm.person(&format!("uid=temp0,ou=people,{SUFFIX}")).await.unwrap().is_some());
    assert_ne!(realm.health().up(), Some(false), "the directory answered; it is not down");

    // With the limit raised, the same removal goes through.
    let lenient = LdapSettings { max_removed_percent: 100, ..settings(vec![slapd.url()]) };
    let lenient = LdapRealm::new(&lenient).unwrap();
    assert_eq!(lenient.refresh().await.unwrap().people, FIXTURE_PEOPLE + 5);
}
