//! A resource's drift as its page shows it: what changed outside the code and since when, who
//! acknowledged it and why, its last check and the schedule, and what can be done — check now,
//! acknowledge, reconcile through a pull request, or accept the world as it is (proposed by one
//! person, approved by another).

use crate::api::drift::{
    get_resource_drift, AcceptDrift, AcknowledgeDrift, CheckDrift, ProposeAcceptDrift,
    ReconcileDrift, ResourceDrift,
};
use crate::components::common::{ConfirmSubmit, ErrorPanel, FormError, Loading};
use crate::components::plan_card::ResourceChanges;
use crate::domain::drift::DriftStatus;
use leptos::prelude::*;

/// A drift's status, in the colour a reader expects: open red, acknowledged amber, resolved
/// green.
pub fn drift_badge(status: DriftStatus) -> AnyView {
    view! { <span class=format!("drift-status drift-{}", status.as_str())>{status.label()}</span> }
        .into_any()
}

/// The Drift tab's data and actions. The resource page makes them at its top, not inside what
/// its Suspend renders (a resource made there is made again on the server, and the browser then
/// hydrates against the wrong one: a journey saw the page panic while hydrating). Read only
/// while the tab is `shown`.
#[derive(Clone, Copy)]
pub struct DriftData {
    drift: Resource<Result<Option<ResourceDrift>, crate::error::AppError>>,
    actions: DriftActions,
}

pub fn drift_data(
    slug: impl Fn() -> String + Send + Sync + Copy + 'static,
    shown: impl Fn() -> bool + Send + Sync + Copy + 'static,
) -> DriftData {
    let actions = DriftActions {
        check: ServerAction::<CheckDrift>::new(),
        acknowledge: ServerAction::<AcknowledgeDrift>::new(),
        reconcile: ServerAction::<ReconcileDrift>::new(),
        propose: ServerAction::<ProposeAcceptDrift>::new(),
        accept: ServerAction::<AcceptDrift>::new(),
    };
    let versions = move || {
        actions.check.version().get()
            + actions.acknowledge.version().get()
            + actions.reconcile.version().get()
            + actions.propose.version().get()
            + actions.accept.version().get()
    };
    let changed = RwSignal::new(0usize);
    let drift = Resource::new(
        move || (slug(), shown(), versions(), changed.get()),
        |(slug, shown, _, _)| async move {
            match shown {
                true => get_resource_drift(slug).await.map(Some),
                false => Ok(None),
            }
        },
    );
    // Checks end, others acknowledge or accept: the tab follows the resource.
    crate::components::live::follow(
        move || match shown() {
            true => vec![format!("resource:{}", slug())],
            false => Vec::new(),
        },
        move || changed.update(|n| *n += 1),
    );
    DriftData { drift, actions }
}

/// The resource page's Drift tab.
#[component]
pub fn DriftTab(slug: String, can_edit: bool, data: DriftData) -> AnyView {
    let DriftData { drift, actions } = data;
    view! {
        <Transition fallback=|| view! { <Loading /> }>
            {move || {
                let slug = slug.clone();
                Suspend::new(async move {
                    match drift.await {
                        Ok(Some(drift)) => view! { <DriftView slug drift can_edit actions /> }.into_any(),
                        Ok(None) => view! { <Loading /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })
            }}
        </Transition>
        <FormError result=actions.check.value().into() />
        <FormError result=actions.acknowledge.value().into() />
        <FormError result=actions.reconcile.value().into() />
        <FormError result=actions.propose.value().into() />
        <FormError result=actions.accept.value().into() />
    }
    .into_any()
}

#[derive(Clone, Copy)]
struct DriftActions {
    check: ServerAction<CheckDrift>,
    acknowledge: ServerAction<AcknowledgeDrift>,
    reconcile: ServerAction<ReconcileDrift>,
    propose: ServerAction<ProposeAcceptDrift>,
    accept: ServerAction<AcceptDrift>,
}

#[component]
fn DriftView(slug: String, drift: ResourceDrift, can_edit: bool, actions: DriftActions) -> AnyView {
    let ResourceDrift {
        current,
        summary,
        acceptable_plan,
        proposed_plan,
        last_check,
        schedule,
        next_check,
        checkable,
    } = drift;
    let running = last_check.as_ref().is_some_and(|c| c.running);
    let schedule_line = match (&next_check, schedule.as_str()) {
        (_, "off") => "Checked only when asked: the workspace's schedule is off.".to_string(),
        (Some(next), _) => format!("Checked {schedule}; next check {next}."),
        (None, _) => format!("Checked {schedule}."),
    };
    let check_button = {
        let slug = slug.clone();
        (can_edit && checkable).then(|| {
            view! {
                <ActionForm action=actions.check attr:class="inline-form">
                    <input type="hidden" name="slug" value=slug />
                    <button type="submit" class="button ghost" disabled=running>
                        {if running { "Checking…" } else { "Check now" }}
                    </button>
                </ActionForm>
            }
        })
    };
    let last = last_check.map(|c| {
        view! {
            <p class="muted drift-last" data-state=c.state.clone()>
                {format!("Last check #{} ({}): {} · {}", c.plan_id, c.requested_by, c.state, c.at)}
                {c.running.then(|| view! { " "<span class="spinner small" aria-label="running"></span> })}
            </p>
            {(!c.error.is_empty()).then(|| view! {
                <div class="plan-error" role="alert">
                    <p><strong>"The check failed."</strong></p>
                    <pre>{c.error.join("\n")}</pre>
                </div>
            })}
        }
    });
    let body = match current {
        None => view! {
            <div class="drift-none">
                <p class="drift-clean">{if checkable {
                    "No drift: the last check found the world as the code and state say."
                } else {
                    "Nothing to check yet: a resource is checked once its code is merged and applied."
                }}</p>
            </div>
        }
        .into_any(),
        Some(row) => {
            let changes = summary.map(|s| s.drift).unwrap_or_default();
            let status = row.status;
            let reconciling = row.reconcile_by.clone();
            let proposer = row.accept_by.clone();
            let ack = row.acknowledged_by.clone().map(|who| view! {
                <p class="drift-ack"><strong>{format!("Acknowledged by {who}: ")}</strong>{row.reason.clone().unwrap_or_default()}</p>
            });
            let acknowledge_form = {
                let slug = slug.clone();
                (can_edit && status == DriftStatus::Open).then(|| view! {
                    <ActionForm action=actions.acknowledge attr:class="drift-acknowledge">
                        <input type="hidden" name="slug" value=slug />
                        <label for="drift-reason">"Acknowledge: why is it left as it is for now?"</label>
                        <textarea id="drift-reason" name="reason" rows="2" maxlength="1000" required placeholder="e.g. the network team's hotfix; reconcile after the incident review"></textarea>
                        <button type="submit" class="button">"Acknowledge"</button>
                    </ActionForm>
                })
            };
            let reconcile_form = {
                let slug = slug.clone();
                (can_edit && reconciling.is_none()).then(|| view! {
                    <ActionForm action=actions.reconcile attr:class="inline-form">
                        <input type="hidden" name="slug" value=slug.clone() />
                        <ConfirmSubmit
                            label="Reconcile through a pull request"
                            class="button"
                            question=format!("Open a pull request for {slug} that changes no file? Its plan shows what applying the code again undoes; once someone else approves it, the apply puts the world back as the code says.")
                        />
                    </ActionForm>
                })
            };
            let accept_form = match (acceptable_plan, proposed_plan) {
                (Some(plan), Some(_)) => {
                    let slug = slug.clone();
                    let proposer = proposer.clone();
                    Some(view! {
                        <ActionForm action=actions.accept attr:class="inline-form">
                            <input type="hidden" name="slug" value=slug.clone() />
                            <input type="hidden" name="plan" value=plan />
                            <ConfirmSubmit
                                label="Approve accepting the drift"
                                class="button"
                                question=format!("Apply drift check #{plan} of {slug}? The state then records the world as this check found it; nothing in the infrastructure changes. {} proposed it; you approve it.", proposer.clone().unwrap_or_default())
                            />
                        </ActionForm>
                    }.into_any())
                }
                (Some(plan), None) if can_edit => {
                    let slug = slug.clone();
                    Some(view! {
                        <ActionForm action=actions.propose attr:class="inline-form">
                            <input type="hidden" name="slug" value=slug.clone() />
                            <input type="hidden" name="plan" value=plan />
                            <ConfirmSubmit
                                label="Propose accepting the drift"
                                class="button"
                                question=format!("Propose accepting what drift check #{plan} found for {slug}? Once someone else approves, its refresh-only plan is applied: the state records the world as it is, and the code is left as it is.")
                            />
                        </ActionForm>
                    }.into_any())
                }
                _ => None,
            };
            view! {
                <div class=format!("drift-current drift-{}", status.as_str()) role="status">
                    <header class="run-head">
                        <h3>{format!("Drift #{}", row.id)}</h3>
                        {drift_badge(status)}
                        <span class="muted">{format!("found {} ago ({}), last seen {}", row.age, row.detected_at, row.last_seen_at)}</span>
                    </header>
                    {ack}
                    {reconciling.map(|who| view! {
                        <p class="hint">{format!("{who} asked for a reconcile: its pull request is on the Overview tab, waiting for someone else's approval.")}</p>
                    })}
                    {proposer.clone().map(|who| view! {
                        <p class="hint">{format!("{who} proposed accepting the world as it is: someone else approves.")}</p>
                    })}
                    {if changes.is_empty() {
                        view! { <p class="muted">"Only outputs moved: see the check's plan on the Plans and state tab."</p> }.into_any()
                    } else {
                        view! { <ResourceChanges changes before="In the state" after="In the world" /> }.into_any()
                    }}
                    <div class="drift-actions">
                        {reconcile_form}
                        {accept_form}
                    </div>
                    {acknowledge_form}
                </div>
            }
            .into_any()
        }
    };
    view! {
        <section class="card drift-card">
            <header class="card-head">
                <h2>"Drift"</h2>
                {check_button}
            </header>
            <p class="muted">{schedule_line}" A check is a refresh-only plan of the code as merged: it changes nothing."</p>
            {last}
            {body}
        </section>
    }
    .into_any()
}
