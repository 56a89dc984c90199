//! Drift checks of a whole estate on 2 cores: the demo's `prod-vpc` (provisioned through the
//! real pipeline, its network in the demo cloud) is cloned into N resources (default 1,000,
//! `BENCH_DRIFT_RESOURCES`) — each its own folder in the workspace repository, its own state
//! and its own network in the demo cloud, one in ten changed there behind Slipway's back — and
//! a workspace-wide **Check all now** is timed until every check has ended, with two job workers
//! (two replicas' worth on two cores). Each check is the real thing: folder read at the merged
//! commit, module installed, state backend, sandbox, `init`, `plan -refresh-only
//! -detailed-exitcode`, `show -json`, the drift record.
//!
//! Baseline, in the same run: N plain `terraform plan -refresh-only` runs of the same code with
//! a local state, in one initialised folder, two at a time, no sandbox.

use app::domain::drift::{DriftStatus, PlanPurpose};
use app::domain::plans::PlanStatus;
use app::server::entities::{drifts, plans, resources as resource_rows, workspace_resources};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, Set,
};
use server::config::{Config, Sources};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

fn terraform() -> String {
    std::env::var("SLIPWAY_TERRAFORM_BIN").unwrap_or_else(|_| "terraform".into())
}

fn resources() -> usize {
    std::env::var("BENCH_DRIFT_RESOURCES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}

// Long: the estate cloned, the checks timed, the baseline run: one straight story
fn main() {
    let n = resources();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("slipway-bench-drift-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/slipway.db", dir.display());
        let mut values = BTreeMap::new();
        values.insert("DATABASE_URL".to_string(), url.clone());
        values.insert("SLIPWAY_DATA_DIR".to_string(), dir.display().to_string());
        values.insert("SLIPWAY_PUBLIC_URL".to_string(), "http://127.0.0.1:9".to_string());
        if let Ok(mirror) = std::env::var("SLIPWAY_PROVIDER_MIRROR") {
            values.insert("SLIPWAY_PROVIDER_MIRROR".to_string(), mirror);
        }
        let config = Config::from_sources(&Sources::from_map(values)).unwrap();
        let db = server::db::connect(&url).await.unwrap();
        server::db::migrate(&db).await.unwrap();
        let leptos = leptos::prelude::LeptosOptions::builder()
            .output_name("slipway")
            .site_root(dir.display().to_string())
            .build();
        let state = server::router::state(&config, db.clone(), true, leptos).unwrap();
        let ctx = state.ctx.clone();
        server::demo::seed(&ctx, &config, server::demo::Estate::Both).await.unwrap();

        // The original: provisioned by the pipeline, its state and its network.
        let original = resource_rows::Entity::find()
            .filter(resource_rows::Column::Slug.eq("prod-vpc"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        let member = workspace_resources::Entity::find_by_id(original.id).one(&db).await.unwrap().unwrap();
        let merged = member.merged_commit.clone().expect("the demo's prod-vpc is merged");
        let state_text = app::server::plans::current_state(&ctx, original.id).await.unwrap().expect("prod-vpc has a state");
        let cloud_path = dir.join("demo-cloud.json");
        let mut cloud: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&cloud_path).unwrap()).unwrap();
        let (network_id, network) = cloud
            .iter()
            .find(|(id, _)| state_text.contains(id.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .expect("prod-vpc's network");

        // N folders in one commit of the workspace repository, each the original's code with
        // its own module call.
        let bare = dir.join(format!("git/{}.git", server::demo_estate::WORKSPACE_REPOSITORY));
        let repo = git2::Repository::open_bare(&bare).unwrap();
        let base = repo.find_commit(git2::Oid::from_str(&merged).unwrap()).unwrap();
        let folder_tree = base.tree().unwrap().get_path(std::path::Path::new(&member.folder)).unwrap().to_object(&repo).unwrap().peel_to_tree().unwrap();
        let module_call = |slug: &str| slug.to_string();
        let original_call = module_call(&original.slug);
        let mut root = repo.treebuilder(Some(&base.tree().unwrap())).unwrap();
        let (template_dir, _) = member.folder.split_once('/').unwrap();
        let mut template_tree = repo.treebuilder(Some(&base.tree().unwrap().get_name(template_dir).unwrap().to_object(&repo).unwrap().peel_to_tree().unwrap())).unwrap();
        let slugs: Vec<String> = (0..n).map(|i| format!("vpc-clone-{i:04}")).collect();
        for slug in &slugs {
            let call = module_call(slug);
            let mut files = repo.treebuilder(None).unwrap();
            for entry in folder_tree.iter() {
                let blob = repo.find_blob(entry.id()).unwrap();
                let text = String::from_utf8_lossy(blob.content())
                    .replace(&format!("module \"{original_call}\""), &format!("module \"{call}\""))
                    .replace(&format!("module.{original_call}."), &format!("module.{call}."));
                let id = repo.blob(text.as_bytes()).unwrap();
                files.insert(entry.name().unwrap(), id, entry.filemode()).unwrap();
            }
            template_tree.insert(call.as_str(), files.write().unwrap(), 0o040000).unwrap();
        }
        root.insert(template_dir, template_tree.write().unwrap(), 0o040000).unwrap();
        let tree = repo.find_tree(root.write().unwrap()).unwrap();
        let signature = git2::Signature::now("bench", "bench@localhost").unwrap();
        let commit = repo.commit(None, &signature, &signature, "bench: the estate cloned", &tree, &[&base]).unwrap();
        let mut head = repo.find_reference("refs/heads/main").unwrap();
        head.set_target(commit, "bench").unwrap();

        // The rows, the states and the networks: one in ten changed in the cloud.
        let actor = app::server::Actor::system("bench");
        let started = Instant::now();
        for (i, slug) in slugs.iter().enumerate() {
            let call = module_call(slug);
            let mut row: resource_rows::ActiveModel = original.clone().into();
            row.id = NotSet;
            row.slug = Set(slug.clone());
            row.name = Set(format!("VPC clone {i}"));
            let row = row.insert(&db).await.unwrap();
            let mut folder: workspace_resources::ActiveModel = member.clone().into();
            folder.resource_id = Set(row.id);
            folder.folder = Set(format!("{template_dir}/{call}"));
            folder.folder_slug = Set(call.clone());
            folder.merged_commit = Set(Some(commit.to_string()));
            folder.last_job_id = Set(None);
            folder.insert(&db).await.unwrap();
            let id = format!("vpc-{i:08x}");
            let body = state_text
                .replace(&format!("module.{original_call}"), &format!("module.{call}"))
                .replace(&network_id, &id);
            app::server::plans::save_state(&ctx, row.id, None, None, &body, &actor).await.unwrap().unwrap();
            let mut object = network.clone();
            object["id"] = id.clone().into();
            if i % 10 == 0 {
                object["properties"]["cidr_block"] = "10.99.0.0/16".into();
            }
            cloud.insert(id, object);
        }
        std::fs::write(&cloud_path, serde_json::to_vec(&cloud).unwrap()).unwrap();
        let seeded = started.elapsed();

        let (cloud_url, _serving) = server::demo_cloud::listen(&dir).await.unwrap();
        for _ in 0..2 {
            server::jobs::Worker::new(ctx.clone(), &config).with_demo_cloud(cloud_url.clone()).spawn();
        }
        let workspace = app::server::workspaces::workspace_of_resource(&db, "prod-vpc").await.unwrap();
        let started = Instant::now();
        let queued = app::server::plans::check_workspace_now(&ctx, &actor, &workspace).await.unwrap();
        let checks = loop {
            let running = plans::Entity::find()
                .filter(plans::Column::Purpose.eq(PlanPurpose::Drift))
                .filter(plans::Column::Status.is_in([PlanStatus::Queued, PlanStatus::Planning]))
                .count(&db)
                .await
                .unwrap();
            if running == 0 {
                break started.elapsed().as_secs_f64();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let failed = plans::Entity::find()
            .filter(plans::Column::Purpose.eq(PlanPurpose::Drift))
            .filter(plans::Column::Status.eq(PlanStatus::Failed))
            .count(&db)
            .await
            .unwrap();
        let found = drifts::Entity::find().filter(drifts::Column::Status.eq(DriftStatus::Open)).count(&db).await.unwrap();
        assert_eq!(failed, 0, "checks failed");
        assert_eq!(found as usize, n.div_ceil(10), "every changed network is found, and only those");

        // Baseline: the same code and state by hand, N plain refresh-only plans, two at a time.
        let by_hand = dir.join("by-hand");
        let archive = Command::new("git")
            .arg(format!("--git-dir={}", bare.display()))
            .args(["archive", "--format=tar", &merged, &member.folder])
            .output()
            .unwrap();
        assert!(archive.status.success());
        std::fs::create_dir_all(&by_hand).unwrap();
        let mut tar = Command::new("tar").args(["-x", "-C"]).arg(&by_hand).stdin(std::process::Stdio::piped()).spawn().unwrap();
        std::io::Write::write_all(tar.stdin.as_mut().unwrap(), &archive.stdout).unwrap();
        drop(tar.stdin.take());
        assert!(tar.wait().unwrap().success());
        let folder = by_hand.join(&member.folder);
        std::fs::write(folder.join("terraform.tfstate"), &state_text).unwrap();
        let cli = dir.join("by-hand.tfrc");
        let mirror = std::env::var("SLIPWAY_PROVIDER_MIRROR").unwrap_or_default();
        std::fs::write(&cli, format!("provider_installation {{\n  filesystem_mirror {{\n    path = \"{mirror}\"\n    include = [\"slipway.dev/*/*\"]\n  }}\n  direct {{\n    exclude = [\"slipway.dev/*/*\"]\n  }}\n}}\n")).unwrap();
        let run = |args: &[&str]| {
            let output = Command::new(terraform())
                .args(args)
                .current_dir(&folder)
                .env("TF_IN_AUTOMATION", "1")
                .env("CHECKPOINT_DISABLE", "1")
                .env("TF_CLI_CONFIG_FILE", &cli)
                .env("SLIPWAY_DEMO_CLOUD", &cloud_url)
                .output()
                .expect("terraform runs");
            output.status.code()
        };
        assert_eq!(run(&["init", "-input=false", "-no-color"]), Some(0));
        let started = Instant::now();
        std::thread::scope(|scope| {
            for lane in 0..2 {
                let run = &run;
                scope.spawn(move || {
                    for _ in (lane..n).step_by(2) {
                        let code = run(&["plan", "-refresh-only", "-lock=false", "-input=false", "-no-color", "-detailed-exitcode"]);
                        assert!(matches!(code, Some(0 | 2)), "plan exited {code:?}");
                    }
                });
            }
        });
        let hand = started.elapsed().as_secs_f64();

        println!("drift_checks: {n} provisioned resources in one workspace, 1 in 10 drifted, 2 cores, 2 job workers");
        println!("  Check all now → every check ended     {checks:>8.1} s   {:.2}× by hand ({:.2} s per check; {queued} queued, {found} drift found, {failed} failed)", checks / hand, checks / n as f64);
        println!("  baseline: {n} plain `plan -refresh-only` by hand, 2 at a time   {hand:>8.1} s   ({:.2} s per plan)", hand / n as f64);
        println!("  (seeding the {n} clones took {:.1} s)", seeded.as_secs_f64());
        let _ = std::fs::remove_dir_all(&dir);
    });
}
