//! The community as front doors drive it: several users, several sessions.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use simul_core::{
    ChatId, Community, CoreError, Delivery, Event, Limits, MessageId, Presence, SessionId, Status,
    UserId,
};

fn user(name: &str) -> UserId {
    UserId::new(name)
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()
}

/// The events each session received, in order.
fn by_session(deliveries: &[Delivery]) -> HashMap<SessionId, Vec<Event>> {
    let mut map: HashMap<SessionId, Vec<Event>> = HashMap::new();
    for d in deliveries {
        map.entry(d.session).or_default().push((*d.event).clone());
    }
    map
}

fn status_event(name: &str, status: Status, message: &str) -> Event {
    Event::Status { user: user(name), presence: Presence::new(status, false, message) }
}

/// The one event a watch answers with.
fn presences_event(presences: &[(&str, Presence)]) -> Event {
    Event::Presences { presences: presences.iter().map(|(u, p)| (user(u), p.clone())).collect() }
}

#[test]
fn a_watcher_only_session_sees_others_without_changing_its_users_status() {
    let mut c = Community::new();
    let (bob, _) = c.connect(&user("bob")).unwrap();
    let (alice, _) = c.connect(&user("alice")).unwrap();
    c.set_presence(alice, Presence::new(Status::Dnd, false, "focus")).unwrap();
    let (carol, _) = c.connect(&user("carol")).unwrap();
    let carol_hears = c.watch(carol, &[user("alice")]).unwrap();
    assert_eq!(carol_hears.len(), 1);

    // Alice opens an intranet page with the widget: still Do not disturb.
    let widget = c.connect_watcher(&user("alice")).unwrap();
    assert_eq!(c.presence_of(&user("alice")).status, Status::Dnd);
    let now = c.watch(widget, &[user("bob")]).unwrap();
    let available = Presence::new(Status::Available, false, "");
    assert_eq!(by_session(&now)[&widget], [presences_event(&[("bob", available)])]);
    let changed = c.set_presence(bob, Presence::new(Status::Away, false, "")).unwrap();
    assert!(by_session(&changed).contains_key(&widget), "the widget hears bob");
    assert!(!c.sessions_of_user(&user("alice")).contains(&widget));
    // A refresh that disables alice must reach her widget too.
    assert!(c.all_sessions_of(&user("alice")).contains(&widget));
    assert!(c.users_with_sessions().contains(&user("alice")));

    // Closing the page changes nothing either, nor does a widget of someone offline.
    assert!(c.disconnect(widget).unwrap().is_empty(), "carol hears nothing");
    let lurker = c.connect_watcher(&user("dave")).unwrap();
    assert!(!c.is_online(&user("dave")));
    assert_eq!(c.all_sessions_of(&user("dave")), [lurker]);
    assert!(c.disconnect(lurker).unwrap().is_empty());
}

#[test]
fn a_revoked_token_is_told_to_every_session_of_its_user_and_no_one_else() {
    let mut c = Community::new();
    let (alice, _) = c.connect(&user("alice")).unwrap();
    let (phone, _) = c.connect(&user("alice")).unwrap();
    let (bob, _) = c.connect(&user("bob")).unwrap();
    let bobs_widget = c.connect_watcher(&user("bob")).unwrap();
    let carols_widget = c.connect_watcher(&user("carol")).unwrap();
    let told = |c: &Community, name: &str| {
        let deliveries = c.tokens_revoked(&user(name));
        let told = by_session(&deliveries);
        assert!(told.values().all(|events| events == &[Event::TokensRevoked]));
        let mut sessions: Vec<SessionId> = told.into_keys().collect();
        sessions.sort();
        sessions
    };
    assert_eq!(told(&c, "alice"), [alice, phone]);
    // Widgets are opened with a token too.
    assert_eq!(told(&c, "bob"), [bob, bobs_widget]);
    assert_eq!(told(&c, "carol"), [carols_widget]);
    assert!(told(&c, "dave").is_empty());
}

#[test]
fn a_watch_of_ten_thousand_users_is_one_reply() {
    let mut c = Community::new();
    let (alice, _) = c.connect(&user("alice")).unwrap();
    let (bob, _) = c.connect(&user("bob")).unwrap();
    c.set_presence(bob, Presence::new(Status::Away, false, "lunch")).unwrap();
    let mut everyone: Vec<UserId> = (0..9_999).map(|n| user(&format!("user{n}"))).collect();
    everyone.push(user("bob"));
    let out = c.watch(alice, &everyone).unwrap();
    assert_eq!(out.len(), 1, "one delivery, whatever the number watched");
    let Event::Presences { presences } = &*out[0].event else { panic!("{:?}", out[0].event) };
    assert_eq!(presences.len(), 10_000);
    assert_eq!(presences[0], (user("user0"), Presence::offline()));
    assert_eq!(presences[9_999], (user("bob"), Presence::new(Status::Away, false, "lunch")));
    // Live changes still come one by one, to every watcher.
    let (_, out) = c.connect(&user("user42")).unwrap();
    assert_eq!(by_session(&out)[&alice], [status_event("user42", Status::Available, "")]);
    assert!(c.watch(alice, &[]).unwrap().is_empty(), "nothing asked, nothing told");
}

#[test]
fn no_user_or_session_holds_more_than_the_limits() {
    let mut c = Community::new();
    c.set_limits(Limits { sessions_per_user: 2, watched_per_session: 3 });
    let (alice, _) = c.connect(&user("alice")).unwrap();
    c.connect_watcher(&user("alice")).unwrap();
    assert_eq!(c.connect(&user("alice")).unwrap_err(), CoreError::TooManySessions { limit: 2 });
    assert!(c.connect_watcher(&user("alice")).is_err());
    assert!(c.connect(&user("bob")).is_ok(), "other users are not affected");
    c.disconnect(alice).unwrap();
    assert!(c.connect(&user("alice")).is_ok(), "an ended session gives its place back");

    let (carol, _) = c.connect(&user("carol")).unwrap();
    c.watch(carol, &[user("a"), user("b")]).unwrap();
    // Watching again what is watched costs nothing; one more is too many.
    c.watch(carol, &[user("a"), user("b"), user("c")]).unwrap();
    let full = c.watch(carol, &[user("a"), user("d")]).unwrap_err();
    assert_eq!(full, CoreError::WatchListFull { limit: 3 });
    c.unwatch(carol, &[user("a")]).unwrap();
    c.watch(carol, &[user("d")]).unwrap();
}

#[test]
fn watchers_see_the_most_available_session() {
    let mut c = Community::new();
    let (alice, _) = c.connect(&user("alice")).unwrap();
    let now = c.watch(alice, &[user("bob")]).unwrap();
    assert_eq!(by_session(&now)[&alice], [presences_event(&[("bob", Presence::offline())])]);

    let (bob_web, out) = c.connect(&user("bob")).unwrap();
    assert_eq!(by_session(&out)[&alice], [status_event("bob", Status::Available, "")]);
    let (bob_client, out) = c.connect(&user("bob")).unwrap();
    assert!(out.is_empty(), "still available: nothing to tell");

    let out = c.set_presence(bob_client, Presence::new(Status::Dnd, false, "focus")).unwrap();
    assert!(out.is_empty(), "the web session is more available");
    let out = c.disconnect(bob_web).unwrap();
    assert_eq!(by_session(&out)[&alice], [status_event("bob", Status::Dnd, "focus")]);
    let out = c.disconnect(bob_client).unwrap();
    assert_eq!(
        by_session(&out)[&alice],
        [Event::Status { user: user("bob"), presence: Presence::offline() }]
    );

    c.unwatch(alice, &[user("bob")]).unwrap();
    let (_, out) = c.connect(&user("bob")).unwrap();
    assert!(out.is_empty(), "nobody watches bob any more");
}

#[test]
fn instant_messages_reach_every_session_of_both_users() {
    let mut c = Community::new();
    let (alice_1, _) = c.connect(&user("alice")).unwrap();
    let (alice_2, _) = c.connect(&user("alice")).unwrap();
    let (bob_1, _) = c.connect(&user("bob")).unwrap();
    let (bob_2, _) = c.connect(&user("bob")).unwrap();
    c.continue_message_ids_after(41);
    let (id, out) = c.send_im(alice_1, &user("bob"), "hello", at()).unwrap();
    assert_eq!(id, MessageId::from_raw(42), "ids continue after the history's last");
    let got = by_session(&out);
    let (text, missed) = ("hello".into(), false);
    let expected =
        Event::Im { from: user("alice"), to: user("bob"), text, at: at(), id, missed, file: None };
    for session in [bob_1, bob_2, alice_2] {
        assert_eq!(got[&session], std::slice::from_ref(&expected), "{session}");
    }
    assert!(!got.contains_key(&alice_1), "not echoed to the sending session");

    let (next, out) = c.send_im(bob_1, &user("carol"), "are you there?", at()).unwrap();
    assert_eq!(next, MessageId::from_raw(43), "in the order of acceptance");
    assert_eq!(by_session(&out).keys().collect::<Vec<_>>(), [&bob_2], "carol is offline");

    let out = c.typing(bob_2, &user("alice"), true).unwrap();
    let typing = Event::Typing { from: user("bob"), to: user("alice"), typing: true };
    assert_eq!(by_session(&out)[&alice_1], [typing]);
}

#[test]
fn bad_messages_are_refused() {
    let mut c = Community::new();
    let (alice, _) = c.connect(&user("alice")).unwrap();
    assert_eq!(c.send_im(alice, &user("bob"), " \n", at()), Err(CoreError::EmptyText));
    let long = "x".repeat(simul_core::MAX_TEXT_CHARS + 1);
    assert_eq!(
        c.send_im(alice, &user("bob"), &long, at()),
        Err(CoreError::TextTooLong { chars: simul_core::MAX_TEXT_CHARS + 1 })
    );
    c.disconnect(alice).unwrap();
    assert!(matches!(
        c.send_im(alice, &user("bob"), "hi", at()),
        Err(CoreError::UnknownSession(_))
    ));
    assert!(c.disconnect(alice).is_err());
}

#[test]
fn three_user_nway_chat() {
    let mut c = Community::new();
    let (alice, _) = c.connect(&user("alice")).unwrap();
    let (bob, _) = c.connect(&user("bob")).unwrap();
    let (carol, _) = c.connect(&user("carol")).unwrap();
    c.connect(&user("dave")).unwrap();

    let (chat, out) =
        c.create_chat(&user("alice"), &[user("bob"), user("carol")], "Release planning").unwrap();
    let got = by_session(&out);
    let invite = Event::NwayInvite { chat, from: user("alice"), topic: "Release planning".into() };
    assert_eq!(got[&bob], std::slice::from_ref(&invite));
    assert_eq!(got[&carol], [invite]);
    assert_eq!(got[&alice], [Event::NwayMembers { chat, members: vec![user("alice")] }]);

    assert_eq!(c.join(&user("dave"), chat), Err(CoreError::NotInvited(chat)));
    let out = c.join(&user("bob"), chat).unwrap();
    let members = Event::NwayMembers { chat, members: vec![user("alice"), user("bob")] };
    assert_eq!(by_session(&out)[&alice], std::slice::from_ref(&members));
    assert_eq!(by_session(&out)[&bob], [members]);
    c.join(&user("carol"), chat).unwrap();

    let (_, out) = c.chat_message(&user("bob"), chat, "shall we ship friday?", at()).unwrap();
    let got = by_session(&out);
    assert_eq!(got.len(), 3, "every member, the sender included");
    assert!(matches!(&got[&carol][0], Event::NwayMessage { from, .. } if *from == user("bob")));
    assert_eq!(c.chat_message(&user("dave"), chat, "hi", at()), Err(CoreError::NotMember(chat)));

    let out = c.leave(&user("bob"), chat).unwrap();
    assert_eq!(
        by_session(&out)[&carol],
        [Event::NwayMembers { chat, members: vec![user("alice"), user("carol")] }]
    );
    assert_eq!(c.chat_message(&user("bob"), chat, "back", at()), Err(CoreError::NotMember(chat)));

    // Logging out leaves a chat only once the grace period is over, and
    // not at all for someone who came back; the last member's departure
    // ends the chat.
    c.disconnect(alice).unwrap();
    assert_eq!(c.chat_members(chat).unwrap(), [user("alice"), user("carol")], "waiting");
    let (alice_again, _) = c.connect(&user("alice")).unwrap();
    assert!(c.leave_chats_if_offline(&user("alice")).is_empty(), "back in time");
    c.disconnect(alice_again).unwrap();
    let out = c.leave_chats_if_offline(&user("alice"));
    assert_eq!(
        by_session(&out)[&carol],
        [Event::NwayMembers { chat, members: vec![user("carol")] }]
    );
    c.disconnect(carol).unwrap();
    c.leave_chats_if_offline(&user("carol"));
    assert_eq!(c.chat_members(chat), Err(CoreError::UnknownChat(chat)));
    assert_eq!(
        c.join(&user("dave"), ChatId::from_raw(999)),
        Err(CoreError::UnknownChat(ChatId::from_raw(999)))
    );
}

#[test]
fn declined_invitations_cannot_be_accepted_later() {
    let mut c = Community::new();
    c.connect(&user("alice")).unwrap();
    c.connect(&user("bob")).unwrap();
    let (chat, _) = c.create_chat(&user("alice"), &[user("bob")], "").unwrap();
    c.decline(&user("bob"), chat).unwrap();
    assert_eq!(c.join(&user("bob"), chat), Err(CoreError::NotInvited(chat)));
    let out = c.invite(&user("alice"), chat, &[user("bob"), user("alice")]).unwrap();
    assert_eq!(by_session(&out).len(), 1, "bob invited again; alice is already a member");
    assert!(c.join(&user("bob"), chat).is_ok());
}

#[derive(Debug, Clone)]
enum Step {
    Connect(usize),
    Disconnect(usize),
    SetPresence(usize, Status, bool),
}

fn step() -> impl Strategy<Value = Step> {
    let status = prop_oneof![
        Just(Status::Available),
        Just(Status::Away),
        Just(Status::Dnd),
        Just(Status::InMeeting)
    ];
    prop_oneof![
        (0usize..3).prop_map(Step::Connect),
        (0usize..8).prop_map(Step::Disconnect),
        (0usize..8, status, any::<bool>()).prop_map(|(s, st, idle)| Step::SetPresence(s, st, idle)),
    ]
}

proptest! {
    /// Whatever the sessions do, a watcher's last status event for a user
    /// is the presence the community reports for that user.
    #[test]
    fn watchers_always_end_up_with_the_current_presence(steps in proptest::collection::vec(step(), 1..60)) {
        let users = [user("bob"), user("carol"), user("dave")];
        let mut c = Community::new();
        let (watcher, _) = c.connect(&user("alice")).unwrap();
        let mut seen: HashMap<UserId, Presence> = HashMap::new();
        let record = |deliveries: Vec<Delivery>, seen: &mut HashMap<UserId, Presence>| {
            for d in deliveries.iter().filter(|d| d.session == watcher) {
                match &*d.event {
                    Event::Status { user, presence } => {
                        seen.insert(user.clone(), presence.clone());
                    }
                    Event::Presences { presences } => seen.extend(presences.iter().cloned()),
                    _ => {}
                }
            }
        };
        record(c.watch(watcher, &users).unwrap(), &mut seen);
        let mut sessions: Vec<SessionId> = Vec::new();
        for step in steps {
            match step {
                Step::Connect(u) => {
                    let (s, out) = c.connect(&users[u]).unwrap();
                    sessions.push(s);
                    record(out, &mut seen);
                }
                Step::Disconnect(i) if i < sessions.len() => {
                    let s = sessions.remove(i);
                    record(c.disconnect(s).unwrap(), &mut seen);
                }
                Step::SetPresence(i, status, idle) if i < sessions.len() => {
                    record(c.set_presence(sessions[i], Presence::new(status, idle, "")).unwrap(), &mut seen);
                }
                _ => {}
            }
            for u in &users {
                prop_assert_eq!(&seen[u], &c.presence_of(u));
            }
        }
    }
}

#[test]
fn chat_ids_continue_after_the_recorded_ones_and_topics_are_kept_trimmed() {
    let mut c = Community::new();
    c.continue_chat_ids_after(41);
    let (chat, _) = c.create_chat(&user("alice"), &[user("bob")], "  Release  ").unwrap();
    assert_eq!(chat.get(), 42);
    assert_eq!(c.chat_topic(chat).unwrap(), "Release");
    c.continue_chat_ids_after(7);
    let (next, _) = c.create_chat(&user("alice"), &[], "").unwrap();
    assert_eq!(next.get(), 43, "never goes back");
    assert!(matches!(c.chat_topic(ChatId::from_raw(99)), Err(CoreError::UnknownChat(_))));
}

#[test]
fn a_user_lists_the_chats_they_are_in_or_invited_to() {
    let mut c = Community::new();
    let (planning, _) = c.create_chat(&user("alice"), &[user("bob")], "Planning").unwrap();
    let (lunch, _) = c.create_chat(&user("carol"), &[user("alice")], "Lunch").unwrap();
    let (_, _) = c.create_chat(&user("carol"), &[user("dave")], "Elsewhere").unwrap();
    let listed: Vec<(ChatId, String, Vec<UserId>, bool)> = c
        .chats_of(&user("alice"))
        .into_iter()
        .map(|s| (s.id, s.topic, s.members, s.invited))
        .collect();
    assert_eq!(
        listed,
        [
            (planning, "Planning".to_owned(), vec![user("alice")], false),
            (lunch, "Lunch".to_owned(), vec![user("carol")], true),
        ]
    );
    c.decline(&user("alice"), lunch).unwrap();
    assert_eq!(c.chats_of(&user("alice")).len(), 1, "a declined invitation is gone");
}

#[test]
fn an_announcement_reaches_every_session_of_those_named_but_widgets() {
    let mut c = Community::new();
    let (alice_web, _) = c.connect(&user("alice")).unwrap();
    let (alice_phone, _) = c.connect(&user("alice")).unwrap();
    let widget = c.connect_watcher(&user("alice")).unwrap();
    let (bob, _) = c.connect(&user("bob")).unwrap();
    let (carol, _) = c.connect(&user("carol")).unwrap();
    let text = "<b>Restart</b> at 18:00";
    let deliveries = c.announce(&[user("alice"), user("bob"), user("dave")], "boss", text, at());
    let heard = by_session(&deliveries);
    let announcement = Event::Announcement { from: "boss".into(), text: text.into(), at: at() };
    for session in [alice_web, alice_phone, bob] {
        assert_eq!(heard[&session], std::slice::from_ref(&announcement), "{session}");
    }
    assert!(!heard.contains_key(&widget), "a widget shows no text");
    assert!(!heard.contains_key(&carol), "not named");
    assert_eq!(deliveries.len(), 3, "dave is offline: nothing queued for him");
}
