//! A plan as a person reads it: what it will create, change, replace or destroy, each
//! attribute before and after (sensitive values hidden, unknown ones named), the output
//! changes, the counts, and a failed plan's error lines. The resource page and its workspace
//! panel show it; an approval covers exactly the plan shown.

use crate::components::common::FormError;
use crate::domain::drift::PlanPurpose;
use crate::domain::plans::{
    AttributeChange, ChangeAction, PlanStatus, PlanSummary, ResourceChange, Shown,
};
use crate::domain::policies::PolicyResult;
use crate::domain::workspaces::SyncKind;
use crate::wire::plans::PlanView;
use leptos::prelude::*;

fn action_class(action: ChangeAction) -> &'static str {
    match action {
        ChangeAction::Create => "change-added",
        ChangeAction::Delete => "change-removed",
        ChangeAction::Update | ChangeAction::Replace => "change-changed",
        ChangeAction::Read | ChangeAction::NoOp => "",
    }
}

/// A plan's status, in the colour a reader expects: waiting and running neutral, ready and
/// applied green, failed red.
pub fn plan_badge(status: PlanStatus) -> AnyView {
    view! { <span class=format!("plan-status plan-{}", status.as_str())>{status.label()}</span> }
        .into_any()
}

fn shown(value: &Shown) -> AnyView {
    match value {
        Shown::Value(text) => view! { <code>{text.clone()}</code> }.into_any(),
        Shown::Sensitive => view! { <span class="badge sensitive">"sensitive"</span> }.into_any(),
        Shown::Unknown => view! { <span class="muted">"known after apply"</span> }.into_any(),
        Shown::Absent => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

fn attribute_row(attribute: AttributeChange) -> AnyView {
    view! {
        <tr>
            <th scope="row"><code>{attribute.path.clone()}</code>
                {attribute.forces_replacement.then(|| view! { " "<span class="badge change-removed">"forces replacement"</span> })}
            </th>
            <td class="before">{shown(&attribute.before)}</td>
            <td class="after">{shown(&attribute.after)}</td>
        </tr>
    }
    .into_any()
}

/// Resources changed (by a plan, or outside the code): each address with its action and its
/// attributes before and after.
#[component]
pub fn ResourceChanges(
    changes: Vec<ResourceChange>,
    /// The columns' headings (a drift's are "In the state" and "In the world").
    #[prop(default = "Before")]
    before: &'static str,
    #[prop(default = "After")] after: &'static str,
) -> AnyView {
    view! {
        <ul class="plan-changes">
            {changes.into_iter().map(|change| {
                let more = change.more_attributes;
                view! {
                    <li class="plan-change">
                        <p class="plan-address">
                            <span class=format!("badge {}", action_class(change.action))>{format!("{} {}", change.action.symbol(), change.action.label())}</span>
                            " "<code>{change.address.clone()}</code>
                        </p>
                        {(!change.attributes.is_empty()).then(|| view! {
                            <table class="plan-attributes">
                                <thead><tr><th scope="col">"Attribute"</th><th scope="col">{before}</th><th scope="col">{after}</th></tr></thead>
                                <tbody>{change.attributes.into_iter().map(attribute_row).collect_view()}</tbody>
                            </table>
                        })}
                        {(more > 0).then(|| view! { <p class="muted">{format!("and {more} more attributes")}</p> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// What changed outside the code, as a plan or a drift check found it.
#[component]
pub fn DriftFound(changes: Vec<ResourceChange>) -> AnyView {
    view! {
        <div class="plan-drift">
            <h4>"Changed outside the code"</h4>
            <p class="muted">"What the real world holds now that the state did not record (someone changed it directly). The plan below undoes it."</p>
            <ResourceChanges changes before="In the state" after="In the world" />
        </div>
    }
    .into_any()
}

/// The changes of one planned summary: what drifted, resources, then outputs.
#[component]
pub fn PlanChanges(summary: PlanSummary) -> AnyView {
    let drift = summary.drift.clone();
    let drift = (!drift.is_empty()).then(|| view! { <DriftFound changes=drift /> });
    if summary.is_empty() {
        return view! {
            {drift}
            <p class="plan-empty">"No changes: the infrastructure already matches this code."</p>
        }
        .into_any();
    }
    let outputs = summary.outputs.clone();
    view! {
        {drift}
        <ResourceChanges changes=summary.changes />
        {(!outputs.is_empty()).then(|| view! {
            <h4>"Outputs"</h4>
            <table class="plan-attributes plan-outputs">
                <thead><tr><th scope="col">"Output"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                <tbody>
                    {outputs.into_iter().map(|o| view! {
                        <tr>
                            <th scope="row"><span class=format!("badge {}", action_class(o.action))>{o.action.symbol()}</span>" "<code>{o.name.clone()}</code></th>
                            <td class="before">{shown(&o.before)}</td>
                            <td class="after">{shown(&o.after)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
    .into_any()
}

/// What the policies said of a plan: each denial with its message, who may override it and
/// who did; the override form for the members of a policy's group (`slug`: the resource).
#[component]
pub fn PolicyResults(
    plan_id: i64,
    results: Vec<PolicyResult>,
    #[prop(optional_no_strip)] slug: Option<String>,
    #[prop(optional)] open: bool,
    /// Runs after an override was recorded, so what shows the plan reads it again.
    #[prop(optional_no_strip)]
    on_changed: Option<Callback<()>>,
) -> AnyView {
    let passed: Vec<String> = results
        .iter()
        .filter(|r| r.denials.is_empty())
        .map(|r| r.policy.clone())
        .collect();
    let denied: Vec<PolicyResult> = results
        .into_iter()
        .filter(|r| !r.denials.is_empty())
        .collect();
    let action = ServerAction::<crate::api::plans::OverridePolicy>::new();
    Effect::new(move |_| {
        if action.value().get().is_some_and(|r| r.is_ok()) {
            if let Some(changed) = on_changed {
                changed.run(());
            }
        }
    });
    view! {
        <div class="plan-policies">
            {denied.into_iter().map(|r| {
                let blocks = r.blocks();
                let form = match (&slug, &r.override_group) {
                    (Some(slug), Some(group)) if blocks && open => {
                        let (slug, policy, group) = (slug.clone(), r.policy.clone(), group.clone());
                        Some(view! {
                            <ActionForm action attr:class="policy-override">
                                <input type="hidden" name="slug" value=slug />
                                <input type="hidden" name="plan" value=plan_id />
                                <input type="hidden" name="policy" value=policy.clone() />
                                <label for=format!("override-{policy}")>{format!("Members of {group}: why may this plan pass?")}</label>
                                <textarea id=format!("override-{policy}") name="reason" rows="2" maxlength="1000" required></textarea>
                                <button type="submit" class="button ghost">{format!("Override {policy}")}</button>
                            </ActionForm>
                        })
                    }
                    _ => None,
                };
                view! {
                    <div class=if blocks { "policy-denied" } else { "policy-overridden" } role=blocks.then_some("alert") data-policy=r.policy.clone()>
                        <p><strong>{if blocks { format!("Denied by policy {}", r.policy) } else { format!("Policy {} overridden", r.policy) }}</strong>
                            <span class="muted">{format!(" · revision {} · owned by {}", r.revision, r.owner)}</span></p>
                        <ul>{r.denials.iter().map(|d| view! { <li>{d.clone()}</li> }).collect_view()}</ul>
                        <p class="muted">{match &r.override_group {
                            Some(group) => format!("{} of {group} must override it, never the change's author: {} of {} so far.", crate::domain::names::counted(r.approvals as u64, "member", "members"), r.overrides.len().min(r.approvals as usize), r.approvals),
                            None => "It cannot be overridden: change the plan, or ask its owners to change the policy.".into(),
                        }}</p>
                        {(!r.overrides.is_empty()).then(|| view! {
                            <ul class="policy-overrides">{r.overrides.iter().map(|o| view! {
                                <li>{format!("{} overrode it ({}): {}", o.by, o.at, o.reason)}</li>
                            }).collect_view()}</ul>
                        })}
                        {form}
                    </div>
                }
            }).collect_view()}
            {(!passed.is_empty()).then(|| view! {
                <p class="policy-passed">{format!("Passes {}", passed.join(", "))}</p>
            })}
            <FormError result=action.value().into() />
        </div>
    }
    .into_any()
}

/// One plan: its heading (number, kind, status, counts), what it was made for, and its
/// changes or its error.
#[component]
pub fn PlanCard(
    plan: PlanView,
    #[prop(optional)] slug: Option<String>,
    /// Runs when something on the card changed the plan (an override of a policy's denial).
    #[prop(optional)]
    on_changed: Option<Callback<()>>,
) -> AnyView {
    let kind = match (plan.purpose, plan.mode) {
        (PlanPurpose::Drift, _) => "drift check (refresh-only)",
        (PlanPurpose::Change, SyncKind::Update) => "plan",
        (PlanPurpose::Change, SyncKind::Delete) => "destroy plan",
    };
    let made_for = match plan.pull_number {
        Some(number) => format!("pull request #{number} at "),
        None => "the merged code at ".to_string(),
    };
    let commit: String = plan.commit.chars().take(10).collect();
    let runtime = format!(
        "{}{}",
        plan.runtime.label(),
        plan.runtime_version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default()
    );
    let status = plan.status;
    view! {
        <section class="plan-card" data-plan=plan.id data-status=status.as_str()>
            <header class="run-head">
                <h3>{format!("Plan #{} · {kind}", plan.id)}</h3>
                {plan_badge(status)}
                {plan.counts.clone().map(|c| view! { <code class="plan-counts">{c}</code> })}
                {status.is_running().then(|| view! { <span class="spinner small" aria-label="running"></span> })}
            </header>
            <p class="muted">
                {made_for}<code>{commit}</code>
                {(status != PlanStatus::Queued).then(|| format!(" · {runtime}"))}
                {plan.approved_by.clone().map(|who| format!(" · approved by {who}"))}
                {plan.applied_at.clone().map(|at| format!(" · applied {at}"))}
            </p>
            {(!plan.inputs.is_empty()).then(|| view! {
                <p class="plan-inputs">"From parents: "
                    {plan.inputs.iter().map(|i| view! {
                        <span class="badge">{format!("{} ← {} = {}", i.variable, i.from.replace('.', " → "), i.value.clone().unwrap_or_else(|| "(sensitive)".into()))}</span>
                    }).collect_view()}
                </p>
            })}
            {(!plan.policies.is_empty()).then(|| view! {
                <PolicyResults plan_id=plan.id results=plan.policies.clone() slug=slug.clone() open=status == PlanStatus::Ready on_changed />
            })}
            {match status {
                PlanStatus::Queued | PlanStatus::Planning => view! {
                    <p class="hint">"Planning this commit's folder. Approval waits for the plan: what is approved is what it shows."</p>
                }.into_any(),
                PlanStatus::Failed | PlanStatus::ApplyFailed => view! {
                    <div class="plan-error" role="alert">
                        <p><strong>{if status == PlanStatus::Failed { "The plan failed." } else { "The apply failed." }}</strong></p>
                        <pre>{plan.error.join("\n")}</pre>
                    </div>
                    {plan.summary.clone().map(|summary| view! { <PlanChanges summary /> })}
                }.into_any(),
                _ => match plan.summary.clone() {
                    Some(summary) => view! { <PlanChanges summary /> }.into_any(),
                    None => view! { <p class="muted">"This plan kept no summary."</p> }.into_any(),
                },
            }}
        </section>
    }
    .into_any()
}
