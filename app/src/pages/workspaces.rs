//! Workspaces: the list with the register form (and a new local-forge repository), a
//! workspace's page (its configuration, the resources whose code it holds, its pull requests),
//! and the panel on a resource's page that follows its workspace work live and approves or
//! rejects its pull request.

use crate::api::workspaces::{
    get_forge_repository, get_pull_request, get_workspace, get_workspaces, CreateLocalRepository,
    DeleteWorkspace, PullRow, RegisterWorkspace, UpdateWorkspace, WorkspaceDetail,
    WorkspaceResourceRow, WorkspaceRow,
};
use crate::components::badges::DiffLines;
use crate::components::badges::{pull_badge, status_badge};
use crate::components::common::{
    ConfirmSubmit, EmptyState, ErrorPanel, FormError, Loading, PageHeader,
};
#[allow(unused_imports)]
use crate::components::workspace_panel::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

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
                                                {data.integrations.iter().map(|i| view! { <option value=i.slug.clone()>{format!("{} ({})", i.name, i.provider.label())}</option> }).collect_view()}
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
    let schedule = ServerAction::<crate::api::drift::SetDriftSchedule>::new();
    let detail = Resource::new(
        move || (slug(), update.version().get() + schedule.version().get()),
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
                                <WorkspaceFacts w=w.clone() />
                                <WorkspaceAbout detail=detail.clone() update delete />
                            </div>
                            <WorkspaceDrift w=w.clone() can_edit=detail.can_edit schedule />
                            <WorkspaceResources rows=detail.resources.clone() />
                            <WorkspacePulls rows=detail.pulls.clone() />
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

/// Where the workspace's repository is and how to reach it.
#[component]
fn WorkspaceFacts(w: WorkspaceRow) -> AnyView {
    view! {
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
    }
    .into_any()
}

/// The description and labels (editable for those who may), and deleting the workspace, which
/// asks first and is refused while resources keep code in it.
#[component]
fn WorkspaceAbout(
    detail: WorkspaceDetail,
    update: ServerAction<UpdateWorkspace>,
    delete: ServerAction<DeleteWorkspace>,
) -> AnyView {
    let w = detail.workspace.clone();
    let delete_slug = w.slug.clone();
    let (description, labels) = (w.description.clone(), w.labels.clone());
    let question = format!(
        "Delete the workspace {}? Slipway forgets it; the repository and its files stay on the forge.",
        w.name
    );
    view! {
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
                            <ConfirmSubmit label="Delete workspace" class="button ghost danger" question=question.clone() />
                        </ActionForm>
                    }.into_any(),
                }}
                <FormError result=delete.value().into() />
            })}
        </section>
    }
    .into_any()
}

/// How often the workspace's resources are checked for drift, and a check of all of them now.
#[component]
fn WorkspaceDrift(
    w: WorkspaceRow,
    can_edit: bool,
    schedule: ServerAction<crate::api::drift::SetDriftSchedule>,
) -> AnyView {
    use crate::api::drift::CheckWorkspaceDrift;
    use crate::domain::drift::interval_label;
    let check = ServerAction::<CheckWorkspaceDrift>::new();
    let minutes = w.drift_interval_minutes;
    let current = interval_label(minutes);
    let next = w
        .drift_next_at
        .clone()
        .filter(|_| minutes > 0)
        .map(|at| format!(" The next check is due {at}."));
    let choices = [0, 30, 60, 360, 720, 1440, 10_080];
    let (slug, check_slug) = (w.slug.clone(), w.slug.clone());
    view! {
        <section class="card workspace-drift">
            <h2>"Drift checks"</h2>
            <p class="muted">
                {format!("Every provisioned resource here is checked {}: a refresh-only plan of its merged code finds what changed outside it.", if minutes > 0 { current.clone() } else { "only when asked".into() })}
                {next}" "<a href="/drift">"See all drift"</a>
            </p>
            {can_edit.then(move || view! {
                <div class="drift-schedule">
                    <ActionForm action=schedule attr:class="inline-form">
                        <input type="hidden" name="slug" value=slug />
                        <label><span>"Schedule"</span>
                            <select name="minutes">
                                {choices.into_iter().chain((!choices.contains(&minutes)).then_some(minutes)).map(|m| view! {
                                    <option value=m selected=m == minutes>{interval_label(m)}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <button type="submit" class="button ghost">"Save schedule"</button>
                    </ActionForm>
                    <ActionForm action=check attr:class="inline-form">
                        <input type="hidden" name="slug" value=check_slug />
                        <button type="submit" class="button" disabled=move || check.pending().get()>"Check all now"</button>
                    </ActionForm>
                </div>
                {move || check.value().get().and_then(|r| r.ok()).map(|n| view! {
                    <p class="hint" role="status">{format!("{n} checks queued: findings appear on the Drift page as they finish.")}</p>
                })}
                <FormError result=schedule.value().into() />
                <FormError result=check.value().into() />
            })}
        </section>
    }
    .into_any()
}

/// The resources that keep their code in the workspace, by folder.
#[component]
fn WorkspaceResources(rows: Vec<WorkspaceResourceRow>) -> AnyView {
    view! {
        <section class="card">
            <h2>"Resources"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"No resource keeps code here yet. Choose this workspace when creating a resource."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap flat">
                        <table class="table">
                            <thead><tr><th scope="col">"Folder"</th><th scope="col">"Resource"</th><th scope="col">"State"</th><th scope="col">"Workspace work"</th></tr></thead>
                            <tbody>
                                {rows.iter().map(|r| view! {
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
    }
    .into_any()
}

/// The workspace's pull requests, newest first.
#[component]
fn WorkspacePulls(rows: Vec<PullRow>) -> AnyView {
    view! {
        <section class="card">
            <h2>"Pull requests"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"None yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap flat">
                        <table class="table">
                            <thead><tr><th scope="col">"#"</th><th scope="col">"Title"</th><th scope="col">"Branch"</th><th scope="col">"State"</th><th scope="col">"Opened"</th></tr></thead>
                            <tbody>
                                {rows.iter().map(|p| view! {
                                    <tr>
                                        <td><a href=p.url.clone()>{format!("#{}", p.number)}</a></td>
                                        <td>{p.title.clone()}</td>
                                        <td><code>{p.head_branch.clone()}</code>" → "<code>{p.base_branch.clone()}</code></td>
                                        <td>{pull_badge(p.state)}</td>
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
                                                <li><a href=p.url.clone()>{format!("#{}", p.number)}</a>{p.title.clone()}{pull_badge(p.state)}</li>
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
                                        {pull_badge(p.state)}" "<code>{p.head_branch.clone()}</code>" → "<code>{p.base_branch.clone()}</code>
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
