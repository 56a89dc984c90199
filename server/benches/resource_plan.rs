//! Plan latency for one resource: an edit of the demo's `assets-bucket` queues its sync, the
//! sync opens the pull request and queues the plan, and the plan is shown — measured from the
//! edit (end to end) and from the plan's queueing to its end (the plan job alone: read the
//! folder at the head, install the pinned module, start the state backend, `init`, `plan -out`,
//! `show -json`, in the sandbox). The baseline, in the same run: what a person does by hand on
//! the same folder — a fresh copy, `terraform init` (fetching the module over git) and
//! `terraform plan`, no sandbox.

use app::domain::plans::PlanStatus;
use app::server::entities::{plans, resources as resource_rows};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use server::config::{Config, Sources};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 7;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn terraform() -> String {
    std::env::var("SLIPWAY_TERRAFORM_BIN").unwrap_or_else(|_| "terraform".into())
}

/// `terraform init` + `terraform plan` in `folder`, as a person runs them; seconds.
fn by_hand(folder: &std::path::Path) -> f64 {
    let _ = std::fs::remove_dir_all(folder.join(".terraform"));
    let started = Instant::now();
    for args in [
        vec!["init", "-input=false", "-no-color"],
        vec!["plan", "-input=false", "-no-color", "-out=tfplan"],
    ] {
        let output = Command::new(terraform())
            .args(&args)
            .current_dir(folder)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .output()
            .expect("terraform runs");
        assert!(
            output.status.success(),
            "terraform {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    started.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir =
            std::env::temp_dir().join(format!("slipway-bench-plan-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/slipway.db", dir.display());
        let mut values = BTreeMap::new();
        values.insert("DATABASE_URL".to_string(), url.clone());
        values.insert("SLIPWAY_DATA_DIR".to_string(), dir.display().to_string());
        values.insert(
            "SLIPWAY_PUBLIC_URL".to_string(),
            "http://127.0.0.1:9".to_string(),
        );
        let config = Config::from_sources(&Sources::from_map(values)).unwrap();
        let db = server::db::connect(&url).await.unwrap();
        server::db::migrate(&db).await.unwrap();
        let leptos = leptos::prelude::LeptosOptions::builder()
            .output_name("slipway")
            .site_root(dir.display().to_string())
            .build();
        let state = server::router::state(&config, db.clone(), true, leptos).unwrap();
        let ctx = state.ctx.clone();
        server::demo::seed(&ctx, &config, server::demo::Estate::Both)
            .await
            .unwrap();
        server::jobs::Worker::new(ctx.clone(), &config).spawn();
        let developer = app::server::Actor::system("dev");
        let resource = resource_rows::Entity::find()
            .filter(resource_rows::Column::Slug.eq("assets-bucket"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();

        let workspace = app::server::workspaces::workspace_of_resource(&db, "assets-bucket")
            .await
            .unwrap();
        let mut end_to_end = Vec::new();
        let mut plan_job = Vec::new();
        let mut last = None;
        for run in 0..RUNS {
            let input = app::wire::resources::ResourceInput {
                slug: "assets-bucket".into(),
                name: "Static assets".into(),
                template: "s3-bucket".into(),
                version_id: resource.source_code_version_id.to_string(),
                parents: BTreeMap::new(),
                integrations: BTreeMap::new(),
                values: [
                    ("bucket_name".to_string(), "acme-static-assets".to_string()),
                    ("lifecycle_days".to_string(), (30 + run).to_string()),
                ]
                .into(),
                workspace: workspace.clone(),
                bindings: Default::default(),
                base_revision: None,
            };
            let started = Instant::now();
            app::server::resources::update(&ctx, &developer, &input)
                .await
                .unwrap();
            let plan = loop {
                let newest = plans::Entity::find()
                    .filter(plans::Column::ResourceId.eq(resource.id))
                    .order_by_desc(plans::Column::Id)
                    .one(&db)
                    .await
                    .unwrap();
                match newest {
                    Some(p) if Some(p.id) != last && p.status == PlanStatus::Ready => break p,
                    Some(p) if Some(p.id) != last && p.status == PlanStatus::Failed => {
                        panic!("plan #{} failed: {:?}", p.id, p.error)
                    }
                    _ => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            };
            end_to_end.push(started.elapsed().as_secs_f64());
            let queued_to_shown =
                (plan.finished_at.unwrap() - plan.created_at).num_milliseconds() as f64 / 1000.0;
            plan_job.push(queued_to_shown);
            last = Some(plan.id);
        }

        // The same folder at the last plan's head, planned by hand.
        let commit = plans::Entity::find_by_id(last.unwrap())
            .one(&db)
            .await
            .unwrap()
            .unwrap()
            .code_commit;
        let bare = dir.join(format!(
            "git/{}.git",
            server::demo_estate::WORKSPACE_REPOSITORY
        ));
        let archive = Command::new("git")
            .arg(format!("--git-dir={}", bare.display()))
            .args([
                "archive",
                "--format=tar",
                &commit,
                "s3-bucket/static_assets",
            ])
            .output()
            .unwrap();
        assert!(
            archive.status.success(),
            "{}",
            String::from_utf8_lossy(&archive.stderr)
        );
        let unpacked = dir.join("by-hand");
        std::fs::create_dir_all(&unpacked).unwrap();
        let mut tar = Command::new("tar")
            .args(["-x", "-C"])
            .arg(&unpacked)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &archive.stdout).unwrap();
        drop(tar.stdin.take());
        assert!(tar.wait().unwrap().success());
        let folder = unpacked.join("s3-bucket/static_assets");
        let manual: Vec<f64> = (0..RUNS).map(|_| by_hand(&folder)).collect();

        let (e2e, job, hand) = (median(end_to_end), median(plan_job), median(manual));
        println!("resource_plan: one resource, {RUNS} runs, medians (same machine, same run)");
        println!(
            "  edit → plan shown (sync, pull request, plan)   {:>7.2} s   {:.2}× by hand",
            e2e,
            e2e / hand
        );
        println!(
            "  plan queued → plan shown (the plan job)        {:>7.2} s   {:.2}× by hand",
            job,
            job / hand
        );
        println!(
            "  baseline: terraform init + plan by hand        {:>7.2} s",
            hand
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
