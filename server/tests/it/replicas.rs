//! Two replicas over one database, each with its own read caches: what one replica changes,
//! the other serves on the very next request — lists, permissions and signed-out sessions.

use crate::db_test;
use crate::support::*;

async fn resources_page(client: &reqwest::Client, server: &TestServer) -> serde_json::Value {
    let (status, body) = call(client, server, "get_resources", &[("page", "0")]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn state_of(page: &serde_json::Value, slug: &str) -> String {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} is listed: {page}"))["state"]
        .as_str()
        .unwrap()
        .to_string()
}

db_test! {
    async fn replicas_never_serve_what_another_changed(db: TestDb) {
        let a = TestServer::start(&db, ServerOptions::default()).await;
        let b = TestServer::start(&db, ServerOptions { demo: false, ..ServerOptions::default() }).await;
        // One browser behind a load balancer: the same session cookie reaches both replicas.
        let dev = client();
        demo_sign_in(&dev, &a, "dev").await;
        let admin = client();
        demo_sign_in(&admin, &a, "ada").await;

        let before = resources_page(&dev, &b).await;
        assert_eq!(before["can_create"], true, "{before}");
        assert_eq!(state_of(&before, "assets-bucket"), "provision");
        // The second read is served from B's caches.
        assert_eq!(resources_page(&dev, &b).await, before);
        assert!(!b.ctx.cache.callers.is_empty(), "B caches the caller");
        assert!(!b.ctx.cache.resource_pages.is_empty(), "B caches the page");

        // A change made on A shows on B at once.
        let (status, body) = call(
            &admin,
            &a,
            "resource_action",
            &[("slug", "assets-bucket"), ("action", "delete")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let after = resources_page(&dev, &b).await;
        assert_eq!(after["total"], before["total"].as_u64().unwrap() - 1, "{after}");
        assert!(!after.to_string().contains("assets-bucket"), "{after}");

        // So does a permission taken away on A.
        let (status, body) = call(
            &admin,
            &a,
            "remove_group_member",
            &[("group", "developers"), ("user", "dev")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&dev, &b, "get_resources", &[("page", "0")]).await;
        assert!(
            status == 403 || body.contains("\"can_create\":false"),
            "dev lost the member role on A but B still grants it: {status} {body}"
        );

        // And signing out on A ends the session on B, even for a copy of the cookie that the
        // browser did not drop (a stolen one).
        let raw = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let signed_in = raw.post(a.url("/auth/demo/ada")).send().await.unwrap();
        let cookie = signed_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let list_on_b = || {
            raw.post(b.url("/api/get_resources"))
                .header("cookie", &cookie)
                .form(&[("page", "0")])
                .send()
        };
        assert_eq!(list_on_b().await.unwrap().status().as_u16(), 200);
        assert_eq!(list_on_b().await.unwrap().status().as_u16(), 200);
        let response = raw
            .post(a.url("/auth/logout"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(
            list_on_b().await.unwrap().status().as_u16(),
            401,
            "a signed-out session still works on B"
        );
    }
}
