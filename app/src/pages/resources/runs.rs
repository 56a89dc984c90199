//! A resource's plans and state: every plan (newest first) with the newest shown whole, the
//! state's versions with who wrote them, any two compared, and who holds the state's lock.

use super::*;
use crate::api::plans::{compare_state_versions, get_resource_runs, ResourceRuns};
use crate::components::plan_card::{plan_badge, PlanCard};

#[component]
pub(super) fn RunsTab(slug: String) -> AnyView {
    let query = use_query_map();
    let runs_slug = slug.clone();
    let runs = Resource::new(move || runs_slug.clone(), get_resource_runs);
    let runs_again = runs;
    let pair = move || {
        let q = query.read();
        let from = q.get("from").and_then(|v| v.parse::<i64>().ok())?;
        let to = q.get("to").and_then(|v| v.parse::<i64>().ok())?;
        Some((from, to))
    };
    let diff_slug = slug.clone();
    let diff = Resource::new(
        move || (diff_slug.clone(), pair()),
        |(slug, pair)| async move {
            match pair {
                Some((from, to)) => compare_state_versions(slug, from, to).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <Loading /> }>
            {move || {
                let slug = slug.clone();
                Suspend::new(async move {
                    match runs.await {
                        Ok(runs) => view! { <RunsView slug runs on_changed=Callback::new(move |_| runs_again.refetch()) /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })
            }}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match diff.await {
                    Ok(Some(diff)) => view! {
                        <section class="card">
                            <h2>{format!("State version #{} → #{}", diff.from, diff.to)}</h2>
                            <p class="muted">"What each version holds: every resource instance by address and id, and each output (sensitive ones masked)."</p>
                            <DiffLines lines=diff.lines />
                        </section>
                    }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn RunsView(slug: String, runs: ResourceRuns, on_changed: Callback<()>) -> AnyView {
    let ResourceRuns {
        latest,
        plans,
        states,
        lock,
        frozen,
    } = runs;
    let base = format!("/resources/{slug}?tab=runs");
    view! {
        <section class="card">
            <h2>"Latest plan"</h2>
            {frozen.map(|note| view! { <crate::components::freeze::FrozenPanel note /> })}
            {match latest {
                Some(plan) => view! { <PlanCard plan slug=slug.clone() on_changed /> }.into_any(),
                None => view! { <p class="muted">"Nothing planned yet: the first plan runs when this resource's pull request opens."</p> }.into_any(),
            }}
        </section>
        <section class="card">
            <h2>"Plans"</h2>
            {if plans.is_empty() {
                view! { <p class="muted">"No plan yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap flat">
                        <table class="table">
                            <thead><tr><th scope="col">"Plan"</th><th scope="col">"Status"</th><th scope="col">"Changes"</th><th scope="col">"For"</th><th scope="col">"Requested"</th><th scope="col">"Approved"</th><th scope="col">"Applied"</th></tr></thead>
                            <tbody>
                                {plans.into_iter().map(|p| view! {
                                    <tr>
                                        <td>{format!("#{}", p.id)}{(p.mode == crate::domain::workspaces::SyncKind::Delete).then_some(" (destroy)")}{(p.purpose == crate::domain::drift::PlanPurpose::Drift).then_some(" (drift check)")}</td>
                                        <td>{plan_badge(p.status)}</td>
                                        <td><code>{p.counts.clone().unwrap_or_else(|| "—".into())}</code></td>
                                        <td>{p.pull_number.map(|n| format!("#{n} at ")).unwrap_or_else(|| "merged code at ".into())}<code>{p.commit.chars().take(10).collect::<String>()}</code></td>
                                        <td>{format!("{} · {}", p.requested_by, p.created_at)}</td>
                                        <td>{p.approved_by.clone().unwrap_or_else(|| "—".into())}</td>
                                        <td>{p.applied_at.clone().unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        <section class="card">
            <h2>"State"</h2>
            <p class="muted">{match lock {
                Some(holder) => format!("Locked by {holder}."),
                None => "Not locked: no run holds the state now.".to_string(),
            }}" Slipway keeps every version, sealed at rest; runs reach it through a backend that lives as long as the run."</p>
            {if states.is_empty() {
                view! { <p class="muted">"No state yet: the first apply writes it."</p> }.into_any()
            } else {
                let previous: Vec<Option<i64>> = states.iter().skip(1).map(|s| Some(s.id)).chain([None]).collect();
                view! {
                    <div class="table-wrap flat">
                        <table class="table">
                            <thead><tr><th scope="col">"Version"</th><th scope="col">"Serial"</th><th scope="col">"Written"</th><th scope="col">"By"</th><th scope="col">"Size"</th><th scope="col">"Compare"</th></tr></thead>
                            <tbody>
                                {states.into_iter().zip(previous).map(|(s, before)| view! {
                                    <tr>
                                        <td>{format!("#{}", s.id)}{s.plan_id.map(|p| format!(" · plan #{p}"))}</td>
                                        <td><code>{s.serial}</code></td>
                                        <td>{s.created_at.clone()}</td>
                                        <td>{s.created_by.clone()}</td>
                                        <td>{format!("{:.1} KiB", s.size as f64 / 1024.0)}</td>
                                        <td>{before.map(|b| view! { <a href=format!("{base}&from={b}&to={}", s.id)>{format!("with #{b}")}</a> })}</td>
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
