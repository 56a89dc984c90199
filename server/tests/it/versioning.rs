//! `slipway commit check` and `slipway version compute` as a CI pipeline runs them: on real
//! repositories built with git2 (merges, several tags on one commit, tags not reachable from
//! HEAD, lightweight and annotated tags, tags that are not SemVer), with no configuration,
//! data dir or database — and bad input answered with a clear error, never a panic.

use git2::{Oid, Repository, Signature};
use std::path::Path;
use std::process::{Command, Output};

fn slipway(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut command = Command::new(env!("CARGO_BIN_EXE_slipway"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SLIPWAY_CONFIG")
        .env_remove("SLIPWAY_DATA_DIR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("the slipway binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or_default())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn out(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

fn temp(prefix: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn commit(repo: &Repository, branch: &str, parents: &[Oid], file: &str) -> Oid {
    let signature = Signature::now("T", "t@example.com").unwrap();
    let mut index = repo.index().unwrap();
    let blob = repo.blob(file.as_bytes()).unwrap();
    index
        .add(&git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            file_size: file.len() as u32,
            id: blob,
            flags: file.len().min(0xfff) as u16,
            flags_extended: 0,
            path: file.as_bytes().to_vec(),
        })
        .unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parents: Vec<git2::Commit> = parents
        .iter()
        .map(|p| repo.find_commit(*p).unwrap())
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &signature,
        &signature,
        &format!("feat: {file}"),
        &tree,
        &parents,
    )
    .unwrap()
}

fn lightweight(repo: &Repository, name: &str, commit: Oid) {
    repo.reference(&format!("refs/tags/{name}"), commit, false, "tag")
        .unwrap();
}

fn lightweight_forced(repo: &Repository, name: &str, commit: Oid) {
    repo.reference(&format!("refs/tags/{name}"), commit, true, "tag")
        .unwrap();
}

fn annotated(repo: &Repository, name: &str, commit: Oid) {
    let object = repo.find_object(commit, None).unwrap();
    let signature = Signature::now("T", "t@example.com").unwrap();
    repo.tag(name, &object, &signature, "release", false)
        .unwrap();
}

/// main: c1 ─ c2 ─ merge(c3) ← HEAD, with feature (f1) merged at c3; `other` (o1) branches
/// from c1 and is never merged.
fn history(dir: &Path) -> (Repository, Oid) {
    let repo = Repository::init(dir).unwrap();
    repo.set_head("refs/heads/main").unwrap();
    let c1 = commit(&repo, "main", &[], "a");
    annotated(&repo, "v1.0.0", c1);
    lightweight(&repo, "latest", c1);
    lightweight(&repo, "v1.0", c1);
    let c2 = commit(&repo, "main", &[c1], "b");
    // Several tags on one commit: a release and a pre-release of the next one.
    lightweight(&repo, "v1.1.0", c2);
    annotated(&repo, "v1.1.0-beta.3", c2);
    let o1 = commit(&repo, "other", &[c1], "o");
    annotated(&repo, "v9.0.0", o1);
    lightweight(&repo, "v1.1.1-alpha.4", o1);
    let f1 = commit(&repo, "feature", &[c2], "f");
    let c3 = commit(&repo, "main", &[c2, f1], "c");
    // A SemVer name on a tree is not a release.
    let tree = repo.find_commit(c3).unwrap().tree_id();
    annotated(&repo, "v7.0.0", tree);
    (repo, c3)
}

#[test]
fn version_compute_reads_real_histories() {
    let dir = temp("slipway-versions");
    let (repo, head) = history(&dir);
    let path = dir.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["version", "compute", "--repo", path];
        all.extend_from_slice(args);
        out(&slipway(&dir, &all, None))
    };
    // The base is v1.1.0 (highest reachable), not v9.0.0 (on a branch never merged), not
    // the pre-release, not the non-SemVer tags.
    assert_eq!(
        run(&["--release-type", "LATEST"]),
        (0, "v1.1.1".into(), String::new())
    );
    assert_eq!(
        run(&["--release-type", "LATEST", "--label", "release/minor"]).1,
        "v1.2.0"
    );
    assert_eq!(
        run(&["--release-type", "LATEST", "--label", "release/major"]).1,
        "v2.0.0"
    );
    // alpha.4 exists (unreachable, but tags are global): the next is alpha.5.
    assert_eq!(run(&["--release-type", "ALPHA"]).1, "v1.1.1-alpha.5");
    assert_eq!(run(&["--release-type", "BETA"]).1, "v1.1.1-beta.0");
    assert_eq!(run(&["--release-type", "HOTFIX"]).1, "v1.1.1-hotfix.1");
    assert_eq!(run(&["--release-type", "NONE"]).1, "none");
    assert_eq!(
        run(&["--branch", "develop", "--strategy", "GIT_FLOW"]).1,
        "v1.1.1-alpha.5"
    );
    assert_eq!(
        run(&["--branch", "release/1.1/rc", "--strategy", "TRUNK_BASED"]).1,
        "v1.1.1-hotfix.1"
    );
    assert_eq!(
        run(&["--branch", "feat/login", "--strategy", "GITHUB_FLOW"]).1,
        "none"
    );

    let (code, json, _) = run(&[
        "--release-type",
        "LATEST",
        "--label",
        "release/minor",
        "--json",
    ]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["version"], "v1.2.0");
    assert_eq!(json["base_tag"], "v1.1.0");
    assert_eq!(json["bump"], "minor");
    assert_eq!(json["commit"], head.to_string());
    assert_eq!(
        json["ignored_tags"], 3,
        "latest, v1.0 and the tree's v7.0.0"
    );
    assert_eq!(
        json["reason"],
        "label release/minor: a minor bump from v1.1.0"
    );

    // The same answers with the tags in packed-refs (as `git clone` and `git gc` leave them,
    // annotated ones with their peeled commits), and with a loose ref overriding a packed one.
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["pack-refs", "--all"]);
    assert!(!dir.join(".git/refs/tags/v1.1.0").exists());
    assert!(std::fs::read_to_string(dir.join(".git/packed-refs"))
        .unwrap()
        .contains("^"));
    assert_eq!(run(&["--release-type", "LATEST"]).1, "v1.1.1");
    assert_eq!(run(&["--release-type", "ALPHA"]).1, "v1.1.1-alpha.5");
    let json: serde_json::Value =
        serde_json::from_str(&run(&["--release-type", "LATEST", "--json"]).1).unwrap();
    assert_eq!(json["ignored_tags"], 3);
    // v1.1.0 moved (loose, over its packed entry) to the commit never merged: v1.0.0 is the base.
    lightweight_forced(
        &repo,
        "v1.1.0",
        repo.refname_to_id("refs/heads/other").unwrap(),
    );
    assert_eq!(run(&["--release-type", "LATEST"]).1, "v1.0.1");
    lightweight_forced(
        &repo,
        "v1.1.0",
        repo.find_commit(head).unwrap().parent_id(0).unwrap(),
    );
    assert_eq!(run(&["--release-type", "LATEST"]).1, "v1.1.1");

    // Tag HEAD with the result: the same computation now says skip.
    annotated(&repo, "v1.1.1", head);
    assert_eq!(run(&["--release-type", "LATEST"]).1, "skip");
    let json: serde_json::Value =
        serde_json::from_str(&run(&["--release-type", "LATEST", "--json"]).1).unwrap();
    assert_eq!(
        (
            json["outcome"].as_str(),
            json["version"].as_str(),
            json["skip"].as_bool()
        ),
        (Some("skip"), Some("v1.1.1"), Some(true))
    );
    // Pre-release numbering counts from that release's next patch now.
    assert_eq!(run(&["--release-type", "BETA"]).1, "v1.1.2-beta.0");
    assert!(!dir.join("data").exists(), "no data dir was created");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn version_compute_refuses_bad_input_clearly() {
    let dir = temp("slipway-versions-bad");
    let path = dir.to_str().unwrap();
    let run = |args: &[&str]| out(&slipway(&dir, args, None));
    let (code, _, err) = run(&[
        "version",
        "compute",
        "--repo",
        path,
        "--release-type",
        "LATEST",
    ]);
    assert_eq!(
        (code, err),
        (1, format!("error: {path} is not a Git repository"))
    );
    Repository::init(&dir).unwrap();
    let (code, _, err) = run(&[
        "version",
        "compute",
        "--repo",
        path,
        "--release-type",
        "LATEST",
    ]);
    assert_eq!(
        (code, err),
        (1, format!("error: {path} has no commits yet"))
    );
    let (code, _, err) = run(&[
        "version",
        "compute",
        "--repo",
        path,
        "--release-type",
        "latest",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: --release-type \"latest\": must be LATEST, ALPHA, BETA, HOTFIX or NONE"
        )
    );
    let (code, _, err) = run(&[
        "version",
        "compute",
        "--repo",
        path,
        "--release-type",
        "LATEST",
        "--label",
        "major",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: --label \"major\": must be release/major or release/minor"
        )
    );
    let (code, _, err) = run(&[
        "version",
        "compute",
        "--repo",
        path,
        "--branch",
        "main",
        "--strategy",
        "FLOW",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: --strategy \"FLOW\": must be GITHUB_FLOW, GIT_FLOW or TRUNK_BASED"
        )
    );
    let (code, _, err) = run(&["version", "compute", "--repo", path]);
    assert_eq!(
        (code, err.as_str()),
        (2, "error: give --release-type, or --branch with --strategy")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn commit_check_prints_the_label_or_the_error_with_its_position() {
    let dir = temp("slipway-commit-check");
    let check = |message: &str| out(&slipway(&dir, &["commit", "check", message], None));
    assert_eq!(
        check("feat(auth): add OAuth2 support"),
        (0, "release/minor".into(), String::new())
    );
    assert_eq!(check("fix(api): correct status code").1, "none");
    assert_eq!(check("feat(db)!: redesign schema").1, "release/major");
    assert_eq!(check("refactor: clean up imports").1, "none");
    let (code, stdout, stderr) = check("feat add login");
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr,
        "error: 1:5: expected ':' after \"feat\"\n  feat add login\n      ^"
    );
    assert_eq!(
        check("").2.lines().next(),
        Some("error: 1:1: the message is empty")
    );
    let long = format!("feat: {}", "x".repeat(10_000));
    assert_eq!(
        check(&long).2.lines().next(),
        Some("error: 1:257: the header is 10006 characters long; at most 256 are allowed")
    );

    // From standard input, and from a commit-msg hook's file (git's comment lines dropped).
    let piped = out(&slipway(
        &dir,
        &["commit", "check", "-"],
        Some(b"fix: x\n\nBREAKING CHANGE: y\n"),
    ));
    assert_eq!(piped.1, "release/major");
    let file = dir.join("COMMIT_EDITMSG");
    std::fs::write(
        &file,
        "feat: hook\n\nBody.\n# Please enter the commit message for your changes.\n",
    )
    .unwrap();
    assert_eq!(
        out(&slipway(
            &dir,
            &["commit", "check", "--file", file.to_str().unwrap()],
            None
        ))
        .1,
        "release/minor"
    );
    std::fs::write(&file, b"fix: ok\n\nbody \xff here\n").unwrap();
    let (code, _, err) = out(&slipway(
        &dir,
        &["commit", "check", "--file", file.to_str().unwrap()],
        None,
    ));
    assert_eq!(
        (code, err.lines().next()),
        (1, Some("error: 3:6: the message is not valid UTF-8"))
    );
    let missing = out(&slipway(
        &dir,
        &["commit", "check", "--file", "/nonexistent/msg"],
        None,
    ));
    assert_eq!(missing.0, 2);
    assert!(
        missing.2.starts_with("error: /nonexistent/msg:"),
        "{}",
        missing.2
    );
    assert!(!dir.join("data").exists(), "no data dir was created");
    let _ = std::fs::remove_dir_all(&dir);
}

mod portal {
    use crate::db_test;
    use crate::support::*;
    use crate::workspaces::{bucket_form, settled};
    use app::api::versioning::RepositoryVersioning;
    use app::domain::conventional::Label;
    use app::domain::versioning::{Outcome, ReleaseType, Strategy};

    async fn versioning(client: &reqwest::Client, server: &TestServer) -> RepositoryVersioning {
        let (status, body) = call(
            client,
            server,
            "get_versioning",
            &[("workspace", "acme-live")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// (branch, release type, next version or "skip vX" / "none") of each preview row.
    fn rows(
        view: &RepositoryVersioning,
        strategy: Strategy,
        label: Option<Label>,
    ) -> Vec<(String, ReleaseType, String)> {
        view.preview(strategy, label)
            .into_iter()
            .map(|r| {
                let outcome = match r.computation.outcome {
                    Outcome::Version(v) => v.tag(),
                    Outcome::Skip(v) => format!("skip {}", v.tag()),
                    Outcome::None => "none".into(),
                };
                (r.branch, r.release, outcome)
            })
            .collect()
    }

    fn row(branch: &str, release: ReleaseType, outcome: &str) -> (String, ReleaseType, String) {
        (branch.to_string(), release, outcome.to_string())
    }

    db_test! {
        async fn the_versioning_view_reads_branches_tags_and_the_pull_requests_slipway_merged(db: TestDb) {
            let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
            let admin = client();
            demo_sign_in(&admin, &server, "ada").await;
            let member = client();
            demo_sign_in(&member, &server, "dev").await;
            let viewer = client();
            demo_sign_in(&viewer, &server, "pat").await;
            let (status, body) = call(&viewer, &server, "get_versioning", &[("workspace", "acme-live")]).await;
            assert_eq!(status, 404, "{body}");
            assert_eq!(call(&admin, &server, "create_local_repository", &[("repository", "acme/live")]).await.0, 200);
            let register = [("input[integration]", "local-git"), ("input[repository]", "acme/live")];
            assert_eq!(call(&member, &server, "register_workspace", &register).await.0, 200);

            // A new repository: one branch, no tags; every branch starts from v0.0.0.
            let view = versioning(&viewer, &server).await;
            assert_eq!((view.default_branch.as_str(), view.tag_count, view.timeline.len()), ("main", 0, 0));
            assert_eq!(view.branches.len(), 1);
            assert_eq!((view.branches[0].name.as_str(), view.branches[0].base.as_deref()), ("main", None));
            assert_eq!(rows(&view, Strategy::GithubFlow, None), vec![row("main", ReleaseType::Latest, "v0.0.1")]);
            assert_eq!(rows(&view, Strategy::GithubFlow, Some(Label::Minor)), vec![row("main", ReleaseType::Latest, "v0.1.0")]);

            // Slipway merges a pull request: main's head is its merge commit, so the view knows
            // the pull request (its title is not a Conventional Commit: no label).
            assert_eq!(call(&member, &server, "create_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs")).await.0, 200);
            assert_eq!(settled(&server, "logs").await, ("provision".into(), "ready".into()));
            assert_eq!(review(&admin, &server, "logs", true).await.0, 200);
            assert_eq!(settled(&server, "logs").await, ("provisioned".into(), "done".into()));

            // Tags pushed by hand: an annotated release and a lightweight one on the first
            // commit, a non-SemVer tag, an alpha on develop, a release branch, and v3.0.0 on a
            // commit no branch reaches.
            let bare = server.data_dir.join("git/acme/live.git");
            let scratch = server.data_dir.join("scratch");
            std::fs::create_dir_all(&scratch).unwrap();
            git(&scratch, &["clone", "-q", bare.to_str().unwrap(), "live"]);
            let live = scratch.join("live");
            git(&live, &["config", "user.email", "t@example.com"]);
            git(&live, &["config", "user.name", "T"]);
            let first = git(&live, &["rev-list", "--max-parents=0", "HEAD"]);
            git(&live, &["tag", "-a", "v1.2.0", "-m", "First release\n\nWith notes.", &first]);
            git(&live, &["tag", "v1.1.0", &first]);
            git(&live, &["tag", "nightly", &first]);
            git(&live, &["checkout", "-q", "-b", "release/1.3"]);
            git(&live, &["checkout", "-q", "-b", "develop"]);
            git(&live, &["commit", "-q", "--allow-empty", "-m", "feat: on develop"]);
            git(&live, &["tag", "v1.2.1-alpha.0"]);
            git(&live, &["checkout", "-q", "-b", "experiment"]);
            git(&live, &["commit", "-q", "--allow-empty", "-m", "an experiment"]);
            git(&live, &["tag", "v3.0.0"]);
            git(&live, &["push", "-q", "origin", "develop", "release/1.3", "--tags"]);

            let view = versioning(&viewer, &server).await;
            let names: Vec<&str> = view.branches.iter().map(|b| b.name.as_str()).collect();
            assert_eq!(names, ["develop", "main", "release/1.3", "update_audit_logs"], "the merged pull request's branch stays");
            let main = &view.branches[1];
            assert_eq!(main.base.as_deref(), Some("v1.2.0"), "v3.0.0 is higher but not reachable");
            let known = main.merged_pull.as_ref().expect("the merge commit's pull request is known");
            assert_eq!((known.number, known.label.as_str()), (1, "none"));
            assert!(known.title.starts_with("Sync s3-bucket/audit_logs"), "{}", known.title);
            assert_eq!(view.branches[0].head_tags, vec!["v1.2.1-alpha.0".to_string()]);
            assert!(view.branches[0].merged_pull.is_none());
            assert_eq!((view.tag_count, view.ignored), (4, 1));
            let kinds: Vec<(&str, &str)> = view.timeline.iter().map(|t| (t.name.as_str(), t.kind.as_str())).collect();
            for expected in [("v1.2.0", "latest"), ("v1.1.0", "latest"), ("v1.2.1-alpha.0", "alpha"), ("v3.0.0", "latest")] {
                assert!(kinds.contains(&expected), "{kinds:?}");
            }
            let annotated = view.timeline.iter().find(|t| t.name == "v1.2.0").unwrap();
            assert_eq!((annotated.annotated, annotated.message.as_str()), (true, "First release"));
            let light = view.timeline.iter().find(|t| t.name == "v1.1.0").unwrap();
            assert_eq!((light.annotated, light.commit.as_str()), (false, first.as_str()));
            assert_eq!(light.message, git(&live, &["log", "-1", "--format=%s", &first]));
            assert_eq!(view.numbering, vec!["v1.2.1-alpha.0".to_string()]);

            // What the page's preview shows, from the same data.
            assert_eq!(rows(&view, Strategy::GitFlow, None), vec![
                row("develop", ReleaseType::Alpha, "skip v1.2.1-alpha.0"),
                row("main", ReleaseType::Latest, "v1.2.1"),
                row("release/1.3", ReleaseType::Beta, "v1.2.1-beta.0"),
                row("update_audit_logs", ReleaseType::None, "none"),
                row("hotfix/…", ReleaseType::Hotfix, "v1.2.1-hotfix.1"),
            ]);
            assert_eq!(rows(&view, Strategy::GitFlow, Some(Label::Minor)), vec![
                row("develop", ReleaseType::Alpha, "v1.2.1-alpha.1"),
                row("main", ReleaseType::Latest, "v1.3.0"),
                row("release/1.3", ReleaseType::Beta, "v1.2.1-beta.0"),
                row("update_audit_logs", ReleaseType::None, "none"),
                row("hotfix/…", ReleaseType::Hotfix, "v1.2.1-hotfix.1"),
            ]);
            assert_eq!(rows(&view, Strategy::TrunkBased, Some(Label::Major)), vec![
                row("develop", ReleaseType::None, "none"),
                row("main", ReleaseType::Latest, "v2.0.0"),
                row("release/1.3", ReleaseType::Hotfix, "v1.2.1-hotfix.1"),
                row("update_audit_logs", ReleaseType::None, "none"),
            ]);

            // Tags deleted upstream leave the view; the CLI reads the same answer from the clone.
            git(&live, &["push", "-q", "origin", ":refs/tags/v1.1.0", ":refs/tags/v3.0.0"]);
            let view = versioning(&viewer, &server).await;
            assert_eq!(view.tag_count, 2);
            assert!(view.timeline.iter().all(|t| t.name != "v1.1.0" && t.name != "v3.0.0"));
            git(&live, &["checkout", "-q", "main"]);
            git(&live, &["pull", "-q"]);
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_slipway"))
                .args(["version", "compute", "--repo", live.to_str().unwrap(), "--branch", "main", "--strategy", "GIT_FLOW"])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "v1.2.1");
        }
    }
}
