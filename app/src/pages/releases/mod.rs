//! The Releases area: release tracks drawn as pipelines of stages with who signs each off,
//! application sets and applications with their owning groups, and an editor for each release
//! manifest that checks it in the browser as it is typed.

use crate::components::manifest_editor::{Editor, RevisionList};

use crate::api::releases::{
    get_delivery, get_release, get_release_manifest, get_release_manifests, get_releases,
    DeployedRow, ReleaseManifestDetail, ReleaseManifestRow, ReleaseRow, ReleaseView, ReleasesView,
    SaveReleaseManifest, SimulateBuild, StageView, StartRelease, VoteRelease, WithdrawVote,
};

use crate::components::common::{EmptyState, ErrorPanel, FormError, Loading, PageHeader};

use crate::domain::manifests::Manifest;
use crate::domain::releases::DeploymentKind;

use crate::domain::release_manifests::{parse_release_source, ReleaseTrack, TrackStage};

use crate::domain::releases::{ReleaseState, StageState, DORA_WINDOWS};

use crate::error::AppError;

use leptos::prelude::*;

use leptos_meta::Title;

use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

mod delivery;
mod freezes;
mod manifests;
mod release;
pub use delivery::*;
#[allow(unused_imports)]
pub(crate) use delivery::*;
pub use freezes::*;
pub use manifests::*;
#[allow(unused_imports)]
pub(crate) use manifests::*;
pub use release::*;
#[allow(unused_imports)]
pub(crate) use release::*;

pub(crate) fn manifest_href(kind: &str, name: &str) -> String {
    format!("/releases/manifests/{kind}/{name}")
}

/// One lane of a track: its stages left to right, each with its environments and sign-off.
#[component]
pub(crate) fn Lane(label: &'static str, hint: &'static str, stages: Vec<TrackStage>) -> AnyView {
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
pub(crate) fn TrackPipeline(track: ReleaseTrack) -> AnyView {
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
pub fn ReleasesPage() -> AnyView {
    let simulate = ServerAction::<SimulateBuild>::new();
    let rollback = RollbackActions::new();
    // A simulated build deploys a moment later: the page hears of it (`follow` below).
    let listed = Resource::new(
        move || {
            (
                simulate.version().get(),
                rollback.request.version().get(),
                rollback.vote.version().get(),
                rollback.lift.version().get(),
            )
        },
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
    let start_fields = StartFields::new();
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
                        view! {
                            <PageHeader title="Releases" subtitle="Version-locked bundles of applications, promoted through a release track's environments with stakeholder sign-off.">
                                <a class="button" href="/freezes">"Freezes"</a>
                                {data.can_write.then(|| view! {
                                    <a class="button" href="/releases/manifests/new?kind=Policy" title="A Rego policy every plan of a change must pass">"New policy"</a>
                                    <a class="button primary" href="/releases/manifests/new">"New manifest"</a>
                                })}
                            </PageHeader>
                            {if data.manifests.is_empty() {
                                view! {
                                    <EmptyState title="Nothing to release yet">
                                        <p>"Three manifests describe a release, each kept by the people it belongs to: platform / SRE write the "<strong>"ReleaseTrack"</strong>" (the environments, stage by stage, and who signs each off); development teams their "<strong>"Application"</strong>"s; release managers the "<strong>"ApplicationSet"</strong>" that ships them together."</p>
                                    </EmptyState>
                                }.into_any()
                            } else {
                                view! {
                                    <ReleaseList start listed=releases form=start_fields />
                                    <ReleaseTracks sources=data.tracks.clone() />
                                    <Environments rows=data.deployed.clone() rollbacks=data.rollbacks.clone() holds=data.holds.clone() actions=rollback can_write=data.can_write />
                                    {data.can_simulate.then(|| view! {
                                        <section class="card">
                                            <h2>"Simulate a build"</h2>
                                            <SimulateBuildForm simulate applications=apps.iter().map(|a| a.name.clone()).collect() />
                                        </section>
                                    })}
                                    <Delivery figures />
                                    <ManifestSection title="Application sets" empty="None yet: release managers bundle applications into a set." rows=sets groups=data.groups.clone() administers=data.administers />
                                    <ManifestSection title="Applications" empty="None yet: each development team describes its own." rows=apps groups=data.groups.clone() administers=data.administers />
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

/// Each release track's environments, stage by stage.
#[component]
fn ReleaseTracks(sources: Vec<(String, String)>) -> AnyView {
    let tracks: Vec<ReleaseTrack> = sources
        .iter()
        .filter_map(|(_, source)| match parse_release_source(source) {
            Ok(Manifest::ReleaseTrack(track)) => Some(track),
            _ => None,
        })
        .collect();
    view! {
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
    }
    .into_any()
}

/// One kind of manifest (applications, application sets) as a table, or who writes the first.
#[component]
fn ManifestSection(
    title: &'static str,
    empty: &'static str,
    rows: Vec<ReleaseManifestRow>,
    groups: Vec<String>,
    administers: bool,
) -> AnyView {
    view! {
        <section class="card">
            <h2>{title}</h2>
            {if rows.is_empty() {
                view! { <p class="muted">{empty}</p> }.into_any()
            } else {
                view! { <ManifestTable rows groups administers /> }.into_any()
            }}
        </section>
    }
    .into_any()
}

pub(crate) fn state_badge(state: ReleaseState) -> AnyView {
    let class = match state {
        ReleaseState::Completed => "badge change-added",
        ReleaseState::Rejected => "badge change-removed",
        ReleaseState::Running => "badge change-changed",
    };
    view! { <span class=class>{state.as_str()}</span> }.into_any()
}
