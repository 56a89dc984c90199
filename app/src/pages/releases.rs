//! The Releases area: release tracks drawn as pipelines of stages with who signs each off,
//! application sets and applications with their owning groups, and an editor for each release
//! manifest that checks it in the browser as it is typed.

use super::repositories::{error_list, ManifestText, RevisionList};
use crate::api::releases::{
    get_delivery, get_release, get_release_manifest, get_release_manifests, get_releases,
    DeployedRow, ReleaseManifestDetail, ReleaseManifestRow, ReleaseRow, ReleaseView, ReleasesView,
    SaveReleaseManifest, SimulateBuild, StageView, StartRelease, VoteRelease, WithdrawVote,
};
use crate::components::common::{EmptyState, ErrorPanel, FormError, Loading, PageHeader};
use crate::domain::manifests::Manifest;
use crate::domain::release_manifests::{parse_release_source, ReleaseTrack, TrackStage};
use crate::domain::releases::{StageState, DORA_WINDOWS};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

fn manifest_href(kind: &str, name: &str) -> String {
    format!("/releases/manifests/{kind}/{name}")
}

/// One lane of a track: its stages left to right, each with its environments and sign-off.
#[component]
fn Lane(label: &'static str, hint: &'static str, stages: Vec<TrackStage>) -> AnyView {
    view! {
        <div class="lane">
            <div class="lane-label"><strong>{label}</strong><span class="muted">{hint}</span></div>
            <ol class="pipeline">
                {if stages.is_empty() {
                    view! { <li class="stage stage-none"><span class="muted">"none"</span></li> }.into_any()
                } else {
                    stages.into_iter().map(|stage| view! {
                        <li class="stage">
                            <div class="stage-envs">
                                {stage.environments.iter().map(|e| view! { <span class="env">{e.clone()}</span> }).collect_view()}
                            </div>
                            <div class="stage-signoff">
                                {if stage.sign_off.is_empty() {
                                    view! { <span class="muted">"deploys automatically"</span> }.into_any()
                                } else {
                                    stage.sign_off.iter().map(|s| view! {
                                        <span class="badge signoff" title=format!("{} approval{} from the group {}", s.approvals, if s.approvals == 1 { "" } else { "s" }, s.group)>
                                            {format!("{} ×{}", s.group, s.approvals)}
                                        </span>
                                    }).collect_view().into_any()
                                }}
                            </div>
                        </li>
                    }).collect_view().into_any()
                }}
            </ol>
        </div>
    }
    .into_any()
}

/// A release track as three lanes of stages: pre-release, release, hotfix.
#[component]
fn TrackPipeline(track: ReleaseTrack) -> AnyView {
    view! {
        <div class="track-pipeline" role="img" aria-label=format!("Release track {}", track.metadata.name)>
            <Lane label="Pre-release" hint="each build, automatically" stages=track.pre_release.clone() />
            <Lane label="Release" hint="the bundle, signed off stage by stage" stages=track.release.clone() />
            <Lane label="Hotfix" hint="hotfix builds, accelerated" stages=track.hotfix.clone() />
        </div>
    }
    .into_any()
}

#[component]
fn ManifestTable(rows: Vec<ReleaseManifestRow>, groups: Vec<String>, administers: bool) -> AnyView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th>"Name"</th><th>"What"</th><th>"Edited by"</th><th>"Revision"</th><th>"Changed"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let yours = administers || groups.contains(&r.owner);
                        view! {
                            <tr>
                                <td><a href=manifest_href(&r.kind, &r.name)><strong>{r.name.clone()}</strong></a></td>
                                <td>{r.summary.clone()}</td>
                                <td><span class="badge">{r.owner.clone()}</span>{yours.then(|| view! { " "<span class="badge change-added">"you"</span> })}</td>
                                <td>{r.revision}</td>
                                <td class="muted">{format!("{} by {}", r.updated_at, r.updated_by)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// `3 h 20 min`, `2 d 4 h`: a duration in its two largest units.
fn duration(seconds: i64) -> String {
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
fn window_label(days: u32) -> String {
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
fn Delivery(
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
fn DoraCard(dora: crate::domain::releases::Dora) -> AnyView {
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
                <div class="figure"><span class="figure-value">{dora.change_failure_rate.map_or("—".to_string(), |r| format!("{:.0} %", r * 100.0))}</span><span class="figure-label">{format!("change failure rate ({} of {} needed a hotfix)", dora.failures, dora.production_deployments)}</span></div>
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
fn DeploymentHistory(rows: Vec<DeployedRow>) -> AnyView {
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
                                        <td><span class="badge">{d.version.clone()}</span>" "<span class="muted">{d.kind.clone()}</span></td>
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
#[component]
fn Environments(rows: Vec<DeployedRow>) -> AnyView {
    view! {
        <section class="card">
            <h2>"Environments"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"Nothing deployed yet. A build that completes on a governed repository deploys its application to the pre-release environments; releases deploy the rest."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th>"Environment"</th><th>"Application"</th><th>"Version"</th><th>"Image digest"</th><th>"Since"</th><th>"By"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|d| {

                                    view! {
                                        <tr>
                                            <td><span class="env">{d.environment.clone()}</span></td>
                                            <td><a href=manifest_href("Application", &d.application)>{d.application.clone()}</a></td>
                                            <td><span class="badge">{d.version.clone()}</span>" "<span class="muted">{d.kind.clone()}</span></td>
                                            <td><code title=d.image.clone()>{if d.image.is_empty() { "no image".to_string() } else { short_image(&d.image).rsplit('/').next().unwrap_or_default().to_string() }}</code></td>
                                            <td class="muted">{d.since.clone()}</td>
                                            <td class="muted" title=format!("commit {}", d.commit)>{d.by.clone()}</td>
                                        </tr>
                                    }
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

/// The demo's stand-in for CI: build an application, and watch it deploy to pre-release.
#[component]
fn SimulateBuildForm(simulate: ServerAction<SimulateBuild>, applications: Vec<String>) -> AnyView {
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

#[component]
pub fn ReleasesPage() -> AnyView {
    let simulate = ServerAction::<SimulateBuild>::new();
    // A simulated build deploys a moment later: the page hears of it (`follow` below).
    let listed = Resource::new(
        move || simulate.version().get(),
        |_| get_release_manifests(),
    );
    let query = use_query_map();
    let window = move || {
        query
            .read()
            .get("window")
            .and_then(|w| w.parse::<u32>().ok())
            .filter(|w| DORA_WINDOWS.contains(w))
            .unwrap_or(28)
    };
    let figures = Resource::new(window, get_delivery);
    // Made here, not in the list: a resource made inside what a `Suspend` renders is made twice
    // on the server when its data are there already, and the browser would hydrate against
    // another resource's markup.
    let start = ServerAction::<StartRelease>::new();
    let releases = Resource::new(move || start.version().get(), |_| get_releases());
    crate::components::live::follow(
        || vec!["release".into()],
        move || {
            releases.refetch();
            listed.refetch();
            figures.refetch();
        },
    );
    view! {
        <Title text="Releases" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match listed.await {
                    Ok(data) => {
                        let of = |kind: &str| data.manifests.iter().filter(|m| m.kind == kind).cloned().collect::<Vec<_>>();
                        let (apps, sets) = (of("Application"), of("ApplicationSet"));
                        let tracks: Vec<ReleaseTrack> = data.tracks.iter().filter_map(|(_, source)| match parse_release_source(source) {
                            Ok(Manifest::ReleaseTrack(track)) => Some(track),
                            _ => None,
                        }).collect();
                        view! {
                            <PageHeader title="Releases" subtitle="Version-locked bundles of applications, promoted through a release track's environments with stakeholder sign-off.">
                                {data.can_write.then(|| view! { <a class="button primary" href="/releases/manifests/new">"New manifest"</a> })}
                            </PageHeader>
                            {if data.manifests.is_empty() {
                                view! {
                                    <EmptyState title="Nothing to release yet">
                                        <p>"Three manifests describe a release, each kept by the people it belongs to: platform / SRE write the "<strong>"ReleaseTrack"</strong>" (the environments, stage by stage, and who signs each off); development teams their "<strong>"Application"</strong>"s; release managers the "<strong>"ApplicationSet"</strong>" that ships them together."</p>
                                    </EmptyState>
                                }.into_any()
                            } else {
                                view! {
                                    <ReleaseList start listed=releases />
                                    <section class="card">
                                        <h2>"Release tracks"</h2>
                                        {if tracks.is_empty() {
                                            view! { <p class="muted">"None yet: platform / SRE (the group sre) write one."</p> }.into_any()
                                        } else {
                                            tracks.into_iter().map(|track| view! {
                                                <div class="track">
                                                    <h3><a href=manifest_href("ReleaseTrack", &track.metadata.name)>{track.metadata.name.clone()}</a></h3>
                                                    <TrackPipeline track />
                                                </div>
                                            }).collect_view().into_any()
                                        }}
                                    </section>
                                    <Environments rows=data.deployed.clone() />
                                    {data.can_simulate.then(|| view! {
                                        <section class="card">
                                            <h2>"Simulate a build"</h2>
                                            <SimulateBuildForm simulate applications=apps.iter().map(|a| a.name.clone()).collect() />
                                        </section>
                                    })}
                                    <Delivery figures />
                                    <section class="card">
                                        <h2>"Application sets"</h2>
                                        {if sets.is_empty() {
                                            view! { <p class="muted">"None yet: release managers bundle applications into a set."</p> }.into_any()
                                        } else {
                                            view! { <ManifestTable rows=sets groups=data.groups.clone() administers=data.administers /> }.into_any()
                                        }}
                                    </section>
                                    <section class="card">
                                        <h2>"Applications"</h2>
                                        {if apps.is_empty() {
                                            view! { <p class="muted">"None yet: each development team describes its own."</p> }.into_any()
                                        } else {
                                            view! { <ManifestTable rows=apps groups=data.groups.clone() administers=data.administers /> }.into_any()
                                        }}
                                    </section>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
pub fn ReleaseManifestPage() -> AnyView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("kind").unwrap_or_default(),
            p.get("name").unwrap_or_default(),
        )
    };
    let detail = Resource::new(key, |(kind, name)| get_release_manifest(kind, name));
    view! {
        <Title text="Release manifest" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <ManifestView detail /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn ManifestView(detail: ReleaseManifestDetail) -> AnyView {
    let row = detail.row.clone();
    let track = match parse_release_source(&detail.source) {
        Ok(Manifest::ReleaseTrack(track)) => Some(track),
        _ => None,
    };
    view! {
        <div class="page-header">
            <div>
                <p class="eyebrow"><a href="/releases">"Releases"</a>{format!(" · {}", row.kind)}</p>
                <h1>{row.name.clone()}</h1>
                <p class="subtitle">{format!("{} · edited by the group {} · revision {} · changed {} by {}", row.summary, row.owner, row.revision, row.updated_at, row.updated_by)}</p>
            </div>
            <div class="page-actions">
                {detail.can_edit.then(|| view! { <a class="button" href=format!("{}/edit", manifest_href(&row.kind, &row.name))>"Edit"</a> })}
            </div>
        </div>
        {track.map(|track| view! { <section class="card"><h2>"Pipeline"</h2><TrackPipeline track /></section> })}
        {(row.kind == "Application").then(|| view! { <DeploymentHistory rows=detail.deployments.clone() /> })}
        <section class="card">
            <h2>"Manifest"</h2>
            <pre class="code-block"><code>{detail.source.clone()}</code></pre>
        </section>
        <RevisionList revisions=detail.revisions.clone() />
    }
    .into_any()
}

const STARTER: &str = "apiVersion: lowops.manifests.v1
kind: ReleaseTrack
metadata:
  name: my-product-releasetrack
spec:
  preReleaseStages:
  - environments:
    - development
  releaseStages:
  - environments:
    - staging
  - environments:
    - production
  hotfixStages:
  - environments:
    - staging
  - environments:
    - production
";

/// The editor: `kind` and `name` empty for a new manifest.
#[component]
fn ReleaseManifestEditor(kind: String, name: String, revision: i32, source: String) -> AnyView {
    let text = RwSignal::new(source);
    let checked = Memo::new(move |_| text.with(|t| parse_release_source(t)));
    let save = ServerAction::<SaveReleaseManifest>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(row)) = save.value().get() {
            navigate(&manifest_href(&row.kind, &row.name), Default::default());
        }
    });
    let creating = name.is_empty();
    let back = if creating {
        "/releases".to_string()
    } else {
        manifest_href(&kind, &name)
    };
    view! {
        <div class="page-header">
            <div>
                <p class="eyebrow"><a href="/releases">"Releases"</a></p>
                <h1>{if creating { "New release manifest".to_string() } else { format!("Edit {kind} {name}") }}</h1>
                <p class="subtitle">{if creating { "An Application, an ApplicationSet or a ReleaseTrack, in the reference format. Each is edited by the group that owns it.".to_string() } else { format!("Saving makes revision {}.", revision + 1) }}</p>
            </div>
        </div>
        <div class="editor-layout">
            <section class="card editor-card">
                <ActionForm action=save attr:class="stacked-form">
                    <input type="hidden" name="kind" value=kind.clone() />
                    <input type="hidden" name="name" value=name.clone() />
                    <input type="hidden" name="revision" value=revision />
                    <ManifestText text file="manifest.yaml" invalid=Signal::derive(move || checked.with(|c| c.is_err())) />
                    <div class="form-actions">
                        <button type="submit" class="button primary" disabled=move || checked.with(|c| c.is_err()) || save.pending().get()>
                            {move || if save.pending().get() { "Saving…" } else if creating { "Create" } else { "Save revision" }}
                        </button>
                        <a class="button" href=back.clone()>"Cancel"</a>
                    </div>
                </ActionForm>
                <FormError result=save.value().into() />
            </section>
            <aside class="card editor-check" id="manifest-check" aria-live="polite">
                {move || checked.with(|c| match c {
                    Err(errors) => error_list(errors, text).into_any(),
                    Ok(manifest) => view! {
                        <h2 class="check-ok"><span class="check-mark" aria-hidden="true">"✓"</span>" Valid"</h2>
                        <p><strong>{format!("{} {}", manifest.kind(), manifest.metadata().name)}</strong></p>
                        <p class="muted">{match crate::domain::release_manifests::owner(manifest) {
                            Some(group) => format!("Edited by the group {group}."),
                            None => String::new(),
                        }}</p>
                        {match manifest {
                            Manifest::ReleaseTrack(track) => view! { <TrackPipeline track=track.clone() /> }.into_any(),
                            _ => ().into_any(),
                        }}
                    }.into_any(),
                })}
            </aside>
        </div>
    }
    .into_any()
}

#[component]
pub fn NewReleaseManifestPage() -> AnyView {
    // `?kind=Application` starts from that kind's skeleton.
    let query = use_query_map();
    let starter = match query.read_untracked().get("kind").as_deref() {
        Some("Application") => "apiVersion: lowops.manifests.v1\nkind: Application\nmetadata:\n  name: checkout-api\nspec:\n  team: developers\n  image: registry.example.com/acme/checkout-api\n".to_string(),
        Some("ApplicationSet") => "apiVersion: lowops.manifests.v1\nkind: ApplicationSet\nmetadata:\n  name: my-product\nspec:\n  applications: [checkout-api]\n  releaseTrack: my-product-releasetrack\n".to_string(),
        _ => STARTER.to_string(),
    };
    view! {
        <Title text="New release manifest" />
        <ReleaseManifestEditor kind=String::new() name=String::new() revision=0 source=starter />
    }
    .into_any()
}

#[component]
pub fn EditReleaseManifestPage() -> AnyView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("kind").unwrap_or_default(),
            p.get("name").unwrap_or_default(),
        )
    };
    let detail = Resource::new(key, |(kind, name)| get_release_manifest(kind, name));
    view! {
        <Title text="Edit release manifest" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) if d.can_edit => view! { <ReleaseManifestEditor kind=d.row.kind.clone() name=d.row.name.clone() revision=d.row.revision source=d.source.clone() /> }.into_any(),
                    Ok(d) => view! { <ErrorPanel error=crate::error::AppError::Forbidden(format!("{} {} is edited by the group {}.", d.row.kind, d.row.name, d.row.owner)) /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// `registry/team/app@sha256:0123456789ab…`: the digest cut to its first 12 hex digits.
fn short_image(image: &str) -> String {
    match image.split_once("@sha256:") {
        Some((repository, hex)) => format!("{repository}@sha256:{}…", &hex[..hex.len().min(12)]),
        None => image.to_string(),
    }
}

fn state_badge(state: &str) -> AnyView {
    let class = match state {
        "completed" => "badge change-added",
        "rejected" => "badge change-removed",
        _ => "badge change-changed",
    };
    view! { <span class=class>{state.to_string()}</span> }.into_any()
}

/// The releases, newest first, and the form that starts one.
#[component]
fn ReleaseList(
    start: ServerAction<StartRelease>,
    listed: Resource<Result<ReleasesView, AppError>>,
) -> AnyView {
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/releases/{id}"), Default::default());
        }
    });
    view! {
        <section class="card">
            <h2>"Releases"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match listed.await {
                        Ok(data) => view! {
                            {(data.can_start && !data.app_sets.is_empty()).then(|| view! {
                                <ActionForm action=start attr:class="stacked-form inline-fields start-release">
                                    <label><span>"Application set"</span>
                                        <select name="app_set">{data.app_sets.iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}</select>
                                    </label>
                                    <label><span>"Bundle"</span><input type="text" name="bundle" required placeholder="2026.11" /></label>
                                    <label class="checkbox"><input type="checkbox" name="hotfix" value="true" /><span>"Hotfix of the released bundle"</span></label>
                                    {move || start.value().get().is_some_and(|r| matches!(&r, Err(AppError::Conflict(m)) if m.contains("the very images"))).then(|| view! {
                                        <label class="checkbox confirm-again"><input type="checkbox" name="same_build" value="true" required /><span>"Release the same build again"</span></label>
                                    })}
                                    <button type="submit" class="button primary" disabled=move || start.pending().get()>"Start release"</button>
                                </ActionForm>
                                <FormError result=start.value().into() />
                            })}
                            {if data.releases.is_empty() {
                                view! { <p class="muted">"No release yet. A release manager starts one for an application set's bundle: every application's latest pre-release build, tagged with a release candidate tag, promoted stage by stage."</p> }.into_any()
                            } else {
                                view! { <ReleaseTable rows=data.releases.clone() /> }.into_any()
                            }}
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn ReleaseTable(rows: Vec<ReleaseRow>) -> AnyView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th>"Release candidate"</th><th>"State"</th><th>"Production tag"</th><th>"Started"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr>
                            <td><a href=format!("/releases/{}", r.id)><strong>{r.rc_tag.clone()}</strong></a>{(r.kind == "hotfix").then(|| view! { " "<span class="badge">"hotfix"</span> })}</td>
                            <td>{state_badge(&r.state)}</td>
                            <td>{match &r.production_tag { Some(t) => view! { <code>{t.clone()}</code> }.into_any(), None => view! { <span class="muted">"—"</span> }.into_any() }}</td>
                            <td class="muted">{format!("{} by {}", r.created_at, r.starter)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn ReleasePage() -> AnyView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let vote = ServerAction::<VoteRelease>::new();
    let withdraw = ServerAction::<WithdrawVote>::new();
    let view_data = Resource::new(
        move || (id(), vote.version().get(), withdraw.version().get()),
        |(id, _, _)| get_release(id),
    );
    // Stages move on without this page: others vote, a deployment ends.
    crate::components::live::follow(|| vec!["release".into()], move || view_data.refetch());
    view! {
        <Title text="Release" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(release) => view! { <ReleaseDetail release vote withdraw /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn ReleaseDetail(
    release: ReleaseView,
    vote: ServerAction<VoteRelease>,
    withdraw: ServerAction<WithdrawVote>,
) -> AnyView {
    let row = release.row.clone();
    let timeline = release.timeline.clone();
    view! {
        <div class="page-header">
            <div>
                <p class="eyebrow"><a href="/releases">"Releases"</a></p>
                <h1>{row.rc_tag.clone()}</h1>
                <p class="subtitle">{state_badge(&row.state)}{format!(" · {}{} bundle {} · started {} by {}", if row.kind == "hotfix" { "hotfix of " } else { "" }, row.app_set, row.bundle, row.created_at, row.starter)}
                    {row.production_tag.clone().map(|t| view! { " · production tag "<code>{t}</code> })}
                </p>
            </div>
        </div>
        <section class="card">
            <h2>"Stages"</h2>
            <ol class="pipeline release-stages">
                {release.stages.iter().map(|stage| view! { <StageCard stage=stage.clone() release=release.clone() vote withdraw /> }).collect_view()}
            </ol>
            <FormError result=vote.value().into() />
            <FormError result=withdraw.value().into() />
        </section>
        <section class="card">
            <h2>"Bundle"</h2>
            <div class="table-wrap">
                <table class="table">
                    <thead><tr><th>"Application"</th><th>"Version"</th><th>"Image"</th></tr></thead>
                    <tbody>
                        {release.items.iter().map(|(app, version, image)| view! {
                            <tr><td>{app.clone()}</td><td><span class="badge">{version.clone()}</span></td><td><code class="image-ref" title=image.clone()>{short_image(image)}</code></td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section class="card">
            <h2>"Timeline"</h2>
            <ol class="timeline">
                {timeline.into_iter().map(|(at, what)| view! { <li><span class="muted">{at}</span>" "{what}</li> }).collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

/// One stage: its environments, state, gate, the votes, and the sign-off form for its groups.
#[component]
fn StageCard(
    stage: StageView,
    release: ReleaseView,
    vote: ServerAction<VoteRelease>,
    withdraw: ServerAction<WithdrawVote>,
) -> AnyView {
    let class = format!("stage stage-{}", stage.state.as_str());
    let open = stage.state == StageState::AwaitingSignOff && release.row.state == "running";
    let my_groups: Vec<String> = stage
        .sign_off
        .iter()
        .map(|(g, _)| g.clone())
        .filter(|g| release.my_groups.contains(g))
        .collect();
    let mine = stage
        .votes
        .iter()
        .any(|v| v.voter == release.me && v.withdrawn_at.is_none());
    let (id, position) = (release.row.id, stage.position);
    // The starter may reject their release but not approve it: the form says so before the click.
    let started_it = release.row.starter == release.me;
    view! {
        <li class=class>
            <div class="stage-envs">{stage.environments.iter().map(|e| view! { <span class="env">{e.clone()}</span> }).collect_view()}</div>
            <p class="stage-state"><strong>{stage.state.label()}</strong></p>
            <p class="muted">{stage.gate.clone()}</p>
            <div class="stage-signoff">
                {stage.sign_off.iter().map(|(g, n)| view! { <span class="badge signoff">{format!("{g} ×{n}")}</span> }).collect_view()}
            </div>
            <ul class="votes">
                {stage.votes.iter().filter(|v| v.withdrawn_at.is_none()).map(|v| view! {
                    <li class=if v.approve { "vote approve" } else { "vote reject" }>
                        {if v.approve { "✓ " } else { "✗ " }}<strong>{v.voter.clone()}</strong>{format!(" ({})", v.group)}
                    </li>
                }).collect_view()}
            </ul>
            {(open && !my_groups.is_empty() && !mine).then(|| {
                let groups = my_groups.clone();
                view! {
                    <ActionForm action=vote attr:class="stacked-form sign-off-form">
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="stage" value=position />
                        <input type="hidden" name="approve" value="true" />
                        <label><span>"Sign off as"</span>
                            <select name="group">{groups.iter().map(|g| view! { <option value=g.clone()>{g.clone()}</option> }).collect_view()}</select>
                        </label>
                        <label><span>"Comment"</span><textarea name="comment" rows="2"></textarea></label>
                        {started_it.then(|| view! {
                            <p class="hint" id=format!("starter-{position}")>"You started this release: someone else in these groups approves it. You may still reject it."</p>
                        })}
                        <button
                            type="submit"
                            class="button primary"
                            disabled=started_it
                            aria-describedby=started_it.then(|| format!("starter-{position}"))
                        >
                            "Approve"
                        </button>
                    </ActionForm>
                    <details class="reject">
                        <summary>"Reject…"</summary>
                        <ActionForm action=vote attr:class="stacked-form">
                            <input type="hidden" name="id" value=id />
                            <input type="hidden" name="stage" value=position />
                            <input type="hidden" name="approve" value="false" />
                            <input type="hidden" name="group" value=my_groups[0].clone() />
                            <label><span>"Why"</span><textarea name="comment" rows="2" required></textarea></label>
                            <button type="submit" class="button danger">"Reject release"</button>
                        </ActionForm>
                    </details>
                }
            })}
            {(open && mine).then(|| view! {
                <ActionForm action=withdraw>
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="stage" value=position />
                    <button type="submit" class="button">"Withdraw my vote"</button>
                </ActionForm>
            })}
        </li>
    }
    .into_any()
}
