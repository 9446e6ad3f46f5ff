//! `GET /api/v1/search` on the real server: members only (a third user
//! never finds the others' messages; a group chat's messages for its
//! members now), pages, and answers to malformed and hostile queries.

use crate::support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Server, deployment, log_in, post_json};

async fn search(server: &Server, token: &str, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .get(server.url("/api/v1/search"))
        .query(query)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    (status, answer.json().await.unwrap())
}

/// The (conversation, text) of each result for `q`, in order.
async fn found(server: &Server, token: &str, q: &str) -> Vec<(String, String)> {
    let (status, results) = search(server, token, &[("q", q)]).await;
    assert_eq!(status, StatusCode::OK, "{results}");
    results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["conversation"].as_str().unwrap().to_owned(), r["text"].as_str().unwrap().to_owned())
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn people_find_only_what_they_may_read() {
    let dir = deployment(&["alice", "bob", "carol"]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let (carol, _) = log_in(&server, "carol", "long enough").await;

    let sent =
        post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": "Zebra crossing at noon"}))
            .await;
    let chat =
        post_json(&server, "/api/v1/nway", &alice, &json!({"invite": ["bob"], "topic": "Zoo"}))
            .await;
    let chat = chat["id"].as_u64().unwrap();
    post_json(&server, &format!("/api/v1/nway/{chat}/join"), &bob, &json!({})).await;
    post_json(
        &server,
        &format!("/api/v1/nway/{chat}/messages"),
        &bob,
        &json!({"text": "zebras everywhere"}),
    )
    .await;
    let in_chat = format!("nway:{chat}");

    // Newest first; the last word is a prefix ("zebra" finds "zebras").
    let (status, results) = search(&server, &alice, &[("q", "ZEBRA")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(results[0]["conversation"], in_chat);
    assert_eq!(results[0]["from"], "bob");
    assert_eq!(results[1]["conversation"], "im:bob");
    assert_eq!(results[1]["id"], sent["id"]);
    assert_eq!(results[1]["from"], "alice");
    assert_eq!(results[1]["text"], "Zebra crossing at noon");
    assert!(results[1]["at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().is_ok());
    assert_eq!(
        found(&server, &bob, "zebra").await,
        pairs(&[(&in_chat, "zebras everywhere"), ("im:alice", "Zebra crossing at noon")])
    );
    // The third user finds nothing of theirs, whatever they try.
    for q in ["zebra", "zebras", "crossing", "z*", "\"zebra\" OR \"\"", "NEAR(zebra)", "text:zebra"]
    {
        let (status, results) = search(&server, &carol, &[("q", q)]).await;
        assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "{q}: {status}");
        assert!(results.as_array().is_none_or(Vec::is_empty), "{q}: {results}");
    }
    // Invited is not a member yet; a member who leaves no longer finds the chat's messages.
    post_json(
        &server,
        &format!("/api/v1/nway/{chat}/invite"),
        &alice,
        &json!({"users": ["carol"]}),
    )
    .await;
    assert!(found(&server, &carol, "zebras").await.is_empty());
    post_json(&server, &format!("/api/v1/nway/{chat}/leave"), &bob, &json!({})).await;
    assert_eq!(
        found(&server, &bob, "zebra").await,
        pairs(&[("im:alice", "Zebra crossing at noon")])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn results_page_back_and_bad_queries_are_clear_400s() {
    let dir = deployment(&["alice", "bob"]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    for n in 0..5 {
        post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": format!("page test {n}")}))
            .await;
    }
    let (_, first) = search(&server, &alice, &[("q", "page"), ("limit", "2")]).await;
    let texts = |page: &Value| -> Vec<String> {
        page.as_array().unwrap().iter().map(|r| r["text"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(texts(&first), ["page test 4", "page test 3"]);
    let last_id = first[1]["id"].to_string();
    let (_, second) =
        search(&server, &alice, &[("q", "page"), ("limit", "2"), ("before", &last_id)]).await;
    assert_eq!(texts(&second), ["page test 2", "page test 1"]);

    let long = "x".repeat(10_000);
    for query in [
        vec![("q", "")],
        vec![("q", "  \t ")],
        vec![("q", "\"")],
        vec![("q", "*")],
        vec![("q", "()^:-")],
        vec![("q", "😀🎉")],
        vec![("q", "\u{1}\u{1b}[;\u{7f}")],
        vec![("q", long.as_str())],
        vec![("q", "page"), ("limit", "0")],
        vec![("q", "page"), ("limit", "101")],
        vec![("q", "page"), ("limit", "many")],
        vec![("q", "page"), ("before", "-1")],
        vec![],
    ] {
        let (status, answer) = search(&server, &alice, &query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query:?}: {answer}");
        assert!(answer["error"].as_str().is_some_and(|e| !e.is_empty()), "{answer}");
    }
    let (_, answer) = search(&server, &alice, &[("q", "?!")]).await;
    assert_eq!(answer["error"], "search for at least one word");
    // Syntax of FTS5 in a query is words; right to left text is words too.
    for q in [
        "page\" OR \"",
        "NEAR(page test)",
        "page AND",
        "{text}: page",
        "page*",
        "صفحة",
        "\u{202e}page",
    ] {
        let (status, answer) = search(&server, &alice, &[("q", q)]).await;
        assert_eq!(status, StatusCode::OK, "{q}: {answer}");
    }
    let (status, _) = reqwest::Client::new()
        .get(server.url("/api/v1/search?q=page"))
        .send()
        .await
        .map(|a| (a.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_searches_is_refused_with_retry_after() {
    let dir = deployment(&["alice"]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let http = reqwest::Client::new();
    let mut refused = None;
    for _ in 0..200 {
        let answer = http
            .get(server.url("/api/v1/search?q=anything"))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        if answer.status() != StatusCode::OK {
            refused = Some(answer);
            break;
        }
    }
    let refused = refused.expect("refused before 200 searches");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_message_is_found_by_its_new_words_and_a_deleted_one_not_at_all() {
    let dir = deployment(&["alice", "bob"]);
    let server = Server::start(&dir.path().join("data"));
    let (alice, _) = log_in(&server, "alice", "long enough").await;
    let (bob, _) = log_in(&server, "bob", "long enough").await;
    let http = reqwest::Client::new();
    let first =
        post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": "lunch at noon"})).await;
    let second =
        post_json(&server, "/api/v1/im/bob", &alice, &json!({"text": "lunch is on me"})).await;
    let edit = http
        .patch(server.url(&format!("/api/v1/messages/{}", first["id"])))
        .bearer_auth(&alice)
        .json(&json!({"text": "dinner at eight"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), StatusCode::OK);
    let delete = http
        .delete(server.url(&format!("/api/v1/messages/{}", second["id"])))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::OK);
    assert!(found(&server, &bob, "lunch").await.is_empty(), "neither the old text nor the deleted");
    assert_eq!(found(&server, &bob, "dinner").await, pairs(&[("im:alice", "dinner at eight")]));
}
