//! Workspaces: the list with the register form (and a new local-forge repository), a
//! workspace's page (its configuration, the resources whose code it holds, its pull requests),
//! and the panel on a resource's page that follows its workspace work live and approves or
//! rejects its pull request.

use crate::api::workspaces::{
    get_forge_repository, get_pull_request, get_resource_workspace, get_workspace, get_workspaces,
    CreateLocalRepository, DeleteWorkspace, RecreateResource, RegisterWorkspace, ResourceWorkspace,
    RetryResourceJob, ReviewResource, UpdateWorkspace, WorkspaceRow,
};
use crate::components::common::{
    poll_until, EmptyState, ErrorPanel, FormError, Loading, PageHeader,
};
use crate::domain::workspaces::WorkspaceStatus;
use crate::error::AppError;
use crate::pages::executors::run_badge;
use crate::pages::resources::DiffLines;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use std::time::Duration;

fn status_badge(status: WorkspaceStatus) -> AnyView {
    view! { <span class=format!("status status-{}", status.as_str())>{status.label()}</span> }
        .into_any()
}

fn pull_badge(state: &str) -> AnyView {
    view! { <span class=format!("pull pull-{state}")>{state.to_string()}</span> }.into_any()
}

#[component]
fn WorkspaceCard(workspace: WorkspaceRow) -> AnyView {
    let href = format!("/workspaces/{}", workspace.slug);
    view! {
        <a class="card workspace-card link-card" href=href>
            <header>
                <h2>{workspace.name.clone()}</h2>
                {status_badge(workspace.status)}
            </header>
            <p class="muted"><code>{workspace.repository.clone()}</code>{format!(" · {} · default branch {}", workspace.provider.label(), workspace.config.default_branch)}</p>
            {(!workspace.description.is_empty()).then(|| view! { <p>{workspace.description.clone()}</p> })}
            <p class="counts">
                <span>{format!("{} resource{}", workspace.resources, if workspace.resources == 1 { "" } else { "s" })}</span>
                <span>{format!("{} open pull request{}", workspace.open_pulls, if workspace.open_pulls == 1 { "" } else { "s" })}</span>
                {workspace.labels.iter().map(|l| view! { <span class="badge">{l.clone()}</span> }).collect_view()}
            </p>
        </a>
    }
    .into_any()
}

#[component]
pub fn WorkspacesPage() -> AnyView {
    let register = ServerAction::<RegisterWorkspace>::new();
    let create_repo = ServerAction::<CreateLocalRepository>::new();
    let listed = Resource::new(
        move || (register.version().get(), create_repo.version().get()),
        |_| get_workspaces(),
    );
    view! {
        <Title text="Workspaces" />
        <PageHeader title="Workspaces" subtitle="Git repositories that hold the generated code of your resources. Every change arrives as a pull request that a person approves or rejects." />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match listed.await {
                    Ok(data) => view! {
                        {if data.workspaces.is_empty() {
                            view! {
                                <EmptyState title="No workspaces yet">
                                    <p>"Register a repository below. With no Git host of your own, create one in Slipway's local forge first."</p>
                                </EmptyState>
                            }.into_any()
                        } else {
                            view! { <div class="card-grid">{data.workspaces.into_iter().map(|workspace| view! { <WorkspaceCard workspace /> }).collect_view()}</div> }.into_any()
                        }}
                        {data.can_create.then(|| view! {
                            <div class="grid two">
                                <section class="card">
                                    <h2>"Register a repository"</h2>
                                    <p class="muted">"Slipway reads the repository's name, clone URLs and default branch from the forge; only the description and labels can change later."</p>
                                    <ActionForm action=register attr:class="stacked-form">
                                        <label>
                                            <span>"Git integration"</span>
                                            <select name="input[integration]">
                                                {data.integrations.iter().map(|i| view! { <option value=i.slug.clone()>{format!("{} ({})", i.name, i.provider)}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label><span>"Repository"</span><input type="text" name="input[repository]" required placeholder="acme/infrastructure-live" /></label>
                                        <label><span>"Description"</span><input type="text" name="input[description]" /></label>
                                        <label><span>"Labels"</span><input type="text" name="input[labels]" placeholder="production, network" /></label>
                                        <button type="submit" class="button primary">{move || if register.pending().get() { "Asking the forge…" } else { "Register" }}</button>
                                    </ActionForm>
                                    <FormError result=register.value().into() />
                                </section>
                                <section class="card">
                                    <h2>"New repository in the local forge"</h2>
                                    <p class="muted">"Slipway keeps the repository in its data folder and its pull requests in its database: no external Git host needed."</p>
                                    <ActionForm action=create_repo attr:class="stacked-form">
                                        <label><span>"Repository"</span><input type="text" name="repository" required placeholder="acme/infrastructure-live" /></label>
                                        <button type="submit" class="button">"Create repository"</button>
                                    </ActionForm>
                                    <FormError result=create_repo.value().into() />
                                    {move || create_repo.value().get().and_then(|r| r.ok()).map(|c| view! {
                                        <p class="notice" role="status">{format!("Created {}/{} with a first commit on {}. Register it with the local-git integration.", c.organization, c.name, c.default_branch)}</p>
                                    })}
                                </section>
                            </div>
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

#[component]
pub fn WorkspacePage() -> AnyView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let update = ServerAction::<UpdateWorkspace>::new();
    let delete = ServerAction::<DeleteWorkspace>::new();
    let detail = Resource::new(
        move || (slug(), update.version().get()),
        |(s, _)| get_workspace(s),
    );
    view! {
        <Title text="Workspace" />
        {move || delete.value().get().and_then(|r| r.ok()).map(|_| view! {
            <EmptyState title="Deleted"><p>"The workspace record is gone; its repository stays on the forge. "<a href="/workspaces">"Back to the workspaces"</a></p></EmptyState>
        })}
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                if delete.value().get().is_some_and(|r| r.is_ok()) {
                    return ().into_any();
                }
                match detail.await {
                    Ok(detail) => {
                        let w = detail.workspace.clone();
                        let delete_slug = w.slug.clone();
                        let (description, labels) = (w.description.clone(), w.labels.clone());
                        view! {
                            <div class="page-header">
                                <div>
                                    <p class="eyebrow"><a href="/workspaces">"Workspaces"</a></p>
                                    <h1>{w.name.clone()}</h1>
                                    <p class="subtitle"><code>{w.repository.clone()}</code>" "{status_badge(w.status)}</p>
                                </div>
                            </div>
                            {w.status_message.clone().map(|m| view! { <p class="form-error" role="alert">{format!("The last job failed: {m}")}</p> })}
                            <div class="grid two">
                                <section class="card">
                                    <h2>"Repository"</h2>
                                    <dl class="facts">
                                        <dt>"Provider"</dt><dd>{w.provider.label()}" · "<a href=format!("/integrations/{}", w.integration)>{w.integration.clone()}</a></dd>
                                        <dt>"Organization"</dt><dd>{w.config.organization.clone()}</dd>
                                        <dt>"Default branch"</dt><dd><code>{w.config.default_branch.clone()}</code></dd>
                                        <dt>"Page"</dt><dd><a href=w.config.url.clone()>{w.config.url.clone()}</a></dd>
                                        <dt>"HTTPS clone"</dt><dd><code>{w.config.https_url.clone()}</code></dd>
                                        {(!w.config.ssh_url.is_empty()).then(|| view! { <dt>"SSH clone"</dt><dd><code>{w.config.ssh_url.clone()}</code></dd> })}
                                        <dt>"Registered"</dt><dd>{format!("{} by {}", w.created_at, w.created_by)}</dd>
                                        <dt>"Versions"</dt><dd><a href=format!("/workspaces/{}/versioning", w.slug)>"Tags and next versions"</a></dd>
                                    </dl>
                                </section>
                                <section class="card">
                                    <h2>"About"</h2>
                                    {if detail.can_edit {
                                        view! {
                                            <ActionForm action=update attr:class="stacked-form">
                                                <input type="hidden" name="slug" value=w.slug.clone() />
                                                <label><span>"Description"</span><input type="text" name="description" value=description.clone() /></label>
                                                <label><span>"Labels"</span><input type="text" name="labels" value=labels.join(", ") /></label>
                                                <button type="submit" class="button">"Save"</button>
                                            </ActionForm>
                                            <FormError result=update.value().into() />
                                        }.into_any()
                                    } else {
                                        view! {
                                            <p>{if description.is_empty() { "No description.".to_string() } else { description.clone() }}</p>
                                            <p>{labels.iter().map(|l| view! { <span class="badge">{l.clone()}</span> }).collect_view()}</p>
                                        }.into_any()
                                    }}
                                    {detail.can_delete.then(|| view! {
                                        <h3>"Delete"</h3>
                                        {match detail.delete_blocker.clone() {
                                            Some(reason) => view! { <p class="muted">{format!("Cannot be deleted now: {reason}.")}</p> }.into_any(),
                                            None => view! {
                                                <ActionForm action=delete>
                                                    <input type="hidden" name="slug" value=delete_slug.clone() />
                                                    <button type="submit" class="button ghost danger">"Delete workspace"</button>
                                                </ActionForm>
                                            }.into_any(),
                                        }}
                                        <FormError result=delete.value().into() />
                                    })}
                                </section>
                            </div>
                            <section class="card">
                                <h2>"Resources"</h2>
                                {if detail.resources.is_empty() {
                                    view! { <p class="muted">"No resource keeps code here yet. Choose this workspace when creating a resource."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap flat">
                                            <table class="table">
                                                <thead><tr><th scope="col">"Folder"</th><th scope="col">"Resource"</th><th scope="col">"State"</th><th scope="col">"Workspace work"</th></tr></thead>
                                                <tbody>
                                                    {detail.resources.iter().map(|r| view! {
                                                        <tr>
                                                            <td><code>{format!("{}/", r.folder)}</code></td>
                                                            <td><a href=format!("/resources/{}", r.slug)>{r.name.clone()}</a></td>
                                                            <td><span class=format!("state state-{}", r.state.as_str())>{r.state.as_str()}</span></td>
                                                            <td>{status_badge(r.status)}" "<span class="muted">{r.status_message.clone()}</span></td>
                                                        </tr>
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                            </section>
                            <section class="card">
                                <h2>"Pull requests"</h2>
                                {if detail.pulls.is_empty() {
                                    view! { <p class="muted">"None yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap flat">
                                            <table class="table">
                                                <thead><tr><th scope="col">"#"</th><th scope="col">"Title"</th><th scope="col">"Branch"</th><th scope="col">"State"</th><th scope="col">"Opened"</th></tr></thead>
                                                <tbody>
                                                    {detail.pulls.iter().map(|p| view! {
                                                        <tr>
                                                            <td><a href=p.url.clone()>{format!("#{}", p.number)}</a></td>
                                                            <td>{p.title.clone()}</td>
                                                            <td><code>{p.head_branch.clone()}</code>" → "<code>{p.base_branch.clone()}</code></td>
                                                            <td>{pull_badge(&p.state)}</td>
                                                            <td class="nowrap muted">{format!("{} by {}", p.created_at, p.created_by)}</td>
                                                        </tr>
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                            </section>
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

/// The workspace panel's first reading of a resource's workspace.
pub type WorkspacePanelData = Resource<Result<Option<ResourceWorkspace>, AppError>>;

/// The panel's reading for the resource `slug` names, fetched again whenever `version` changes.
pub fn workspace_panel_data(
    slug: impl Fn() -> String + Send + Sync + 'static,
    version: impl Fn() -> usize + Send + Sync + 'static,
) -> WorkspacePanelData {
    Resource::new(
        move || (slug(), version()),
        |(slug, _)| get_resource_workspace(slug, 0),
    )
}

/// The workspace panel of a resource's page: where its code goes, its open pull request with
/// approve / reject, and the last job's log, followed once a second while the job is queued or
/// running. `on_settled` runs when a job ends, so the page shows the resource's new state.
///
/// Its first reading comes from the page: a resource made inside what a `Suspend` renders is
/// made twice on the server when its data are there already, and the browser, making it once,
/// would hydrate against another resource's markup.
#[component]
pub fn WorkspacePanel(
    slug: String,
    /// The panel's first reading, made by the page at its top (see `workspace_panel_data`).
    initial: WorkspacePanelData,
    /// The resource's status as the page has it: when the panel finds the work already ended
    /// but the page still says in progress, the page is refreshed.
    page_in_progress: bool,
    #[prop(into)] on_settled: Callback<()>,
) -> AnyView {
    let review = ServerAction::<ReviewResource>::new();
    let recreate = ServerAction::<RecreateResource>::new();
    let retry = ServerAction::<RetryResourceJob>::new();
    // The resource left its workspace (a merged delete) between the page's fetch and this
    // one: bring the page up to date.
    Effect::new(move |_| {
        if page_in_progress && matches!(initial.get(), Some(Ok(None))) {
            on_settled.run(());
        }
    });
    // A review was queued: the page (and this panel with it) is fetched again, so the
    // resource's new status shows and the job is followed from the start.
    Effect::new(move |_| {
        if review.value().get().is_some_and(|r| r.is_ok())
            || recreate.value().get().is_some_and(|r| r.is_ok())
            || retry.value().get().is_some_and(|r| r.is_ok())
        {
            on_settled.run(());
        }
    });
    view! {
        <Transition fallback=|| view! { <Loading /> }>
            {move || {
                let slug = slug.clone();
                Suspend::new(async move {
                    match initial.await {
                        Ok(None) => view! {
                            <section class="card">
                                <h2>"Workspace"</h2>
                                <p class="muted">"This resource has no code in a workspace: it was created without one, or its code was removed when it was destroyed."</p>
                            </section>
                        }.into_any(),
                        Ok(Some(view)) => view! { <LivePanel slug view review recreate retry page_in_progress on_settled /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
    .into_any()
}

#[component]
fn LivePanel(
    slug: String,
    view: ResourceWorkspace,
    review: ServerAction<ReviewResource>,
    recreate: ServerAction<RecreateResource>,
    retry: ServerAction<RetryResourceJob>,
    page_in_progress: bool,
    on_settled: Callback<()>,
) -> AnyView {
    let state = RwSignal::new(view.clone());
    let lines = RwSignal::new(view.lines.clone());
    let done = RwSignal::new(view.done);
    // The job ended between the page's fetch and the panel's: bring the page up to date.
    Effect::new(move |_| {
        if page_in_progress && done.get_untracked() {
            on_settled.run(());
        }
    });
    {
        let slug = slug.clone();
        poll_until(done, Duration::from_millis(1000), move || {
            let slug = slug.clone();
            async move {
                let after = lines.with_untracked(|l| l.last().map(|x| x.seq).unwrap_or(0));
                match get_resource_workspace(slug, after).await {
                    Ok(Some(next)) => {
                        let job_of = |v: &ResourceWorkspace| v.job.as_ref().map(|j| j.id);
                        if job_of(&next) != state.with_untracked(job_of) {
                            // A chained job (recreate's merge): follow its log from the start.
                            lines.set(Vec::new());
                            state.set(next);
                            return;
                        }
                        if !next.lines.is_empty() {
                            lines.update(|l| l.extend(next.lines.clone()));
                        }
                        let ended = next.done;
                        state.set(next);
                        if ended {
                            done.set(true);
                            on_settled.run(());
                        }
                    }
                    // A merged delete takes the resource out of its workspace.
                    Ok(None) => {
                        done.set(true);
                        on_settled.run(());
                    }
                    Err(_) => {}
                }
            }
        });
    }
    let view_slug = slug.clone();
    let view_slug_retry = slug.clone();
    let review_button = move |approve: bool| {
        let slug = slug.clone();
        // The commit on the page is the one approved: the merge takes exactly it.
        let commit = state.with_untracked(|v| {
            v.open_pull
                .as_ref()
                .and_then(|p| p.head_commit.clone())
                .unwrap_or_default()
        });
        view! {
            <ActionForm action=review>
                <input type="hidden" name="slug" value=slug />
                <input type="hidden" name="approve" value=approve.to_string() />
                <input type="hidden" name="commit" value=commit />
                <button type="submit" class=if approve { "button primary" } else { "button ghost danger" }>
                    {if approve { "Approve (merge)" } else { "Reject (close)" }}
                </button>
            </ActionForm>
        }
    };
    view! {
        <section class="card workspace-panel" data-done=move || done.get().to_string()>
            <header class="run-head">
                <h2>"Workspace"</h2>
                {move || status_badge(state.get().status)}
                {move || (!done.get()).then(|| view! { <span class="spinner small" aria-label="working"></span> })}
            </header>
            <dl class="facts">
                <dt>"Repository"</dt><dd><a href=move || format!("/workspaces/{}", state.get().workspace)>{move || state.get().repository}</a></dd>
                <dt>"Folder"</dt><dd><code>{move || format!("{}/", state.get().folder)}</code>" on "<code>{move || state.get().default_branch}</code></dd>
                <dt>"Status"</dt><dd>{move || state.get().status_message.unwrap_or_else(|| "—".into())}</dd>
                {move || state.get().open_pull.map(|p| view! {
                    <dt>"Pull request"</dt>
                    <dd><a href=p.url.clone()>{format!("#{} {}", p.number, p.title)}</a>" "<code>{p.head_branch.clone()}</code></dd>
                })}
            </dl>
            {move || {
                let view = state.get();
                let pull = view.open_pull.clone()?;
                (done.get() && view.can_review).then(|| {
                    if view.is_author {
                        view! {
                            <p class="hint">{format!("Pull request #{} holds your change: someone else approves it. You can still reject (close) it.", pull.number)}</p>
                            <div class="button-row">{review_button(false)}</div>
                        }.into_any()
                    } else {
                        view! {
                            {pull.head_commit.clone().map(|c| view! { <p class="muted">"Approving merges commit "<code>{c.chars().take(10).collect::<String>()}</code>" exactly; a later commit needs a new review."</p> })}
                            <div class="button-row">{review_button(true)}{review_button(false)}</div>
                        }.into_any()
                    }
                })
            }}
            {move || {
                let view = state.get();
                (done.get() && view.can_review && view.recreatable && view.open_pull.is_none()).then(|| {
                    let slug = view_slug.clone();
                    view! {
                        <ActionForm action=recreate attr:class="recreate-form">
                            <input type="hidden" name="slug" value=slug />
                            <button type="submit" class="button ghost" title="Write this resource's code to its folder again and merge it at once">"Recreate (sync and merge)"</button>
                        </ActionForm>
                    }
                })
            }}
            {move || {
                let view = state.get();
                (done.get() && view.can_retry).then(|| {
                    let slug = view_slug_retry.clone();
                    view! {
                        <ActionForm action=retry attr:class="retry-form">
                            <input type="hidden" name="slug" value=slug />
                            <button type="submit" class="button primary" title="Run the failed job again, with its attempts afresh">"Retry"</button>
                        </ActionForm>
                    }
                })
            }}
            <FormError result=review.value().into() />
            <FormError result=recreate.value().into() />
            <FormError result=retry.value().into() />
            {move || state.get().job.map(|job| view! {
                <h3>{format!("{} · job #{}", job.title, job.id)}" "{run_badge(&job.status)}</h3>
                <p class="muted">{format!("queued {} · attempt {} of {}", job.created_at, job.attempts, job.max_attempts)}</p>
                {job.last_error.clone().filter(|_| job.status != "succeeded").map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            })}
            <pre class="run-log" aria-label="Job log" aria-live="polite">
                {move || lines.get().into_iter().map(|l| view! { <span class=format!("line {}", l.stream)>{l.line}"\n"</span> }).collect_view()}
            </pre>
        </section>
    }
    .into_any()
}

/// `ORG/NAME` from the route.
fn repository_param() -> impl Fn() -> String + Copy {
    let params = use_params_map();
    move || {
        let p = params.read();
        format!(
            "{}/{}",
            p.get("org").unwrap_or_default(),
            p.get("name").unwrap_or_default()
        )
    }
}

/// A local-forge repository: how to clone it, its files on the default branch, and its pull
/// requests.
#[component]
pub fn ForgeRepositoryPage() -> AnyView {
    let repository = repository_param();
    let data = Resource::new(repository, get_forge_repository);
    view! {
        <Title text="Repository" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(repo) => view! {
                        <div class="page-header">
                            <div>
                                <p class="eyebrow"><a href="/workspaces">"Workspaces"</a>" / "<a href=format!("/workspaces/{}", repo.workspace)>{repo.workspace.clone()}</a></p>
                                <h1>{repo.repository.clone()}</h1>
                                <p class="subtitle">"Local forge · kept in Slipway's data folder · "<a href=format!("/workspaces/{}/versioning", repo.workspace)>"versioning"</a></p>
                            </div>
                        </div>
                        <section class="card clone-card">
                            <h2>"Clone"</h2>
                            <pre class="code-block">{format!("git clone {}", repo.clone_url)}</pre>
                            <p class="muted">"Git asks for a password: use a personal access token from "<a href="/account">"your account"</a>". Reading needs the viewer role on this workspace, pushing the member role."</p>
                        </section>
                        <div class="grid two">
                            <section class="card">
                                <h2>{format!("Files on {}", repo.default_branch)}</h2>
                                <ul class="file-list">
                                    {repo.files.iter().map(|f| view! { <li><code>{f.clone()}</code></li> }).collect_view()}
                                </ul>
                            </section>
                            <section class="card">
                                <h2>"Pull requests"</h2>
                                {if repo.pulls.is_empty() {
                                    view! { <p class="muted">"None yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="run-list">
                                            {repo.pulls.iter().map(|p| view! {
                                                <li><a href=p.url.clone()>{format!("#{}", p.number)}</a>{p.title.clone()}{pull_badge(&p.state)}</li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </section>
                        </div>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// A local-forge pull request with its change as a line diff.
#[component]
pub fn PullRequestPage() -> AnyView {
    let params = use_params_map();
    let repository = repository_param();
    let number = move || {
        params
            .read()
            .get("number")
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let data = Resource::new(
        move || (repository(), number()),
        |(r, n)| get_pull_request(r, n),
    );
    view! {
        <Title text="Pull request" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(detail) => {
                        let p = detail.pull.clone();
                        view! {
                            <div class="page-header">
                                <div>
                                    <p class="eyebrow">
                                        <a href="/workspaces">"Workspaces"</a>" / "
                                        <a href=format!("/forge/{}", detail.repository)>{detail.repository.clone()}</a>
                                    </p>
                                    <h1>{format!("#{} {}", p.number, p.title)}</h1>
                                    <p class="subtitle">
                                        {pull_badge(&p.state)}" "<code>{p.head_branch.clone()}</code>" → "<code>{p.base_branch.clone()}</code>
                                        {format!(" · opened {} by {}", p.created_at, p.created_by)}
                                    </p>
                                </div>
                            </div>
                            <section class="card">
                                <dl class="facts">
                                    {p.resource.clone().map(|r| view! { <dt>"Resource"</dt><dd><a href=format!("/resources/{r}")>{r.clone()}</a>" — approve or reject it on the resource's page"</dd> })}
                                    {detail.head_commit.clone().map(|c| view! { <dt>"Commit"</dt><dd><span class="hash">{c}</span></dd> })}
                                    {detail.merge_commit.clone().map(|c| view! { <dt>"Merged as"</dt><dd><span class="hash">{c}</span></dd> })}
                                </dl>
                            </section>
                            {if detail.files.is_empty() {
                                view! { <p class="muted">"No change recorded yet."</p> }.into_any()
                            } else {
                                detail.files.into_iter().map(|file| view! {
                                    <section class="code-file">
                                        <header>
                                            <code>{file.path.clone()}</code>
                                            <span class=format!("badge change-{}", file.change)>{file.change.clone()}</span>
                                        </header>
                                        <DiffLines lines=file.lines />
                                    </section>
                                }).collect_view().into_any()
                            }}
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
