//! `Service::message_place` over a real store: where a message was said,
//! for those who may read it, and one answer for everyone else.

mod support;

use simul_core::{MessageId, Place, UserId};
use simul_service::ServiceError;

#[tokio::test]
async fn a_message_is_placed_for_its_readers_and_for_nobody_else() {
    let dir = tempfile::tempdir().unwrap();
    let service = support::service(&dir).await;
    let (alice, bob, carol) = (UserId::new("alice"), UserId::new("bob"), UserId::new("carol"));
    let im = service.send_im(&alice, None, "bob", "hello".into()).await.unwrap();
    let chat = service.create_chat(&alice, std::slice::from_ref(&bob), "plans").await.unwrap();
    service.join_chat(&bob, chat).await.unwrap();
    let (line, _) = service.post_to_chat(&bob, chat, "agenda".into()).await.unwrap();

    let one_to_one = Place::Im { from: alice.clone(), to: bob.clone() };
    assert_eq!(service.message_place(&bob, im.id).await.unwrap(), one_to_one);
    assert_eq!(service.message_place(&alice, line).await.unwrap(), Place::Nway(chat));
    // Not theirs to read, made up, or deleted: the same answer.
    let deleted = service.post_to_chat(&alice, chat, "oops".into()).await.unwrap().0;
    service.delete_message(&alice, None, deleted).await.unwrap();
    let made_up = MessageId::from_raw(u64::MAX);
    for (who, id) in [(&carol, im.id), (&carol, line), (&alice, made_up), (&alice, deleted)] {
        let answer = service.message_place(who, id).await;
        assert!(matches!(answer, Err(ServiceError::NoSuchMessage)), "{who} {id}: {answer:?}");
    }
}
