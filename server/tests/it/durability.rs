//! Workspace jobs as an operator's worst day tests them, with `slipway serve` as real processes:
//! killed with SIGKILL in the middle of a job and started again, and two replicas working one
//! queue. Nothing is done twice: one branch commit, one pull request, one merge, one audit
//! event per step; each job runs once; a workspace's jobs run one at a time, in order.

use crate::db_test;
use crate::forges::Fake;
use crate::support::*;
use crate::workspaces::{bucket_form, settled_in};
use app::domain::integrations::Provider;
use app::server::entities::{
    audit_events, job_logs, jobs as job_rows, local_pulls, resources as resource_rows,
};
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const LEASE: &str = "3";

/// Where the demo's own seeding ended (`slipway serve --demo` seeds a workspace whose jobs and
/// audit events are there before a test acts): what a test counts comes after it.
#[derive(Clone, Copy)]
struct Seeded {
    job: i64,
    event: i64,
}

async fn seeded(db: &DatabaseConnection) -> Seeded {
    use sea_orm::{QueryOrder, QuerySelect};
    let job = job_rows::Entity::find()
        .order_by_desc(job_rows::Column::Id)
        .limit(1)
        .one(db)
        .await
        .unwrap()
        .map_or(0, |j| j.id);
    let event = audit_events::Entity::find()
        .order_by_desc(audit_events::Column::Seq)
        .limit(1)
        .one(db)
        .await
        .unwrap()
        .map_or(0, |e| e.seq);
    Seeded { job, event }
}

async fn events(db: &DatabaseConnection, seeded: Seeded, action: &str) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .filter(audit_events::Column::Seq.gt(seeded.event))
        .count(db)
        .await
        .unwrap()
}

async fn jobs_of_kind(db: &DatabaseConnection, seeded: Seeded, kind: &str) -> Vec<job_rows::Model> {
    job_rows::Entity::find()
        .filter(job_rows::Column::Kind.eq(kind))
        .filter(job_rows::Column::Id.gt(seeded.job))
        .all(db)
        .await
        .unwrap()
}

async fn attempt_lines(db: &DatabaseConnection, job: i64) -> Vec<String> {
    job_logs::Entity::find()
        .filter(job_logs::Column::JobId.eq(job))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .filter(|l| l.starts_with("attempt "))
        .collect()
}

async fn ok(
    client: &reqwest::Client,
    server: &ServerProcess,
    endpoint: &str,
    form: &[(&str, &str)],
) {
    let (status, body) = call(client, server, endpoint, form).await;
    assert_eq!(status, 200, "{endpoint}: {body}\n{}", server.output());
}

/// Waits until the fake forge has been asked the stalled request (the server is then inside
/// the job's forge call) or fails with the server's output.
async fn reached(stall: std::sync::Arc<tokio::sync::Notify>, server: &ServerProcess) {
    if tokio::time::timeout(Duration::from_secs(60), stall.notified())
        .await
        .is_err()
    {
        panic!("the job never reached the forge:\n{}", server.output());
    }
}

db_test! {
    async fn a_process_killed_inside_a_job_resumes_it_without_doing_anything_twice(db: TestDb) {
        let fake = Fake::start(Provider::Github, db.dir.join("fake-forge")).await;
        let mut server = ServerProcess::start(&db, &[("SLIPWAY_JOB_LEASE_SECONDS", LEASE)]).await;
        let seeded = seeded(&db.conn).await;
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        let member = client();
        demo_sign_in(&member, &server, "dev").await;
        let form = fake.integration_form();
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ok(&admin, &server, "create_integration", &form).await;
        ok(&member, &server, "register_workspace", &[("input[integration]", "forge"), ("input[repository]", fake.repository())]).await;

        // Kill 1: the branch is pushed and the forge opens the pull request, but the process
        // dies before it hears back.
        let stall = fake.stall("POST /api/v3/repos/acme/live/pulls");
        ok(&member, &server, "create_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs")).await;
        reached(stall, &server).await;
        let pushed = fake.head_of("update_audit_logs").expect("the branch was pushed before the kill");
        server.kill().await;
        let sync = jobs_of_kind(&db.conn, seeded, "workspace.sync").await;
        assert_eq!(sync.len(), 1);
        assert_eq!((sync[0].status.as_str(), sync[0].attempts), ("running", 1), "the dead worker's claim stays until its lease ends");

        server.restart().await;
        assert_eq!(settled_in(&db.conn, "logs").await, ("provision".into(), "ready".into()), "{}", server.output());
        assert_eq!(fake.pulls(), vec![("update_audit_logs".to_string(), "open")], "one pull request");
        assert_eq!(fake.head_of("update_audit_logs").as_deref(), Some(pushed.as_str()), "nothing pushed again");
        assert_eq!(git(&fake.bare(), &["rev-list", "--count", "main..update_audit_logs"]), "1", "one commit on the branch");
        let sync = job_rows::Entity::find_by_id(sync[0].id).one(&db.conn).await.unwrap().unwrap();
        assert_eq!((sync.status.as_str(), sync.attempts), ("succeeded", 2));
        let attempts = attempt_lines(&db.conn, sync.id).await;
        assert_eq!(attempts.len(), 2, "{attempts:?}");
        assert_ne!(attempts[0].rsplit(' ').next(), attempts[1].rsplit(' ').next(), "the restarted process took it over: {attempts:?}");
        let log: Vec<String> = job_logs::Entity::find()
            .filter(job_logs::Column::JobId.eq(sync.id))
            .all(&db.conn)
            .await
            .unwrap()
            .into_iter()
            .filter(|l| l.attempt == 2)
            .map(|l| l.line)
            .collect();
        assert!(log.iter().any(|l| l.starts_with("update_audit_logs already holds this change at")), "{log:?}");
        assert!(log.iter().any(|l| l == "pull request #1 is already open for update_audit_logs; not opening another"), "{log:?}");
        assert_eq!(events(&db.conn, seeded, "workspace.sync").await, 1, "one audit event for the sync");

        // Kill 2: the forge merges, and the process dies before it hears back.
        let stall = fake.stall("PUT /api/v3/repos/acme/live/pulls/1/merge");
        let (status, body) = crate::support::review(&admin, &server, "logs", true).await;
        assert_eq!(status, 200, "{body}");
        reached(stall, &server).await;
        server.kill().await;
        server.restart().await;
        assert_eq!(settled_in(&db.conn, "logs").await, ("provisioned".into(), "done".into()), "{}", server.output());
        assert_eq!(fake.pulls(), vec![("update_audit_logs".to_string(), "merged")]);
        assert_eq!(git(&fake.bare(), &["rev-list", "--count", "--merges", "main"]), "1", "merged once");
        assert!(git(&fake.bare(), &["show", "main:s3-bucket/audit_logs/variables.tf"]).contains("acme-audit-logs"));
        let review = jobs_of_kind(&db.conn, seeded, "workspace.review").await;
        assert_eq!(review.len(), 1);
        assert_eq!((review[0].status.as_str(), review[0].attempts), ("succeeded", 2));
        assert_eq!(events(&db.conn, seeded, "workspace.merge").await, 1, "one audit event for the merge");
        assert_eq!(fake.violations(), Vec::<String>::new());
    }
}

/// A `terraform` that, once armed (a file beside it), marks the run folder after a real
/// `apply` has finished and then hangs: the process is killed after the state was written and
/// before the apply's end is recorded.
fn hanging_terraform(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let real = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|p| p.join("terraform"))
        .find(|p| p.is_file())
        .expect("terraform on PATH");
    let real = std::fs::canonicalize(real).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    let arm = dir.join("armed");
    let wrapper = dir.join("terraform");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ \"$1\" = apply ] && [ -f {arm} ]; then\n  {real} \"$@\" || exit $?\n  touch ../applied\n  exec sleep 600\nfi\nexec {real} \"$@\"\n",
            arm = arm.display(),
            real = real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    (wrapper, arm)
}

db_test! {
    async fn a_process_killed_after_an_apply_wrote_state_applies_nothing_twice(db: TestDb) {
        use app::domain::plans::PlanStatus;
        use app::server::entities::{plans, state_versions};
        let scratch = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("hang-{}", rand::random::<u32>()));
        let (wrapper, arm) = hanging_terraform(&scratch);
        let mut server = ServerProcess::start(&db, &[("SLIPWAY_JOB_LEASE_SECONDS", LEASE), ("SLIPWAY_TERRAFORM_BIN", wrapper.to_str().unwrap()), ("SLIPWAY_TOFU_BIN", "/nonexistent/tofu")]).await;
        let seeded = seeded(&db.conn).await;
        let started = std::time::SystemTime::now();
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        let member = client();
        demo_sign_in(&member, &server, "dev").await;
        ok(&admin, &server, "create_local_repository", &[("repository", "acme/live")]).await;
        ok(&member, &server, "register_workspace", &[("input[integration]", "local-git"), ("input[repository]", "acme/live")]).await;
        ok(&member, &server, "create_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs")).await;
        assert_eq!(settled_in(&db.conn, "logs").await, ("provision".into(), "ready".into()), "{}", server.output());

        // Approved: merged, applied (the state written), and the process dies before the
        // apply's end is recorded.
        std::fs::write(&arm, "").unwrap();
        let (status, body) = crate::support::review(&admin, &server, "logs", true).await;
        assert_eq!(status, 200, "{body}");
        let runs = server::sandbox::Sandbox::new(&db.dir).runs_dir;
        let applied = async {
            for _ in 0..1200 {
                // This server's run folders only (the other database's variant runs beside it).
                let found = std::fs::read_dir(&runs).into_iter().flatten().flatten()
                    .map(|run| run.path().join("applied"))
                    .any(|marker| marker.metadata().and_then(|m| m.modified()).is_ok_and(|t| t >= started));
                if found {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("the apply did not run:\n{}", server.output());
        };
        applied.await;
        server.kill().await;
        std::fs::remove_file(&arm).unwrap();
        let apply_jobs = jobs_of_kind(&db.conn, seeded, "resource.apply").await;
        assert_eq!((apply_jobs.len(), apply_jobs[0].status.as_str()), (1, "running"));
        let first = plans::Entity::find().filter(plans::Column::ApplyJobId.eq(apply_jobs[0].id)).one(&db.conn).await.unwrap().unwrap();
        let written = state_versions::Entity::find().filter(state_versions::Column::PlanId.eq(first.id)).count(&db.conn).await.unwrap();
        assert!(written >= 1, "the apply wrote the state before the kill");

        // Taken over: the state moved since the plan (this apply wrote it), so nothing is
        // applied again; the merged code is planned again and waits for an approval.
        server.restart().await;
        assert_eq!(settled_in(&db.conn, "logs").await, ("provision".into(), "ready".into()), "{}", server.output());
        let apply = job_rows::Entity::find_by_id(apply_jobs[0].id).one(&db.conn).await.unwrap().unwrap();
        assert_eq!((apply.status.as_str(), apply.attempts), ("succeeded", 2));
        let first = plans::Entity::find_by_id(first.id).one(&db.conn).await.unwrap().unwrap();
        assert_eq!(first.status, PlanStatus::Stale);
        assert_eq!(state_versions::Entity::find().filter(state_versions::Column::PlanId.eq(first.id)).count(&db.conn).await.unwrap(), written, "applied once");
        assert_eq!(events(&db.conn, seeded, "resource.applied").await, 0);
        let again = plans::Entity::find().filter(plans::Column::Id.gt(first.id)).filter(plans::Column::ResourceId.eq(first.resource_id)).one(&db.conn).await.unwrap().unwrap();
        assert_eq!((again.status, again.pull_request_id), (PlanStatus::Ready, None));
        // The new plan shows what nobody saw applied: here, nothing left to change.
        assert!(again.summary.as_deref().is_some_and(|s| !s.contains("\"action\":\"create\"")), "{:?}", again.summary);
        let plan_id = again.id.to_string();
        ok(&admin, &server, "approve_plan", &[("slug", "logs"), ("plan", plan_id.as_str())]).await;
        assert_eq!(settled_in(&db.conn, "logs").await, ("provisioned".into(), "done".into()), "{}", server.output());
        assert_eq!(events(&db.conn, seeded, "resource.applied").await, 1);
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

db_test! {
    async fn two_replicas_share_one_queue_each_job_once_each_workspace_in_order(db: TestDb) {
        const WORKSPACES: usize = 4;
        const RESOURCES: usize = 100;
        let a = ServerProcess::start(&db, &[]).await;
        // The second replica starts once the first has migrated and seeded.
        let b = ServerProcess::start(&db, &[]).await;
        let seeded = seeded(&db.conn).await;
        let admin = client();
        demo_sign_in(&admin, &a, "ada").await;
        let member = client();
        demo_sign_in(&member, &a, "dev").await;
        for w in 0..WORKSPACES {
            let repository = format!("acme/live{w}");
            ok(&admin, &a, "create_local_repository", &[("repository", &repository)]).await;
            ok(&member, &b, "register_workspace", &[("input[integration]", "local-git"), ("input[repository]", &repository)]).await;
        }

        // 100 resources created at once, half through each replica, spread over the workspaces.
        let started = std::time::Instant::now();
        let creates = (0..RESOURCES).map(|i| {
            let (member, server) = (member.clone(), if i % 2 == 0 { &a } else { &b });
            async move {
                let slug = format!("bucket-{i:03}");
                let bucket = format!("acme-bucket-{i:03}");
                let workspace = format!("acme-live{}", i % WORKSPACES);
                let mut form = bucket_form(&slug, &slug, &bucket);
                form.retain(|(k, _)| *k != "input[workspace]");
                form.push(("input[workspace]", &workspace));
                ok(&member, server, "create_resource", &form).await;
            }
        });
        futures_util::stream::iter(creates).buffer_unordered(16).collect::<Vec<()>>().await;
        for i in 0..RESOURCES {
            let slug = format!("bucket-{i:03}");
            assert_eq!(settled_in(&db.conn, &slug).await, ("provision".into(), "ready".into()), "{slug}\n{}\n{}", a.output(), b.output());
        }
        eprintln!("{RESOURCES} resources created and synced by two replicas in {:.1} s", started.elapsed().as_secs_f64());

        // Each job ran once, and both replicas took part.
        let jobs = jobs_of_kind(&db.conn, seeded, "workspace.sync").await;
        assert_eq!(jobs.len(), RESOURCES);
        let mut workers = BTreeSet::new();
        for job in &jobs {
            assert_eq!((job.status.as_str(), job.attempts), ("succeeded", 1), "job {} ({:?})", job.id, job.last_error);
            let attempts = attempt_lines(&db.conn, job.id).await;
            assert_eq!(attempts.len(), 1, "job {}: {attempts:?}", job.id);
            workers.insert(attempts[0].rsplit(' ').next().unwrap().to_string());
        }
        assert_eq!(workers.len(), 2, "both replicas ran jobs: {workers:?}");

        // One pull request per resource, no duplicates, each with its branch.
        // (The demo's own pull requests are on acme/infra-live and local/….)
        let pulls: Vec<_> = local_pulls::Entity::find().all(&db.conn).await.unwrap()
            .into_iter()
            .filter(|p| p.repository.starts_with("acme/live"))
            .collect();
        assert_eq!(pulls.len(), RESOURCES);
        let heads: BTreeSet<(String, String)> = pulls.iter().map(|p| (p.repository.clone(), p.head_branch.clone())).collect();
        assert_eq!(heads.len(), RESOURCES, "no head branch has two pull requests");
        assert_eq!(events(&db.conn, seeded, "workspace.sync").await, RESOURCES as u64);
        for w in 0..WORKSPACES {
            let bare = db.dir.join(format!("git/acme/live{w}.git"));
            let branches = git(&bare, &["branch", "--list", "update_*"]);
            assert_eq!(branches.lines().count(), RESOURCES / WORKSPACES, "live{w}: {branches}");
        }

        // Per workspace, one job at a time, in the order they were queued: each starts after
        // the one before it finished, and the pull request numbers follow the jobs' order.
        let resources = resource_rows::Entity::find().all(&db.conn).await.unwrap();
        let mut by_workspace: BTreeMap<String, Vec<&job_rows::Model>> = BTreeMap::new();
        for job in &jobs {
            by_workspace.entry(job.serial_key.clone().expect("a workspace job has a serial key")).or_default().push(job);
        }
        assert_eq!(by_workspace.len(), WORKSPACES);
        for (key, mut queue) in by_workspace {
            queue.sort_by_key(|j| j.id);
            let mut previous_end = None;
            let mut previous_number = 0;
            for job in queue {
                let first_line = job_logs::Entity::find()
                    .filter(job_logs::Column::JobId.eq(job.id))
                    .all(&db.conn)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|l| l.at)
                    .min()
                    .unwrap();
                if let Some(end) = previous_end {
                    assert!(first_line >= end, "{key}: job {} started at {first_line} before the previous one ended at {end}", job.id);
                }
                previous_end = job.finished_at;
                let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
                let resource = resources.iter().find(|r| serde_json::json!(r.id) == payload["resource_id"]).unwrap();
                let pull = pulls.iter().find(|p| p.head_branch == format!("update_{}", resource.slug)).unwrap();
                assert!(pull.number > previous_number, "{key}: pull request numbers follow the jobs' order");
                previous_number = pull.number;
            }
        }
    }
}
