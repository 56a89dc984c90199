//! One resource: its overview, generated code, revisions and the diff between two.

use super::*;

#[component]
pub(super) fn Overview(
    detail: ResourceDetail,
    act: ServerAction<ResourceAction>,
    refresh: Callback<()>,
    panel: WorkspacePanelData,
) -> AnyView {
    let slug = detail.slug.clone();
    let action_button = |action: &'static str, label: &'static str, class: &'static str| {
        let slug = slug.clone();
        // Destroy and delete ask first, saying what they do; the rest act on the click.
        let question = match action {
            "destroy" => Some(format!("Destroy {slug}? A pull request removes its code from the workspace, and once merged the apply destroys the real infrastructure.")),
            "delete" => Some(format!("Delete {slug}? Its record and revisions are removed from Slipway; nothing in the workspace or the cloud changes.")),
            _ => None,
        };
        view! {
            <ActionForm action=act>
                <input type="hidden" name="slug" value=slug.clone() />
                <input type="hidden" name="action" value=action />
                {match question {
                    Some(question) => view! { <ConfirmSubmit label=label class=class question=question /> }.into_any(),
                    None => view! { <button type="submit" class=class>{label}</button> }.into_any(),
                }}
            </ActionForm>
        }
    };
    let lifecycle = match detail.state {
        ResourceState::Provisioned => Some(action_button("destroy", "Destroy", "button danger")),
        ResourceState::Destroy => Some(action_button(
            "cancel_destroy",
            "Cancel destroy",
            "button ghost",
        )),
        _ => None,
    };
    let deletable = matches!(
        detail.state,
        ResourceState::Provision | ResourceState::Destroyed
    );
    let replan = ServerAction::<crate::api::plans::ReplanResource>::new();
    Effect::new(move |_| {
        if replan.value().get().is_some_and(|r| r.is_ok()) {
            refresh.run(());
        }
    });
    let parent_changed = detail.parent_changed.clone().map(|why| {
        let slug = detail.slug.clone();
        let can = detail.can_edit && detail.status != ResourceStatus::InProgress;
        view! {
            <section class="card callout warning" role="status">
                <h2>"A parent changed"</h2>
                <p>{why}</p>
                {can.then(|| view! {
                    <ActionForm action=replan>
                        <input type="hidden" name="slug" value=slug />
                        <button type="submit" class="button primary">"Plan again"</button>
                    </ActionForm>
                })}
                <FormError result=replan.value().into() />
            </section>
        }
    });
    view! {
        {parent_changed}
        <div class="grid two">
            <section class="card">
                <h2>"Resource"</h2>
                <dl class="facts">
                    <dt>"Template"</dt><dd><a href=format!("/catalog/{}", detail.template_key)>{detail.template_name.clone()}</a></dd>
                    <dt>"Version"</dt><dd><span class="badge">{detail.version.git_ref.clone()}</span><code>{detail.version.module_path.clone()}</code><span class="hash">{detail.version.commit.chars().take(12).collect::<String>()}</span></dd>
                    <dt>"Source"</dt><dd><code>{crate::domain::integrations::shown_repository_url(&detail.version.source_url)}</code></dd>
                    <dt>"State"</dt><dd><StateBadges state=detail.state status=detail.status /></dd>
                    <dt>"Parents"</dt><dd>{detail.parents.iter().map(|p| view! { <a class="badge link" href=format!("/resources/{}", p.slug)>{p.name.clone()}</a> }).collect_view()}</dd>
                    <dt>"Children"</dt><dd>{detail.children.iter().map(|p| view! { <a class="badge link" href=format!("/resources/{}", p.slug)>{p.name.clone()}</a> }).collect_view()}</dd>
                    <dt>"Integrations"</dt><dd>{detail.integrations.iter().map(|i| view! { <a class="badge link" href=format!("/integrations/{}", i.slug)>{i.name.clone()}</a> }).collect_view()}</dd>
                    <dt>"Created"</dt><dd>{format!("{} by {}", detail.created_at, detail.created_by)}</dd>
                    <dt>"Changed"</dt><dd>{format!("{} · revision {}", detail.updated_at, detail.revision)}</dd>
                </dl>
                <div class="button-row">
                    {(detail.can_edit && matches!(detail.state, ResourceState::Provision | ResourceState::Provisioned)).then(|| view! {
                        <a class="button primary" href=format!("/resources/{}/edit", detail.slug)>"Edit"</a>
                    })}
                    {detail.can_delete.then_some(lifecycle)}
                    {(detail.can_delete && deletable).then(|| action_button("delete", "Delete", "button ghost danger"))}
                </div>
                <FormError result=act.value().into() />
            </section>
            <OutputsCard detail=detail.clone() />
        </div>
        <WorkspacePanel
            slug=detail.slug.clone()
            initial=panel
            page_in_progress=detail.status == ResourceStatus::InProgress
            on_settled=refresh
        />
        <VariablesTable detail=detail.clone() />
    }
    .into_any()
}

/// The outputs the last apply recorded (or which ones will appear).
#[component]
fn OutputsCard(detail: ResourceDetail) -> AnyView {
    view! {
        <section class="card">
            <h2>"Outputs"</h2>
            {if detail.outputs.is_empty() {
                let names = detail.version.interface.outputs.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join(", ");
                view! { <p class="muted">{format!("The module's outputs ({names}) appear here once an apply has provisioned the resource.")}</p> }.into_any()
            } else {
                view! {
                    <dl class="facts">
                        {detail.outputs.iter().map(|o| view! {
                            <dt><code>{o.name.clone()}</code></dt>
                            <dd>{match &o.value {
                                Some(value) => view! { <code class="pre">{value.clone()}</code> }.into_any(),
                                None => view! { <span class="badge sensitive">"sensitive"</span><span class="muted">"sealed; given to its children's runs only"</span> }.into_any(),
                            }}</dd>
                        }).collect_view()}
                    </dl>
                }
                .into_any()
            }}
        </section>
    }
    .into_any()
}

/// Each of the module's variables with the resource's value (a sensitive one only as set or
/// not), or the default it falls back to.
#[component]
fn VariablesTable(detail: ResourceDetail) -> AnyView {
    view! {
        <section class="card">
            <h2>"Variables"</h2>
            <div class="table-wrap flat">
                <table class="table">
                    <thead><tr><th scope="col">"Variable"</th><th scope="col">"Value"</th><th scope="col">"Description"</th></tr></thead>
                    <tbody>
                        {detail.version.interface.variables.iter().map(|v| {
                            let stored = detail.variables.iter().find(|x| x.name == v.name).cloned();
                            let bound = stored.as_ref().and_then(|s| s.bound_from.clone());
                            let shown = match (&stored, v.sensitive) {
                                _ if bound.is_some() => view! { <span class="badge">{format!("from {}", bound.clone().unwrap_or_default().replace('.', " → "))}</span> }.into_any(),
                                (Some(s), true) if s.sensitive_set => view! { <span class="badge sensitive">"•••••• set"</span> }.into_any(),
                                (_, true) => view! { <span class="muted">"not set"</span> }.into_any(),
                                (Some(s), false) if s.value.is_some() => view! { <code class="pre">{s.value.clone()}</code> }.into_any(),
                                _ => view! { <span class="muted">{format!("default: {}", v.default.as_ref().map(to_form).unwrap_or_else(|| "none".into()))}</span> }.into_any(),
                            };
                            view! {
                                <tr>
                                    <td><code>{v.name.clone()}</code></td>
                                    <td>{shown}</td>
                                    <td class="muted">{v.description.clone()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
pub(super) fn CodeTab(detail: ResourceDetail) -> AnyView {
    view! {
        <p class="muted">{format!("Generated for revision {}. Same input, same bytes; formatted as tofu fmt formats.", detail.revision)}</p>
        {detail.files.into_iter().map(|file| view! {
            <section class="code-file">
                <header><code>{file.name.clone()}</code><span class="muted">{format!("{} lines", file.contents.lines().count())}</span></header>
                <pre><code>{file.contents}</code></pre>
            </section>
        }).collect_view()}
    }
    .into_any()
}

#[component]
pub(super) fn RevisionsTab(detail: ResourceDetail) -> AnyView {
    let slug = detail.slug.clone();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th scope="col">"Revision"</th><th scope="col">"Change"</th><th scope="col">"By"</th><th scope="col">"When"</th><th scope="col"><span class="visually-hidden">"Compare"</span></th></tr></thead>
                <tbody>
                    {detail.revisions.iter().map(|r| {
                        let compare = (r.revision > 1).then(|| {
                            let href = format!("/resources/{slug}/diff?from={}&to={}", r.revision - 1, r.revision);
                            view! { <a class="button small ghost" href=href>{format!("Compare with {}", r.revision - 1)}</a> }
                        });
                        view! {
                            <tr>
                                <td><strong>{r.revision}</strong></td>
                                <td>{r.summary.clone()}</td>
                                <td>{r.author.clone()}</td>
                                <td class="nowrap muted">{r.created_at.clone()}</td>
                                <td class="actions">{compare}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn ResourcePage() -> AnyView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let tab = move || query.read().get("tab").unwrap_or_else(|| "overview".into());
    let act = ServerAction::<ResourceAction>::new();
    let detail = Resource::new(
        move || (slug(), act.version().get()),
        |(s, _)| get_resource(s),
    );
    // Refreshed with the page: a job's end changes both.
    let settled = RwSignal::new(0usize);
    let panel = workspace_panel_data(slug, move || act.version().get() + settled.get());
    let refresh = Callback::new(move |_| {
        detail.refetch();
        settled.update(|n| *n += 1);
    });
    // Others edit, approve and delete it; its jobs end.
    crate::components::live::follow(
        move || vec![format!("resource:{}", slug())],
        move || refresh.run(()),
    );
    let drift = crate::components::drift::drift_data(slug, move || tab() == "drift");
    view! {
        <Title text="Resource" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => {
                        let base = format!("/resources/{}", detail.slug);
                        let current = tab();
                        let tab_link = |key: &'static str, label: String| {
                            let href = if key == "overview" { base.clone() } else { format!("{base}?tab={key}") };
                            let here = (current == key).then_some("page");
                            view! { <a href=href aria-current=here>{label}</a> }
                        };
                        let tabs = view! {
                            <nav class="tabs" aria-label="Resource">
                                {tab_link("overview", "Overview".into())}
                                {tab_link("code", format!("Code ({} files)", detail.files.len()))}
                                {tab_link("revisions", format!("Revisions ({})", detail.revisions.len()))}
                                {tab_link("runs", "Plans and state".into())}
                                {tab_link("drift", "Drift".into())}
                            </nav>
                        };
                        let body = match current.as_str() {
                            "code" => view! { <CodeTab detail=detail.clone() /> }.into_any(),
                            "revisions" => view! { <RevisionsTab detail=detail.clone() /> }.into_any(),
                            "runs" => view! { <RunsTab slug=detail.slug.clone() /> }.into_any(),
                            "drift" => view! { <crate::components::drift::DriftTab slug=detail.slug.clone() can_edit=detail.can_edit data=drift /> }.into_any(),
                            _ => view! { <Overview detail=detail.clone() act refresh panel /> }.into_any(),
                        };
                        view! {
                            <div class="page-header">
                                <div>
                                    <p class="eyebrow"><a href="/resources">"Resources"</a>" / "{detail.template_name.clone()}</p>
                                    <h1>{detail.name.clone()}</h1>
                                    <p class="subtitle"><code>{detail.slug.clone()}</code>" "<StateBadges state=detail.state status=detail.status /></p>
                                </div>
                            </div>
                            {tabs}
                            {body}
                        }
                        .into_any()
                    }
                    Err(AppError::NotFound(message)) if act.value().get().is_some_and(|r| r.is_ok()) => view! {
                        <EmptyState title="Deleted">
                            <p>{message}" "<a href="/resources">"Back to the resources"</a></p>
                        </EmptyState>
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
pub fn RevisionDiffPage() -> AnyView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let number = move |key: &str, fallback: i32| {
        query
            .read()
            .get(key)
            .and_then(|v| v.parse::<i32>().ok())
            .unwrap_or(fallback)
    };
    let diff = Resource::new(
        move || (slug(), number("from", 1), number("to", 2)),
        |(s, from, to)| get_revision_diff(s, from, to),
    );
    view! {
        <Title text="Compare revisions" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match diff.await {
                    Ok(diff) => {
                        let base = format!("/resources/{}", diff.slug);
                        view! {
                            <div class="page-header">
                                <div>
                                    <p class="eyebrow"><a href="/resources">"Resources"</a>" / "<a href=base.clone()>{diff.name.clone()}</a></p>
                                    <h1>{format!("Revision {} → {}", diff.from.revision, diff.to.revision)}</h1>
                                    <p class="subtitle">{format!("{} by {}, {}", diff.to.summary, diff.to.author, diff.to.created_at)}</p>
                                </div>
                            </div>
                            <form class="filters" method="get">
                                <label>
                                    <span>"From"</span>
                                    <select name="from">
                                        {diff.revisions.iter().map(|r| view! { <option value=r.revision.to_string() selected=r.revision == diff.from.revision>{format!("Revision {}", r.revision)}</option> }).collect_view()}
                                    </select>
                                </label>
                                <label>
                                    <span>"To"</span>
                                    <select name="to">
                                        {diff.revisions.iter().map(|r| view! { <option value=r.revision.to_string() selected=r.revision == diff.to.revision>{format!("Revision {}", r.revision)}</option> }).collect_view()}
                                    </select>
                                </label>
                                <button type="submit" class="button ghost">"Compare"</button>
                            </form>
                            <section class="card">
                                <h2>"Changed fields"</h2>
                                {if diff.fields.is_empty() {
                                    view! { <p class="muted">"No field differs."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap flat">
                                            <table class="table field-changes">
                                                <thead><tr><th scope="col">"Field"</th><th scope="col">{format!("Revision {}", diff.from.revision)}</th><th scope="col">{format!("Revision {}", diff.to.revision)}</th></tr></thead>
                                                <tbody>
                                                    {diff.fields.iter().map(|f| view! {
                                                        <tr>
                                                            <td><code>{f.field.clone()}</code></td>
                                                            <td><span class="diff-old">{f.before.clone()}</span></td>
                                                            <td><span class="diff-new">{f.after.clone()}</span></td>
                                                        </tr>
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    }
                                    .into_any()
                                }}
                            </section>
                            {diff.files.into_iter().map(|file| view! {
                                <section class="code-file">
                                    <header>
                                        <code>{file.name.clone()}</code>
                                        <span class=if file.changed { "badge changed" } else { "badge" }>{if file.changed { "changed" } else { "unchanged" }}</span>
                                    </header>
                                    <DiffLines lines=file.lines />
                                </section>
                            }).collect_view()}
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}
