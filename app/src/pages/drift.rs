//! Drift across the estate: every resource whose world moved away from its code, oldest first,
//! with its owner, age and what is being done about it; and what was resolved lately, and how.

use crate::api::drift::{get_drifts, DriftList, DriftRow};
use crate::components::common::{EmptyState, ErrorPanel, Loading, PageHeader};
use crate::components::drift::drift_badge;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DriftPage() -> AnyView {
    let changed = RwSignal::new(0usize);
    let list = Resource::new(move || changed.get(), |_| get_drifts());
    // A check ends, someone acknowledges or reconciles: the list follows every resource.
    crate::components::live::follow(
        || vec!["resource".to_string()],
        move || changed.update(|n| *n += 1),
    );
    view! {
        <Title text="Drift" />
        <PageHeader
            title="Drift"
            subtitle="Resources whose real infrastructure no longer matches their code and state, found by each workspace's scheduled refresh-only checks."
        />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <DriftLists list /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

fn doing(row: &DriftRow) -> String {
    match (&row.reconcile_by, &row.accept_by, &row.acknowledged_by) {
        (Some(who), _, _) => format!("reconcile asked by {who}"),
        (_, Some(who), _) => format!("accepting proposed by {who}"),
        (_, _, Some(who)) => format!(
            "acknowledged by {who}: {}",
            row.reason.clone().unwrap_or_default()
        ),
        _ => "nobody yet".into(),
    }
}

#[component]
fn DriftLists(list: DriftList) -> AnyView {
    let DriftList {
        current,
        resolved,
        checks_running,
    } = list;
    let open = current
        .iter()
        .filter(|d| d.acknowledged_by.is_none())
        .count();
    let summary = match (current.len(), open) {
        (0, _) => None,
        (1, 0) => Some("1 resource drifted, acknowledged".to_string()),
        (1, _) => Some("1 resource drifted, not acknowledged yet".to_string()),
        (n, 0) => Some(format!("{n} resources drifted, all acknowledged")),
        (n, open) => Some(format!(
            "{n} resources drifted, {open} not acknowledged yet"
        )),
    };
    let running = (checks_running > 0).then(|| format!("{checks_running} checks running"));
    let line = match (summary, running) {
        (Some(s), Some(r)) => Some(format!("{s} · {r}")),
        (s, r) => s.or(r),
    };
    view! {
        {line.map(|line| view! { <p class="muted drift-summary">{line}</p> })}
        {if current.is_empty() {
            view! {
                <EmptyState title="No drift">
                    <p>"Every checked resource matches its code. Checks run on each workspace's schedule; a resource's Drift tab checks it now."</p>
                </EmptyState>
            }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="table drift-table">
                        <thead><tr>
                            <th scope="col">"Resource"</th><th scope="col">"Status"</th><th scope="col">"Age"</th>
                            <th scope="col">"Objects"</th><th scope="col">"Owner"</th><th scope="col">"Workspace"</th><th scope="col">"Being done"</th>
                        </tr></thead>
                        <tbody>
                            {current.into_iter().map(|d| {
                                let doing = doing(&d);
                                view! {
                                    <tr data-drift=d.id>
                                        <td><a href=format!("/resources/{}?tab=drift", d.resource)>{d.resource_name.clone()}</a><br /><code class="muted">{d.resource.clone()}</code></td>
                                        <td>{drift_badge(d.status)}</td>
                                        <td title=d.detected_at.clone()>{d.age.clone()}</td>
                                        <td>{d.objects}</td>
                                        <td>{d.owner.clone()}</td>
                                        <td><a href=format!("/workspaces/{}", d.workspace)>{d.workspace.clone()}</a></td>
                                        <td>{doing}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        {(!resolved.is_empty()).then(|| view! {
            <section class="card">
                <h2>"Resolved lately"</h2>
                <div class="table-wrap flat">
                    <table class="table">
                        <thead><tr><th scope="col">"Resource"</th><th scope="col">"Found"</th><th scope="col">"Resolved"</th><th scope="col">"How"</th><th scope="col">"By"</th></tr></thead>
                        <tbody>
                            {resolved.into_iter().map(|d| view! {
                                <tr>
                                    <td><a href=format!("/resources/{}?tab=drift", d.resource)>{d.resource_name.clone()}</a></td>
                                    <td>{d.detected_at.clone()}</td>
                                    <td>{d.resolved_at.clone().unwrap_or_default()}</td>
                                    <td>{d.resolution.map(|r| r.label()).unwrap_or_default()}</td>
                                    <td>{d.resolved_by.clone().unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </section>
        })}
    }
    .into_any()
}
