//! Executors and the durable job system on both databases, with a real Terraform: a run writes
//! the repository at its ref into a fresh folder (local child modules included), runs `init`
//! and `apply`, streams the output into the job log, records outputs and the sealed state, and
//! the next plan finds nothing to change. Arguments are argv elements (`; rm -rf` is inert),
//! a missing runtime fails with its name, and a job whose worker stopped is reclaimed.

use crate::db_test;
use crate::support::{module_repository, repo_root, unavailable, ServerOptions, TestServer};
use app::api::executors::{ExecutorInput, RunLog};
use app::api::sources::NewSource;
use app::error::AppError;
use app::server::entities::{executors as executor_rows, jobs as job_rows};
use app::server::jobs::{self, Outcome};
use app::server::{executors, sources, Actor};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use std::time::Duration;

const STACK: &str = r#"variable "name" {
  type = string
}

variable "replicas" {
  type    = number
  default = 2
}

module "naming" {
  source = "../modules/naming"
  name   = var.name
}

output "hosts" {
  value = [for i in range(var.replicas) : "${module.naming.prefix}-${i}"]
}

output "token" {
  value     = "token-${var.name}"
  sensitive = true
}
"#;

const NAMING: &str = r#"variable "name" {
  type = string
}

output "prefix" {
  value = "app-${var.name}"
}
"#;

fn terraform() -> Option<std::path::PathBuf> {
    let path = repo_root().join(".venv/bin/terraform");
    path.exists().then_some(path)
}

/// A source repository of the stack and its child module, registered through the local provider.
async fn tasks_source(server: &TestServer) -> i64 {
    let repo = server.data_dir.join("git/team/tasks.git");
    module_repository(
        &repo,
        &[("stack/main.tf", STACK), ("modules/naming/main.tf", NAMING)],
    );
    let source = sources::create(
        &server.ctx,
        &Actor::system("test"),
        &NewSource {
            url: format!("file://{}", repo.canonicalize().unwrap().display()),
            integration: "local-git".into(),
            description: String::new(),
        },
    )
    .await
    .unwrap();
    source.id
}

fn executor(slug: &str, runtime: &str, command: &str, source: i64) -> ExecutorInput {
    ExecutorInput {
        slug: slug.into(),
        name: format!("Task {slug}"),
        description: String::new(),
        runtime: runtime.into(),
        command: command.into(),
        source_id: source.to_string(),
        git_ref: "v1.0.0".into(),
        module_path: "stack".into(),
        integrations: [("aws-production".to_string(), "on".to_string())]
            .into_iter()
            .collect(),
    }
}

/// Follows a run's log until it ends, as the page does.
async fn follow(server: &TestServer, slug: &str, run: i64) -> (RunLog, Vec<String>) {
    let mut lines = Vec::new();
    let mut after = 0;
    for _ in 0..600 {
        let log = executors::run_log(&server.ctx.db, slug, run, after)
            .await
            .unwrap();
        for line in &log.lines {
            after = line.seq;
            lines.push(format!("[{}] {}", line.stream, line.line));
        }
        if log.done {
            // Lines written after the status changed arrive with the final read.
            let rest = executors::run_log(&server.ctx.db, slug, run, after)
                .await
                .unwrap();
            lines.extend(
                rest.lines
                    .iter()
                    .map(|l| format!("[{}] {}", l.stream, l.line)),
            );
            return (log, lines);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("run {run} of {slug} did not end:\n{}", lines.join("\n"));
}

db_test! {
    async fn executors_run_terraform_as_durable_jobs(db: TestDb) {
        let Some(terraform) = terraform() else { return unavailable("terraform (run scripts/setup)") };
        let server = TestServer::start(&db, ServerOptions {
            settings: vec![("SLIPWAY_TERRAFORM_BIN", terraform.display().to_string())],
            worker: true,
            ..Default::default()
        }).await;
        let ctx = &server.ctx;
        let actor = Actor::user(2, "dev");
        let source = tasks_source(&server).await;
        executors::save(&ctx.db, &actor, &executor("hosts", "terraform", "-var name=orders -var 'replicas=3'", source), true).await.unwrap();

        let run = executors::run(&ctx.db, &actor, "hosts", "apply").await.unwrap();
        ctx.jobs_wake.notify_one();
        // A second request while the first is queued or running is refused.
        assert!(matches!(executors::run(&ctx.db, &actor, "hosts", "apply").await.unwrap_err(), AppError::Conflict(_)));
        let (log, lines) = follow(&server, "hosts", run.id).await;
        let text = lines.join("\n");
        assert_eq!(log.run.status.as_str(), "succeeded", "{text}");
        assert_eq!(log.run.exit_code, Some(0));
        assert!(text.contains("[slipway] $ terraform init -input=false -no-color"), "{text}");
        assert!(text.contains("[slipway] integration aws-production: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_DEFAULT_REGION"), "{text}");
        assert!(text.contains("[out] Apply complete!"), "{text}");
        assert!(!text.contains("wJalrXUtnFEMI"), "credentials never reach the log");
        assert_eq!(log.run.outputs["hosts"], serde_json::json!(["app-orders-0", "app-orders-1", "app-orders-2"]));
        assert_eq!(log.run.outputs["token"], serde_json::json!("(sensitive)"));
        assert_eq!(log.run.commit.as_deref().map(str::len), Some(40));

        let detail = executors::detail(&ctx.db, "hosts").await.unwrap();
        assert_eq!((detail.executor.state.as_str(), detail.executor.status.as_str()), ("provisioned", "done"));
        let stored = executor_rows::Entity::find().filter(executor_rows::Column::Slug.eq("hosts")).one(&ctx.db).await.unwrap().unwrap();
        let sealed = stored.tf_state.unwrap();
        assert!(sealed.starts_with("v1.") && !sealed.contains("token-orders"), "the state file is sealed");

        // The next plan starts from the stored state: nothing to change.
        let plan = executors::run(&ctx.db, &actor, "hosts", "plan").await.unwrap();
        ctx.jobs_wake.notify_one();
        let (log, lines) = follow(&server, "hosts", plan.id).await;
        assert_eq!(log.run.status.as_str(), "succeeded", "{}", lines.join("\n"));
        assert!(lines.iter().any(|l| l.contains("No changes.")), "{}", lines.join("\n"));

        // Shell syntax in the arguments is inert (one argv element each), and only plan and
        // apply options are taken: each other one is named, and nothing is saved.
        let canary = server.data_dir.join("canary");
        std::fs::create_dir_all(&canary).unwrap();
        let refused = executors::save(&ctx.db, &actor, &executor("inert", "terraform", &format!("; rm -rf {} $(touch /tmp/slipway-pwned) -state-out=/tmp/x", canary.display()), source), true).await.unwrap_err();
        let AppError::Invalid { field, message, .. } = &refused else { panic!("{refused:?}") };
        assert_eq!(field, "command");
        assert!(message.contains("; is not taken") && message.contains("-state-out=/tmp/x is not taken") && message.contains("$(touch is not taken"), "{message}");
        assert!(executors::detail(&ctx.db, "inert").await.is_err(), "nothing saved");
        assert!(canary.is_dir(), "rm never ran");
        assert!(!std::path::Path::new("/tmp/slipway-pwned").exists(), "no command substitution ran");

        // A runtime that is not installed fails at once, naming it.
        if std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("tofu").is_file())) {
            return;
        }
        executors::save(&ctx.db, &actor, &executor("tofu-task", "opentofu", "", source), true).await.unwrap();
        let run = executors::run(&ctx.db, &actor, "tofu-task", "plan").await.unwrap();
        ctx.jobs_wake.notify_one();
        let (log, _) = follow(&server, "tofu-task", run.id).await;
        assert_eq!(log.run.status.as_str(), "failed");
        assert_eq!(
            log.run.error.as_deref(),
            Some("OpenTofu is not installed on this server: no `tofu` on PATH (install it, or set SLIPWAY_TOFU_BIN)")
        );
        assert_eq!(executors::detail(&ctx.db, "tofu-task").await.unwrap().executor.status.as_str(), "error");
    }
}

db_test! {
    async fn a_run_whose_worker_stopped_is_reclaimed_and_finished(db: TestDb) {
        let Some(terraform) = terraform() else { return unavailable("terraform (run scripts/setup)") };
        let server = TestServer::start(&db, ServerOptions {
            settings: vec![("SLIPWAY_TERRAFORM_BIN", terraform.display().to_string())],
            ..Default::default()
        }).await;
        let ctx = &server.ctx;
        let actor = Actor::user(2, "dev");
        let source = tasks_source(&server).await;
        executors::save(&ctx.db, &actor, &executor("hosts", "terraform", "-var name=a", source), true).await.unwrap();
        let run = executors::run(&ctx.db, &actor, "hosts", "apply").await.unwrap();
        // A worker claims it and stops (a restart): it never heartbeats, its lease runs out.
        let claimed = jobs::claim(&ctx.db, "crashed-worker", Duration::from_millis(200)).await.unwrap().unwrap();
        assert_eq!(claimed.id, run.job_id);
        assert!(jobs::claim(&ctx.db, "other", Duration::from_secs(60)).await.unwrap().is_none(), "held while the lease lasts");
        tokio::time::sleep(Duration::from_millis(300)).await;
        server::jobs::Worker::new(ctx.clone(), &server.config).spawn();
        let (log, lines) = follow(&server, "hosts", run.id).await;
        assert_eq!(log.run.status.as_str(), "succeeded", "{}", lines.join("\n"));
        assert_eq!(log.run.attempts, 2, "the second attempt finished it");
        assert!(lines.iter().any(|l| l.contains("attempt 2 of 3")));
        // The crashed worker's late report is refused: the job is no longer its.
        let txn = app::server::begin_write(&ctx.db).await.unwrap();
        assert!(jobs::finish(&txn, run.job_id, "crashed-worker", &Outcome::Succeeded).await.is_err());
    }
}

db_test! {
    async fn jobs_retry_with_backoff_and_fail_when_attempts_run_out(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let conn = &server.ctx.db;
        let lease = Duration::from_secs(60);
        let payload = serde_json::json!({"n": 1});
        let first = jobs::enqueue(conn, "test.noop", &payload, Some("key-1"), None, 2).await.unwrap();
        let again = jobs::enqueue(conn, "test.noop", &payload, Some("key-1"), None, 2).await.unwrap();
        assert_eq!(first.id, again.id, "the same idempotency key is the same job");

        let claimed = jobs::claim(conn, "w1", lease).await.unwrap().unwrap();
        assert_eq!((claimed.id, claimed.attempts, claimed.status.as_str()), (first.id, 1, "running"));
        assert!(jobs::heartbeat(conn, first.id, "w1", lease).await.unwrap());
        assert!(!jobs::heartbeat(conn, first.id, "w2", lease).await.unwrap(), "only the holder extends the lease");

        let txn = app::server::begin_write(conn).await.unwrap();
        assert_eq!(jobs::finish(&txn, first.id, "w1", &Outcome::Retry("the forge answered 503".into())).await.unwrap().as_str(), "queued");
        txn.commit().await.unwrap();
        let waiting = job_rows::Entity::find_by_id(first.id).one(conn).await.unwrap().unwrap();
        let delay = waiting.run_at - chrono::Utc::now();
        assert!(delay > chrono::Duration::seconds(3) && delay <= chrono::Duration::seconds(5), "backoff {delay}");
        assert!(jobs::claim(conn, "w1", lease).await.unwrap().is_none(), "not before its time");

        let mut due: job_rows::ActiveModel = waiting.into();
        due.run_at = Set(chrono::Utc::now() - chrono::Duration::seconds(1));
        due.update(conn).await.unwrap();
        let second = jobs::claim(conn, "w2", lease).await.unwrap().unwrap();
        assert_eq!(second.attempts, 2);
        let txn = app::server::begin_write(conn).await.unwrap();
        assert_eq!(jobs::finish(&txn, first.id, "w2", &Outcome::Retry("503 again".into())).await.unwrap().as_str(), "failed", "no attempts left");
        txn.commit().await.unwrap();
        let failed = job_rows::Entity::find_by_id(first.id).one(conn).await.unwrap().unwrap();
        assert_eq!(failed.last_error.as_deref(), Some("503 again"));

        // A stale job with no attempts left is failed by the next claim, not run a third time.
        let stale = jobs::enqueue(conn, "test.noop", &payload, None, None, 1).await.unwrap();
        jobs::claim(conn, "gone", Duration::from_millis(1)).await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(jobs::claim(conn, "w3", lease).await.unwrap().is_none());
        let stale = job_rows::Entity::find_by_id(stale.id).one(conn).await.unwrap().unwrap();
        assert_eq!(stale.status.as_str(), "failed");
        assert!(stale.last_error.unwrap().contains("stopped"));

        // Jobs sharing a serial key run one at a time and in order, even when a later one is
        // due first; other keys are not held up.
        let a1 = jobs::enqueue(conn, "test.noop", &payload, None, Some("workspace:1"), 3).await.unwrap();
        let a2 = jobs::enqueue(conn, "test.noop", &payload, None, Some("workspace:1"), 3).await.unwrap();
        let b1 = jobs::enqueue(conn, "test.noop", &payload, None, Some("workspace:2"), 3).await.unwrap();
        assert_eq!(jobs::claim(conn, "w1", lease).await.unwrap().unwrap().id, a1.id);
        assert_eq!(jobs::claim(conn, "w2", lease).await.unwrap().unwrap().id, b1.id, "a2 waits for a1");
        assert!(jobs::claim(conn, "w3", lease).await.unwrap().is_none());
        let txn = app::server::begin_write(conn).await.unwrap();
        jobs::finish(&txn, a1.id, "w1", &Outcome::Retry("409".into())).await.unwrap();
        txn.commit().await.unwrap();
        assert!(jobs::claim(conn, "w3", lease).await.unwrap().is_none(), "a2 waits while a1 waits for its retry");
        let mut due: job_rows::ActiveModel = job_rows::Entity::find_by_id(a1.id).one(conn).await.unwrap().unwrap().into();
        due.run_at = Set(chrono::Utc::now() - chrono::Duration::seconds(1));
        due.update(conn).await.unwrap();
        assert_eq!(jobs::claim(conn, "w3", lease).await.unwrap().unwrap().id, a1.id);
        let txn = app::server::begin_write(conn).await.unwrap();
        jobs::finish(&txn, a1.id, "w3", &Outcome::Succeeded).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(jobs::claim(conn, "w3", lease).await.unwrap().unwrap().id, a2.id);
    }
}

db_test! {
    async fn hostile_modules_fail_or_are_contained(db: TestDb) {
        let Some(terraform) = terraform() else { return unavailable("terraform (run scripts/setup)") };
        let server = TestServer::start(&db, ServerOptions {
            settings: vec![("SLIPWAY_TERRAFORM_BIN", terraform.display().to_string())],
            worker: true,
            ..Default::default()
        }).await;
        let ctx = &server.ctx;
        let actor = Actor::user(2, "dev");
        let data = server.data_dir.canonicalize().unwrap();
        let key = std::fs::read(data.join("secret_key")).unwrap();
        let key_text = String::from_utf8_lossy(&key).to_string();
        let pid = std::process::id();
        // Each module reads something of the server's at plan time (terraform's file()).
        let modules = [
            ("key", format!("output \"x\" {{\n  value = file(\"{}/secret_key\")\n}}\n", data.display())),
            ("walk", "output \"x\" {\n  value = file(\"${path.root}/../../../../secret_key\")\n}\n".to_string()),
            ("environ", format!("output \"x\" {{\n  value = file(\"/proc/{pid}/environ\")\n}}\n")),
            ("mirrors", format!("output \"x\" {{\n  value = fileset(\"{}\", \"**\")\n}}\n", data.display())),
        ];
        let repo = server.data_dir.join("git/team/hostile.git");
        let files: Vec<(String, String)> = modules.iter().map(|(name, text)| (format!("{name}/main.tf"), text.clone())).collect();
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        module_repository(&repo, &files);
        let source = sources::create(ctx, &actor, &NewSource {
            url: format!("file://{}", repo.canonicalize().unwrap().display()),
            integration: "local-git".into(),
            description: String::new(),
        }).await.unwrap();
        for (name, _) in &modules {
            let mut input = executor(name, "terraform", "", source.id);
            input.module_path = name.to_string();
            executors::save(&ctx.db, &actor, &input, true).await.unwrap();
            let run = executors::run(&ctx.db, &actor, name, "plan").await.unwrap();
            ctx.jobs_wake.notify_one();
            let (log, lines) = follow(&server, name, run.id).await;
            let all = lines.join("\n");
            assert!(!all.contains(&key_text), "{name}: the sealing key reached the log");
            assert!(!all.contains("TEST_DATABASE_URL") && !all.contains("SLIPWAY_"), "{name}: the server's environment reached the log:\n{all}");
            if *name == "mirrors" {
                // The data dir is an empty folder in the sandbox: nothing in it is listed.
                assert!(!all.contains("secret_key") && !all.contains("slipway.db"), "the data dir was listed:\n{all}");
            } else {
                assert_eq!(log.run.status.as_str(), "failed", "{name}:\n{all}");
            }
        }
        // The server kept serving throughout.
        assert!(executors::detail(&ctx.db, "key").await.is_ok());
    }
}

db_test! {
    async fn a_state_slipway_does_not_know_fails_to_load_naming_it(db: TestDb) {
        // A row written by a newer or older Slipway, or by hand: its state is never read as a
        // default (a job as queued, a run as a plan), so nothing acts on a guess.
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let conn = &server.ctx.db;
        let job = jobs::enqueue(conn, "test.noop", &serde_json::json!({}), None, None, 1).await.unwrap();
        use sea_orm::ConnectionTrait;
        conn.execute_unprepared(&format!("UPDATE jobs SET status = 'paused' WHERE id = {}", job.id)).await.unwrap();
        let refused = job_rows::Entity::find_by_id(job.id).one(conn).await.unwrap_err().to_string();
        assert!(refused.contains("\"paused\" is not a") && refused.contains("JobStatus"), "{refused}");
        assert!(jobs::claim(conn, "w1", Duration::from_secs(60)).await.unwrap().is_none(), "a job in an unknown state is not run");
    }
}
