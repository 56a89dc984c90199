//! Release manifests: their pages and their editor.

use super::*;

#[component]
pub(crate) fn ManifestTable(
    rows: Vec<ReleaseManifestRow>,
    groups: Vec<String>,
    administers: bool,
) -> AnyView {
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

/// The manifest the route names (`/releases/manifests/{kind}/{name}`).
fn manifest_of_route() -> Resource<Result<ReleaseManifestDetail, AppError>> {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("kind").unwrap_or_default(),
            p.get("name").unwrap_or_default(),
        )
    };
    Resource::new(key, |(kind, name)| get_release_manifest(kind, name))
}

#[component]
pub fn ReleaseManifestPage() -> AnyView {
    let detail = manifest_of_route();
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
pub(crate) fn ManifestView(detail: ReleaseManifestDetail) -> AnyView {
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
        {track.clone().filter(|t| t.release.iter().chain(&t.hotfix).any(|s| s.verify)).map(|_| view! {
            <VerificationSecret name=row.name.clone() has_secret=detail.has_verify_secret can_edit=detail.can_edit />
        })}
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

/// How an environment's tests or monitoring report on a stage that asks for verification: a
/// secret they sign with, shown once when made.
#[component]
fn VerificationSecret(name: String, has_secret: bool, can_edit: bool) -> AnyView {
    let rotate = ServerAction::<crate::api::releases::RotateVerificationSecret>::new();
    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2>"Stage verification"</h2>
                    <p class="muted">"A stage with "<code>"verify: true"</code>" waits, once deployed, for the environment's tests or monitoring to post "<code>"/hooks/stage-verified"</code>" (passed or failed), signed with this track's verification secret, before the next stage opens."</p>
                </div>
                {can_edit.then(|| view! {
                    <ActionForm action=rotate>
                        <input type="hidden" name="track" value=name.clone() />
                        <button type="submit" class="button" disabled=move || rotate.pending().get()>
                            {if has_secret { "Replace the verification secret" } else { "Make a verification secret" }}
                        </button>
                    </ActionForm>
                })}
            </div>
            <crate::components::common::SecretShownOnce
                result=rotate.value().into()
                after="Reports signed with an earlier secret are refused from now on."
                has_secret
                set="A verification secret is set."
                unset="No verification secret yet: reports are refused, and a stage that asks for verification waits."
            />
        </section>
    }
    .into_any()
}

/// The editor: `kind` and `name` empty for a new manifest.
#[component]
pub(crate) fn ReleaseManifestEditor(
    kind: String,
    name: String,
    revision: i32,
    source: String,
) -> AnyView {
    let text = RwSignal::new(source);
    let save = ServerAction::<SaveReleaseManifest>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(row)) = save.value().get() {
            navigate(&manifest_href(&row.kind, &row.name), Default::default());
        }
    });
    let creating = name.is_empty();
    Editor {
        section: ("/releases", "Releases"),
        title: if creating { "New release manifest".to_string() } else { format!("Edit {kind} {name}") },
        subtitle: if creating {
            "An Application, an ApplicationSet, a ReleaseTrack or a Policy, in the reference format. Each is edited by the group that owns it.".to_string()
        } else {
            format!("Saving makes revision {}.", revision + 1)
        },
        file: "manifest.yaml",
        back: if creating { "/releases".to_string() } else { manifest_href(&kind, &name) },
        hidden: vec![("kind", kind), ("name", name), ("revision", revision.to_string())],
        create_label: "Create",
        creating,
        text,
        checked: Memo::new(move |_| text.with(|t| parse_release_source(t))),
        valid: manifest_outline,
    }
    .view(save.pending().into(), move |fields| {
        view! {
            <ActionForm action=save attr:class="stacked-form">{fields}</ActionForm>
            <FormError result=save.value().into() />
        }
        .into_any()
    })
}

/// What a valid release manifest is: its kind and name, the group that edits it, a track's pipeline.
fn manifest_outline(manifest: &Manifest) -> AnyView {
    view! {
        <p><strong>{format!("{} {}", manifest.kind(), manifest.metadata().name)}</strong></p>
        <p class="muted">{match crate::domain::release_manifests::owner(manifest) {
            Some(group) => format!("Edited by the group {group}."),
            None => String::new(),
        }}</p>
        {match manifest {
            Manifest::ReleaseTrack(track) => view! { <TrackPipeline track=track.clone() /> }.into_any(),
            _ => ().into_any(),
        }}
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
        Some("Policy") => crate::domain::policies::EXAMPLE_POLICY.to_string(),
        Some("FreezeWindow") => crate::domain::freezes::EXAMPLE_FREEZE.to_string(),
        _ => crate::domain::release_manifests::EXAMPLE_TRACK.to_string(),
    };
    view! {
        <Title text="New release manifest" />
        <ReleaseManifestEditor kind=String::new() name=String::new() revision=0 source=starter />
    }
    .into_any()
}

#[component]
pub fn EditReleaseManifestPage() -> AnyView {
    let detail = manifest_of_route();
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
