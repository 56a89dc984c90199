//! Freeze windows: what is frozen now and until when, what is to come, the exceptions asked
//! for, and — for platform / SRE — lifting a window early and the emergency freeze.

use super::*;
use crate::api::freezes::{
    get_freezes, ApproveFreezeException, EmergencyFreeze, ExceptionView, FreezeRow, FreezeState,
    FreezesView, LiftFreeze,
};

#[component]
pub fn FreezesPage() -> AnyView {
    let lift = ServerAction::<LiftFreeze>::new();
    let emergency = ServerAction::<EmergencyFreeze>::new();
    let approve = ServerAction::<ApproveFreezeException>::new();
    let data = Resource::new(
        move || {
            (
                lift.version().get(),
                emergency.version().get(),
                approve.version().get(),
            )
        },
        |_| get_freezes(),
    );
    // Another replica lifts a freeze, a window begins (on the next change), someone approves.
    crate::components::live::follow(|| vec!["release".into()], move || data.refetch());
    view! {
        <Title text="Freeze windows" />
        <PageHeader title="Freeze windows" subtitle="While a freeze holds an environment or a workspace, release stages and pre-release deployments into it and applies in it wait, and go on by themselves when it ends.">
            <a class="button" href="/releases">"Releases"</a>
        </PageHeader>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <Freezes data=view_data lift emergency approve /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn Freezes(
    data: FreezesView,
    lift: ServerAction<LiftFreeze>,
    emergency: ServerAction<EmergencyFreeze>,
    approve: ServerAction<ApproveFreezeException>,
) -> AnyView {
    let active = data
        .freezes
        .iter()
        .filter(|f| f.state == FreezeState::Active)
        .count();
    let can_edit = data.can_edit;
    let frozen = active > 0;
    view! {
        <div class=if frozen { "freeze-banner frozen" } else { "freeze-banner" } role="status">
            {if frozen {
                format!("❄ {active} freeze window{} holding now", if active == 1 { " is" } else { "s are" })
            } else {
                "Nothing is frozen now.".to_string()
            }}
        </div>
        {can_edit.then(|| view! { <EmergencyForm emergency environments=data.environments.clone() /> })}
        <section class="card">
            <div class="card-header">
                <h2>"Windows"</h2>
                {can_edit.then(|| view! { <a class="button" href="/releases/manifests/new?kind=FreezeWindow">"New freeze window"</a> })}
            </div>
            {if data.freezes.is_empty() {
                view! {
                    <EmptyState title="No freeze window">
                        <p>"Platform / SRE write a "<strong>"FreezeWindow"</strong>": a reason, what it covers (environments, workspaces, or everything), and when — a cron schedule with a duration in a time zone, a fixed period, or from now until lifted."</p>
                    </EmptyState>
                }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table freezes">
                            <thead><tr><th>"Window"</th><th>"State"</th><th>"Covers"</th><th>"When"</th><th>"Now"</th>{can_edit.then(|| view! { <th></th> })}</tr></thead>
                            <tbody>
                                {data.freezes.iter().cloned().map(|f| view! { <FreezeLine row=f can_edit lift /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <FormError result=lift.value().into() />
                }.into_any()
            }}
        </section>
        <section class="card">
            <h2>"Exceptions"</h2>
            {if data.exceptions.is_empty() {
                view! { <p class="muted">"No exception is asked for. Where a freeze holds a release stage, a build or a plan, its page offers to ask for one; the freeze's group approves it."</p> }.into_any()
            } else {
                view! {
                    <ul class="exceptions">
                        {data.exceptions.iter().cloned().map(|e| view! { <ExceptionLine exception=e approve /> }).collect_view()}
                    </ul>
                    <FormError result=approve.value().into() />
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn FreezeLine(row: FreezeRow, can_edit: bool, lift: ServerAction<LiftFreeze>) -> AnyView {
    let badge = match row.state {
        FreezeState::Active => "badge danger",
        FreezeState::Lifted => "badge",
        FreezeState::Upcoming => "badge warning",
        FreezeState::Over => "badge muted",
    };
    let now = match row.state {
        FreezeState::Active => format!(
            "since {} until {}",
            row.since.clone().unwrap_or_default(),
            row.until.clone().unwrap_or_default()
        ),
        FreezeState::Lifted => format!("lifted {}", row.lifted.clone().unwrap_or_default()),
        FreezeState::Upcoming => format!("next from {}", row.next.clone().unwrap_or_default()),
        FreezeState::Over => "over".to_string(),
    };
    let exceptions = format!("Exceptions: {} of {}", row.approvals, row.exception_group);
    let name = row.name.clone();
    view! {
        <tr class=format!("freeze freeze-{}", row.state.label().to_lowercase())>
            <td><a href=manifest_href("FreezeWindow", &row.name)><strong>{row.name.clone()}</strong></a><br /><span class="muted">{row.reason.clone()}</span></td>
            <td><span class=badge>{row.state.label()}</span></td>
            <td>{row.scope.clone()}</td>
            <td>{row.schedule.clone()}<br /><span class="muted">{exceptions}</span></td>
            <td>{now}</td>
            {can_edit.then(|| view! {
                <td>
                    {(row.state == FreezeState::Active).then(|| view! {
                        <details class="lift">
                            <summary>"Lift…"</summary>
                            <ActionForm action=lift attr:class="stacked-form">
                                <input type="hidden" name="name" value=name.clone() />
                                <label><span>"Why it ends early"</span><textarea name="reason" rows="2" required maxlength="2000"></textarea></label>
                                <button type="submit" class="button danger">{format!("Lift {name} now")}</button>
                            </ActionForm>
                        </details>
                    })}
                </td>
            })}
        </tr>
    }
    .into_any()
}

#[component]
fn ExceptionLine(
    exception: ExceptionView,
    approve: ServerAction<ApproveFreezeException>,
) -> AnyView {
    let e = exception;
    let status = if e.granted {
        "granted".to_string()
    } else {
        format!(
            "{} of {} from {}",
            e.approved_by.len(),
            e.approvals,
            e.group
        )
    };
    view! {
        <li class=if e.granted { "exception granted" } else { "exception" }>
            <p>
                <a href=e.href.clone()><strong>{e.label.clone()}</strong></a>
                {format!(" through {} — asked by {} at {}: “{}”", e.freeze, e.requested_by, e.created_at, e.reason)}
            </p>
            <p><span class=if e.granted { "badge success" } else { "badge warning" }>{status}</span>
                {(!e.approved_by.is_empty()).then(|| format!(" approved by {}", e.approved_by.join(", ")))}
            </p>
            {e.can_approve.then(|| view! {
                <ActionForm action=approve attr:class="stacked-form inline-fields">
                    <input type="hidden" name="id" value=e.id />
                    <label><span>"Comment"</span><input type="text" name="comment" maxlength="2000" /></label>
                    <button type="submit" class="button primary">"Approve exception"</button>
                </ActionForm>
            })}
        </li>
    }
    .into_any()
}

/// The emergency button: behind a disclosure (the opening is the first step), a reason, and
/// the environments (none ticked: everything).
#[component]
fn EmergencyForm(emergency: ServerAction<EmergencyFreeze>, environments: Vec<String>) -> AnyView {
    view! {
        <section class="card emergency">
            <details>
                <summary><strong>"Emergency freeze…"</strong><span class="muted">" Stops every deployment and apply in scope now, until someone lifts it."</span></summary>
                <ActionForm action=emergency attr:class="stacked-form">
                    <label><span>"Why"</span><textarea name="reason" rows="2" required maxlength="2000" placeholder="Incident: checkout errors in production"></textarea></label>
                    <fieldset class="environments">
                        <legend>"Environments (none ticked: everything, workspaces too)"</legend>
                        {environments.into_iter().enumerate().map(|(i, env)| view! {
                            <label class="checkbox"><input type="checkbox" name=format!("environments[{i}]") value=env.clone() /><span>{env.clone()}</span></label>
                        }).collect_view()}
                    </fieldset>
                    <button type="submit" class="button danger" disabled=move || emergency.pending().get()>"Freeze now"</button>
                </ActionForm>
                <FormError result=emergency.value().into() />
                {move || emergency.value().get().and_then(|r| r.ok()).map(|name| view! {
                    <p class="success">{format!("{name} holds now. Lift it here when the incident is over.")}</p>
                })}
            </details>
        </section>
    }
    .into_any()
}
