//! Review gates that hold against a member trying to go around them, on both databases:
//! nobody approves a pull request holding their own change (the author, or someone who wrote a
//! commit into it since); an approval names the commit reviewed, and the merge takes exactly
//! that commit — a commit pushed to the branch behind Slipway's back is not merged under it;
//! recreate, which merges on its initiator's word, writes back only code someone else approved;
//! writing a resource into a workspace takes update on that workspace; an integration is
//! attached and planned with only by those bound to it, applied with only by its admins, and
//! its git credentials go only to its provider's hosts.

use crate::db_test;
use crate::support::*;
use crate::workspaces::{bucket_form, job_log, settled};

db_test! {
    async fn reviews_bind_to_the_commit_reviewed_and_never_to_its_authors(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let (admin, dev, riley, quinn) = (client(), client(), client(), client());
        demo_sign_in(&admin, &server, "ada").await;
        demo_sign_in(&dev, &server, "dev").await;
        demo_sign_in(&riley, &server, "riley").await;
        demo_sign_in(&quinn, &server, "quinn").await;
        assert_eq!(call(&admin, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
        let register = [("input[integration]", "local-git"), ("input[repository]", "acme/live"), ("input[labels]", "prod")];
        let (status, body) = call(&admin, &server, "register_workspace", &register).await;
        assert_eq!(status, 200, "{body}");
        let bare = server.data_dir.join("git/acme/live.git");

        // Writing a resource into a workspace takes update on the workspace: quinn, made a
        // member of resources but only a viewer of workspaces, may not.
        let (status, body) = call(&admin, &server, "create_role_binding", &[
            ("binding[subject_kind]", "user"), ("binding[subject]", "quinn"), ("binding[role]", "member"),
            ("binding[scope_kind]", "entity_type"), ("binding[entity_type]", "resource"), ("binding[entity_id]", ""),
        ]).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&quinn, &server, "create_resource", &bucket_form("sneaky", "Sneaky", "acme-sneaky")).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("member role on workspace acme-live"), "{body}");
        let mut outside: Vec<(&str, &str)> = bucket_form("loose", "Loose", "acme-loose");
        outside.retain(|(k, _)| *k != "input[workspace]");
        let (status, body) = call(&quinn, &server, "create_resource", &outside).await;
        assert_eq!(status, 200, "a resource in no workspace needs no workspace right: {body}");

        // dev creates; dev may not approve, and neither may riley once riley edits it.
        let (status, body) = call(&dev, &server, "create_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("provision".into(), "ready".into()));
        let (status, body) = review(&dev, &server, "logs", true).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("holds your change: someone else must approve it"), "{body}");
        let (status, body) = call(&riley, &server, "update_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs-eu")).await;
        assert_eq!(status, 200, "{body}");
        settled(&server, "logs").await;
        let (status, body) = review(&riley, &server, "logs", true).await;
        assert_eq!(status, 403, "riley's commit is in it now: {body}");

        // An approval names the commit reviewed: none, or one that is no longer the head, is
        // refused and queues nothing.
        let head = open_pull_head(&admin, &server, "logs").await;
        assert_eq!(head.len(), 40);
        let (status, body) = call(&admin, &server, "review_resource", &[("slug", "logs"), ("approve", "true"), ("commit", "")]).await;
        assert_eq!(status, 422, "{body}");
        let stale = "0123456789abcdef0123456789abcdef01234567";
        let (status, body) = call(&admin, &server, "review_resource", &[("slug", "logs"), ("approve", "true"), ("commit", stale)]).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("changed since you reviewed it"), "{body}");

        // A commit pushed onto the branch behind Slipway's back: the page still shows the
        // reviewed commit, and approving it merges nothing else — the job refuses.
        let scratch = server.data_dir.join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        git(&scratch, &["clone", "-q", "-b", "update_audit_logs", bare.to_str().unwrap(), "live"]);
        let live = scratch.join("live");
        std::fs::write(live.join("s3-bucket/audit_logs/backdoor.tf"), "resource \"null_resource\" \"x\" {}\n").unwrap();
        git(&live, &["add", "."]);
        git(&live, &["-c", "user.name=Mallory", "-c", "user.email=m@example.com", "commit", "-q", "-m", "sneak in"]);
        git(&live, &["push", "-q", "origin", "update_audit_logs"]);
        let main_before = git(&bare, &["rev-parse", "main"]);
        assert_eq!(open_pull_head(&admin, &server, "logs").await, head, "the page shows what Slipway pushed");
        let (status, body) = review(&admin, &server, "logs", true).await;
        assert_eq!(status, 200, "{body}");
        let (_, status) = settled(&server, "logs").await;
        assert_eq!(status, "error");
        let log = job_log(&server).await;
        assert!(log.contains("was approved; not merged: the new commits need a review of their own"), "{log}");
        assert_eq!(git(&bare, &["rev-parse", "main"]), main_before, "main did not move");
        assert!(!git(&bare, &["ls-tree", "-r", "--name-only", "main"]).contains("backdoor"));

        // Recreate merges on its initiator's word alone: only code someone else approved.
        // dev's edit of a provisioned resource, rejected by dev, is not written back by it.
        let (status, body) = call(&dev, &server, "create_resource", &bucket_form("assets", "Assets", "acme-assets")).await;
        assert_eq!(status, 200, "{body}");
        settled(&server, "assets").await;
        let (status, body) = review(&admin, &server, "assets", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "assets").await, ("provisioned".into(), "done".into()));
        let (status, body) = call(&dev, &server, "update_resource", &bucket_form("assets", "Assets", "acme-assets-public")).await;
        assert_eq!(status, 200, "{body}");
        settled(&server, "assets").await;
        let (status, body) = review(&dev, &server, "assets", false).await;
        assert_eq!(status, 200, "an author may withdraw their change: {body}");
        // The rejected edit leaves it to be synced again, which recreate does not do…
        assert_eq!(settled(&server, "assets").await, ("provision".into(), "ready".into()));
        let (status, body) = call(&dev, &server, "recreate_resource", &[("slug", "assets")]).await;
        assert_eq!(status, 409, "{body}");
        // …and should anything leave it provisioned with an edit nobody approved, recreate
        // still refuses: it writes back the revision last merged, or nothing.
        {
            use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
            let row = app::server::entities::resources::Entity::find().filter(app::server::entities::resources::Column::Slug.eq("assets")).one(&server.ctx.db).await.unwrap().unwrap();
            let mut active: app::server::entities::resources::ActiveModel = row.into();
            active.state = Set(app::domain::resources::ResourceState::Provisioned);
            active.update(&server.ctx.db).await.unwrap();
        }
        let (status, body) = call(&dev, &server, "recreate_resource", &[("slug", "assets")]).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("changed since its code was last approved (revision 1 was merged; now revision 2)"), "{body}");
        assert!(!git(&bare, &["show", "main:s3-bucket/assets/variables.tf"]).contains("acme-assets-public"));
    }
}

db_test! {
    async fn integrations_are_used_only_by_those_bound_to_them_and_applied_by_their_admins(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let (admin, dev, quinn) = (client(), client(), client());
        demo_sign_in(&admin, &server, "ada").await;
        demo_sign_in(&dev, &server, "dev").await;
        demo_sign_in(&quinn, &server, "quinn").await;
        // quinn may change executors and resources, but holds no binding on integrations.
        let (status, body) = call(&admin, &server, "create_role_binding", &[
            ("binding[subject_kind]", "user"), ("binding[subject]", "quinn"), ("binding[role]", "member"),
            ("binding[scope_kind]", "entity_type"), ("binding[entity_type]", "resource"), ("binding[entity_id]", ""),
        ]).await;
        assert_eq!(status, 200, "{body}");
        let executor = |slug: &'static str, with: Option<&'static str>| {
            let mut form = vec![
                ("input[slug]", slug), ("input[name]", "Scratch"), ("input[runtime]", "terraform"),
                ("input[command]", "-var name=x"), ("input[source_id]", "1"), ("input[git_ref]", "v1.2.0"),
                ("input[module_path]", "aws-vpc"),
            ];
            if let Some(integration) = with {
                form.push(if integration == "aws-production" { ("input[integrations][aws-production]", "on") } else { ("input[integrations][local-git]", "on") });
            }
            form
        };
        // Attaching the production cloud integration takes use on it: refused, nothing saved.
        let (status, body) = call(&quinn, &server, "create_executor", &executor("mine", Some("aws-production"))).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("integration aws-production"), "{body}");
        assert_eq!(call(&quinn, &server, "get_executor", &[("slug", "mine")]).await.0, 404);
        let (status, body) = call(&quinn, &server, "update_executor", &executor("scratch-network", Some("aws-production"))).await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = call(&quinn, &server, "create_executor", &executor("mine", None)).await;
        assert_eq!(status, 200, "with no integration it needs none: {body}");
        // Running with it is checked at the click, whoever saved the executor.
        let (status, body) = call(&quinn, &server, "run_executor", &[("slug", "scratch-network"), ("action", "plan")]).await;
        assert_eq!(status, 403, "{body}");
        // The developers are bound to integrations as members: they plan, and an apply takes
        // administer on each attached integration — which the page says before the click.
        let (status, body) = call(&dev, &server, "get_executor", &[("slug", "scratch-network")]).await;
        assert_eq!(status, 200, "{body}");
        let detail: app::api::executors::ExecutorDetail = serde_json::from_str(&body).unwrap();
        assert!(detail.can_run);
        assert!(detail.apply_refused.as_deref().is_some_and(|why| why.contains("admin role on integration aws-production")), "{:?}", detail.apply_refused);
        let (status, body) = call(&dev, &server, "run_executor", &[("slug", "scratch-network"), ("action", "apply")]).await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = call(&dev, &server, "run_executor", &[("slug", "scratch-network"), ("action", "plan")]).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&admin, &server, "get_executor", &[("slug", "scratch-network")]).await;
        assert_eq!(status, 200, "{body}");
        assert!(serde_json::from_str::<app::api::executors::ExecutorDetail>(&body).unwrap().apply_refused.is_none());

        // An executor that applied something holds its state: pointing it at other code would
        // hand that state to the code, so it takes admin on the executor, not update.
        use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
        let row = app::server::entities::executors::Entity::find().filter(app::server::entities::executors::Column::Slug.eq("scratch-network")).one(&server.ctx.db).await.unwrap().unwrap();
        let mut active: app::server::entities::executors::ActiveModel = row.into();
        active.tf_state = Set(Some("sealed state".into()));
        active.update(&server.ctx.db).await.unwrap();
        let mut moved = executor("scratch-network", Some("aws-production"));
        for field in moved.iter_mut() {
            if field.0 == "input[git_ref]" {
                field.1 = "v1.0.0";
            }
        }
        let (status, body) = call(&dev, &server, "update_executor", &moved).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("holds the state of what it applied"), "{body}");
        let (status, body) = call(&dev, &server, "update_executor", &executor("scratch-network", Some("aws-production"))).await;
        assert_eq!(status, 200, "the same code, another name: {body}");

        // A git integration's token goes only to its provider's hosts: a source elsewhere is
        // refused before anything is fetched (no request leaves for it).
        let (status, body) = call(&admin, &server, "create_integration", &[
            ("input[slug]", "github-acme"), ("input[name]", "GitHub Acme"), ("input[provider]", "github"),
            ("input[settings][organization]", "acme"), ("input[secrets][token]", "ghp_0123456789abcdefghij"),
        ]).await;
        assert_eq!(status, 200, "{body}");
        for url in ["https://evil.example/acme/modules.git", "http://127.0.0.1:9/acme/modules.git", "git@github.com.evil.example:acme/modules.git"] {
            let (status, body) = call(&dev, &server, "create_source", &[("source[url]", url), ("source[integration]", "github-acme"), ("source[description]", "")]).await;
            assert_eq!(status, 422, "{url}: {body}");
            assert!(body.contains("credentials go only to github.com"), "{url}: {body}");
        }
    }
}

db_test! {
    async fn another_site_s_page_changes_nothing_and_pages_say_what_they_may_load(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let dev = client();
        demo_sign_in(&dev, &server, "dev").await;
        let post = |origin: Option<&'static str>, site: Option<&'static str>, name: &'static str| {
            let mut request = dev.post(server.url("/api/create_access_token")).form(&[("name", name)]);
            if let Some(origin) = origin {
                request = request.header("Origin", origin);
            }
            if let Some(site) = site {
                request = request.header("Sec-Fetch-Site", site);
            }
            request.send()
        };
        // The signed-in developer's browser, on another site's page, posting here: refused.
        let forged = post(Some("https://evil.example"), None, "forged").await.unwrap();
        assert_eq!(forged.status().as_u16(), 403);
        assert!(forged.text().await.unwrap().contains("another site's page"));
        assert_eq!(post(None, Some("cross-site"), "forged-too").await.unwrap().status().as_u16(), 403);
        assert_eq!(post(Some("null"), None, "sandboxed").await.unwrap().status().as_u16(), 403);
        let (_, account) = call(&dev, &server, "get_account", &[]).await;
        assert!(!account.contains("forged") && !account.contains("sandboxed"), "{account}");
        // Its own pages, and clients that are not browsers, go through.
        let own: &'static str = Box::leak(server.base.clone().into_boxed_str());
        assert_eq!(post(Some(own), Some("same-origin"), "from the page").await.unwrap().status().as_u16(), 200);
        assert_eq!(post(None, None, "from the cli").await.unwrap().status().as_u16(), 200);
        // Every page says what it may load.
        let page = dev.get(server.url("/resources")).send().await.unwrap();
        let policy = page.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'") && policy.contains("form-action 'self'"), "{policy}");
    }
}

db_test! {
    async fn a_hundred_thousand_levels_of_nesting_are_refused_where_they_are_and_the_server_serves_on(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let dev = client();
        demo_sign_in(&dev, &server, "dev").await;
        // Manifests (YAML): block nesting past the limit, and flow nesting 100,000 deep.
        let mut block = String::from("apiVersion: lowops.manifests.v1\nkind: GithubRepository\nmetadata:\n  name: deep\nspec:\n");
        for level in 0..100 {
            block.push_str(&format!("{}k{level}:\n", " ".repeat(level + 2)));
        }
        let flow = format!("apiVersion: lowops.manifests.v1\nkind: GithubRepository\nmetadata:\n  name: deep\nspec: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        for source in [block, flow] {
            let (status, body) = call(&dev, &server, "save_repository", &[("name", ""), ("revision", "0"), ("source", &source)]).await;
            assert_eq!(status, 422, "{body:.300}");
            assert!(body.contains("nested deeper than 64 levels") || body.contains("recursion limit"), "{body:.300}");
            // Where: the 65th level of the block (line 69), the first bracket past the limit.
            assert!(body.contains("manifests.yaml:69:") || body.contains("manifests.yaml:5:"), "the place is named: {body:.300}");
        }
        // A module (HCL) 100,000 levels deep: its file, line and column are named.
        let repo = server.data_dir.join("git/team/deep.git");
        module_repository(&repo, &[("deep/main.tf", &format!("variable \"x\" {{}}\nlocals {{\n  y = {}1{}\n}}\n", "[".repeat(100_000), "]".repeat(100_000)))]);
        let url = format!("file://{}", repo.canonicalize().unwrap().display());
        let (status, body) = call(&dev, &server, "create_source", &[("source[url]", &url), ("source[integration]", "local-git"), ("source[description]", "")]).await;
        assert_eq!(status, 200, "{body}");
        let source: serde_json::Value = serde_json::from_str(&body).unwrap();
        let id = source["id"].to_string();
        let (status, body) = call(&dev, &server, "create_version", &[("version[template]", "vpc"), ("version[source_id]", &id), ("version[git_ref]", "v1.0.0"), ("version[module_path]", "deep")]).await;
        assert_eq!(status, 422, "{body:.300}");
        assert!(body.contains("main.tf:3:") && body.contains("nested deeper than 64 levels"), "{body:.300}");
        // The server is unaffected.
        assert_eq!(call(&dev, &server, "current_user", &[]).await.0, 200);
    }
}

db_test! {
    async fn outbound_requests_reach_no_private_address_an_admin_has_not_listed(db: TestDb) {
        // Nothing listed: the fake GitHub Enterprise on 127.0.0.1 stands for an internal service.
        let server = TestServer::start(&db, ServerOptions { settings: vec![("SLIPWAY_ALLOWED_HOSTS", String::new())], ..ServerOptions::default() }).await;
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let counted = hits.clone();
        let internal = axum::Router::new().fallback(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { "{}" }
        });
        tokio::spawn(async move { axum::serve(listener, internal).await.unwrap() });

        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        for (slug, host) in [("ghe-loopback", "127.0.0.1"), ("ghe-localhost", "localhost")] {
            let api = format!("http://{host}:{port}/api/v3");
            let (status, body) = call(&admin, &server, "create_integration", &[
                ("input[slug]", slug), ("input[name]", slug), ("input[provider]", "github"),
                ("input[settings][organization]", "acme"), ("input[settings][api_url]", &api),
                ("input[secrets][token]", "ghp_0123456789abcdefghij"),
            ]).await;
            assert_eq!(status, 200, "{body}");
            // The API: refused when connecting, whether the URL names the address or a name
            // that resolves to it.
            let (status, body) = call(&admin, &server, "test_integration", &[("slug", slug)]).await;
            assert_ne!(status, 200, "{body}");
            assert!(body.contains("SLIPWAY_ALLOWED_HOSTS") && body.contains("127.0.0.1"), "{slug}: {body}");
            // Git: refused before libgit2 is given the URL.
            let url = format!("http://{host}:{port}/acme/modules.git");
            let (status, body) = call(&admin, &server, "create_source", &[("source[url]", &url), ("source[integration]", slug), ("source[description]", "")]).await;
            assert_eq!(status, 422, "{body}");
            assert!(body.contains("SLIPWAY_ALLOWED_HOSTS"), "{slug}: {body}");
        }
        // The cloud metadata address, link-local: refused the same way.
        let refused = server.ctx.repos.test_connection(
            app::domain::integrations::Provider::Github,
            &[("api_url".to_string(), "http://169.254.169.254/latest".to_string()), ("organization".to_string(), "acme".to_string())].into_iter().collect(),
            &[("token".to_string(), "ghp_0123456789abcdefghij".to_string())].into_iter().collect(),
        ).await.unwrap_err();
        assert!(refused.contains("169.254.169.254") && refused.contains("SLIPWAY_ALLOWED_HOSTS"), "{refused}");
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "no request reached the internal service");
    }
}
