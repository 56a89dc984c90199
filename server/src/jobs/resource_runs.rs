//! Resource plans and applies: the folder of the commit planned, written into a fresh run
//! folder; the module its code calls fetched by Slipway at the commit its version pinned (with
//! the source's credentials, which never enter the run) and installed where the runtime looks
//! for it; the state served by a backend that lives as long as the run; then `init` and `plan
//! -out` (with `-destroy` for a delete), or `apply` of the saved plan, in the sandbox.

use super::*;
use app::domain::drift::PlanPurpose;
use app::domain::executors::Runtime;
use app::domain::workspaces::SyncKind;
use app::server::plans::{self, ModuleFetch, RunEnd, RunWork, Start};

/// How long a run waits for another run's state lock before it gives up, naming the holder.
const LOCK_TIMEOUT: &str = "-lock-timeout=120s";

/// The file that points a folder with no backend of its own at Slipway's.
const BACKEND_FILE: &str = "slipway_backend.tf";

impl Worker {
    /// Performs one attempt of a plan or apply job and records its end.
    pub(super) async fn resource_run(
        &self,
        job: &job_rows::Model,
        log: JobLog,
    ) -> Result<(), AppError> {
        match plans::start_run(&self.ctx, job).await {
            Err(e) => {
                log.say(format!("failed: {e}"));
                log.finish().await;
                plans::record_unstarted(&self.ctx, &self.name, job, &e).await
            }
            Ok(Start::Skip(line)) => {
                log.say(line);
                log.finish().await;
                plans::record_skip(&self.ctx, &self.name, job.id).await
            }
            Ok(Start::Wait(wait)) => {
                log.say(wait.message.clone());
                log.finish().await;
                plans::record_outcome(&self.ctx, &self.name, job.id, &Outcome::of_error(&wait))
                    .await
            }
            Ok(Start::Work(work)) => {
                let end = self.run_resource(&work, job, &log).await;
                if let Some(e) = end.outcome.as_ref().and_then(|o| o.error()) {
                    log.say(format!("failed: {e}"));
                }
                log.finish().await;
                plans::record_end(&self.ctx, &self.name, job, end).await
            }
        }
    }

    /// The program a resource run uses: an apply the one its plan was made with (a saved plan
    /// applies with nothing else); a plan OpenTofu where installed, else Terraform.
    fn resource_runtime(&self, work: &RunWork) -> Result<(Runtime, PathBuf), String> {
        if work.apply {
            return Ok((work.plan.runtime, self.program(work.plan.runtime)?));
        }
        match self.program(Runtime::Opentofu) {
            Ok(program) => Ok((Runtime::Opentofu, program)),
            Err(_) => self
                .program(Runtime::Terraform)
                .map(|program| (Runtime::Terraform, program))
                .map_err(|_| {
                    "neither OpenTofu nor Terraform is installed on this server: install one \
                     (`tofu` or `terraform` on PATH), or set SLIPWAY_TOFU_BIN or \
                     SLIPWAY_TERRAFORM_BIN"
                        .to_string()
                }),
        }
    }

    async fn run_resource(&self, work: &RunWork, job: &job_rows::Model, log: &JobLog) -> RunEnd {
        let mut end = RunEnd::default();
        let (runtime, program) = match self.resource_runtime(work) {
            Ok(found) => found,
            Err(message) => {
                end.outcome = Some(Outcome::Fail(message));
                return end;
            }
        };
        end.runtime = Some(runtime);
        let name = format!(
            "{}-{}-{}",
            match (work.apply, work.plan.purpose) {
                (true, _) => "apply",
                (false, PlanPurpose::Drift) => "check",
                (false, PlanPurpose::Change) => "plan",
            },
            work.plan.id,
            job.attempts
        );
        let dir = match self.sandbox.make_run_dir(&name) {
            Ok(dir) => dir,
            Err(e) => {
                end.outcome = Some(Outcome::Retry(e));
                return end;
            }
        };
        let outcome = self
            .resource_run_in(work, runtime, &program, &dir, log, &mut end)
            .await;
        let _ = std::fs::remove_dir_all(&dir);
        end.outcome = Some(outcome);
        end
    }

    async fn resource_run_in(
        &self,
        work: &RunWork,
        runtime: Runtime,
        program: &Path,
        dir: &Path,
        log: &JobLog,
        end: &mut RunEnd,
    ) -> Outcome {
        let folder = dir.join("work");
        let own_backend = match self.write_folder(work, &folder, log).await {
            Ok(own_backend) => own_backend,
            Err(outcome) => return outcome,
        };
        if let Some(module) = &work.module {
            if let Err(outcome) = self.install_module(module, &folder, log).await {
                return outcome;
            }
        }
        if let Err(e) = std::fs::create_dir_all(dir.join(".home")) {
            return Outcome::Retry(format!("cannot create the run folder: {e}"));
        }
        let (mut env, mut secrets) = match self.environment(&work.integration_ids, dir, log).await {
            Ok(found) => found,
            Err(outcome) => return outcome,
        };
        match self.run_settings(dir) {
            Ok(settings) => env.extend(settings),
            Err(e) => return Outcome::Retry(e),
        }
        for (name, value) in &work.variables {
            secrets.push(value.clone());
            env.push((name.clone(), value.clone()));
        }
        for (name, value, sensitive) in &work.bound {
            if *sensitive {
                secrets.push(value.clone());
            }
            log.say(format!(
                "{} from a parent's output",
                name.trim_start_matches("TF_VAR_")
            ));
            env.push((name.clone(), value.clone()));
        }
        // The backend lives until this function returns (dropped with it).
        let _backend = if own_backend {
            log.say("the code names its own state backend; Slipway's is not used".into());
            None
        } else {
            let started = crate::state_backend::StateServer::start(
                self.ctx.clone(),
                work.resource.id,
                work.apply.then_some(work.plan.id),
                work.holder.clone(),
            )
            .await;
            match started {
                Ok(backend) => {
                    secrets.push(backend.password.clone());
                    env.extend(backend.environment());
                    Some(backend)
                }
                Err(e) => return Outcome::Retry(format!("cannot start the state backend: {e}")),
            }
        };
        if work.apply {
            let file = work.plan_file.as_deref().unwrap_or_default();
            if let Err(e) = std::fs::write(folder.join("tfplan"), file) {
                return Outcome::Retry(format!("cannot write the saved plan: {e}"));
            }
        }
        if let Err(e) = self.sandbox.hand_over(dir) {
            return Outcome::Retry(e);
        }
        let run = Run {
            sandbox: &self.sandbox,
            program,
            dir,
            cwd: &folder,
            env: &env,
            secrets: &secrets,
            errors: ErrorTail::default(),
        };
        let outcome = steps(&run, work, runtime, &folder, log, end).await;
        end.stderr = run.errors.lines();
        outcome
    }

    /// The folder at the commit planned, written into `folder`; true when its code names a state
    /// backend of its own (a cloud integration's).
    async fn write_folder(
        &self,
        work: &RunWork,
        folder: &Path,
        log: &JobLog,
    ) -> Result<bool, Outcome> {
        let commit = &work.plan.code_commit;
        log.say(format!(
            "reading {}/ at {} from {}",
            work.plan.folder,
            &commit[..12.min(commit.len())],
            work.repo.repository
        ));
        let files = self
            .ctx
            .workspace_git
            .read_folder(&work.repo, &work.config, commit, &work.plan.folder)
            .await
            .map_err(|e| Outcome::of_error(&e))?;
        if files.is_empty() && work.plan.mode == SyncKind::Update {
            return Err(Outcome::Fail(format!(
                "{}/ holds no file at commit {commit}",
                work.plan.folder
            )));
        }
        let mut own_backend = false;
        for (path, contents) in &files {
            app::server::ports::check_file_path(path).map_err(|e| Outcome::Fail(e.message))?;
            let target = folder.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Outcome::Retry(format!("cannot write {path}: {e}")))?;
            }
            std::fs::write(&target, contents)
                .map_err(|e| Outcome::Retry(format!("cannot write {path}: {e}")))?;
            own_backend |= path.ends_with(".tf") && !path.contains('/') && names_backend(contents);
        }
        if files.is_empty() {
            std::fs::create_dir_all(folder)
                .map_err(|e| Outcome::Retry(format!("cannot create the run folder: {e}")))?;
        }
        if !own_backend {
            std::fs::write(
                folder.join(BACKEND_FILE),
                "# Written by Slipway for this run: the resource's state is kept by Slipway.\n\
                 terraform {\n  backend \"http\" {}\n}\n",
            )
            .map_err(|e| Outcome::Retry(format!("cannot write the backend file: {e}")))?;
        }
        Ok(own_backend)
    }

    /// Fetches the module at the commit its version pinned and installs it as `init` would
    /// have, so `init` finds it in place and fetches nothing (a local source repository is out
    /// of the sandbox's sight; a private one's credentials stay with Slipway).
    async fn install_module(
        &self,
        module: &ModuleFetch,
        folder: &Path,
        log: &JobLog,
    ) -> Result<(), Outcome> {
        let main = std::fs::read_to_string(folder.join("main.tf")).unwrap_or_default();
        if !main.contains(&format!("source = \"{}\"", module.source)) {
            log.say(format!(
                "main.tf does not call {} as its template version does; the runtime fetches its modules itself",
                module.source
            ));
            return Ok(());
        }
        let package = folder.join(".terraform").join("modules").join(&module.call);
        log.say(format!(
            "fetching the module {} at {}",
            module.source,
            &module.pinned[..12.min(module.pinned.len())]
        ));
        let commit = match self
            .ctx
            .repos
            .export(&module.access, &module.git_ref, &package)
            .await
        {
            Ok(commit) => commit,
            Err(e @ AppError::Invalid { .. }) => return Err(Outcome::Fail(e.to_string())),
            Err(e) => return Err(Outcome::Retry(e.to_string())),
        };
        if commit != module.pinned {
            return Err(Outcome::Fail(format!(
                "{} now points at {commit}, not at {} as when the template version was added: \
                 a pinned version does not move; add the new commit as a new version",
                module.git_ref, module.pinned
            )));
        }
        let dir = if module.module_path.is_empty() {
            format!(".terraform/modules/{}", module.call)
        } else {
            format!(".terraform/modules/{}/{}", module.call, module.module_path)
        };
        let manifest = serde_json::json!({ "Modules": [
            { "Key": "", "Source": "", "Dir": "." },
            { "Key": module.call, "Source": module.source, "Dir": dir },
        ]});
        std::fs::write(
            folder.join(".terraform/modules/modules.json"),
            manifest.to_string(),
        )
        .map_err(|e| Outcome::Retry(format!("cannot install the module: {e}")))
    }
}

impl Worker {
    /// What every run (a resource's, an executor's) is given besides its integrations: the
    /// provider mirror (as a CLI configuration file written into the run folder) and the demo
    /// cloud's address.
    pub(super) fn run_settings(&self, dir: &Path) -> Result<Vec<(String, String)>, String> {
        let mut env = Vec::new();
        if let Some(url) = &self.demo_cloud {
            env.push(("SLIPWAY_DEMO_CLOUD".to_string(), url.clone()));
        }
        if let Some(mirror) = &self.provider_mirror {
            let file = dir.join(".home").join("terraform.rc");
            std::fs::write(&file, mirror_configuration(mirror))
                .map_err(|e| format!("cannot write the CLI configuration: {e}"))?;
            env.push(("TF_CLI_CONFIG_FILE".into(), file.display().to_string()));
        }
        Ok(env)
    }
}

/// A CLI configuration taking the providers the mirror holds from it and every other one from
/// its registry (`host/namespace/type` folders; hidden folders are the mirror's own).
fn mirror_configuration(mirror: &Path) -> String {
    let folders = |path: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| !n.starts_with('.') && !n.contains('"'))
            .collect();
        names.sort();
        names
    };
    let mut held = Vec::new();
    for host in folders(mirror) {
        for namespace in folders(&mirror.join(&host)) {
            for kind in folders(&mirror.join(&host).join(&namespace)) {
                held.push(format!("\"{host}/{namespace}/{kind}\""));
            }
        }
    }
    let held = held.join(", ");
    let path = mirror
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{path}\"\n    include = [{held}]\n  }}\n  direct {{\n    exclude = [{held}]\n  }}\n}}\n"
    )
}

/// Whether a file's text declares a `backend` block.
fn names_backend(contents: &str) -> bool {
    contents
        .lines()
        .any(|line| line.trim_start().starts_with("backend \""))
}

/// `init`, then `plan -out` and `show -json` of it, or `apply` of the saved plan and `output
/// -json` after it.
async fn steps(
    run: &Run<'_>,
    work: &RunWork,
    runtime: Runtime,
    folder: &Path,
    log: &JobLog,
    end: &mut RunEnd,
) -> Outcome {
    let name = runtime.program();
    if let Ok(version) = capture(run, &["version", "-json"]).await {
        end.runtime_version = serde_json::from_str::<serde_json::Value>(&version)
            .ok()
            .and_then(|v| v["terraform_version"].as_str().map(str::to_string));
    }
    let init = ["init", "-input=false", "-no-color"].map(String::from);
    match execute(run, &init, log, name).await {
        Ok(0) => {}
        Ok(code) => return Outcome::Fail(format!("{name} init exited with status {code}")),
        Err(e) => return Outcome::Fail(e),
    }
    if work.apply {
        let apply =
            ["apply", "-input=false", "-no-color", LOCK_TIMEOUT, "tfplan"].map(String::from);
        match execute(run, &apply, log, name).await {
            Ok(0) => {}
            Ok(code) => return Outcome::Fail(format!("{name} apply exited with status {code}")),
            Err(e) => return Outcome::Fail(e),
        }
        match capture(run, &["output", "-json", "-no-color"]).await {
            Ok(json) => end.outputs_json = Some(json),
            Err(e) => return Outcome::Fail(format!("reading the outputs failed: {e}")),
        }
        return Outcome::Succeeded;
    }
    let mut plan: Vec<String> = [
        "plan",
        "-input=false",
        "-no-color",
        LOCK_TIMEOUT,
        "-out=tfplan",
    ]
    .map(String::from)
    .to_vec();
    let check = work.plan.purpose == PlanPurpose::Drift;
    if check {
        // What changed outside the code: 0 nothing, 2 something (then the saved plan, applied,
        // records it in the state).
        plan.extend(["-refresh-only".into(), "-detailed-exitcode".into()]);
    } else if work.plan.mode == SyncKind::Delete {
        plan.push("-destroy".into());
    }
    match execute(run, &plan, log, name).await {
        Ok(0) if check => {
            log.say("no drift: the world is as the state records it".into());
            end.drifted = Some(false);
        }
        Ok(2) if check => {
            log.say("drift: the world changed outside the code".into());
            end.drifted = Some(true);
        }
        Ok(0) => {}
        Ok(code) => return Outcome::Fail(format!("{name} plan exited with status {code}")),
        Err(e) => return Outcome::Fail(e),
    }
    match capture(run, &["show", "-json", "tfplan"]).await {
        Ok(json) => end.show_json = Some(json),
        Err(e) => return Outcome::Fail(format!("reading the plan failed: {e}")),
    }
    match std::fs::read(folder.join("tfplan")) {
        Ok(bytes) => end.plan_file = Some(bytes),
        Err(e) => return Outcome::Fail(format!("the saved plan cannot be read: {e}")),
    }
    Outcome::Succeeded
}
