//! The local forge over smart HTTP with the git CLI: a member clones and pushes with a personal
//! access token, a viewer clones but may not push, and no token, a wrong one or a revoked one
//! gets nothing. The push is audited with the refs it moved; the token is stored hashed.

use crate::db_test;
use crate::support::{
    call, client, demo_sign_in, git, git_async, git_ok, ServerOptions, TestServer,
};
use app::server::entities::{access_tokens, audit_events};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// A write-scoped token of `login`'s, for 30 days.
async fn token(server: &TestServer, login: &str, name: &str) -> (reqwest::Client, String) {
    let user = client();
    demo_sign_in(&user, server, login).await;
    let (status, body) = call(
        &user,
        server,
        "create_access_token",
        &[("name", name), ("scope", "write"), ("days", "30")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    (user, created["token"].as_str().unwrap().to_string())
}

fn url_with(server: &TestServer, login: &str, token: &str) -> String {
    let host = server.base.trim_start_matches("http://");
    format!("http://{login}:{token}@{host}/git/acme/live.git")
}

db_test! {
    async fn members_push_and_viewers_clone_with_access_tokens(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        assert_eq!(call(&admin, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
        let register = [("input[integration]", "local-git"), ("input[repository]", "acme/live")];
        assert_eq!(call(&admin, &server, "register_workspace", &register).await.0, 200);

        // Bad names are refused and nothing is made.
        let member = client();
        demo_sign_in(&member, &server, "dev").await;
        let (status, body) = call(&member, &server, "create_access_token", &[("name", "  ")]).await;
        assert_eq!((status, body.contains("name")), (422, true), "{body}");
        let (member, member_token) = token(&server, "dev", "laptop git").await;
        let (status, body) = call(&member, &server, "create_access_token", &[("name", "laptop git")]).await;
        assert_eq!((status, body.contains("already have a token named")), (422, true), "{body}");
        assert!(member_token.starts_with("slw_") && member_token.len() == 44);
        // Stored hashed: the token itself is nowhere in the table, nor in the audit log.
        let rows = access_tokens::Entity::find().all(&server.ctx.db).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_ne!(rows[0].token_hash, member_token);
        assert_eq!(rows[0].prefix, member_token[..8]);
        let events = audit_events::Entity::find().all(&server.ctx.db).await.unwrap();
        assert!(events.iter().all(|e| !format!("{e:?}").contains(&member_token)));
        let (status, body) = call(&member, &server, "get_account", &[]).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body.contains(&member_token), "the list never shows a token again");
        assert!(body.contains(&format!("{}/git/acme/live.git", server.base)), "{body}");

        // The member clones, commits and pushes.
        let work = tempfile_dir(&server, "member");
        git_ok(&work, &["clone", "-q", &url_with(&server, "dev", &member_token), "live"]).await;
        let live = work.join("live");
        std::fs::write(live.join("notes.md"), "pushed over smart HTTP\n").unwrap();
        git(&live, &["add", "notes.md"]);
        git(&live, &["commit", "-q", "-m", "Add notes"]);
        git_ok(&live, &["push", "-q", "origin", "HEAD:refs/heads/notes"]).await;
        let bare = server.data_dir.join("git/acme/live.git");
        assert_eq!(git(&bare, &["show", "notes:notes.md"]), "pushed over smart HTTP");
        // The push is audited (after the pack is in), naming the member and the ref.
        let mut pushed = None;
        for _ in 0..50 {
            pushed = audit_events::Entity::find()
                .filter(audit_events::Column::Action.eq("forge.push"))
                .one(&server.ctx.db)
                .await
                .unwrap();
            if pushed.is_some() { break; }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let pushed = pushed.expect("the push was audited");
        assert_eq!((pushed.actor.as_str(), pushed.entity_id.as_str()), ("dev", "acme/live"));
        assert!(format!("{pushed:?}").contains("refs/heads/notes"));

        // A viewer fetches but may not push.
        let (_, viewer_token) = token(&server, "pat", "ci").await;
        let work = tempfile_dir(&server, "viewer");
        git_ok(&work, &["clone", "-q", &url_with(&server, "pat", &viewer_token), "live"]).await;
        let live = work.join("live");
        assert_eq!(git(&live, &["show", "origin/notes:notes.md"]), "pushed over smart HTTP");
        std::fs::write(live.join("x.md"), "x\n").unwrap();
        git(&live, &["add", "x.md"]);
        git(&live, &["commit", "-q", "-m", "x"]);
        let refused = git_async(&live, &["push", "origin", "HEAD:refs/heads/viewer"]).await;
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("403"), "{}", String::from_utf8_lossy(&refused.stderr));
        assert!(crate::support::git_output(&bare, &["rev-parse", "--verify", "refs/heads/viewer"]).status.code() != Some(0));

        // No token, a wrong token, a token for another repository's path tricks: nothing.
        let host = server.base.trim_start_matches("http://").to_string();
        let work = tempfile_dir(&server, "strangers");
        for url in [
            format!("http://{host}/git/acme/live.git"),
            format!("http://dev:slw_0000000000000000000000000000000000000000@{host}/git/acme/live.git"),
            format!("http://dev:{member_token}@{host}/git/acme/missing.git"),
        ] {
            let out = git_async(&work, &["clone", "-q", &url, "x"]).await;
            assert!(!out.status.success(), "{url}");
            let errors = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(!errors.contains(&member_token[4..]), "a token never comes back in an error: {errors}");
        }
        let http = reqwest::Client::new();
        let anonymous = http.get(format!("{}/git/acme/live.git/info/refs?service=git-upload-pack", server.base)).send().await.unwrap();
        assert_eq!(anonymous.status().as_u16(), 401);
        assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
        // Only the smart protocol is served: no dumb file reads such as config or HEAD.
        // Nor any path that would leave the forge's folder.
        for path in [
            "/git/acme/live.git/config",
            "/git/acme/live.git/HEAD",
            "/git/acme/live.git/info/refs",
            "/git/%2e%2e/acme/live.git/info/refs?service=git-upload-pack",
            "/git/acme/..%2F..%2Flive.git/info/refs?service=git-upload-pack",
            "/git/acme/.git/info/refs?service=git-upload-pack",
            "/git/acme/live/extra.git/info/refs?service=git-upload-pack",
        ] {
            let r = http.get(format!("{}{path}", server.base)).basic_auth("dev", Some(&member_token)).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 404, "{path}");
        }

        // A read-only token clones but does not push; an expired one opens nothing. A token
        // is made for a while and a scope only from the lists offered.
        let (status, body) = call(&member, &server, "create_access_token", &[("name", "reader"), ("scope", "admin")]).await;
        assert_eq!((status, body.contains("scope")), (422, true), "{body}");
        let (status, body) = call(&member, &server, "create_access_token", &[("name", "reader"), ("days", "36500")]).await;
        assert_eq!((status, body.contains("days")), (422, true), "{body}");
        let (status, body) = call(&member, &server, "create_access_token", &[("name", "reader")]).await;
        assert_eq!(status, 200, "{body}");
        let reader: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!((reader["row"]["scope"].as_str(), reader["row"]["expired"].as_bool()), (Some("read"), Some(false)), "read for 90 days unless asked");
        let reader_token = reader["token"].as_str().unwrap().to_string();
        let work = tempfile_dir(&server, "reader");
        git_ok(&work, &["clone", "-q", &url_with(&server, "dev", &reader_token), "live"]).await;
        let live = work.join("live");
        std::fs::write(live.join("r.md"), "r\n").unwrap();
        git(&live, &["add", "r.md"]);
        git(&live, &["commit", "-q", "-m", "r"]);
        let refused = git_async(&live, &["push", "origin", "HEAD:refs/heads/reader"]).await;
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("403"), "{}", String::from_utf8_lossy(&refused.stderr));
        let reader_row = access_tokens::Entity::find().filter(access_tokens::Column::Name.eq("reader")).one(&server.ctx.db).await.unwrap().unwrap();
        let mut expired: access_tokens::ActiveModel = reader_row.into();
        expired.expires_at = sea_orm::Set(Some(chrono::Utc::now() - chrono::Duration::minutes(1)));
        sea_orm::ActiveModelTrait::update(expired, &server.ctx.db).await.unwrap();
        let http = reqwest::Client::new();
        let gone = http.get(format!("{}/git/acme/live.git/info/refs?service=git-upload-pack", server.base)).basic_auth("dev", Some(&reader_token)).send().await.unwrap();
        assert_eq!(gone.status().as_u16(), 401);
        let (_, account) = call(&member, &server, "get_account", &[]).await;
        assert!(account.contains("\"expired\":true"), "the account page says so: {account}");

        // Revoked: the next clone is refused.
        let id = rows[0].id.to_string();
        let (status, body) = call(&admin, &server, "revoke_access_token", &[("id", &id)]).await;
        assert_eq!(status, 404, "nobody revokes another person's token: {body}");
        let (status, body) = call(&member, &server, "revoke_access_token", &[("id", &id)]).await;
        assert_eq!(status, 200, "{body}");
        let out = git_async(&work, &["clone", "-q", &url_with(&server, "dev", &member_token), "y"]).await;
        assert!(!out.status.success());
        let revoked = http.get(format!("{}/git/acme/live.git/info/refs?service=git-upload-pack", server.base)).basic_auth("dev", Some(&member_token)).send().await.unwrap();
        assert_eq!(revoked.status().as_u16(), 401);
    }
}

fn tempfile_dir(server: &TestServer, name: &str) -> std::path::PathBuf {
    let dir = server.data_dir.join("clones").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `git push` with `args` in `dir`: (succeeded, what git printed).
async fn push(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let mut all = vec!["push", "--porcelain"];
    all.extend_from_slice(args);
    let out = git_async(dir, &all).await;
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

db_test! {
    async fn guarded_branches_and_tags_take_no_push_from_people(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        assert_eq!(call(&admin, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
        let register = [("input[integration]", "local-git"), ("input[repository]", "acme/live")];
        assert_eq!(call(&admin, &server, "register_workspace", &register).await.0, 200);
        let bare = server.data_dir.join("git/acme/live.git");
        let (_, token_of_dev) = token(&server, "dev", "laptop").await;
        let work = tempfile_dir(&server, "dev");
        git_ok(&work, &["clone", "-q", &url_with(&server, "dev", &token_of_dev), "live"]).await;
        let live = work.join("live");
        let commit = |file: &str| {
            std::fs::write(live.join(file), format!("{file}\n")).unwrap();
            git(&live, &["add", file]);
            git(&live, &["commit", "-q", "-m", &format!("chore: add {file}")]);
        };
        let main_before = git(&bare, &["rev-parse", "main"]);

        // The workspace's default branch: no push, no force push, no delete — each declined
        // as a hook would be, and audited; and one guarded ref refuses the whole push.
        commit("direct.md");
        let (ok, out) = push(&live, &["origin", "HEAD:main"]).await;
        assert!(!ok, "{out}");
        assert!(out.contains("refs/heads/main") && out.contains("main is protected: only Slipway's reviewed merges move it"), "{out}");
        let (ok, out) = push(&live, &["--force", "origin", "HEAD:main"]).await;
        assert!(!ok && out.contains("main is protected"), "{out}");
        let (ok, out) = push(&live, &["origin", ":main"]).await;
        assert!(!ok && out.contains("main is protected"), "{out}");
        let (ok, out) = push(&live, &["origin", "HEAD:refs/heads/feature", "HEAD:main"]).await;
        assert!(!ok && out.contains("the push was refused whole"), "{out}");
        assert_eq!(git(&bare, &["rev-parse", "main"]), main_before, "main did not move");
        assert!(crate::support::git_output(&bare, &["rev-parse", "--verify", "refs/heads/feature"]).status.code() != Some(0), "nothing of a refused push lands");
        let refused = audit_events::Entity::find()
            .filter(audit_events::Column::Action.eq("forge.push_refused"))
            .all(&server.ctx.db)
            .await
            .unwrap();
        assert_eq!(refused.len(), 4);
        assert!(refused.iter().all(|e| e.actor == "dev"));

        // Other branches take pushes (a feature branch, force-pushed too); tags are made once.
        let (ok, out) = push(&live, &["origin", "HEAD:refs/heads/feature"]).await;
        assert!(ok, "{out}");
        git(&live, &["commit", "-q", "--amend", "-m", "chore: add direct.md, amended"]);
        let (ok, out) = push(&live, &["--force", "origin", "HEAD:refs/heads/feature"]).await;
        assert!(ok, "{out}");
        git(&live, &["tag", "v1.0.0"]);
        let (ok, out) = push(&live, &["origin", "refs/tags/v1.0.0"]).await;
        assert!(ok, "{out}");
        commit("later.md");
        git(&live, &["tag", "-f", "v1.0.0"]);
        let (ok, out) = push(&live, &["--force", "origin", "refs/tags/v1.0.0"]).await;
        assert!(!ok && out.contains("tags never move or go once made"), "{out}");
        let (ok, out) = push(&live, &["origin", ":refs/tags/v1.0.0"]).await;
        assert!(!ok && out.contains("tags never move or go once made"), "{out}");
        let (ok, out) = push(&live, &["origin", "HEAD:refs/notes/sneaky"]).await;
        assert!(!ok && out.contains("only branches and tags can be pushed"), "{out}");

        // The environments repository: only release admins push at all, and nobody to main
        // (deployments are Slipway's commits, after sign-off).
        server.ctx.local_git.ensure(app::server::deployments::ENVIRONMENTS_REPOSITORY, &[], "Slipway").await.unwrap();
        let host = server.base.trim_start_matches("http://").to_string();
        let environments = |login: &str, token: &str| format!("http://{login}:{token}@{host}/git/local/environments.git");
        let (_, token_of_ada) = token(&server, "ada", "laptop").await;
        let out = git_async(&work, &["clone", "-q", &environments("ada", &token_of_ada), "environments"]).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let envs = work.join("environments");
        std::fs::write(envs.join("production.yaml"), "version: v9.9.9\n").unwrap();
        git(&envs, &["add", "."]);
        git(&envs, &["commit", "-q", "-m", "deploy(production): skip sign-off"]);
        let (ok, out) = push(&envs, &["origin", "HEAD:main"]).await;
        assert!(!ok && out.contains("main is protected"), "even an admin: {out}");
        git(&envs, &["remote", "set-url", "origin", &environments("dev", &token_of_dev)]);
        let (ok, out) = push(&envs, &["origin", "HEAD:refs/heads/sneaky"]).await;
        assert!(!ok && out.contains("403"), "a member may not push there at all: {out}");
    }
}

db_test! {
    async fn pushes_and_fetches_are_bounded_in_size_time_and_number(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions {
            settings: vec![
                ("SLIPWAY_GIT_MAX_PUSH_MB", "1".into()),
                ("SLIPWAY_GIT_CONCURRENCY", "1".into()),
                ("SLIPWAY_GIT_TIMEOUT_SECONDS", "3".into()),
            ],
            ..ServerOptions::default()
        }).await;
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        assert_eq!(call(&admin, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
        let register = [("input[integration]", "local-git"), ("input[repository]", "acme/live")];
        assert_eq!(call(&admin, &server, "register_workspace", &register).await.0, 200);
        let (_, member_token) = token(&server, "dev", "laptop git").await;
        let work = tempfile_dir(&server, "bounded");
        git_ok(&work, &["clone", "-q", &url_with(&server, "dev", &member_token), "live"]).await;
        let live = work.join("live");
        let bare = server.data_dir.join("git/acme/live.git");

        // 3 MB that does not compress: refused past the 1 MB limit, and the branch never made.
        let mut noise = vec![0u8; 3 << 20];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for byte in noise.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = x as u8;
        }
        std::fs::write(live.join("blob.bin"), &noise).unwrap();
        git(&live, &["add", "blob.bin"]);
        git(&live, &["commit", "-q", "-m", "Add a big blob"]);
        let (ok, said) = push(&live, &["origin", "HEAD:refs/heads/big"]).await;
        assert!(!ok, "{said}");
        assert!(crate::support::git_output(&bare, &["rev-parse", "--verify", "-q", "refs/heads/big"]).stdout.is_empty(), "{said}");
        // A small push still goes through.
        git(&live, &["reset", "-q", "--hard", "HEAD~1"]);
        std::fs::write(live.join("small.md"), "small\n").unwrap();
        git(&live, &["add", "small.md"]);
        git(&live, &["commit", "-q", "-m", "Add a small file"]);
        let (ok, said) = push(&live, &["origin", "HEAD:refs/heads/small"]).await;
        assert!(ok, "{said}");

        // One slot: a push that holds it (its commands never finish arriving) turns the next
        // request away with 503 and Retry-After; after the time limit the slot is free again.
        let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
        sender.send(Ok(b"00a0".to_vec())).await.unwrap();
        let endpoint = format!("{}/git/acme/live.git/git-receive-pack", server.base);
        let held = tokio::spawn({
            let token = member_token.clone();
            async move {
                reqwest::Client::new()
                    .post(endpoint)
                    .basic_auth("dev", Some(token))
                    .header("content-type", "application/x-git-receive-pack-request")
                    .body(reqwest::Body::wrap_stream(tokio_stream_of(receiver)))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }
        });
        let refs = format!("{}/git/acme/live.git/info/refs?service=git-upload-pack", server.base);
        let http = reqwest::Client::new();
        // Let the held push take the slot before anyone else asks.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let mut busy = None;
        for _ in 0..50 {
            let answer = http.get(&refs).basic_auth("dev", Some(&member_token)).send().await.unwrap();
            if answer.status() == 503 {
                busy = Some(answer);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let busy = busy.expect("the second request is turned away while the first holds the slot");
        assert_eq!(busy.headers()["retry-after"], "5");
        // The held push times out (408) and frees the slot.
        assert_eq!(held.await.unwrap().unwrap(), 408);
        drop(sender);
        let again = http.get(&refs).basic_auth("dev", Some(&member_token)).send().await.unwrap();
        assert_eq!(again.status(), 200);
    }
}

/// The chunks a test sends, as a stream a request body can take.
fn tokio_stream_of(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}
