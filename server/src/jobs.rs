//! The job worker: claims due jobs (see `app::server::jobs`), keeps their lease alive while they
//! run, streams their output into the job log, and records how each attempt ended. One worker
//! per replica; any number of replicas share the queue.
//!
//! Executor runs: the repository's tree at the executor's ref is written into a fresh folder,
//! the last apply's state file restored, and `init` then `plan` or `apply` run with the
//! executor's arguments as argv elements (never through a shell), in an environment that holds
//! only what the run needs: a fixed PATH, and the integrations' credentials as each provider's
//! standard variables. Nothing of the server's own environment (its secret key) reaches it.

use crate::config::Config;
use app::domain::executors::{RunAction, Runtime};
use app::domain::integrations::environment;
use app::error::AppError;
use app::server::entities::jobs as job_rows;
use app::server::executors::{self, RunResult, RUN_JOB};
use app::server::jobs::{self, LogLine, Outcome};
use app::server::{governance, integrations, sources, workspaces, AppCtx};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

const POLL: Duration = Duration::from_millis(500);
/// The longest a single OpenTofu command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct Worker {
    ctx: AppCtx,
    pub name: String,
    sandbox: crate::sandbox::Sandbox,
    tofu: Option<PathBuf>,
    terraform: Option<PathBuf>,
    lease: Duration,
}

impl Worker {
    pub fn new(ctx: AppCtx, config: &Config) -> Worker {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "slipway".into());
        Worker {
            ctx,
            name: format!(
                "{host}-{}-{:04x}",
                std::process::id(),
                rand::random::<u16>()
            ),
            sandbox: crate::sandbox::Sandbox::new(&config.data_dir),
            tofu: config.tofu_bin.clone(),
            terraform: config.terraform_bin.clone(),
            lease: config.job_lease,
        }
    }

    /// Runs until the task is dropped: claim, perform, repeat; sleep when there is nothing.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match jobs::claim(&self.ctx.db, &self.name, self.lease).await {
                    Ok(Some(job)) => self.perform(job).await,
                    Ok(None) => {
                        tokio::select! {
                            _ = self.ctx.jobs_wake.notified() => {}
                            _ = tokio::time::sleep(POLL) => {}
                        }
                    }
                    Err(error) => {
                        tracing::error!("claiming a job failed: {error}");
                        tokio::time::sleep(POLL).await;
                    }
                }
            }
        })
    }

    /// Performs every job that is due now, one after another, and returns how many ran (a job
    /// retried with backoff is not due again at once, so this ends). The demo's seeding runs its
    /// jobs with it before the server listens.
    pub async fn run_due(&self) -> usize {
        let mut ran = 0;
        while let Ok(Some(job)) = jobs::claim(&self.ctx.db, &self.name, self.lease).await {
            self.perform(job).await;
            ran += 1;
        }
        ran
    }

    /// Performs one attempt of a claimed job and records its end.
    pub async fn perform(&self, job: job_rows::Model) {
        let heartbeat = {
            let (db, name, lease, id) =
                (self.ctx.db.clone(), self.name.clone(), self.lease, job.id);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    match jobs::heartbeat(&db, id, &name, lease).await {
                        Ok(true) => {}
                        _ => break,
                    }
                }
            })
        };
        let header = format!(
            "attempt {} of {} on {}",
            job.attempts, job.max_attempts, self.name
        );
        let log = JobLog::start(&self.ctx, job.id, job.attempts, header).await;
        let recorded = match job.kind.as_str() {
            RUN_JOB => {
                let result = self.run_executor(&job, &log).await;
                if let Some(e) = result.outcome.error() {
                    log.say(format!("failed: {e}"));
                }
                log.finish().await;
                executors::finish_run(&self.ctx.db, &self.ctx.secrets, job.id, &self.name, &result)
                    .await
            }
            workspaces::SYNC_JOB | workspaces::REVIEW_JOB => {
                let say = |line: String| log.say(line);
                let performed = workspaces::perform(&self.ctx, &job, &say).await;
                // The log is complete before the job's end is recorded.
                log.finish().await;
                match performed {
                    Ok(performed) => workspaces::record(&self.ctx, &self.name, performed).await,
                    Err(e) => Err(e),
                }
            }
            governance::MERGE_AUTHORIZED_JOB
            | app::server::deployments::PRERELEASE_JOB
            | app::server::releases::STAGE_JOB => {
                let say = |line: String| log.say(line);
                let payload: serde_json::Value =
                    serde_json::from_str(&job.payload).unwrap_or_default();
                let id = |key: &str| payload.get(key).and_then(serde_json::Value::as_i64);
                let result = match job.kind.as_str() {
                    governance::MERGE_AUTHORIZED_JOB => {
                        match serde_json::from_value::<governance::PullEvent>(payload.clone()) {
                            Ok(event) => governance::check_github_pull(&self.ctx, &event, &say)
                                .await
                                .map_err(Some),
                            Err(e) => Err(Some(app::server::ports::ForgeError::permanent(
                                format!("the job's payload does not read: {e}"),
                            ))),
                        }
                    }
                    app::server::deployments::PRERELEASE_JOB => match id("build") {
                        Some(build) => {
                            app::server::deployments::deploy_prerelease(&self.ctx, build, &say)
                                .await
                                .map_err(Some)
                        }
                        None => Err(None),
                    },
                    _ => match id("stage") {
                        Some(stage) => app::server::releases::deploy_stage(&self.ctx, stage, &say)
                            .await
                            .map_err(Some),
                        None => Err(None),
                    },
                };
                let outcome = match result {
                    Ok(()) => Outcome::Succeeded,
                    Err(None) => Outcome::Fail("the job's payload does not read".into()),
                    Err(Some(e)) => {
                        say(format!("failed: {}", e.message));
                        Outcome::of_error(&e)
                    }
                };
                log.finish().await;
                finish_plain(&self.ctx, job.id, &self.name, &outcome).await
            }
            other => {
                log.say(format!("no handler for jobs of kind {other:?}"));
                log.finish().await;
                let outcome = Outcome::Fail(format!("no handler for jobs of kind {other:?}"));
                finish_plain(&self.ctx, job.id, &self.name, &outcome).await
            }
        };
        heartbeat.abort();
        if let Err(error) = recorded {
            tracing::error!(job = job.id, "recording the end of a job failed: {error}");
        }
    }

    fn program(&self, runtime: Runtime) -> Result<PathBuf, String> {
        let configured = match runtime {
            Runtime::Opentofu => &self.tofu,
            Runtime::Terraform => &self.terraform,
        };
        let setting = match runtime {
            Runtime::Opentofu => "SLIPWAY_TOFU_BIN",
            Runtime::Terraform => "SLIPWAY_TERRAFORM_BIN",
        };
        if let Some(path) = configured {
            return if path.is_file() {
                Ok(path.clone())
            } else {
                Err(format!(
                    "{} is not installed on this server: {setting} names {}, which does not exist",
                    runtime.label(),
                    path.display()
                ))
            };
        }
        let found = std::env::var_os("PATH")
            .map(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(runtime.program()))
                    .find(|p| p.is_file())
            })
            .unwrap_or_default();
        found.ok_or_else(|| {
            format!(
                "{} is not installed on this server: no `{}` on PATH (install it, or set {setting})",
                runtime.label(),
                runtime.program()
            )
        })
    }

    async fn run_executor(&self, job: &job_rows::Model, log: &JobLog) -> RunResult {
        let mut result = RunResult {
            outcome: Outcome::Succeeded,
            exit_code: None,
            commit: None,
            outputs: BTreeMap::new(),
            tf_state: None,
        };
        let plan = match executors::plan_for_job(&self.ctx.db, &self.ctx.secrets, job.id).await {
            Ok(plan) => plan,
            Err(e) => {
                result.outcome = Outcome::Fail(e.to_string());
                return result;
            }
        };
        let program = match self.program(plan.runtime) {
            Ok(program) => program,
            Err(message) => {
                result.outcome = Outcome::Fail(message);
                return result;
            }
        };
        let dir = match self
            .sandbox
            .make_run_dir(&format!("run-{}-{}", plan.run_id, job.attempts))
        {
            Ok(dir) => dir,
            Err(e) => {
                result.outcome = Outcome::Retry(e);
                return result;
            }
        };
        if let Err(e) = std::fs::create_dir_all(dir.join(".home")) {
            result.outcome = Outcome::Retry(format!("cannot create the run folder: {e}"));
            return result;
        }
        let outcome = self.run_in(&plan, &program, &dir, log, &mut result).await;
        let _ = std::fs::remove_dir_all(&dir);
        result.outcome = outcome;
        result
    }

    async fn run_in(
        &self,
        plan: &executors::RunPlan,
        program: &Path,
        dir: &Path,
        log: &JobLog,
        result: &mut RunResult,
    ) -> Outcome {
        let db = &self.ctx.db;
        let access =
            match sources::access(&self.ctx, db, &plan.source_url, plan.source_integration).await {
                Ok(access) => access,
                Err(e) => return Outcome::Fail(e.to_string()),
            };
        let checkout = dir.join("src");
        log.say(format!(
            "fetching {} at {}",
            plan.source_url, plan.executor.git_ref
        ));
        match self
            .ctx
            .repos
            .export(&access, &plan.executor.git_ref, &checkout)
            .await
        {
            Ok(commit) => {
                log.say(format!("commit {commit}"));
                result.commit = Some(commit);
            }
            Err(e @ AppError::Invalid { .. }) => return Outcome::Fail(e.to_string()),
            Err(e) => return Outcome::Retry(e.to_string()),
        }
        let module = checkout.join(&plan.executor.module_path);
        if !module.is_dir() {
            return Outcome::Fail(format!(
                "module_path: {} has no folder {:?}",
                plan.executor.git_ref, plan.executor.module_path
            ));
        }
        if let Some(state) = &plan.tf_state {
            if let Err(e) = std::fs::write(module.join("terraform.tfstate"), state) {
                return Outcome::Retry(format!("cannot restore the state file: {e}"));
            }
        }
        // Arguments saved before the allow-list existed are checked again here.
        if let Err(refused) = app::domain::executors::check_arguments(&plan.arguments) {
            return Outcome::Fail(format!("command: {refused}"));
        }
        let mut secrets: Vec<String> = Vec::new();
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("HOME".into(), dir.join(".home").display().to_string()),
            ("TF_IN_AUTOMATION".into(), "1".into()),
            ("TF_INPUT".into(), "0".into()),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
        ];
        for id in &plan.integration_ids {
            match (
                integrations::find_by_id(db, *id).await,
                integrations::open_secrets(db, &self.ctx.secrets, *id).await,
            ) {
                (Ok(integration), Ok(opened)) => {
                    let vars = environment(integration.provider, &integration.settings, &opened);
                    secrets.extend(opened.values().cloned());
                    log.say(format!(
                        "integration {}: {}",
                        integration.slug,
                        if vars.is_empty() {
                            "no environment".to_string()
                        } else {
                            vars.iter()
                                .map(|(k, _)| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ));
                    env.extend(vars);
                }
                (Err(e), _) | (_, Err(e)) => {
                    return Outcome::Fail(format!("integration #{id}: {e}"))
                }
            }
        }
        if let Err(e) = self.sandbox.hand_over(dir) {
            return Outcome::Retry(e);
        }
        let name = plan.runtime.program();
        let run = Run {
            sandbox: &self.sandbox,
            program,
            dir,
            cwd: &module,
            env: &env,
            secrets: &secrets,
        };
        let init = ["init", "-input=false", "-no-color"]
            .map(String::from)
            .to_vec();
        match execute(&run, &init, log, name).await {
            Ok(0) => {}
            Ok(code) => {
                result.exit_code = Some(code);
                return Outcome::Fail(format!("{name} init exited with status {code}"));
            }
            Err(e) => return Outcome::Fail(e),
        }
        let mut args: Vec<String> = match plan.action {
            RunAction::Plan => vec!["plan".into(), "-input=false".into(), "-no-color".into()],
            RunAction::Apply => vec![
                "apply".into(),
                "-auto-approve".into(),
                "-input=false".into(),
                "-no-color".into(),
            ],
        };
        args.extend(plan.arguments.iter().cloned());
        let code = match execute(&run, &args, log, name).await {
            Ok(code) => code,
            Err(e) => return Outcome::Fail(e),
        };
        result.exit_code = Some(code);
        if plan.action == RunAction::Apply {
            // Keep the state even after a failed apply: it records what was created.
            if let Ok(state) = std::fs::read_to_string(module.join("terraform.tfstate")) {
                result.tf_state = Some(state);
            }
        }
        if code != 0 {
            return Outcome::Fail(format!(
                "{name} {} exited with status {code}",
                plan.action.as_str()
            ));
        }
        if plan.action == RunAction::Apply {
            match capture(&run, &["output", "-json", "-no-color"]).await {
                Ok(json) => result.outputs = outputs_of(&json),
                Err(e) => log.say(format!("reading the outputs failed: {e}")),
            }
        }
        Outcome::Succeeded
    }
}

/// Records the end of a job that has no row of its own to update.
async fn finish_plain(
    ctx: &AppCtx,
    job_id: i64,
    worker: &str,
    outcome: &Outcome,
) -> Result<(), AppError> {
    let txn = app::server::begin_write(&ctx.db).await?;
    jobs::finish(&txn, job_id, worker, outcome).await?;
    txn.commit().await?;
    Ok(())
}

/// `output -json` as name → value, sensitive values replaced by a marker.
fn outputs_of(json: &str) -> BTreeMap<String, serde_json::Value> {
    let parsed: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(json).unwrap_or_default();
    parsed
        .into_iter()
        .map(|(name, output)| {
            let value = if output["sensitive"].as_bool() == Some(true) {
                serde_json::Value::String("(sensitive)".into())
            } else {
                output["value"].clone()
            };
            (name, value)
        })
        .collect()
}

/// One module run's sandboxed commands: what runs, where, with what, and what to mask.
struct Run<'a> {
    sandbox: &'a crate::sandbox::Sandbox,
    program: &'a Path,
    /// The run folder (the only place written).
    dir: &'a Path,
    /// The module's folder inside it.
    cwd: &'a Path,
    env: &'a [(String, String)],
    /// The attached integrations' secret values: masked in every line logged.
    secrets: &'a [String],
}

/// The most output a command may log (more is a runaway: the command is stopped).
const MAX_OUTPUT: usize = 8 << 20;
/// The longest line kept whole; longer ones are cut.
const MAX_LINE: usize = 8 << 10;

/// Reads `reader` as lines into `sender` (masked, cut at [`MAX_LINE`]) until it ends or the
/// run's output passes [`MAX_OUTPUT`]: then false.
async fn pump_lines(
    mut reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
    stream: &'static str,
    sender: mpsc::UnboundedSender<(&'static str, String)>,
    secrets: Vec<String>,
    total: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> bool {
    use std::sync::atomic::Ordering;
    let mut buffer = vec![0u8; 64 << 10];
    let mut line: Vec<u8> = Vec::new();
    let mut cut = false;
    let flush = |line: &mut Vec<u8>, cut: &mut bool| {
        let mut text = String::from_utf8_lossy(line).into_owned();
        if *cut {
            text.push_str(" …(line cut)");
        }
        let _ = sender.send((stream, crate::sandbox::mask(&text, &secrets)));
        line.clear();
        *cut = false;
    };
    loop {
        let read = match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if total.fetch_add(read, Ordering::Relaxed) + read > MAX_OUTPUT {
            return false;
        }
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                flush(&mut line, &mut cut);
            } else if line.len() < MAX_LINE {
                line.push(byte);
            } else {
                cut = true;
            }
        }
    }
    if !line.is_empty() {
        flush(&mut line, &mut cut);
    }
    true
}

/// Runs a command in the sandbox, its output line by line into the log; the exit status, or
/// why it did not run or was stopped.
async fn execute(run: &Run<'_>, args: &[String], log: &JobLog, name: &str) -> Result<i32, String> {
    log.say(format!(
        "$ {name} {}",
        crate::sandbox::mask(&args.join(" "), run.secrets)
    ));
    let mut child = run
        .sandbox
        .command(run.program, args, run.dir, run.cwd, run.env)?
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", run.program.display()))?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let total = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let pump = |stream: &'static str, reader: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        pump_lines(
            reader,
            stream,
            log.sender.clone(),
            run.secrets.to_vec(),
            total.clone(),
        )
    };
    let waited = tokio::time::timeout(COMMAND_TIMEOUT, async {
        let (out, err) = tokio::join!(pump("out", Box::new(stdout)), pump("err", Box::new(stderr)));
        if !(out && err) {
            let _ = child.kill().await;
            return Err(format!(
                "{name} wrote more than {} MiB of output and was stopped",
                MAX_OUTPUT >> 20
            ));
        }
        child
            .wait()
            .await
            .map_err(|e| format!("waiting for {name}: {e}"))
    })
    .await;
    match waited {
        Ok(Ok(status)) => Ok(status.code().unwrap_or(-1)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!(
            "{name} ran longer than {} minutes and was stopped",
            COMMAND_TIMEOUT.as_secs() / 60
        )),
    }
}

/// Runs a command in the sandbox and returns its standard output (for `output -json`), at most
/// [`MAX_OUTPUT`].
async fn capture(run: &Run<'_>, args: &[&str]) -> Result<String, String> {
    let output = run
        .sandbox
        .command(run.program, args, run.dir, run.cwd, run.env)?
        .output()
        .await
        .map_err(|e| format!("cannot start {}: {e}", run.program.display()))?;
    if !output.status.success() {
        let errors = String::from_utf8_lossy(&output.stderr);
        return Err(crate::sandbox::mask(&errors, run.secrets));
    }
    if output.stdout.len() > MAX_OUTPUT {
        return Err("the outputs are larger than 8 MiB".into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A job's log as it is written: lines go through a channel to a task that stores them in
/// batches (every 250 ms), so a page following the log sees them while the job runs.
pub struct JobLog {
    sender: mpsc::UnboundedSender<(&'static str, String)>,
    writer: tokio::task::JoinHandle<()>,
}

impl JobLog {
    /// Opens the log of an attempt. Its first line, `header`, is written before this returns,
    /// so that an attempt whose process dies a moment later still shows in the log; later lines
    /// are written in batches.
    async fn start(ctx: &AppCtx, job_id: i64, attempt: i32, header: String) -> JobLog {
        let (sender, mut receiver) = mpsc::unbounded_channel::<(&'static str, String)>();
        let db = ctx.db.clone();
        let mut seq = jobs::next_seq(&db, job_id).await.unwrap_or(1);
        let first = LogLine {
            seq,
            attempt,
            stream: "slipway".to_string(),
            line: header,
        };
        match jobs::append_log(&db, job_id, std::slice::from_ref(&first)).await {
            Ok(()) => seq += 1,
            Err(e) => tracing::error!(job = job_id, "writing the job log failed: {e}"),
        }
        let writer = tokio::spawn(async move {
            let mut open = true;
            while open {
                let mut batch = Vec::new();
                let deadline = tokio::time::sleep(Duration::from_millis(250));
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        received = receiver.recv() => match received {
                            Some((stream, line)) => {
                                batch.push(LogLine { seq, attempt, stream: stream.to_string(), line });
                                seq += 1;
                                if batch.len() >= 200 { break; }
                            }
                            None => { open = false; break; }
                        },
                        _ = &mut deadline => break,
                    }
                }
                if let Err(e) = jobs::append_log(&db, job_id, &batch).await {
                    tracing::error!(job = job_id, "writing the job log failed: {e}");
                }
            }
        });
        JobLog { sender, writer }
    }

    pub fn say(&self, line: String) {
        let _ = self.sender.send(("slipway", line));
    }

    async fn finish(self) {
        drop(self.sender);
        let _ = self.writer.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_run_s_output_is_masked_cut_and_bounded() {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let secrets = vec!["s3cr3t-value".to_string()];
        let total = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let text = format!("token=s3cr3t-value\n{}\nlast", "x".repeat(MAX_LINE + 10));
        let reader: Box<dyn tokio::io::AsyncRead + Unpin + Send> =
            Box::new(std::io::Cursor::new(text.into_bytes()));
        assert!(
            pump_lines(
                reader,
                "out",
                sender.clone(),
                secrets.clone(),
                total.clone()
            )
            .await
        );
        assert_eq!(receiver.recv().await.unwrap().1, "token=***");
        let long = receiver.recv().await.unwrap().1;
        assert!(long.ends_with(" …(line cut)") && long.len() < MAX_LINE + 20);
        assert_eq!(receiver.recv().await.unwrap().1, "last");
        // A gigabyte of output stops at the bound, long before it is read whole.
        let flood: Box<dyn tokio::io::AsyncRead + Unpin + Send> =
            Box::new(tokio::io::repeat(b'y').take(1 << 30));
        let fresh = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        assert!(!pump_lines(flood, "out", sender, secrets, fresh.clone()).await);
        assert!(fresh.load(std::sync::atomic::Ordering::Relaxed) <= MAX_OUTPUT + (64 << 10));
    }
}
