//! Syncing one resource into a big workspace repository (20,000 files, 5,000 commits): Slipway's
//! incremental sync (a fetch into its mirror, one commit built from trees, a push) beside the
//! baseline measured in the same run — what a script would do with the git CLI: a fresh
//! `git clone`, write the folder, `git add`, `git commit`, `git push`.

use app::domain::integrations::Provider;
use app::server::ports::{BranchChange, ForgeRepo, RepoConfig, TreeEdit, WorkspaceGit};
use server::adapters::workspace_git::GitWorkspaces;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const FILES: usize = 20_000;
const COMMITS: usize = 5_000;
const RUNS: usize = 7;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// A bare repository of COMMITS commits adding FILES files in all, written with fast-import.
fn big_repository(path: &Path) {
    std::fs::create_dir_all(path).unwrap();
    git(path, &["init", "-q", "--bare", "-b", "main"]);
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = std::io::BufWriter::new(import.stdin.take().unwrap());
    let per_commit = FILES / COMMITS;
    for commit in 0..COMMITS {
        writeln!(input, "commit refs/heads/main").unwrap();
        writeln!(
            input,
            "committer bench <bench@example.com> {} +0000",
            1_700_000_000 + commit
        )
        .unwrap();
        let message = format!("change {commit}");
        writeln!(input, "data {}\n{message}", message.len()).unwrap();
        for n in 0..per_commit {
            let file = commit * per_commit + n;
            let body = format!(
                "variable \"v{file}\" {{\n  type    = string\n  default = \"{file}\"\n}}\n"
            );
            writeln!(
                input,
                "M 100644 inline team{:02}/module{:04}/main{n}.tf",
                file % 50,
                file / 8
            )
            .unwrap();
            writeln!(input, "data {}\n{body}", body.len()).unwrap();
        }
    }
    drop(input);
    assert!(import.wait().unwrap().success());
}

fn files(revision: usize) -> Vec<(String, String)> {
    vec![
        (
            "main.tf".into(),
            "module \"audit-logs\" {\n  source = \"git::https://example.com/m.git//s3?ref=v1\"\n}\n"
                .into(),
        ),
        (
            "variables.tf".into(),
            format!("variable \"bucket_name\" {{\n  default = \"acme-{revision}\"\n}}\n"),
        ),
    ]
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

fn main() {
    let dir = std::env::temp_dir().join(format!("slipway-sync-bench-{}", rand::random::<u64>()));
    let bare = dir.join("git/acme/big.git");
    let started = Instant::now();
    big_repository(&bare);
    println!(
        "workspace repository: {FILES} files in {COMMITS} commits, made in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let gits = GitWorkspaces::new(&dir, &Default::default());
    let repo = ForgeRepo {
        provider: Provider::LocalGit,
        repository: "acme/big".into(),
        settings: Default::default(),
        secrets: Default::default(),
    };
    let config = RepoConfig {
        name: "big".into(),
        default_branch: "main".into(),
        organization: "acme".into(),
        ..Default::default()
    };
    let change = |revision: usize| BranchChange {
        base: "main".into(),
        branch: format!("update_audit_logs_{revision}"),
        edit: TreeEdit::Folder {
            folder: "s3-bucket/audit_logs".into(),
            files: Some(files(revision)),
        },
        message: format!("feat(s3-bucket): sync audit_logs at revision {revision}\n"),
        author_name: "bench".into(),
        author_email: "bench@example.com".into(),
    };
    // The first sync fills the mirror (once per replica, not per sync).
    let started = Instant::now();
    runtime
        .block_on(gits.push_change(&repo, &config, &change(0)))
        .unwrap();
    let first = started.elapsed().as_secs_f64() * 1000.0;

    let mut ours = Vec::new();
    for revision in 1..=RUNS {
        let started = Instant::now();
        let pushed = runtime
            .block_on(gits.push_change(&repo, &config, &change(revision)))
            .unwrap();
        assert!(pushed.pushed);
        ours.push(started.elapsed().as_secs_f64() * 1000.0);
    }

    // Baseline: the git CLI from scratch each time, over the same file:// transport.
    let url = format!("file://{}", bare.display());
    let mut baseline = Vec::new();
    for revision in 1..=RUNS {
        let work = dir.join(format!("clone-{revision}"));
        let started = Instant::now();
        git(
            &dir,
            &["clone", "-q", "--no-local", &url, work.to_str().unwrap()],
        );
        let folder = work.join("s3-bucket/audit_logs");
        std::fs::create_dir_all(&folder).unwrap();
        for (name, contents) in files(100 + revision) {
            std::fs::write(folder.join(name), contents).unwrap();
        }
        let branch = format!("cli_{revision}");
        git(&work, &["checkout", "-q", "-b", &branch]);
        git(&work, &["add", "s3-bucket"]);
        git(&work, &["commit", "-q", "-m", "sync audit_logs"]);
        git(&work, &["push", "-q", "origin", &branch]);
        baseline.push(started.elapsed().as_secs_f64() * 1000.0);
        std::fs::remove_dir_all(&work).unwrap();
    }
    let (ours, baseline) = (median(ours), median(baseline));
    println!("first sync (fills the mirror)            {first:>9.1} ms");
    println!("workspace sync, incremental (median of {RUNS}) {ours:>9.1} ms");
    println!("git clone + commit + push   (median of {RUNS}) {baseline:>9.1} ms");
    println!(
        "ratio: Slipway is {:.1}x faster (target: at least 5x)",
        baseline / ours
    );
    let _ = std::fs::remove_dir_all(&dir);
}
