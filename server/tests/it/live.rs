//! Live pages, on both databases and across replicas: `/api/events` tells a page following a
//! topic that it changed — whichever replica made the change — and tells it nothing else; the
//! anonymous, someone who may not read the topic, and a malformed request are refused (and
//! someone with no grant may not open a repository's generated files either).

use crate::db_test;
use crate::support::*;
use std::time::Duration;

/// The events a stream brings within `wait`, as `data` lines of `change` events.
async fn changes_within(response: reqwest::Response, wait: Duration) -> Vec<String> {
    use futures_util::StreamExt;
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, body.next()).await {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text.split("\n\n")
        .filter(|event| event.lines().any(|l| l == "event: change"))
        .filter_map(|event| event.lines().find_map(|l| l.strip_prefix("data: ")))
        .map(str::to_string)
        .collect()
}

async fn follow(client: &reqwest::Client, server: &TestServer, topics: &str) -> reqwest::Response {
    client
        .get(server.url(&format!("/api/events?topics={topics}")))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap()
}

db_test! {
    async fn open_pages_hear_of_changes_they_may_read_from_any_replica(db: TestDb) {
        let a = TestServer::start(&db, ServerOptions::default()).await;
        let b = TestServer::start(&db, ServerOptions { demo: false, ..ServerOptions::default() }).await;
        let dev = client();
        demo_sign_in(&dev, &a, "dev").await;
        let ada = client();
        demo_sign_in(&ada, &a, "ada").await;

        // Refusals first: nobody signed in, topics that do not parse (all named at once), too
        // many, and a topic the caller may not read.
        let anonymous = follow(&client(), &b, "release").await;
        assert_eq!(anonymous.status(), 401);
        let bad = follow(&dev, &b, "audit,nothing").await;
        assert_eq!(bad.status(), 422);
        let text = bad.text().await.unwrap();
        assert!(text.contains("\\\"audit\\\"") && text.contains("\\\"nothing\\\""), "{text}");
        assert_eq!(follow(&dev, &b, &vec!["release"; 21].join(",")).await.status(), 422);
        let pat = client();
        demo_sign_in(&pat, &a, "pat").await;
        let (status, body) = call(&ada, &a, "remove_group_member", &[("group", "product"), ("user", "pat")]).await;
        assert_eq!(status, 200, "{body}");
        let refused = follow(&pat, &b, "resource:assets-bucket").await;
        assert_eq!(refused.status(), 403);
        // Nor may they open a governed repository's generated files or planned diffs.
        for endpoint in ["get_generated_file", "get_planned_diff"] {
            let (status, body) = call(&pat, &b, endpoint, &[("name", "payments-api"), ("repository", "payments-api"), ("path", ".github/CODEOWNERS")]).await;
            assert_eq!(status, 403, "{endpoint}: {body}");
        }

        // dev's page on replica B follows one resource; ada changes it, and another, on A.
        let stream = follow(&dev, &b, "resource:assets-bucket,release").await;
        assert_eq!(stream.status(), 200);
        assert_eq!(stream.headers()["content-type"], "text/event-stream");
        // The watcher starts with the first listener and reads from the head on.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let (status, body) = call(&ada, &a, "remove_group_member", &[("group", "qa"), ("user", "quinn")]).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&ada, &a, "resource_action", &[("slug", "assets-bucket"), ("action", "delete")]).await;
        assert_eq!(status, 200, "{body}");
        let heard = changes_within(stream, Duration::from_secs(3)).await;
        assert!(!heard.is_empty(), "the change was heard");
        assert!(heard.iter().all(|h| h == "resource:assets-bucket"), "only the topic followed, named by slug: {heard:?}");
    }
}
