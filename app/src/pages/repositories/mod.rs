//! The Repositories area: governed repositories with their strategy drawn as a branch diagram,
//! the branch table, rulesets, CODEOWNERS and workflows Slipway computes; and the manifests
//! editor, which checks the text as it is typed with the same code the CLI and the server run.

use crate::components::badges::DiffLines;

use crate::components::badges::{pull_badge, release_badge};
use crate::domain::workspaces::PullState;

use crate::api::repositories::{
    get_generated_file, get_governed_pull, get_planned_diff, get_provisioning, get_repositories,
    get_repository, ApprovePullRequest, FileSummary, GovernedPull, MergePullRequest,
    OpenPullRequest, ProvisionRepository, ProvisionView, RepositoryDetail, RepositoryRow,
    RotateBuildSecret, SaveRepository,
};

use crate::components::common::{EmptyState, ErrorPanel, FormError, Loading, PageHeader};

use crate::domain::branching::{BranchPolicy, BranchRole, SourceClass};

use crate::domain::repositories::{
    parse_source, RepositoryManifests, RepositoryPlan, MANAGED_REPOSITORY,
};

use crate::error::AppError;

use leptos::prelude::*;

use leptos_meta::Title;

use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[allow(unused_imports)]
use crate::components::manifest_editor::*;

mod editor;
mod plan;
mod provisioning;
mod pull;
pub use editor::*;
#[allow(unused_imports)]
pub(crate) use editor::*;
pub use plan::*;
#[allow(unused_imports)]
pub(crate) use plan::*;
pub use provisioning::*;
#[allow(unused_imports)]
pub(crate) use provisioning::*;
pub use pull::*;
#[allow(unused_imports)]
pub(crate) use pull::*;

pub(crate) fn strategy_chip(strategy: crate::domain::versioning::Strategy) -> AnyView {
    view! { <span class="badge strategy">{strategy.label()}</span> }.into_any()
}

#[component]
pub fn RepositoriesPage() -> AnyView {
    let listed = Resource::new(|| (), |_| get_repositories());
    view! {
        <Title text="Repositories" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match listed.await {
                    Ok(data) => view! {
                        <PageHeader title="Repositories" subtitle="Repositories governed by a branching strategy: Slipway compiles each one's manifests into branch rules, CODEOWNERS and CI workflows.">
                            {data.can_create.then(|| view! { <a class="button primary" href="/repositories/new">"New repository"</a> })}
                        </PageHeader>
                        {if data.repositories.is_empty() {
                            view! {
                                <EmptyState title="No repositories are governed yet">
                                    <p>"A GithubRepository manifest names the strategy — GitHub Flow, Git Flow or Trunk-Based — and its BuildDefinitions the stages CI runs. Write them in the editor, or check files with "<code>"slipway manifests validate"</code>"."</p>
                                </EmptyState>
                            }.into_any()
                        } else {
                            view! { <RepositoryTable rows=data.repositories /> }.into_any()
                        }}
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
pub(crate) fn RepositoryTable(rows: Vec<RepositoryRow>) -> AnyView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th>"Repository"</th><th>"Strategy"</th><th>"Builds"</th><th>"Revision"</th><th>"Applied"</th><th>"Changed"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr>
                            <td><a href=format!("/repositories/{}", r.name)><strong>{r.name.clone()}</strong></a></td>
                            <td>{strategy_chip(r.strategy)}</td>
                            <td>{if r.builds.is_empty() {
                                view! { <span class="muted">"none"</span> }.into_any()
                            } else {
                                r.builds.iter().map(|(name, kind)| view! { <span class="badge">{format!("{name} · {kind}")}</span>" " }).collect_view().into_any()
                            }}</td>
                            <td>{r.revision}</td>
                            <td>{match r.applied_revision {
                                None => view! { <span class="badge">"not yet"</span> }.into_any(),
                                Some(a) if a == r.revision => view! { <span class="badge change-added">{format!("revision {a}")}</span> }.into_any(),
                                Some(a) => view! { <span class="badge change-changed">{format!("revision {a}, behind")}</span> }.into_any(),
                            }}</td>
                            <td class="muted">{format!("{} by {}", r.updated_at, r.updated_by)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn RepositoryPage() -> AnyView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let detail = Resource::new(name, get_repository);
    // Made here, not in the card: see `ProvisioningData`.
    let provisioning = ProvisioningData::new(name);
    view! {
        <Title text="Repository" />
        <Transition fallback=|| view! { <Loading label="Computing the plan…" /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <RepositoryView detail provisioning /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
pub(crate) fn RepositoryView(detail: RepositoryDetail, provisioning: ProvisioningData) -> AnyView {
    let row = detail.row.clone();
    let plan = detail.plan.clone();
    view! {
        <div class="page-header">
            <div>
                <p class="eyebrow"><a href="/repositories">"Repositories"</a></p>
                <h1>{row.name.clone()}</h1>
                <p class="subtitle">
                    {strategy_chip(row.strategy)}
                    {format!(
                        " · {} · revision {} · changed {} by {}",
                        if plan.org == "local" { "local forge".to_string() } else { format!("organisation {}", plan.org) },
                        row.revision,
                        row.updated_at,
                        row.updated_by
                    )}
                </p>
            </div>
            <div class="page-actions">
                {detail.can_edit.then(|| view! { <a class="button" href=format!("/repositories/{}/edit", row.name)>"Edit manifests"</a> })}
            </div>
        </div>
        <Provisioning name=row.name.clone() data=provisioning />
        <BuildNotifications name=row.name.clone() has_secret=detail.has_build_secret can_edit=detail.can_edit />
        <PlanView plan=plan.clone() workflows=detail.workflows.clone() name=row.name.clone() />
        <RevisionList revisions=detail.revisions.clone() />
    }
    .into_any()
}

/// How the repository's CI tells Slipway a build completed: a secret it signs with, shown once
/// when made.
#[component]
pub(crate) fn BuildNotifications(name: String, has_secret: bool, can_edit: bool) -> AnyView {
    let rotate = ServerAction::<RotateBuildSecret>::new();
    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2>"Build notifications"</h2>
                    <p class="muted">"The push workflows tell Slipway each build they complete ("<code>"/hooks/build-completed"</code>"), signed with this repository's build secret; Slipway then deploys the application to its pre-release environments."</p>
                </div>
                {can_edit.then(|| view! {
                    <ActionForm action=rotate>
                        <input type="hidden" name="name" value=name.clone() />
                        <button type="submit" class="button" disabled=move || rotate.pending().get()>
                            {if has_secret { "Replace the build secret" } else { "Make a build secret" }}
                        </button>
                    </ActionForm>
                })}
            </div>
            <crate::components::common::SecretShownOnce
                result=rotate.value().into()
                after="Store it as the repository's Actions secret SLIPWAY_WEBHOOK_SECRET; notifications signed with an earlier secret are refused from now on."
                has_secret
                set="A build secret is set."
                unset="No build secret yet: notifications from this repository are refused."
            />
        </section>
    }
    .into_any()
}

pub(crate) fn pull_href(
    name: &str,
    repository: &str,
    number: i64,
    managed_repository: &str,
) -> String {
    let managed = repository == managed_repository;
    format!(
        "/repositories/{name}/pulls/{number}{}",
        if managed { "?managed=true" } else { "" }
    )
}
