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

mod commands;
mod resource_runs;
pub use commands::*;
#[allow(unused_imports)]
use commands::*;

const POLL: Duration = Duration::from_millis(500);
/// How often the drift schedule looks for workspaces whose checks are due.
const SCHEDULE_TICK: Duration = Duration::from_secs(60);
/// How often the notifier looks whether the audit log moved, and the least time between two
/// of its sweeps.
const NOTIFY_TICK: Duration = Duration::from_secs(2);
const NOTIFY_GAP: Duration = Duration::from_secs(10);
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
    provider_mirror: Option<PathBuf>,
    /// The demo cloud's API (`SLIPWAY_DEMO_CLOUD` in runs): the demo's world.
    demo_cloud: Option<String>,
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
            sandbox: match &config.provider_mirror {
                Some(mirror) => crate::sandbox::Sandbox::new(&config.data_dir).expose(mirror),
                None => crate::sandbox::Sandbox::new(&config.data_dir),
            },
            tofu: config.tofu_bin.clone(),
            terraform: config.terraform_bin.clone(),
            lease: config.job_lease,
            provider_mirror: config.provider_mirror.clone(),
            demo_cloud: None,
        }
    }

    /// Gives runs the demo cloud's address (under `--demo`: `http://<address>/demo-cloud`).
    pub fn with_demo_cloud(mut self, url: String) -> Worker {
        self.demo_cloud = Some(url);
        self
    }

    /// Runs until the task is dropped: claim, perform, repeat; sleep when there is nothing.
    /// Beside it, once a minute, the drift schedule queues the checks that are due.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let ctx = self.ctx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SCHEDULE_TICK);
            loop {
                every.tick().await;
                if let Err(error) = app::server::plans::enqueue_due(&ctx).await {
                    tracing::warn!("queueing the drift checks that are due failed: {error}");
                }
            }
        });
        let notifier = self.ctx.clone();
        tokio::spawn(async move {
            // Notifications: a sweep whenever the audit log moved (something was decided, or
            // started waiting), and once a minute for what time alone opens (a soak ending).
            let mut every = tokio::time::interval(NOTIFY_TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut seen, mut swept_at) = (None, std::time::Instant::now());
            loop {
                every.tick().await;
                // At most one sweep per NOTIFY_GAP while things change (a sweep reads every
                // person's needs: under a burst of changes it must not crowd out the jobs).
                let head = app::server::cache::version(&notifier.db).await.ok();
                let since = swept_at.elapsed();
                if (head == seen || since < NOTIFY_GAP) && since < SCHEDULE_TICK {
                    continue;
                }
                match app::server::notifications::sweep(&notifier).await {
                    Ok(_) => (seen, swept_at) = (head, std::time::Instant::now()),
                    Err(error) => tracing::warn!("the notification sweep failed: {error}"),
                }
            }
        });
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
            app::server::plans::PLAN_JOB | app::server::plans::APPLY_JOB => {
                self.resource_run(&job, log).await
            }
            app::server::plans::COMMENT_JOB => {
                self.plain::<app::server::plans::CommentJob>(&job, log)
                    .await
            }
            governance::MERGE_AUTHORIZED_JOB => {
                self.plain::<governance::MergeAuthorized>(&job, log).await
            }
            app::server::deployments::PRERELEASE_JOB => {
                self.plain::<app::server::deployments::PrereleaseDeploy>(&job, log)
                    .await
            }
            app::server::deployments::ROLLBACK_JOB => {
                self.plain::<app::server::deployments::RollbackDeploy>(&job, log)
                    .await
            }
            app::server::notifications::DELIVER_JOB => {
                self.plain::<app::server::notifications::Deliver>(&job, log)
                    .await
            }
            app::server::releases::STAGE_JOB => {
                self.plain::<app::server::releases::StageDeploy>(&job, log)
                    .await
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

    /// Runs a job whose end is only its own, and records that end: its payload read as its kind
    /// defines it, its failure (retryable or not) as its error says.
    async fn plain<J: jobs::PlainJob>(
        &self,
        job: &job_rows::Model,
        log: JobLog,
    ) -> Result<(), AppError> {
        let say = |line: String| log.say(line);
        let outcome = match jobs::payload_of::<J>(job) {
            Err(unreadable) => Outcome::Fail(unreadable),
            Ok(payload) => match J::run(&self.ctx, payload, &say).await {
                Ok(()) => Outcome::Succeeded,
                Err(e) if e.waiting_until.is_some() => {
                    say(e.message.clone());
                    Outcome::of_error(&e)
                }
                Err(e) => {
                    say(format!("failed: {}", e.message));
                    Outcome::of_error(&e)
                }
            },
        };
        log.finish().await;
        finish_plain(&self.ctx, job.id, &self.name, &outcome).await
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
        let module = match self.check_out(plan, dir, log, result).await {
            Ok(module) => module,
            Err(outcome) => return outcome,
        };
        // Arguments saved before the allow-list existed are checked again here.
        if let Err(refused) = app::domain::executors::check_arguments(&plan.arguments) {
            return Outcome::Fail(format!("command: {refused}"));
        }
        let (mut env, secrets) = match self.environment(&plan.integration_ids, dir, log).await {
            Ok(found) => found,
            Err(outcome) => return outcome,
        };
        match self.run_settings(dir) {
            Ok(settings) => env.extend(settings),
            Err(e) => return Outcome::Retry(e),
        }
        if let Err(e) = self.sandbox.hand_over(dir) {
            return Outcome::Retry(e);
        }
        let run = Run {
            sandbox: &self.sandbox,
            program,
            dir,
            cwd: &module,
            env: &env,
            secrets: &secrets,
            errors: ErrorTail::default(),
        };
        perform(&run, plan, &module, log, result).await
    }

    /// The executor's module at its ref, in `dir/src`, with the state of the last apply put
    /// back beside it. Returns the module's folder.
    async fn check_out(
        &self,
        plan: &executors::RunPlan,
        dir: &Path,
        log: &JobLog,
        result: &mut RunResult,
    ) -> Result<PathBuf, Outcome> {
        let db = &self.ctx.db;
        let access = sources::access(&self.ctx, db, &plan.source_url, plan.source_integration)
            .await
            .map_err(|e| Outcome::Fail(e.to_string()))?;
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
            Err(e @ AppError::Invalid { .. }) => return Err(Outcome::Fail(e.to_string())),
            Err(e) => return Err(Outcome::Retry(e.to_string())),
        }
        let module = checkout.join(&plan.executor.module_path);
        if !module.is_dir() {
            return Err(Outcome::Fail(format!(
                "module_path: {} has no folder {:?}",
                plan.executor.git_ref, plan.executor.module_path
            )));
        }
        if let Some(state) = &plan.tf_state {
            std::fs::write(module.join("terraform.tfstate"), state)
                .map_err(|e| Outcome::Retry(format!("cannot restore the state file: {e}")))?;
        }
        Ok(module)
    }

    /// The run's environment: a bare PATH and HOME, and each integration's variables; with the
    /// secrets among them, which the log masks.
    async fn environment(
        &self,
        integration_ids: &[i64],
        dir: &Path,
        log: &JobLog,
    ) -> Result<(Vec<(String, String)>, Vec<String>), Outcome> {
        let db = &self.ctx.db;
        let mut secrets: Vec<String> = Vec::new();
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("HOME".into(), dir.join(".home").display().to_string()),
            ("TF_IN_AUTOMATION".into(), "1".into()),
            ("TF_INPUT".into(), "0".into()),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
        ];
        for id in integration_ids {
            let (integration, opened) = match (
                integrations::find_by_id(db, *id).await,
                integrations::open_secrets(db, &self.ctx.secrets, *id).await,
            ) {
                (Ok(integration), Ok(opened)) => (integration, opened),
                (Err(e), _) | (_, Err(e)) => {
                    return Err(Outcome::Fail(format!("integration #{id}: {e}")))
                }
            };
            let vars = environment(integration.provider, &integration.settings, &opened);
            secrets.extend(opened.values().cloned());
            let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
            log.say(format!(
                "integration {}: {}",
                integration.slug,
                if names.is_empty() {
                    "no environment".to_string()
                } else {
                    names.join(", ")
                }
            ));
            env.extend(vars);
        }
        Ok((env, secrets))
    }
}

/// `init`, then the run's action with its arguments; the state kept after an apply (even a
/// failed one: it records what was created) and the outputs read after a successful one.
async fn perform(
    run: &Run<'_>,
    plan: &executors::RunPlan,
    module: &Path,
    log: &JobLog,
    result: &mut RunResult,
) -> Outcome {
    let name = plan.runtime.program();
    let init = ["init", "-input=false", "-no-color"]
        .map(String::from)
        .to_vec();
    match execute(run, &init, log, name).await {
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
    let code = match execute(run, &args, log, name).await {
        Ok(code) => code,
        Err(e) => return Outcome::Fail(e),
    };
    result.exit_code = Some(code);
    if plan.action == RunAction::Apply {
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
        match capture(run, &["output", "-json", "-no-color"]).await {
            Ok(json) => result.outputs = outputs_of(&json),
            Err(e) => log.say(format!("reading the outputs failed: {e}")),
        }
    }
    Outcome::Succeeded
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
                total.clone(),
                None
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
        assert!(!pump_lines(flood, "out", sender, secrets, fresh.clone(), None).await);
        assert!(fresh.load(std::sync::atomic::Ordering::Relaxed) <= MAX_OUTPUT + (64 << 10));
    }
}
