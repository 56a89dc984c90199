//! A resource's workspace panel: its pull request, job log and review actions, followed live.

use crate::api::plans::ApprovePlan;
use crate::api::workspaces::{
    get_resource_workspace, RecreateResource, ResourceWorkspace, RetryResourceJob, ReviewResource,
};
use crate::components::badges::run_badge;
use crate::components::badges::status_badge;
use crate::components::common::{poll_until, ErrorPanel, FormError, Loading};
use crate::components::plan_card::PlanCard;
use crate::domain::jobs::JobStatus;
use crate::domain::plans::PlanStatus;
use crate::error::AppError;
use leptos::prelude::*;
use std::time::Duration;

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
    let approve_plan = ServerAction::<ApprovePlan>::new();
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
            || approve_plan.value().get().is_some_and(|r| r.is_ok())
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
                        Ok(Some(view)) => view! { <LivePanel slug view actions=Actions { review, recreate, retry, approve_plan } page_in_progress on_settled /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
    .into_any()
}

/// What the panel's buttons do.
#[derive(Clone, Copy)]
pub struct Actions {
    pub review: ServerAction<ReviewResource>,
    pub recreate: ServerAction<RecreateResource>,
    pub retry: ServerAction<RetryResourceJob>,
    pub approve_plan: ServerAction<ApprovePlan>,
}

#[component]
pub fn LivePanel(
    slug: String,
    view: ResourceWorkspace,
    actions: Actions,
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
    follow(slug.clone(), state, lines, done, on_settled);
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
            {
                let slug = slug.clone();
                move || state.get().plan.map(|plan| view! { <PlanCard plan slug=slug.clone() on_changed=on_settled /> })
            }
            <WorkspaceActions slug state done actions />
            {move || state.get().job.map(|job| view! {
                <h3>{format!("{} · job #{}", job.title, job.id)}" "{run_badge(job.status)}</h3>
                <p class="muted">{format!("queued {} · attempt {} of {}", job.created_at, job.attempts, job.max_attempts)}</p>
                {job.last_error.clone().filter(|_| job.status != JobStatus::Succeeded).map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            })}
            <pre class="run-log" aria-label="Job log" aria-live="polite">
                {move || lines.get().into_iter().map(|l| view! { <span class=format!("line {}", l.stream)>{l.line}"\n"</span> }).collect_view()}
            </pre>
        </section>
    }
    .into_any()
}

/// Follows the resource's workspace job: its log and state once a second until it ends (a
/// chained job, as recreate's merge, is followed from its start), then settles the page.
fn follow(
    slug: String,
    state: RwSignal<ResourceWorkspace>,
    lines: RwSignal<Vec<crate::wire::executors::LogLine>>,
    done: RwSignal<bool>,
    on_settled: Callback<()>,
) {
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

/// Approve and reject for a reviewer (the author may only reject), recreate, and retry of a
/// failed job, each shown once the job has ended.
#[component]
fn WorkspaceActions(
    slug: String,
    state: RwSignal<ResourceWorkspace>,
    done: RwSignal<bool>,
    actions: Actions,
) -> AnyView {
    let Actions {
        review,
        recreate,
        retry,
        approve_plan,
    } = actions;
    let view_slug = slug.clone();
    let view_slug_retry = slug.clone();
    let view_slug_plan = slug.clone();
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
                    {if approve { "Approve plan (merge, then apply)" } else { "Reject (close)" }}
                </button>
            </ActionForm>
        }
    };
    view! {
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
                    // Approval waits for the plan of exactly this head, ready.
                    let head = pull.head_commit.clone().unwrap_or_default();
                    let plan = view.plan.clone().filter(|p| p.commit == head);
                    let ready = plan.as_ref().is_some_and(|p| p.status == PlanStatus::Ready);
                    // A plan a policy denies waits for its overrides, as the server would say.
                    let denied_by: Vec<String> = plan.iter().flat_map(|p| p.policies.iter()).filter(|r| r.blocks()).map(|r| r.policy.clone()).collect();
                    let waiting = match &plan {
                        None => Some("Approval waits for the plan of this head commit.".to_string()),
                        Some(p) if p.status == PlanStatus::Failed => Some(format!("Plan #{} failed: a change that does not plan cannot be approved. Fix it, or retry the plan.", p.id)),
                        Some(p) if !ready => Some(format!("Approval waits for plan #{} ({}).", p.id, p.status.label())),
                        Some(p) if !denied_by.is_empty() => Some(format!("Approval waits for plan #{} to pass {}: see the denial above, and its overrides.", p.id, denied_by.join(", "))),
                        _ => None,
                    };
                    let ready = ready && denied_by.is_empty();
                    view! {
                        {ready.then(|| view! { <p class="muted">"Approving merges commit "<code>{head.chars().take(10).collect::<String>()}</code>" exactly, then applies the plan shown above; a later commit needs a new plan and a new review."</p> })}
                        {waiting.map(|w| view! { <p class="hint">{w}</p> })}
                        <div class="button-row">{ready.then(|| review_button(true))}{review_button(false)}</div>
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
        {move || {
            let view = state.get();
            let plan = view.plan.clone()?;
            (done.get() && view.can_review && view.open_pull.is_none() && plan.pull_number.is_none() && plan.status == PlanStatus::Ready).then(|| {
                let slug = view_slug_plan.clone();
                view! {
                    <p class="hint">{format!("The state changed after the merge, so plan #{} was made again from the merged code: applying it needs a new approval.", plan.id)}</p>
                    <ActionForm action=approve_plan attr:class="approve-plan-form">
                        <input type="hidden" name="slug" value=slug />
                        <input type="hidden" name="plan" value=plan.id.to_string() />
                        <button type="submit" class="button primary">{format!("Approve and apply plan #{}", plan.id)}</button>
                    </ActionForm>
                }
            })
        }}
        <FormError result=approve_plan.value().into() />
        <FormError result=review.value().into() />
        <FormError result=recreate.value().into() />
        <FormError result=retry.value().into() />
    }
    .into_any()
}
