//! `slipway version compute` on a repository of 100,000 commits and 10,000 tags (2,500 releases
//! and 7,500 pre-releases, none on HEAD), beside `git describe --tags --abbrev=0 --match 'v*'`
//! on the same repository in the same run: both as processes, and Slipway's computation also
//! in-process (without process start-up).

use app::domain::conventional::Label;
use app::domain::versioning::{Outcome, ReleaseType};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const COMMITS: usize = 100_000;
const TAGS: usize = 10_000;
const RUNS: usize = 9;

fn generate(path: &Path) {
    std::fs::create_dir_all(path).unwrap();
    let status = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .current_dir(path)
        .status()
        .unwrap();
    assert!(status.success());
    let mut import = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = std::io::BufWriter::new(import.stdin.take().unwrap());
    let every = COMMITS / TAGS;
    for n in 0..COMMITS {
        writeln!(input, "commit refs/heads/main\nmark :{}", n + 1).unwrap();
        writeln!(
            input,
            "committer bench <bench@example.com> {} +0000",
            1_700_000_000 + n
        )
        .unwrap();
        let message = format!("fix: change {n}");
        writeln!(input, "data {}\n{message}", message.len()).unwrap();
        writeln!(
            input,
            "M 644 inline file.txt\ndata {}\n{n}",
            n.to_string().len()
        )
        .unwrap();
        writeln!(input).unwrap();
    }
    // Tag k sits on commit k*every + every/2 (HEAD, the last commit, has none). Every fourth is
    // a release; the others are alpha, beta and hotfix pre-releases of the next patch.
    for k in 0..TAGS {
        let release = k / 4;
        let (minor, patch) = (release / 100, release % 100);
        let name = match k % 4 {
            0 => format!("v1.{minor}.{patch}"),
            1 => format!("v1.{minor}.{}-alpha.0", patch + 1),
            2 => format!("v1.{minor}.{}-beta.0", patch + 1),
            _ => format!("v1.{minor}.{}-hotfix.1", patch + 1),
        };
        writeln!(
            input,
            "reset refs/tags/{name}\nfrom :{}\n",
            k * every + every / 2 + 1
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

fn timed(mut run: impl FnMut() -> String) -> (f64, String) {
    let mut times = Vec::new();
    let mut last = String::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        last = run();
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    (median(times), last)
}

fn output(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn measure(repo: &Path, what: &str) {
    println!("{what}:");
    let (describe, base) = timed(|| {
        output(
            Command::new("git")
                .args(["describe", "--tags", "--abbrev=0", "--match", "v*"])
                .current_dir(repo),
        )
    });
    let (process, next) = timed(|| {
        output(
            Command::new(env!("CARGO_BIN_EXE_slipway"))
                .args(["version", "compute", "--release-type", "LATEST", "--repo"])
                .arg(repo),
        )
    });
    let (in_process, _) = timed(|| {
        let (computation, _) =
            server::adapters::version_tags::compute_at(repo, ReleaseType::Latest, Label::None)
                .unwrap();
        match computation.outcome {
            Outcome::Version(v) => v.tag(),
            other => format!("{other:?}"),
        }
    });
    println!("  git describe --tags --abbrev=0 (median of {RUNS})  {describe:>8.1} ms   -> {base}");
    println!("  slipway version compute        (median of {RUNS})  {process:>8.1} ms   -> {next}");
    println!("    of which the computation, in-process          {in_process:>8.1} ms");
    println!(
        "  ratio: slipway / git describe = {:.2} (below 1: faster)",
        process / describe
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("slipway-bench-versions-{}", std::process::id()));
    let repo = dir.join("big.git");
    let start = Instant::now();
    generate(&repo);
    println!(
        "version_compute: {COMMITS} commits, {TAGS} tags generated in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    measure(&repo, "loose refs, as fast-import leaves them");
    let status = Command::new("git")
        .args(["pack-refs", "--all"])
        .current_dir(&repo)
        .status()
        .unwrap();
    assert!(status.success());
    measure(&repo, "packed refs, as git clone and git gc leave them");
    let _ = std::fs::remove_dir_all(&dir);
}
