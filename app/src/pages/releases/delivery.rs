//! Delivery: the DORA figures, what each environment runs, deployment history, simulated builds.

use super::*;

/// `3 h 20 min`, `2 d 4 h`: a duration in its two largest units.
pub(crate) fn duration(seconds: i64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    match (d, h) {
        (0, 0) => format!("{m} min"),
        (0, _) => format!("{h} h {m} min"),
        _ => format!("{d} d {h} h"),
    }
}

/// The window picker's label for a number of days.
pub(crate) fn window_label(days: u32) -> String {
    match days {
        365 => "1 year".to_string(),
        days => format!("{days} days"),
    }
}

/// The DORA figures over the window the reader picks (`?window=`, 28 days unless one of
/// [`DORA_WINDOWS`]); nothing while no track names a production environment. The page owns
/// the resource: one made inside the page's own suspended view would be dropped with it, its
/// server-side fetch losing the request's context mid-flight.
#[component]
pub(crate) fn Delivery(
    figures: Resource<Result<Option<crate::domain::releases::Dora>, crate::error::AppError>>,
) -> AnyView {
    view! {
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match figures.await {
                    Ok(Some(dora)) => view! { <DoraCard dora /> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// The four DORA figures and the weekly production deployments as bars (labelled every few
/// weeks when the window is long).
#[component]
pub(crate) fn DoraCard(dora: crate::domain::releases::Dora) -> AnyView {
    let most = dora.weekly.iter().copied().max().unwrap_or(0).max(1);
    let weeks = dora.weekly.len();
    // The chart keeps its width: a year's 53 weeks are thinner bars than a month's 4.
    let (chart, height) = (if weeks <= 5 { 320.0 } else { 640.0 }, 80.0);
    let slot = chart / weeks.max(1) as f64;
    let width = slot * 0.72;
    let every = weeks.div_ceil(8).max(1);
    let label = move |i: usize| match weeks - 1 - i {
        0 => "this week".to_string(),
        ago if weeks <= 5 => format!("{ago} wk ago"),
        ago => format!("−{ago} wk"),
    };
    let window = dora.window_days;
    let wide = weeks > 5;
    view! {
        <section class="card dora">
            <div class="card-head">
                <h2>{format!("Delivery · last {}", window_label(window))}</h2>
                <nav class="window-picker" aria-label="Window">
                    {DORA_WINDOWS.iter().map(|days| view! {
                        <a class="chip" href=format!("?window={days}") aria-current=(*days == window).then_some("page")>{window_label(*days)}</a>
                    }).collect_view()}
                </nav>
            </div>
            <div class="dora-figures">
                // Fewer than one a week reads better as a count over the window than as "0.0".
                {let (value, label) = if dora.per_week >= 0.95 {
                    (format!("{:.1}", dora.per_week), "production deployments a week".to_string())
                } else {
                    (dora.production_deployments.to_string(), format!("production deployments in {}", window_label(window)))
                };
                view! { <div class="figure"><span class="figure-value">{value}</span><span class="figure-label">{label}</span></div> }}
                <div class="figure"><span class="figure-value">{dora.lead_time.map_or("—".to_string(), duration)}</span><span class="figure-label">"lead time, build to production (median)"</span></div>
                <div class="figure"><span class="figure-value">{dora.change_failure_rate.map_or("—".to_string(), |r| format!("{:.0} %", r * 100.0))}</span><span class="figure-label">{format!("change failure rate ({} of {} needed a hotfix or a rollback)", dora.failures, dora.production_deployments)}</span></div>
                <div class="figure"><span class="figure-value">{dora.time_to_restore.map_or("—".to_string(), duration)}</span><span class="figure-label">"time to restore (median)"</span></div>
            </div>
            <svg class="dora-chart" class:wide=wide viewBox=format!("-28 -16 {} {}", chart + 56.0, height + 36.0) role="img"
                aria-label=format!("Production deployments per week, oldest first: {}", dora.weekly.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "))>
                <line x1="0" x2=chart y1=height y2=height class="axis" />
                {dora.weekly.iter().enumerate().map(|(i, n)| {
                    let h = height * f64::from(*n) / f64::from(most);
                    let x = i as f64 * slot + (slot - width) / 2.0;
                    let labelled = (weeks - 1 - i) % every == 0;
                    view! {
                        <g>
                            <title>{format!("{}: {n}", label(i))}</title>
                            {(*n > 0).then(|| view! { <rect x=x y=height - h width=width height=h rx=(width / 6.0).min(4.0) class="bar" /> })}
                            {labelled.then(|| view! {
                                <text x=x + width / 2.0 y=height + 14.0 text-anchor="middle" class="bar-label">{label(i)}</text>
                            })}
                            {(*n > 0 && weeks <= 13).then(|| view! { <text x=x + width / 2.0 y=height - h - 4.0 text-anchor="middle" class="bar-value">{n.to_string()}</text> })}
                        </g>
                    }
                }).collect_view()}
            </svg>
        </section>
    }
    .into_any()
}

/// An application's deployments, newest first.
#[component]
pub(crate) fn DeploymentHistory(rows: Vec<DeployedRow>) -> AnyView {
    view! {
        <section class="card">
            <h2>"Deployment history"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"Not deployed yet: its first build that completes deploys it to the pre-release environments."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th>"When"</th><th>"Environment"</th><th>"Version"</th><th>"Image"</th><th>"By"</th><th>"Commit"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|d| view! {
                                    <tr>
                                        <td class="muted">{d.since.clone()}</td>
                                        <td><span class="env">{d.environment.clone()}</span></td>
                                        <td><span class="badge">{d.version.clone()}</span>" "<span class="muted">{d.kind.as_str()}</span></td>
                                        <td><code class="image-ref" title=d.image.clone()>{short_image(&d.image)}</code></td>
                                        <td class="muted">{d.by.clone()}</td>
                                        <td><code>{d.commit.chars().take(7).collect::<String>()}</code></td>
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

/// What each environment runs now.
/// The actions of the Environments card, made at the page's top (the card is drawn again on
/// every live change, and an action's answer must outlive that).
#[derive(Clone, Copy)]
pub(crate) struct RollbackActions {
    pub(crate) request: ServerAction<crate::api::releases::RequestRollback>,
    pub(crate) vote: ServerAction<crate::api::releases::VoteRollback>,
    pub(crate) lift: ServerAction<crate::api::releases::LiftPromotionHold>,
}

impl RollbackActions {
    pub(crate) fn new() -> RollbackActions {
        RollbackActions {
            request: ServerAction::new(),
            vote: ServerAction::new(),
            lift: ServerAction::new(),
        }
    }
}

/// What each environment runs, with "Roll back to <previous version>" where there is one, the
/// rollbacks asked for (signed off here), and the promotion holds in force.
#[component]
pub(crate) fn Environments(
    rows: Vec<DeployedRow>,
    rollbacks: Vec<crate::api::releases::RollbackView>,
    holds: Vec<crate::api::releases::HoldView>,
    actions: RollbackActions,
    can_write: bool,
) -> AnyView {
    let held = |env: &str, app: &str| {
        holds
            .iter()
            .find(|h| h.environment == env && h.application == app)
            .cloned()
    };
    // One rollback per application and environment at a time: while one is open, the row says
    // so instead of offering another.
    let open = |env: &str, app: &str| {
        rollbacks
            .iter()
            .find(|r| {
                r.environment == env
                    && r.application == app
                    && (r.state == "awaiting_sign_off" || r.state == "approved")
            })
            .map(|r| {
                let state = if r.state == "approved" {
                    "approved"
                } else {
                    "awaiting sign-off"
                };
                format!("rollback to {} {state}", r.to_version)
            })
    };
    view! {
        <section class="card">
            <h2>"Environments"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"Nothing deployed yet. A build that completes on a governed repository deploys its application to the pre-release environments; releases deploy the rest."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table environments">
                            <thead><tr><th>"Environment"</th><th>"Application"</th><th>"Version"</th><th>"Image digest"</th><th>"Since"</th><th>"By"</th><th></th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|d| {
                                    let hold = held(&d.environment, &d.application);
                                    let pending = open(&d.environment, &d.application);
                                    let (env, app) = (d.environment.clone(), d.application.clone());
                                    view! {
                                        <tr>
                                            <td><span class="env">{d.environment.clone()}</span></td>
                                            <td><a href=manifest_href("Application", &d.application)>{d.application.clone()}</a></td>
                                            <td><span class="badge">{d.version.clone()}</span>" "<span class="muted">{d.kind.as_str()}</span>
                                                {hold.clone().map(|h| view! { " "<span class="badge warning" title=h.reason.clone()>"held"</span> })}
                                            </td>
                                            <td><code title=d.image.clone()>{if d.image.is_empty() { "no image".to_string() } else { short_image(&d.image).rsplit('/').next().unwrap_or_default().to_string() }}</code></td>
                                            <td class="muted">{d.since.clone()}</td>
                                            <td class="muted" title=format!("commit {}", d.commit)>{d.by.clone()}</td>
                                            <td>{pending.map(|p| view! { <a class="badge warning" href="#rollbacks">{p}</a> })}
                                                {d.previous.clone().filter(|_| open(&env, &app).is_none()).map(|previous| view! {
                                                <details class="rollback">
                                                    <summary>{format!("Roll back to {previous}…")}</summary>
                                                    <ActionForm action=actions.request attr:class="stacked-form">
                                                        <input type="hidden" name="environment" value=env.clone() />
                                                        <input type="hidden" name="application" value=app.clone() />
                                                        <label><span>"Why"</span><textarea name="reason" rows="2" required maxlength="2000"></textarea></label>
                                                        <p class="hint">{format!("Writes {previous} back as a revert commit once signed off, and holds automatic deployments of {app} to {env}.")}</p>
                                                        <button type="submit" class="button danger">{format!("Ask to roll back to {previous}")}</button>
                                                    </ActionForm>
                                                </details>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <FormError result=actions.request.value().into() />
                }.into_any()
            }}
            {(!holds.is_empty()).then(|| view! {
                <h3>"Promotion holds"</h3>
                <ul class="holds">
                    {holds.iter().cloned().map(|h| view! {
                        <li>
                            <span class="env">{h.environment.clone()}</span>" "<strong>{h.application.clone()}</strong>
                            {format!(" — {} (since {}, by {})", h.reason, h.set_at, h.set_by)}
                            {can_write.then(|| view! {
                                <ActionForm action=actions.lift attr:class="inline-form">
                                    <input type="hidden" name="id" value=h.id />
                                    <button type="submit" class="button">"Lift hold"</button>
                                </ActionForm>
                            })}
                        </li>
                    }).collect_view()}
                </ul>
                <FormError result=actions.lift.value().into() />
            })}
            {(!rollbacks.is_empty()).then(|| view! {
                <h3 id="rollbacks">"Rollbacks"</h3>
                <ul class="rollbacks">
                    {rollbacks.iter().cloned().map(|r| view! { <RollbackLine rollback=r vote=actions.vote /> }).collect_view()}
                </ul>
                <FormError result=actions.vote.value().into() />
            })}
        </section>
    }
    .into_any()
}

/// One rollback: what goes back where, who asked and why, its sign-off, and the vote for
/// someone in one of its groups.
#[component]
fn RollbackLine(
    rollback: crate::api::releases::RollbackView,
    vote: ServerAction<crate::api::releases::VoteRollback>,
) -> AnyView {
    let r = rollback;
    let class = format!("rollback rollback-{}", r.state);
    let badge = match r.state.as_str() {
        "deployed" => "badge success",
        "rejected" => "badge danger",
        _ => "badge warning",
    };
    view! {
        <li class=class>
            <p><span class="env">{r.environment.clone()}</span>" "<strong>{format!("{} {} → {}", r.application, r.from_version, r.to_version)}</strong>
                {format!(" — asked by {} at {}: “{}”", r.requested_by, r.created_at, r.reason)}</p>
            <p><span class=badge>{r.gate.clone()}</span>
                {r.freeze.clone().map(|f| format!(" · signed off by the exception group of {f}"))}
                {(!r.votes.is_empty()).then(|| format!(" · {}", r.votes.join(", ")))}
                {r.commit.clone().map(|c| view! { " · revert commit "<code>{c.chars().take(10).collect::<String>()}</code> })}
            </p>
            {(!r.my_groups.is_empty()).then(|| {
                let group = r.my_groups[0].clone();
                let label = format!("Approve as {group}");
                let (approve_group, reject_group) = (group.clone(), group);
                view! {
                    <ActionForm action=vote attr:class="stacked-form inline-fields">
                        <input type="hidden" name="id" value=r.id />
                        <input type="hidden" name="group" value=approve_group />
                        <input type="hidden" name="approve" value="true" />
                        <label><span>"Comment"</span><input type="text" name="comment" maxlength="2000" /></label>
                        {r.asked_it.then(|| view! { <p class="hint">"You asked for it: someone else in these groups approves it."</p> })}
                        <button type="submit" class="button primary" disabled=r.asked_it>{label}</button>
                    </ActionForm>
                    <details class="reject">
                        <summary>"Reject…"</summary>
                        <ActionForm action=vote attr:class="stacked-form">
                            <input type="hidden" name="id" value=r.id />
                            <input type="hidden" name="group" value=reject_group />
                            <input type="hidden" name="approve" value="false" />
                            <label><span>"Why"</span><textarea name="comment" rows="2" required></textarea></label>
                            <button type="submit" class="button danger">"Reject rollback"</button>
                        </ActionForm>
                    </details>
                }
            })}
        </li>
    }
    .into_any()
}

/// The demo's stand-in for CI: build an application, and watch it deploy to pre-release.
#[component]
pub(crate) fn SimulateBuildForm(
    simulate: ServerAction<SimulateBuild>,
    applications: Vec<String>,
) -> AnyView {
    view! {
        <ActionForm action=simulate attr:class="inline-form simulate-build">
            <label>
                <span>"Application"</span>
                <select name="application" required>
                    {applications.into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit" class="button" disabled=move || simulate.pending().get()>
                {move || if simulate.pending().get() { "Building…" } else { "Simulate a build" }}
            </button>
            <span class="hint">"Demo only: what a governed repository's CI sends after a push to main."</span>
        </ActionForm>
        {move || simulate.value().get().map(|result| match result {
            Ok(version) => view! { <p class="form-ok" role="status">{format!("Built {version}: deploying it to the pre-release environments…")}</p> }.into_any(),
            Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
        })}
    }
    .into_any()
}
