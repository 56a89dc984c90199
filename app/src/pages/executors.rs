//! Executors: the list and the form that adds one, and an executor's page with its runs and
//! the selected run's log, followed live while the run is queued or running.

use crate::api::executors::{
    get_executor, get_executors, get_run_log, CreateExecutor, DeleteExecutor, ExecutorDetail,
    ExecutorRow, ExecutorsView, LogLine, RunExecutor, RunLog, RunRow, UpdateExecutor,
};
use crate::components::badges::StateBadges;
#[allow(unused_imports)]
use crate::components::badges::*;
use crate::components::common::{
    poll_until, ConfirmSubmit, EmptyState, ErrorPanel, FormError, Loading, PageHeader,
};
use crate::domain::variable_types::to_form;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use std::time::Duration;

/// The fields shared by the create and edit forms.
#[component]
fn ExecutorFields(
    current: Option<ExecutorRow>,
    sources: Vec<(i64, String)>,
    integrations: Vec<crate::api::sources::IntegrationChoice>,
) -> AnyView {
    let c = current.clone();
    let chosen: Vec<String> = c
        .as_ref()
        .map(|c| c.integrations.iter().map(|i| i.slug.clone()).collect())
        .unwrap_or_default();
    let runtime = c.as_ref().map(|c| c.runtime.as_str()).unwrap_or("opentofu");
    view! {
        {match &c {
            Some(c) => view! { <input type="hidden" name="input[slug]" value=c.slug.clone() /> }.into_any(),
            None => view! { <label><span>"Slug"</span><input type="text" name="input[slug]" required placeholder="database-migration" /></label> }.into_any(),
        }}
        <label><span>"Name"</span><input type="text" name="input[name]" required value=c.as_ref().map(|c| c.name.clone()).unwrap_or_default() /></label>
        <label>
            <span>"Runtime"</span>
            <select name="input[runtime]">
                <option value="opentofu" selected=runtime == "opentofu">"OpenTofu"</option>
                <option value="terraform" selected=runtime == "terraform">"Terraform"</option>
            </select>
        </label>
        <label class="grow"><span>"Description"</span><input type="text" name="input[description]" value=c.as_ref().map(|c| c.description.clone()).unwrap_or_default() /></label>
        <label>
            <span>"Repository"</span>
            <select name="input[source_id]">
                {sources.into_iter().map(|(id, url)| {
                    let selected = c.as_ref().is_some_and(|c| c.source_id == id);
                    view! { <option value=id.to_string() selected=selected>{url}</option> }
                }).collect_view()}
            </select>
        </label>
        <label><span>"Tag or branch"</span><input type="text" name="input[git_ref]" required placeholder="v2.1.0" value=c.as_ref().map(|c| c.git_ref.clone()).unwrap_or_default() /></label>
        <label><span>"Module folder"</span><input type="text" name="input[module_path]" placeholder="migrations/database-v2" value=c.as_ref().map(|c| c.module_path.clone()).unwrap_or_default() /></label>
        <label class="grow">
            <span>"Arguments for plan and apply"</span>
            <input type="text" name="input[command]" class="mono" placeholder="-var-file=environments/dev/eu-west-1.tfvars" value=c.as_ref().map(|c| c.command.clone()).unwrap_or_default() />
            <small class="hint">"Split into words (quotes respected) and passed as arguments; nothing is run through a shell."</small>
        </label>
        <fieldset class="choices grow">
            <legend>"Integrations (credentials reach the run as environment variables)"</legend>
            {integrations.into_iter().map(|i| view! {
                <label class="checkbox">
                    <input type="checkbox" name=format!("input[integrations][{}]", i.slug) value="on" checked=chosen.contains(&i.slug) />
                    <span>{i.name.clone()}" "<span class="badge">{i.provider.label()}</span></span>
                </label>
            }).collect_view()}
        </fieldset>
    }
    .into_any()
}

#[component]
pub fn ExecutorsPage() -> AnyView {
    let create = ServerAction::<CreateExecutor>::new();
    let listed = Resource::new(move || create.version().get(), |_| get_executors());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(row)) = create.value().get() {
            navigate(&format!("/executors/{}", row.slug), Default::default());
        }
    });
    view! {
        <Title text="Executors" />
        <PageHeader title="Executors" subtitle="One-off OpenTofu and Terraform tasks — migrations, imports, clean-ups — run as durable jobs with their output streamed here." />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match listed.await {
                    Ok(data) => view! {
                        {if data.executors.is_empty() {
                            view! { <EmptyState title="No executors yet"><p>"Add one below: a module, a ref and the arguments to run it with."</p></EmptyState> }.into_any()
                        } else {
                            view! {
                                <div class="table-wrap">
                                    <table class="table">
                                        <thead><tr><th scope="col">"Executor"</th><th scope="col">"Runtime"</th><th scope="col">"Module"</th><th scope="col">"State"</th><th scope="col">"Changed"</th></tr></thead>
                                        <tbody>
                                            {data.executors.into_iter().map(|e| view! {
                                                <tr>
                                                    <td><a href=format!("/executors/{}", e.slug)><strong>{e.name.clone()}</strong></a><br /><code>{e.slug.clone()}</code></td>
                                                    <td>{e.runtime.label()}</td>
                                                    <td><span class="badge">{e.git_ref.clone()}</span>" "<code>{e.module_path.clone()}</code></td>
                                                    <td class="nowrap"><StateBadges state=e.state status=e.status /></td>
                                                    <td class="muted nowrap">{e.updated_at.clone()}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any()
                        }}
                        {data.can_create.then(|| view! {
                            <section class="card">
                                <h2>"New executor"</h2>
                                <ActionForm action=create attr:class="settings-form">
                                    <ExecutorFields current=None sources=data.sources.clone() integrations=data.integrations.clone() />
                                    <div class="form-actions"><button type="submit" class="button primary">"Add executor"</button></div>
                                </ActionForm>
                                <FormError result=create.value().into() />
                            </section>
                        })}
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// A run's log, followed once a second until the run ends (in the browser; the server renders
/// what is there).
#[component]
fn LiveLog(slug: String, initial: RunLog, #[prop(into)] on_done: Callback<()>) -> AnyView {
    let run_id = initial.run.id;
    let lines: RwSignal<Vec<LogLine>> = RwSignal::new(initial.lines.clone());
    let run: RwSignal<RunRow> = RwSignal::new(initial.run.clone());
    let done = RwSignal::new(initial.done);
    poll_until(done, Duration::from_millis(1000), move || {
        let slug = slug.clone();
        async move {
            let after = lines.with_untracked(|l| l.last().map(|x| x.seq).unwrap_or(0));
            if let Ok(log) = get_run_log(slug, run_id, after).await {
                if !log.lines.is_empty() {
                    lines.update(|l| l.extend(log.lines));
                }
                run.set(log.run);
                if log.done {
                    done.set(true);
                    on_done.run(());
                }
            }
        }
    });
    view! {
        <section class="card run-card" data-run=run_id.to_string() data-done=move || done.get().to_string()>
            <header class="run-head">
                <h2>{move || format!("Run #{} · {}", run_id, run.get().action.as_str())}</h2>
                {move || run_badge(run.get().status)}
                {move || (!done.get()).then(|| view! { <span class="spinner small" aria-label="running"></span> })}
            </header>
            <p class="muted">{move || {
                let r = run.get();
                let mut parts = vec![format!("requested by {} at {}", r.requested_by, r.created_at)];
                if r.attempts > 0 { parts.push(format!("attempt {}", r.attempts)); }
                if let Some(commit) = &r.commit { parts.push(format!("commit {}", &commit[..commit.len().min(12)])); }
                if let Some(code) = r.exit_code { parts.push(format!("exit status {code}")); }
                if let Some(at) = &r.finished_at { parts.push(format!("finished {at}")); }
                parts.join(" · ")
            }}</p>
            {move || run.get().error.map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <pre class="run-log" aria-label="Run log" aria-live="polite">
                {move || lines.get().into_iter().map(|l| view! { <span class=format!("line {}", l.stream)>{l.line}"\n"</span> }).collect_view()}
            </pre>
            {move || {
                let outputs = run.get().outputs;
                (!outputs.is_empty()).then(|| view! {
                    <h3>"Outputs"</h3>
                    <dl class="facts">
                        {outputs.into_iter().map(|(k, v)| view! { <dt><code>{k}</code></dt><dd><code class="pre">{to_form(&v)}</code></dd> }).collect_view()}
                    </dl>
                })
            }}
        </section>
    }
    .into_any()
}

#[component]
pub fn ExecutorPage() -> AnyView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let chosen_run = move || query.read().get("run").and_then(|r| r.parse::<i64>().ok());
    let start = ServerAction::<RunExecutor>::new();
    let update = ServerAction::<UpdateExecutor>::new();
    let delete = ServerAction::<DeleteExecutor>::new();
    let detail = Resource::new(
        move || (slug(), start.version().get(), update.version().get()),
        |(s, _, _)| get_executor(s),
    );
    let listing = Resource::new(|| (), |_| get_executors());
    let navigate = use_navigate();
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if let Some(Ok(run)) = start.value().get() {
                navigate(
                    &format!("/executors/{}?run={}", slug(), run.id),
                    Default::default(),
                );
            }
        });
    }
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/executors", Default::default());
        }
    });
    let log = Resource::new(
        move || (slug(), chosen_run(), start.version().get()),
        move |(s, run, _)| async move {
            let run = match run {
                Some(run) => Some(run),
                None => get_executor(s.clone())
                    .await
                    .ok()
                    .and_then(|d| d.runs.first().map(|r| r.id)),
            };
            match run {
                Some(run) => get_run_log(s, run, 0).await.map(Some),
                None => Ok(None),
            }
        },
    );
    // When the followed run ends, the header, the run list and the log catch up together.
    let refresh = move || {
        detail.refetch();
        log.refetch();
    };
    view! {
        <Title text="Executor" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => {
                        let e = detail.executor.clone();
                        let slug_value = e.slug.clone();
                        view! {
                            <ExecutorHeader detail=detail.clone() start />
                            <FormError result=start.value().into() />
                            <div class="grid two">
                                <ExecutorFacts executor=e.clone() />
                                <RunList slug=e.slug.clone() runs=detail.runs.clone() />
                            </div>
                            <Transition fallback=|| view! { <Loading label="Loading the log…" /> }>
                                {move || {
                                    let slug = slug_value.clone();
                                    Suspend::new(async move {
                                        match log.await {
                                            Ok(Some(initial)) => view! { <LiveLog slug initial on_done=move |_| refresh() /> }.into_any(),
                                            Ok(None) => ().into_any(),
                                            Err(error) => view! { <ErrorPanel error /> }.into_any(),
                                        }
                                    })
                                }}
                            </Transition>
                            {detail.can_delete.then(|| view! { <ExecutorSettings executor=e.clone() listing update delete /> })}
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// The executor's name and state, and Plan and Apply for those who may run it (Apply asks
/// first, and says why when it is refused).
#[component]
fn ExecutorHeader(detail: ExecutorDetail, start: ServerAction<RunExecutor>) -> AnyView {
    let e = detail.executor;
    let actions = detail.can_run.then(|| {
        let apply_refused = detail.apply_refused.clone();
        let apply_disabled = apply_refused.is_some();
        let apply_question = format!("Apply {}? This changes real infrastructure with the attached integrations' credentials; run Plan first to see what changes.", e.name);
        let apply_title = apply_refused
            .clone()
            .unwrap_or_else(|| "Apply with the attached integrations' credentials".into());
        let (a, b) = (e.slug.clone(), e.slug.clone());
        view! {
            <div class="page-actions">
                <ActionForm action=start>
                    <input type="hidden" name="slug" value=a />
                    <input type="hidden" name="action" value="plan" />
                    <button type="submit" class="button primary">"Plan"</button>
                </ActionForm>
                <ActionForm action=start>
                    <input type="hidden" name="slug" value=b />
                    <input type="hidden" name="action" value="apply" />
                    <ConfirmSubmit
                        label="Apply"
                        class="button"
                        disabled=apply_disabled
                        title=apply_title
                        question=apply_question
                    />
                </ActionForm>
                {apply_refused.map(|why| view! { <p class="hint">{format!("Apply: {why}")}</p> })}
            </div>
        }
    });
    view! {
        <div class="page-header">
            <div>
                <p class="eyebrow"><a href="/executors">"Executors"</a></p>
                <h1>{e.name.clone()}</h1>
                <p class="subtitle"><code>{e.slug.clone()}</code>" "<StateBadges state=e.state status=e.status /></p>
            </div>
            {actions}
        </div>
    }
    .into_any()
}

/// What the executor runs: runtime, code, arguments and integrations.
#[component]
fn ExecutorFacts(executor: ExecutorRow) -> AnyView {
    let e = executor;
    view! {
        <section class="card">
            <h2>"Task"</h2>
            <dl class="facts">
                <dt>"Runtime"</dt><dd>{e.runtime.label()}</dd>
                <dt>"Source"</dt><dd><code>{crate::domain::integrations::shown_repository_url(&e.source_url)}</code></dd>
                <dt>"Version"</dt><dd><span class="badge">{e.git_ref.clone()}</span><code>{if e.module_path.is_empty() { "/".to_string() } else { e.module_path.clone() }}</code></dd>
                <dt>"Arguments"</dt><dd>{e.arguments.iter().map(|a| view! { <code class="arg">{a.clone()}</code> }).collect_view()}</dd>
                <dt>"Integrations"</dt><dd>{e.integrations.iter().map(|i| view! { <a class="badge link" href=format!("/integrations/{}", i.slug)>{i.name.clone()}</a> }).collect_view()}</dd>
                <dt>"Description"</dt><dd>{e.description.clone()}</dd>
            </dl>
        </section>
    }
    .into_any()
}

/// The executor's runs, newest first, each linking to its log.
#[component]
fn RunList(slug: String, runs: Vec<RunRow>) -> AnyView {
    view! {
        <section class="card">
            <h2>"Runs"</h2>
            {if runs.is_empty() {
                view! { <p class="muted">"Never run. Plan shows what apply would change."</p> }.into_any()
            } else {
                view! {
                    <ol class="run-list">
                        {runs.iter().map(|r| view! {
                            <li>
                                <a href=format!("/executors/{}?run={}", slug, r.id)>{format!("#{} {}", r.id, r.action.as_str())}</a>
                                {run_badge(r.status)}
                                <span class="muted">{format!("{} · {}", r.requested_by, r.created_at)}</span>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// Changing the executor, and deleting it (which asks first).
#[component]
fn ExecutorSettings(
    executor: ExecutorRow,
    listing: Resource<Result<ExecutorsView, AppError>>,
    update: ServerAction<UpdateExecutor>,
    delete: ServerAction<DeleteExecutor>,
) -> AnyView {
    let slug = executor.slug.clone();
    let question = format!(
        "Delete the executor {}? Its runs and their logs go with it; the infrastructure it applied stays as it is.",
        executor.name
    );
    view! {
        <Transition fallback=|| ()>
            {move || {
                let current = executor.clone();
                Suspend::new(async move {
                    listing.await.ok().map(|data| view! {
                        <section class="card">
                            <h2>"Change this executor"</h2>
                            <ActionForm action=update attr:class="settings-form">
                                <ExecutorFields current=Some(current) sources=data.sources integrations=data.integrations />
                                <div class="form-actions"><button type="submit" class="button primary">"Save"</button></div>
                            </ActionForm>
                            <FormError result=update.value().into() />
                        </section>
                    })
                })
            }}
        </Transition>
        <section class="card danger-zone">
            <h2>"Delete"</h2>
            <ActionForm action=delete>
                <input type="hidden" name="slug" value=slug />
                <ConfirmSubmit label="Delete executor" class="button danger" question />
            </ActionForm>
            <FormError result=delete.value().into() />
        </section>
    }
    .into_any()
}
