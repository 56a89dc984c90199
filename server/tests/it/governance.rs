//! Governed repositories on the local forge, on both databases: provisioning through reviewed
//! pull requests (re-applying an unchanged plan changes nothing), the plan as a diff against
//! what is in place, and the Merge Authorized gate Slipway enforces before it merges — each rule
//! of the seed's Git Flow "Key rules" and "Branch protection" refusing with its reason, and the
//! right merges going through with the method the target allows.

use crate::db_test;
use crate::support::*;
use app::api::repositories::{GovernedPull, GovernedPullRow, ProvisionView};
use app::server::entities::audit_events;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::path::Path;
use std::process::Command;

const SHOP: &str = "apiVersion: lowops.manifests.v1
kind: GithubRepository
metadata:
  name: shop
spec:
  strategy: GIT_FLOW
  permissions:
    administrators:
      groups: [platform-team]
---
apiVersion: lowops.manifests.v1
kind: BuildDefinition
metadata:
  name: shop-api
  parent: GithubRepository/shop
spec:
  type: PYTHON
  stages: [analysis, test, build]
";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Pushes a branch cut from `from` with one commit per message.
fn push_branch(work: &Path, from: &str, branch: &str, messages: &[&str]) {
    git(work, &["fetch", "-q", "origin"]);
    git(
        work,
        &["checkout", "-q", "-B", branch, &format!("origin/{from}")],
    );
    for (i, message) in messages.iter().enumerate() {
        std::fs::write(
            work.join(format!("{}-{i}.txt", branch.replace('/', "-"))),
            message,
        )
        .unwrap();
        git(work, &["add", "-A"]);
        git(work, &["commit", "-q", "-m", message]);
    }
    git(work, &["push", "-q", "-f", "origin", branch]);
}

async fn open(
    client: &reqwest::Client,
    server: &TestServer,
    head: &str,
    base: &str,
    title: &str,
) -> i64 {
    let (status, body) = call(
        client,
        server,
        "open_pull_request",
        &[
            ("name", "shop"),
            ("head", head),
            ("base", base),
            ("title", title),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<GovernedPullRow>(&body)
        .unwrap()
        .number
}

async fn merge(
    client: &reqwest::Client,
    server: &TestServer,
    number: i64,
    method: &str,
) -> (u16, String) {
    let number = number.to_string();
    call(
        client,
        server,
        "merge_pull_request",
        &[
            ("name", "shop"),
            ("number", &number),
            ("managed", "false"),
            ("method", method),
        ],
    )
    .await
}

async fn approve(
    client: &reqwest::Client,
    server: &TestServer,
    number: i64,
    managed: bool,
) -> (u16, String) {
    crate::support::approve_governed(client, server, "shop", &number.to_string(), managed).await
}

async fn provisioning(client: &reqwest::Client, server: &TestServer) -> ProvisionView {
    let (status, body) = call(client, server, "get_provisioning", &[("name", "shop")]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

db_test! {
    async fn provisioning_opens_reviewed_pull_requests_and_the_local_forge_enforces_the_strategy(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let dev = client();
        demo_sign_in(&dev, &server, "dev").await;
        let ada = client();
        demo_sign_in(&ada, &server, "ada").await;
        let (status, body) = call(&dev, &server, "save_repository", &[("name", ""), ("revision", "0"), ("source", SHOP)]).await;
        assert_eq!(status, 200, "{body}");

        // Before anything is applied: every file is to be added, every ruleset to be applied.
        let before = provisioning(&dev, &server).await;
        assert_eq!((before.forge_repository.as_str(), before.managed_repository.as_str()), ("local/shop", "local/managed-workflows-private"));
        assert!(before.files.iter().all(|f| f.change == "added"));
        assert_eq!(before.files.len(), 1 + 5 * 2 * 2);
        assert_eq!(before.rulesets_changed.len(), 4);
        assert!(!before.up_to_date());
        // Long diffs come folded, each fetched when opened; short ones come with the page.
        let long = before.files.iter().find(|f| f.folded > 0).expect("a workflow's diff is folded");
        assert!(long.lines.is_empty() && long.folded > app::api::repositories::FOLD_LINES);
        let (status, body) = call(&dev, &server, "get_planned_diff", &[("name", "shop"), ("repository", &long.repository), ("path", &long.path)]).await;
        assert_eq!(status, 200, "{body}");
        let lines: Vec<app::domain::resources::DiffLine> = serde_json::from_str(&body).unwrap();
        assert_eq!(lines.len(), long.folded);
        assert!(before.files.iter().filter(|f| f.folded == 0).all(|f| f.lines.len() <= app::api::repositories::FOLD_LINES));

        // Applying opens one pull request on each repository, from a conventional branch into
        // the strategy's intake branch (develop under Git Flow).
        let (status, body) = call(&dev, &server, "provision_repository", &[("name", "shop")]).await;
        assert_eq!(status, 200, "{body}");
        let applied: ProvisionView = serde_json::from_str(&body).unwrap();
        assert_eq!(applied.applied_revision, Some(1));
        assert!(applied.rulesets_changed.is_empty());
        let pulls: Vec<(String, i64, String, String)> = applied.pulls.iter().map(|p| (p.repository.clone(), p.number, p.head_branch.clone(), p.base_branch.clone())).collect();
        assert_eq!(pulls.len(), 2, "{pulls:?}");
        assert!(pulls.contains(&("local/shop".into(), 1, "chore/slipway-provision".into(), "develop".into())));
        assert!(pulls.contains(&("local/managed-workflows-private".into(), 1, "chore/slipway-provision-shop".into(), "main".into())));
        let bare = server.data_dir.join("git/local/shop.git");
        let branches = || git(&bare, &["for-each-ref", "--format=%(refname:short) %(objectname)"]);
        let refs_before = branches();
        let events = || audit_events::Entity::find().filter(audit_events::Column::Action.eq("repository.provision")).count(&db.conn);
        assert_eq!(events().await.unwrap(), 1);
        // Again, unchanged: no commit, no pull request, no ruleset write, no audit event.
        let (status, body) = call(&dev, &server, "provision_repository", &[("name", "shop")]).await;
        assert_eq!(status, 200, "{body}");
        let again: ProvisionView = serde_json::from_str(&body).unwrap();
        assert_eq!(again.pulls.len(), 2);
        assert_eq!(branches(), refs_before);
        assert_eq!(events().await.unwrap(), 1);

        // A second governed repository gets a branch and pull request of its own in the
        // managed-workflows repository they share; neither's files land in the other's.
        let cart = SHOP.replace("shop", "cart");
        let (status, body) = call(&dev, &server, "save_repository", &[("name", ""), ("revision", "0"), ("source", &cart)]).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&dev, &server, "provision_repository", &[("name", "cart")]).await;
        assert_eq!(status, 200, "{body}");
        let carts: ProvisionView = serde_json::from_str(&body).unwrap();
        let mut listed: Vec<(String, i64, String)> = carts.pulls.iter().map(|p| (p.repository.clone(), p.number, p.head_branch.clone())).collect();
        listed.sort();
        assert_eq!(listed, vec![
            ("local/cart".to_string(), 1, "chore/slipway-provision".to_string()),
            ("local/managed-workflows-private".to_string(), 2, "chore/slipway-provision-cart".to_string()),
        ]);
        let shops = provisioning(&dev, &server).await;
        assert!(shops.pulls.iter().all(|p| p.head_branch != "chore/slipway-provision-cart"), "{:?}", shops.pulls);

        // The provisioning pull request passes the gate once someone else approves it.
        let (status, body) = merge(&dev, &server, 1, "squash").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("develop needs 1 approval from someone other than the author; it has 0"), "{body}");
        let (status, body) = approve(&dev, &server, 1, false).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("someone else must approve it"), "{body}");
        assert_eq!(approve(&ada, &server, 1, false).await.0, 200);
        // A commit pushed after the approval is not covered by it: the approval no longer
        // counts, the merge is refused, and a new review is needed.
        let scratch = server.data_dir.join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        git(&scratch, &["clone", "-q", "-b", "chore/slipway-provision", bare.to_str().unwrap(), "shop"]);
        let work = scratch.join("shop");
        std::fs::write(work.join("NOTES.md"), "after the review\n").unwrap();
        git(&work, &["add", "."]);
        git(&work, &["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "docs: add notes after the review"]);
        git(&work, &["push", "-q", "origin", "chore/slipway-provision"]);
        let (status, body) = merge(&dev, &server, 1, "squash").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("needs 1 approval from someone other than the author; it has 0"), "{body}");
        let stale: GovernedPull = serde_json::from_str(&call(&ada, &server, "get_governed_pull", &[("name", "shop"), ("number", "1"), ("managed", "false")]).await.1).unwrap();
        assert!(stale.approvals.is_empty(), "{:?}", stale.approvals);
        assert_eq!(approve(&ada, &server, 1, false).await.0, 200);
        let (status, body) = merge(&dev, &server, 1, "squash").await;
        assert_eq!(status, 200, "{body}");
        let merged: GovernedPull = serde_json::from_str(&body).unwrap();
        assert_eq!(merged.row.state.as_str(), "merged");
        assert_eq!(git(&bare, &["log", "-1", "--format=%s%n%P", "develop"]).lines().count(), 2, "one parent: squashed");
        assert!(git(&bare, &["show", "develop:.github/CODEOWNERS"]).contains("@local/platform-team"));
        // The managed workflows run in every governed repository's CI: only platform admins
        // review them, and not with no approval at all.
        let merge_managed = |who| call(who, &server, "merge_pull_request", &[("name", "shop"), ("number", "1"), ("managed", "true"), ("method", "merge")]);
        let (status, body) = approve(&dev, &server, 1, true).await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = merge_managed(&dev).await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = merge_managed(&ada).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("a platform admin other than its author must approve this commit"), "{body}");
        assert_eq!(approve(&ada, &server, 1, true).await.0, 200);
        let (status, body) = merge_managed(&ada).await;
        assert_eq!(status, 200, "{body}");
        // What is in place now matches the plan.
        let now = provisioning(&dev, &server).await;
        assert!(now.up_to_date(), "{:?}", now.files.iter().filter(|f| f.change != "unchanged").map(|f| &f.path).collect::<Vec<_>>());

        // Developers' branches, pushed over Git.
        let work = std::env::temp_dir().join(format!("slipway-gov-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["clone", "-q", bare.to_str().unwrap(), "shop"]);
        let work = work.join("shop");
        push_branch(&work, "develop", "feat/login", &["feat(auth): sign in with passkeys"]);
        push_branch(&work, "main", "release/1.0", &["chore(release): freeze 1.0"]);
        push_branch(&work, "release/1.0", "fix/wip", &["fix: handle the empty cart", "wip"]);
        push_branch(&work, "release/1.0", "bugfix/rounding", &["fix: round totals half-even"]);
        push_branch(&work, "develop", "feat/checkout", &["feat: one-page checkout"]);
        push_branch(&work, "release/1.0", "feat/passkeys", &["feat(auth): passkeys on 1.0"]);

        // Key rule: only release/* and hotfix/* branches merge into main.
        let wrong_source = open(&dev, &server, "feat/checkout", "main", "feat: one-page checkout").await;
        assert_eq!(approve(&ada, &server, wrong_source, false).await.0, 200);
        let (status, body) = merge(&dev, &server, wrong_source, "merge").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("Only release/* and hotfix/* can merge into main (Git Flow); feat/checkout is not one of them"), "{body}");
        // The pull request page carries the verdict, rule by rule.
        let number = wrong_source.to_string();
        let (_, body) = call(&dev, &server, "get_governed_pull", &[("name", "shop"), ("number", &number), ("managed", "false")]).await;
        let page: GovernedPull = serde_json::from_str(&body).unwrap();
        let verdict = page.verdict.expect("governed");
        assert_eq!(verdict.failures().map(|c| c.rule.as_str()).collect::<Vec<_>>(), ["source branch"]);
        assert_eq!(page.methods, [app::domain::branching::MergeMethod::Merge]);

        // Key rule: release branches accept only bugfix/ and fix/ — and every commit message
        // must be a Conventional Commit.
        let wip = open(&dev, &server, "fix/wip", "release/1.0", "fix: handle the empty cart").await;
        assert_eq!(approve(&ada, &server, wip, false).await.0, 200);
        let (status, body) = merge(&dev, &server, wip, "merge").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("1 commit message is not Conventional Commits"), "{body}");
        let feature_into_release = open(&dev, &server, "feat/passkeys", "release/1.0", "feat(auth): passkeys on 1.0").await;
        assert_eq!(approve(&ada, &server, feature_into_release, false).await.0, 200);
        let (status, body) = merge(&dev, &server, feature_into_release, "merge").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("Only bugfix/* and fix/* can merge into release/* (Git Flow); feat/passkeys is not one of them"), "{body}");
        let bugfix = open(&dev, &server, "bugfix/rounding", "release/1.0", "fix: round totals half-even").await;
        assert_eq!(approve(&ada, &server, bugfix, false).await.0, 200);
        let (status, body) = merge(&dev, &server, bugfix, "rebase").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("release/1.0 allows merge or squash (Merge/squash (bugfixes only)), not rebase"), "{body}");
        assert_eq!(merge(&dev, &server, bugfix, "merge").await.0, 200);

        // Conventional Commits on titles.
        let titled = open(&dev, &server, "release/1.0", "main", "Release 1.0").await;
        assert_eq!(approve(&ada, &server, titled, false).await.0, 200);
        let (status, body) = merge(&dev, &server, titled, "merge").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("The title is not a Conventional Commit: 1:"), "{body}");

        // Develop is squash-only from feature branches; with an approval, the squash merges.
        let login = open(&dev, &server, "feat/login", "develop", "feat(auth): sign in with passkeys").await;
        assert_eq!(approve(&ada, &server, login, false).await.0, 200);
        let (status, body) = merge(&dev, &server, login, "merge").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("develop allows squash (Squash from feature branches), not merge"), "{body}");
        // Before the merge the reviewer sees the files with their diff.
        let read = |number: i64| {
            let (dev, server) = (&dev, &server);
            async move {
                let (status, body) = call(dev, server, "get_governed_pull", &[("name", "shop"), ("number", &number.to_string()), ("managed", "false")]).await;
                assert_eq!(status, 200, "{body}");
                serde_json::from_str::<GovernedPull>(&body).unwrap()
            }
        };
        let before = read(login).await;
        let file = |p: &GovernedPull| p.files.files.iter().map(|f| (f.path.clone(), f.change.clone(), f.added)).collect::<Vec<_>>();
        assert_eq!(file(&before), [("feat-login-0.txt".to_string(), "added".to_string(), 1)]);
        assert_eq!(before.files.files[0].hunks[0].lines, [app::domain::resources::DiffLine::Added("feat(auth): sign in with passkeys".into())]);
        assert_eq!(merge(&dev, &server, login, "squash").await.0, 200);
        assert_eq!(git(&bare, &["log", "-1", "--format=%s", "develop"]), format!("feat(auth): sign in with passkeys (#{login})"));
        // After it, the page keeps the commits, the files, the verdict it passed, who merged
        // it, when and how — though the branch has moved on (here: deleted).
        git(&work, &["push", "-q", "origin", "--delete", "feat/login"]);
        let after = read(login).await;
        assert_eq!(after.row.state.as_str(), "merged");
        assert_eq!(after.commits.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(), ["feat(auth): sign in with passkeys"]);
        assert_eq!(file(&after), file(&before));
        // dev opened it and, once ada approved, merged it.
        assert_eq!(after.merged_by.as_deref(), Some(before.row.author.as_str()));
        assert_eq!(after.merge_method.as_deref(), Some("squash"));
        assert!(after.merged_at.is_some());
        let at_merge = after.verdict.expect("the verdict at merge is kept");
        assert!(at_merge.allowed(), "{at_merge:?}");
        // As it stood at the merge: the rules checked before, and the merge method chosen.
        let mut expected: Vec<&str> = before.verdict.as_ref().unwrap().checks.iter().map(|c| c.rule.as_str()).collect();
        expected.push("merge method");
        assert_eq!(at_merge.checks.iter().map(|c| c.rule.as_str()).collect::<Vec<_>>(), expected);

        // A refused merge changed nothing; the right release merges into main with a merge commit.
        let main_before = git(&bare, &["rev-parse", "main"]);
        let (status, _) = call(&dev, &server, "open_pull_request", &[("name", "shop"), ("head", "release/1.0"), ("base", "main"), ("title", "chore(release): 1.0")]).await;
        assert_eq!(status, 422, "release/1.0 already has an open pull request (#{titled})");
        let (status, body) = call(&dev, &server, "open_pull_request", &[("name", "shop"), ("head", "../etc"), ("base", "main"), ("title", "x")]).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains(r#"\"../etc\" is not a valid tag or branch name"#), "{body}");
        assert_eq!(git(&bare, &["rev-parse", "main"]), main_before);
        // Retitled (a new pull request with a Conventional title), the release merges into
        // main with a merge commit.
        let (status, _) = approve(&dev, &server, titled, false).await;
        assert_eq!(status, 409, "the author cannot approve");
        let db_title = app::server::entities::local_pulls::Entity::find()
            .filter(app::server::entities::local_pulls::Column::Repository.eq("local/shop"))
            .filter(app::server::entities::local_pulls::Column::Number.eq(titled))
            .one(&db.conn)
            .await
            .unwrap()
            .unwrap();
        let mut retitled: app::server::entities::local_pulls::ActiveModel = db_title.into();
        retitled.title = sea_orm::Set("chore(release): 1.0".into());
        sea_orm::ActiveModelTrait::update(retitled, &db.conn).await.unwrap();
        let (status, body) = merge(&dev, &server, titled, "merge").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(git(&bare, &["log", "-1", "--format=%P", "main"]).split(' ').count(), 2, "a merge commit");
    }
}

const WEB: &str = "apiVersion: lowops.manifests.v1
kind: GithubRepository
metadata:
  name: web
spec:
  strategy: GITHUB_FLOW
  permissions:
    administrators:
      users: [ada]
";

db_test! {
    // GitHub Flow's "Branch protection": main needs one reviewer and Merge Authorized, and only
    // conventional-commit-prefixed branches merge into it, squashed; feature branches need no
    // reviewer and take any method the local forge performs.
    async fn github_flow_branch_protection_on_the_local_forge(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let dev = client();
        demo_sign_in(&dev, &server, "dev").await;
        let ada = client();
        demo_sign_in(&ada, &server, "ada").await;
        assert_eq!(call(&dev, &server, "save_repository", &[("name", ""), ("revision", "0"), ("source", WEB)]).await.0, 200);
        assert_eq!(call(&dev, &server, "provision_repository", &[("name", "web")]).await.0, 200);
        let bare = server.data_dir.join("git/local/web.git");
        let work = std::env::temp_dir().join(format!("slipway-web-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["clone", "-q", bare.to_str().unwrap(), "web"]);
        let work = work.join("web");
        push_branch(&work, "main", "bugfix/typo", &["fix: typo on the landing page"]);
        push_branch(&work, "main", "feat/search", &["feat: search"]);
        push_branch(&work, "feat/search", "fix/search-empty", &["fix: empty search"]);
        push_branch(&work, "feat/search", "fix/search-rank", &["fix: rank exact matches first", "fix: rank by recency next"]);
        let opened = |head: &'static str, base: &'static str, title: &'static str| {
            let (dev, server) = (dev.clone(), &server);
            async move {
                let (status, body) = call(&dev, server, "open_pull_request", &[("name", "web"), ("head", head), ("base", base), ("title", title)]).await;
                assert_eq!(status, 200, "{body}");
                serde_json::from_str::<GovernedPullRow>(&body).unwrap().number
            }
        };
        let merge_web = |number: i64, method: &'static str| {
            let (dev, server) = (dev.clone(), &server);
            async move {
                let number = number.to_string();
                call(&dev, server, "merge_pull_request", &[("name", "web"), ("number", &number), ("managed", "false"), ("method", method)]).await
            }
        };
        let approve_web = |number: i64| {
            let (ada, server) = (ada.clone(), &server);
            async move {
                let number = number.to_string();
                crate::support::approve_governed(&ada, server, "web", &number, false).await.0
            }
        };
        // Feature branches: no reviewer needed, any method.
        let into_feature = opened("fix/search-empty", "feat/search", "fix: empty search").await;
        let (status, body) = merge_web(into_feature, "merge").await;
        assert_eq!(status, 200, "{body}");
        // Rebased: the branch's two commits replayed, in order, on top of that merge — a
        // straight line, their messages and author kept, Slipway the committer.
        let merge_head = git(&bare, &["rev-parse", "feat/search"]);
        let rank = opened("fix/search-rank", "feat/search", "fix: search ranking").await;
        let (status, body) = merge_web(rank, "rebase").await;
        assert_eq!(status, 200, "{body}");
        let line = git(&bare, &["log", "-3", "--format=%s|%P|%cn|%an", "feat/search"]);
        let rows: Vec<Vec<&str>> = line.lines().map(|l| l.split('|').collect()).collect();
        assert_eq!(rows[0][0], "fix: rank by recency next", "{line}");
        assert_eq!(rows[1][0], "fix: rank exact matches first", "{line}");
        assert_eq!(rows[1][1], merge_head, "replayed on the base's head: {line}");
        assert!(rows[..2].iter().all(|r| !r[1].contains(' ') && r[2] == "Slipway" && r[3] != "Slipway"), "{line}");
        assert_eq!(git(&bare, &["ls-tree", "--name-only", "feat/search", "fix-search-rank-1.txt"]), "fix-search-rank-1.txt");
        // A rebase cannot carry a merge commit: refused, the base unmoved.
        push_branch(&work, "feat/search", "feat/search-merged", &["feat: facets"]);
        git(&work, &["fetch", "-q", "origin"]);
        git(&work, &["merge", "-q", "--no-ff", "-m", "Merge bugfix/typo", "origin/bugfix/typo"]);
        git(&work, &["push", "-q", "-f", "origin", "feat/search-merged"]);
        let merged_branch = opened("feat/search-merged", "feat/search", "feat: facets").await;
        let before = git(&bare, &["rev-parse", "feat/search"]);
        let (status, body) = merge_web(merged_branch, "rebase").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("feat/search-merged has a merge commit") && body.contains("a rebase needs a linear branch"), "{body}");
        assert_eq!(git(&bare, &["rev-parse", "feat/search"]), before);
        // bugfix/ is not a conventional-commit branch: refused into main even approved.
        let typo = opened("bugfix/typo", "main", "fix: typo on the landing page").await;
        assert_eq!(approve_web(typo).await, 200);
        let (status, body) = merge_web(typo, "squash").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("Only conventional-commit branches (feat/, fix/, docs/, test/, ci/, refactor/, perf/, chore/, revert/) can merge into main (GitHub Flow); bugfix/typo is not one of them"), "{body}");
        // feat/ into main: one reviewer, and squash only.
        let search = opened("feat/search", "main", "feat: search").await;
        let (status, body) = merge_web(search, "squash").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("main needs 1 approval from someone other than the author; it has 0"), "{body}");
        assert_eq!(approve_web(search).await, 200);
        let (status, body) = merge_web(search, "merge").await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("main allows squash (Squash only), not merge"), "{body}");
        let (status, body) = merge_web(search, "squash").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(git(&bare, &["log", "-1", "--format=%s", "main"]), format!("feat: search (#{search})"));

        // A pull request bringing more commits than the gate checks is refused, not checked in
        // part.
        let main = git(&bare, &["rev-parse", "main"]);
        let mut import = String::from("reset refs/heads/feat/huge\nfrom ");
        import.push_str(&main);
        import.push('\n');
        for n in 0..=app::server::ports::MAX_PULL_COMMITS {
            let message = format!("feat: step {n}");
            import.push_str(&format!("commit refs/heads/feat/huge\ncommitter Dev <dev@example.com> {} +0000\ndata {}\n{message}\n\n", 1_800_000_000 + n, message.len()));
        }
        let mut child = Command::new("git").args(["fast-import", "--quiet"]).current_dir(&bare).stdin(std::process::Stdio::piped()).spawn().unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), import.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
        let huge = opened("feat/huge", "main", "feat: everything at once").await;
        let (status, body) = call(&dev, &server, "get_governed_pull", &[("name", "web"), ("number", &huge.to_string()), ("managed", "false")]).await;
        assert_eq!(status, 200, "{body}");
        let pull: GovernedPull = serde_json::from_str(&body).unwrap();
        let failures: Vec<String> = pull.verdict.unwrap().failures().map(|c| c.detail.clone()).collect();
        assert!(failures.contains(&"more than 10000 commits: too many to check in one pull request; split it".to_string()), "{failures:?}");
    }
}
