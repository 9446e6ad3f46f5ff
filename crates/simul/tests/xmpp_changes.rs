//! Messages after they were sent, between an XMPP client (slixmpp) and a
//! web user: corrections (XEP-0308), retractions (XEP-0424), reactions
//! (XEP-0444) and read receipts as chat markers (XEP-0333), both ways.

use crate::support;

use reqwest::Method;
use serde_json::json;
use simul_testkit::XmppTransport;
use support::xmpp::{signed_in, xmpp_server};
use support::{deployment_with_names, get_json, log_in, next_of_type, post_json, request_json};

#[tokio::test(flavor = "multi_thread")]
async fn corrections_retractions_reactions_and_receipts_cross_between_xmpp_and_the_web() {
    let dir = deployment_with_names(&[("alice", "Alice Allen"), ("bob", "Bob Builder")]);
    let (server, starttls, _) = xmpp_server(&dir.path().join("data"));
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let mut bobs = support::events(&server, &bob).await;
    let mut alice = signed_in(starttls, "alice", XmppTransport::StartTls);
    alice.send("presence");

    // Alice (XMPP) corrects her message: the web sees an edit, not a new one.
    alice.send("message_with_id bob@localhost a1 lunch at 12?");
    let im = next_of_type(&mut bobs, "im").await;
    let id = im["id"].as_u64().unwrap();
    alice.send("correct bob@localhost a1 lunch at 1?");
    let edited = next_of_type(&mut bobs, "message_edited").await;
    assert_eq!((&edited["message"], &edited["text"]), (&json!(id), &json!("lunch at 1?")));
    let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
    assert_eq!(history.as_array().unwrap().len(), 1, "a correction is no new message: {history}");

    // Bob (web) reacts and reads: Alice's client hears both by her own id.
    let reactions = format!("/api/v1/messages/{id}/reactions");
    let thumbs = json!({"emoji": "👍", "on": true});
    assert!(
        request_json(&server, Method::PUT, &reactions, &bob, Some(thumbs)).await.0.is_success()
    );
    assert_eq!(alice.expect("REACTIONS "), "REACTIONS bob@localhost a1 👍");
    let mark = json!({"conversation": "im:alice", "up_to": id});
    post_json(&server, "/api/v1/conversations/read", &bob, &mark).await;
    assert_eq!(alice.expect("DISPLAYED "), "DISPLAYED bob@localhost a1");

    // Bob's message: Alice reacts to it by the id it came with; Bob's
    // edit and deletion reach her as a correction and a retraction.
    let sent = post_json(&server, "/api/v1/im/alice", &bob, &json!({"text": "see you"})).await;
    let theirs = sent["id"].as_u64().unwrap();
    assert_eq!(alice.expect("DELIVERED "), format!("DELIVERED bob@localhost {theirs} see you"));
    alice.send(&format!("react bob@localhost {theirs} 😂"));
    // (Bob's own reaction came back to his page first.)
    let reaction = loop {
        let reaction = next_of_type(&mut bobs, "reaction").await;
        if reaction["user"] == "alice" {
            break reaction;
        }
    };
    assert_eq!(
        (&reaction["user"], &reaction["emoji"], &reaction["on"]),
        (&json!("alice"), &json!("😂"), &json!(true))
    );
    alice.send(&format!("react bob@localhost {theirs}"));
    let taken_back = next_of_type(&mut bobs, "reaction").await;
    assert_eq!((&taken_back["emoji"], &taken_back["on"]), (&json!("😂"), &json!(false)));
    let path = format!("/api/v1/messages/{theirs}");
    assert!(
        request_json(&server, Method::PATCH, &path, &bob, Some(json!({"text": "see you soon"})))
            .await
            .0
            .is_success()
    );
    assert_eq!(
        alice.expect("CORRECTED "),
        format!("CORRECTED bob@localhost {theirs} see you soon")
    );
    // Only its author corrects a message.
    alice.send(&format!("correct bob@localhost {theirs} mine now"));
    assert_eq!(alice.expect("MESSAGE_ERROR "), "MESSAGE_ERROR bob@localhost forbidden");
    let status = reqwest::Client::new().delete(server.url(&path)).bearer_auth(&bob).send().await;
    assert!(status.unwrap().status().is_success());
    assert_eq!(alice.expect("RETRACTED "), format!("RETRACTED bob@localhost {theirs}"));

    // Alice retracts her own message.
    alice.send("retract bob@localhost a1");
    // (Bob's own deletion came back to his page first.)
    while next_of_type(&mut bobs, "message_deleted").await["message"] != id {}
    let history = get_json(&server, "/api/v1/im/alice/history", &bob).await;
    let texts: Vec<_> = history.as_array().unwrap().iter().map(|m| m["deleted"].clone()).collect();
    assert_eq!(texts, [json!(true), json!(true)], "{history}");
}
