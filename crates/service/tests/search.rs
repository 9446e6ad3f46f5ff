//! `Service::search` over a real store: who finds what (their own 1:1
//! messages, the chats they are in now), pages, and what it refuses.

mod support;

use simul_core::{Conversation, MessageId, UserId};
use simul_service::{SearchPage, Service, ServiceError};
use support::service;

fn user(id: &str) -> UserId {
    UserId::new(id)
}

const FIRST: SearchPage = SearchPage { before: None, limit: 100 };

/// The ids and conversations `who` finds for `query`.
async fn found(service: &Service, who: &str, query: &str) -> Vec<(u64, String)> {
    let hits = service.search_messages(&user(who), query, FIRST).await.unwrap();
    hits.into_iter().map(|hit| (hit.id.get(), hit.conversation.to_string())).collect()
}

#[tokio::test]
async fn people_find_their_own_messages_and_those_of_chats_they_are_in_now() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(&dir).await;
    let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
    let to_bob = service.send_im(&alice, None, "bob", "the quarterly budget".into()).await.unwrap();
    let chat = service.create_chat(&alice, std::slice::from_ref(&bob), "plans").await.unwrap();
    service.join_chat(&bob, chat).await.unwrap();
    let (in_chat, _) =
        service.post_to_chat(&bob, chat, "budget numbers attached".into()).await.unwrap();
    let to_carol = service.send_im(&bob, None, "carol", "budget for Carol".into()).await.unwrap();

    let bob_chat = format!("nway:{chat}");
    assert_eq!(
        found(&service, "alice", "budget").await,
        [(in_chat.get(), bob_chat.clone()), (to_bob.id.get(), "im:bob".to_owned())]
    );
    assert_eq!(
        found(&service, "bob", "BUDGET").await,
        [
            (to_carol.id.get(), "im:carol".to_owned()),
            (in_chat.get(), bob_chat.clone()),
            (to_bob.id.get(), "im:alice".to_owned())
        ]
    );
    assert_eq!(
        found(&service, "carol", "budget").await,
        [(to_carol.id.get(), "im:bob".to_owned())],
        "carol is in neither the chat nor alice's conversation"
    );

    let hit = &service.search_messages(&bob, "numbers", FIRST).await.unwrap()[0];
    assert_eq!(hit.from, bob);
    assert_eq!(hit.text, "budget numbers attached");
    assert_eq!(hit.conversation, Conversation::Nway(chat));

    // Invited is not in: carol, invited, does not read the chat yet.
    service.invite(&alice, chat, std::slice::from_ref(&carol)).await.unwrap();
    assert!(found(&service, "carol", "numbers").await.is_empty());
    // Whoever leaves no longer finds what was said there.
    service.leave_chat(&bob, chat).await.unwrap();
    assert!(found(&service, "bob", "numbers").await.is_empty());
    assert_eq!(found(&service, "alice", "numbers").await.len(), 1);
}

#[tokio::test]
async fn results_page_back_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(&dir).await;
    let alice = user("alice");
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(service.send_im(&alice, None, "bob", format!("report {n}")).await.unwrap().id);
    }
    let page = |before: Option<MessageId>| SearchPage { before, limit: 3 };
    let first = service.search_messages(&alice, "report", page(None)).await.unwrap();
    let first: Vec<MessageId> = first.iter().map(|hit| hit.id).collect();
    assert_eq!(first, [ids[6], ids[5], ids[4]]);
    let next = service.search_messages(&alice, "report", page(Some(ids[4]))).await.unwrap();
    assert_eq!(next.iter().map(|hit| hit.id).collect::<Vec<_>>(), [ids[3], ids[2], ids[1]]);
    let last = service.search_messages(&alice, "report", page(Some(ids[1]))).await.unwrap();
    assert_eq!(last.iter().map(|hit| hit.id).collect::<Vec<_>>(), [ids[0]]);
}

#[tokio::test]
async fn a_search_without_words_too_long_or_too_wide_is_refused_and_syntax_is_words() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(&dir).await;
    let alice = user("alice");
    service.send_im(&alice, None, "bob", "NEAR the end, or not".into()).await.unwrap();
    for query in ["", "   ", "\"", "*", "()", "\u{0}\u{1b}", "😀 🎉", "-- ;", "\"\" : ^"] {
        let refused = service.search_messages(&alice, query, FIRST).await;
        assert!(matches!(refused, Err(ServiceError::Invalid(_))), "{query:?}: {refused:?}");
    }
    let long = "word ".repeat(2_000);
    assert!(matches!(
        service.search_messages(&alice, &long, FIRST).await,
        Err(ServiceError::Invalid(_))
    ));
    let many = "a b c d e f g h i j k l m n o p q";
    assert!(matches!(
        service.search_messages(&alice, many, FIRST).await,
        Err(ServiceError::Invalid(_))
    ));
    for limit in [0, 101] {
        let page = SearchPage { before: None, limit };
        assert!(matches!(
            service.search_messages(&alice, "end", page).await,
            Err(ServiceError::Invalid(_))
        ));
    }
    // FTS5 operators and filters are words like any other.
    for query in
        ["NEAR(end not)", "end OR nothing", "text:end", "\"end", "end*", "^end", "{text}:end"]
    {
        let hits = service.search_messages(&alice, query, FIRST).await;
        assert!(hits.is_ok(), "{query:?}: {hits:?}");
    }
    assert_eq!(
        found(&service, "alice", "NEAR(end not)").await.len(),
        1,
        "all three words are in it"
    );
    assert!(found(&service, "alice", "end OR nothing").await.is_empty(), "OR is a word, not OR");
}

#[tokio::test]
async fn more_searches_than_a_person_types_are_refused_for_a_while() {
    let dir = tempfile::tempdir().unwrap();
    let service = service(&dir).await;
    let alice = user("alice");
    let mut refused = None;
    for _ in 0..200 {
        if let Err(error) = service.search_messages(&alice, "anything", FIRST).await {
            refused = Some(error);
            break;
        }
    }
    assert!(matches!(refused, Some(ServiceError::TooMany(_))), "{refused:?}");
    // Someone else may still search.
    assert!(service.search_messages(&user("bob"), "anything", FIRST).await.is_ok());
}
