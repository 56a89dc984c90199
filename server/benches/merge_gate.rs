//! The Merge Authorized gate on the local forge for a pull request of 10,000 commits (each
//! message a Conventional Commit with a body and a footer): reading the commits it brings with
//! git2 and checking every message and rule, in-process, beside `git rev-list --no-merges
//! --format=%B main..feature`, which only reads the same messages, in the same run.

use app::domain::branching::{authorize, PullRequestFacts};
use app::domain::versioning::Strategy;
use app::server::ports::LocalGit;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const COMMITS: usize = 10_000;
const RUNS: usize = 9;

fn generate(path: &Path) {
    std::fs::create_dir_all(path).unwrap();
    assert!(Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .current_dir(path)
        .status()
        .unwrap()
        .success());
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = std::io::BufWriter::new(import.stdin.take().unwrap());
    writeln!(input, "commit refs/heads/main\nmark :1\ncommitter bench <bench@example.com> 1700000000 +0000\ndata 13\nchore: start\n").unwrap();
    writeln!(input, "reset refs/heads/feature\nfrom :1\n").unwrap();
    for n in 0..COMMITS {
        writeln!(input, "commit refs/heads/feature").unwrap();
        writeln!(
            input,
            "committer bench <bench@example.com> {} +0000",
            1_700_000_001 + n
        )
        .unwrap();
        let message = format!(
            "feat(area-{}): change number {n}\n\nWhy this change is needed, in a sentence or two\nof body text, as a reviewer would want it.\n\nRefs: #{n}\n",
            n % 17
        );
        writeln!(input, "data {}\n{message}", message.len()).unwrap();
        writeln!(
            input,
            "M 644 inline file-{}.txt\ndata {}\n{n}\n",
            n % 50,
            n.to_string().len()
        )
        .unwrap();
    }
    drop(input);
    assert!(import.wait().unwrap().success());
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let root = std::env::temp_dir().join(format!("slipway-bench-gate-{}", std::process::id()));
    let bare = root.join("git/bench/big.git");
    let started = Instant::now();
    generate(&bare);
    println!(
        "merge_gate: {COMMITS} commits generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let repos = server::adapters::local_forge::LocalGitRepos::new(&root);

    let mut git_times = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let output = Command::new("git")
            .args(["rev-list", "--no-merges", "--format=%B", "main..feature"])
            .current_dir(&bare)
            .output()
            .unwrap();
        assert!(output.status.success());
        git_times.push(started.elapsed().as_secs_f64() * 1000.0);

        let started = Instant::now();
        let commits = runtime
            .block_on(repos.commits("bench/big", "main", "feature"))
            .unwrap();
        let verdict = authorize(
            Strategy::GithubFlow,
            &PullRequestFacts {
                source: "feat/big".into(),
                target: "main".into(),
                title: "feat: everything".into(),
                commits,
                author: "dev".into(),
                approvers: vec!["ada".into()],
                method: None,
            },
        );
        assert!(verdict.allowed(), "{verdict:?}");
        ours.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (git, slipway) = (median(git_times), median(ours));
    println!("merge_gate: git rev-list --no-merges --format=%B (read only)   {git:8.1} ms");
    println!("merge_gate: slipway gate (read, parse every message, rules)   {slipway:8.1} ms");
    println!(
        "merge_gate: ratio slipway / git {:.2} (median of {RUNS})",
        slipway / git
    );
    let _ = std::fs::remove_dir_all(&root);
}
