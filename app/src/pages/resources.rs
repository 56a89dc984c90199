//! Resources: the list (paged), a resource's page with its variables, generated code and
//! revisions, the form generated from the module's variables (create and edit), and the diff of
//! two revisions.

use crate::api::resources::{
    get_resource, get_resource_form, get_resources, get_revision_diff, CreateResource,
    ResourceAction, ResourceDetail, ResourceForm, ResourceListRow, UpdateResource,
};
use crate::api::sources::VersionRow;
#[allow(unused_imports)]
use crate::components::badges::*;
use crate::components::common::{
    ConfirmSubmit, EmptyState, ErrorPanel, FormError, Loading, PageHeader,
};
use crate::components::workspace_panel::{
    workspace_panel_data, WorkspacePanel, WorkspacePanelData,
};
use crate::domain::modules::ModuleVariable;
use crate::domain::resources::{ResourceState, ResourceStatus};
use crate::domain::variable_types::{to_form, FieldKind, TypeConstraint};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn ResourcesPage() -> AnyView {
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let listed = Resource::new(page, |p| get_resources(p - 1));
    view! {
        <Title text="Resources" />
        <PageHeader title="Resources" subtitle="Infrastructure created from the catalog's templates, each with its generated OpenTofu code and history.">
            <a class="button primary" href="/resources/new">"New resource"</a>
        </PageHeader>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match listed.await {
                    Ok(page) if page.total == 0 => view! {
                        <EmptyState title="No resources yet">
                            <p>"Create one from a concrete template of the "<a href="/catalog">"catalog"</a>"."</p>
                        </EmptyState>
                    }
                    .into_any(),
                    Ok(page) => {
                        let pages = page.total.div_ceil(page.per_page).max(1);
                        let current = page.page + 1;
                        let link = |n: u64| format!("/resources?page={n}");
                        view! {
                            <div class="table-wrap">
                                <table class="table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Resource"</th>
                                            <th scope="col">"Template"</th>
                                            <th scope="col">"Version"</th>
                                            <th scope="col">"State"</th>
                                            <th scope="col">"Parents"</th>
                                            <th scope="col">"Integrations"</th>
                                            <th scope="col">"Changed"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|row: ResourceListRow| view! {
                                            <tr>
                                                <td><a href=format!("/resources/{}", row.slug)><strong>{row.name}</strong></a><br /><code>{row.slug.clone()}</code></td>
                                                <td><a href=format!("/catalog/{}", row.template_key)>{row.template_name}</a></td>
                                                <td><span class="badge">{row.version}</span></td>
                                                <td class="nowrap"><StateBadges state=row.state status=row.status /></td>
                                                <td>{row.parents.into_iter().map(|p| view! { <a class="badge link" href=format!("/resources/{p}")>{p.clone()}</a> }).collect_view()}</td>
                                                <td>{row.integrations.into_iter().map(|i| view! { <span class="badge">{i}</span> }).collect_view()}</td>
                                                <td class="nowrap muted">{row.updated_at}<br />{format!("revision {}", row.revision)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <nav class="pager" aria-label="Pages">
                                {(current > 1).then(|| view! { <a class="button ghost" href=link(current - 1)>"← Previous"</a> })}
                                <span>{format!("Page {current} of {pages} · {}", crate::domain::names::counted(page.total as u64, "resource", "resources"))}</span>
                                {(current < pages).then(|| view! { <a class="button ghost" href=link(current + 1)>"Next →"</a> })}
                            </nav>
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

/// The error message for one field of the last submission, if it was about that field.
fn field_error(
    result: Signal<Option<Result<ResourceListRow, AppError>>>,
    field: String,
) -> impl Fn() -> Option<String> + Send + Sync + 'static {
    move || match result.get() {
        Some(Err(error)) => error.message_for(&field),
        _ => None,
    }
}

/// One variable's field, chosen by its type: text, number, true/false, JSON for the rest;
/// sensitive values as password fields that are never filled back in.
#[component]
fn VariableField(
    variable: ModuleVariable,
    current: Option<String>,
    sensitive_set: bool,
    result: Signal<Option<Result<ResourceListRow, AppError>>>,
) -> AnyView {
    let constraint =
        TypeConstraint::parse(variable.type_expr.as_deref()).unwrap_or(TypeConstraint::Any);
    let kind = constraint.field_kind();
    let name = format!("input[values][{}]", variable.name);
    let id = format!("var-{}", variable.name);
    let error = field_error(result, format!("values.{}", variable.name));
    let has_error = {
        let error = field_error(result, format!("values.{}", variable.name));
        move || error().is_some()
    };
    let default_text = variable.default.as_ref().map(to_form);
    let placeholder = match (&default_text, variable.sensitive, sensitive_set) {
        (_, true, true) => "Stored encrypted; leave blank to keep".to_string(),
        (_, true, false) => "Stored encrypted, never shown again".to_string(),
        (Some(d), _, _) if !d.is_empty() => format!("Default: {}", d.replace('\n', " ")),
        (Some(_), _, _) => "Default: empty".to_string(),
        (None, _, _) => String::new(),
    };
    let required = variable.is_required() && !(variable.sensitive && sensitive_set);
    let described = format!("{id}-error");
    let error_id = described.clone();
    let value = current.unwrap_or_default();
    let control = if variable.sensitive {
        view! { <input id=id.clone() type="password" name=name.clone() autocomplete="new-password" placeholder=placeholder.clone() aria-invalid=move || has_error().to_string() required=required aria-describedby=described.clone() /> }.into_any()
    } else {
        match kind {
            FieldKind::Bool => {
                let default_label = match &variable.default {
                    Some(d) => format!("Default ({})", to_form(d)),
                    None => "Choose…".to_string(),
                };
                view! {
                    <select id=id.clone() name=name.clone() aria-invalid=move || has_error().to_string() required=required aria-describedby=described.clone()>
                        <option value="" selected=value.is_empty()>{default_label}</option>
                        <option value="true" selected=value == "true">"true"</option>
                        <option value="false" selected=value == "false">"false"</option>
                    </select>
                }
                .into_any()
            }
            FieldKind::Json => view! {
                <textarea id=id.clone() name=name.clone() rows="3" spellcheck="false" class="mono" placeholder=placeholder.clone() aria-invalid=move || has_error().to_string() required=required aria-describedby=described.clone()>{value.clone()}</textarea>
            }
            .into_any(),
            FieldKind::Number => view! {
                <input id=id.clone() type="text" inputmode="decimal" name=name.clone() value=value.clone() placeholder=placeholder.clone() aria-invalid=move || has_error().to_string() required=required aria-describedby=described.clone() />
            }
            .into_any(),
            FieldKind::Text => view! {
                <input id=id.clone() type="text" name=name.clone() value=value.clone() placeholder=placeholder.clone() aria-invalid=move || has_error().to_string() required=required aria-describedby=described.clone() />
            }
            .into_any(),
        }
    };
    view! {
        <div class="variable-field" data-variable=variable.name.clone()>
            <label for=id.clone()>
                <code class="var-name">{variable.name.clone()}</code>
                <span class="badge">{constraint.describe()}</span>
                {required.then(|| view! { <span class="badge required">"required"</span> })}
                {variable.sensitive.then(|| view! { <span class="badge sensitive">"sensitive"</span> })}
            </label>
            {variable.description.clone().map(|d| view! { <p class="hint">{d}</p> })}
            {control}
            {variable.validations.iter().map(|v| crate::components::badges::rule_view("Must hold: ", v)).collect_view()}
            {move || error().map(|message| view! { <p class="field-error" id=error_id.clone() role="alert">{message}</p> })}
        </div>
    }
    .into_any()
}

/// The form's fields for a template: name, version, parents, integrations and the variables of
/// the chosen version. Used for creating and for editing.
#[component]
fn ResourceFields(
    form: ResourceForm,
    result: Signal<Option<Result<ResourceListRow, AppError>>>,
) -> AnyView {
    let current = form.current.clone();
    let editing = current.is_some();
    let initial_version = current
        .as_ref()
        .map(|c| c.version.id)
        .or_else(|| form.versions.first().map(|v| v.id))
        .unwrap_or_default();
    let version = RwSignal::new(initial_version);
    let versions = StoredValue::new(form.versions.clone());
    let current_values = StoredValue::new(
        current
            .as_ref()
            .map(|c| c.variables.clone())
            .unwrap_or_default(),
    );
    let error_for = move |field: &str| field_error(result, field.to_string());
    let parents_chosen: Vec<String> = current
        .as_ref()
        .map(|c| c.parents.iter().map(|p| p.slug.clone()).collect())
        .unwrap_or_default();
    let integrations_chosen: Vec<String> = current
        .as_ref()
        .map(|c| c.integrations.iter().map(|i| i.slug.clone()).collect())
        .unwrap_or_default();
    let variables = move || {
        let chosen: Option<VersionRow> =
            versions.with_value(|vs| vs.iter().find(|v| v.id == version.get()).cloned());
        let Some(chosen) = chosen else {
            return view! { <p class="muted">"Choose a version to see its variables."</p> }
                .into_any();
        };
        if chosen.interface.variables.is_empty() {
            return view! { <p class="muted">"This module takes no variables."</p> }.into_any();
        }
        chosen
            .interface
            .variables
            .into_iter()
            .map(|variable| {
                let stored = current_values
                    .with_value(|values| values.iter().find(|v| v.name == variable.name).cloned());
                let (value, sensitive_set) = stored
                    .map(|s| (s.value, s.sensitive_set))
                    .unwrap_or((None, false));
                view! { <VariableField variable current=value sensitive_set result /> }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <input type="hidden" name="input[template]" value=form.template_key.clone() />
        <div class="form-grid">
            <label>
                <span>"Name"</span>
                <input type="text" name="input[name]" required value=current.as_ref().map(|c| c.name.clone()).unwrap_or_default() placeholder="Production VPC" />
                {move || error_for("name")().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </label>
            <label>
                <span>"Slug (folder and module name)"</span>
                {if editing {
                    view! { <input type="text" name="input[slug]" readonly value=current.as_ref().map(|c| c.slug.clone()).unwrap_or_default() /> }.into_any()
                } else {
                    view! { <input type="text" name="input[slug]" required placeholder="prod-vpc" pattern=crate::domain::names::SLUG_PATTERN maxlength="63" title="lowercase letters, digits and single hyphens, starting with a letter" /> }.into_any()
                }}
                {move || error_for("slug")().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </label>
            <label>
                <span>"Source code version"</span>
                <select name="input[version_id]" on:change=move |ev| version.set(event_target_value(&ev).parse().unwrap_or_default())>
                    {form.versions.iter().map(|v| {
                        let label = format!("{} — {}", v.git_ref, if v.module_path.is_empty() { "/" } else { &v.module_path });
                        view! { <option value=v.id.to_string() selected=v.id == initial_version>{label}</option> }
                    }).collect_view()}
                </select>
                {move || error_for("version_id")().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </label>
        </div>
        <fieldset class="choices">
            <legend>{if form.parent_required { "Parent resource (required)" } else { "Parent resources" }}</legend>
            {if form.parent_candidates.is_empty() {
                view! { <p class="muted">"No resource of this template's parent templates exists."</p> }.into_any()
            } else {
                form.parent_candidates.iter().map(|p| view! {
                    <label class="checkbox">
                        <input type="checkbox" name=format!("input[parents][{}]", p.slug) value="on" checked=parents_chosen.contains(&p.slug) />
                        <span>{p.name.clone()}" "<code>{p.slug.clone()}</code>" "<span class="badge">{p.template.clone()}</span></span>
                    </label>
                }).collect_view().into_any()
            }}
            {move || error_for("parents")().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </fieldset>
        <fieldset class="choices">
            <legend>"Cloud integrations"</legend>
            {if form.cloud_integrations.is_empty() {
                view! { <p class="muted">"No cloud integration exists yet."</p> }.into_any()
            } else {
                form.cloud_integrations.iter().map(|i| view! {
                    <label class="checkbox">
                        <input type="checkbox" name=format!("input[integrations][{}]", i.slug) value="on" checked=integrations_chosen.contains(&i.slug) />
                        <span>{i.name.clone()}" "<span class="badge">{i.provider.clone()}</span></span>
                    </label>
                }).collect_view().into_any()
            }}
            {move || error_for("integrations")().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </fieldset>
        {(!editing).then(|| view! {
            <label class="workspace-pick">
                <span>"Workspace"</span>
                <select name="input[workspace]">
                    <option value="">"None: keep the code in Slipway only"</option>
                    {form.workspaces.iter().map(|(slug, label)| view! { <option value=slug.clone()>{label.clone()}</option> }).collect_view()}
                </select>
                <p class="hint">"Its code goes to the repository through a pull request that a person approves; the folder is named after the resource."</p>
                {move || error_for("workspace")().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </label>
        })}
        <h3>"Variables"</h3>
        <div class="variables">{variables}</div>
    }
    .into_any()
}

/// Under the form: what went wrong, unless the message already stands beside its field.
#[component]
fn FormSummary(result: Signal<Option<Result<ResourceListRow, AppError>>>) -> AnyView {
    const INLINE: [&str; 6] = [
        "name",
        "slug",
        "version_id",
        "parents",
        "integrations",
        "workspace",
    ];
    (move || {
        let message = match result.get() {
            Some(Err(error @ AppError::Invalid { .. })) => {
                let problems = error.problems();
                let inline = |f: &str| f.starts_with("values.") || INLINE.contains(&f);
                let elsewhere: Vec<String> = problems
                    .iter()
                    .filter(|(f, _)| !inline(f))
                    .map(|(f, m)| format!("{f}: {m}"))
                    .collect();
                let marked = problems.len() - elsewhere.len();
                let mut text = String::from("Nothing was saved.");
                if marked > 0 {
                    text.push_str(&format!(
                        " Fix the {} marked above and submit again.",
                        crate::domain::names::counted(marked as u64, "field", "fields")
                    ));
                }
                for problem in elsewhere {
                    text.push(' ');
                    text.push_str(&problem);
                }
                text
            }
            Some(Err(error)) => error.to_string(),
            _ => return None,
        };
        Some(view! { <p class="form-error" role="alert">{message}</p> })
    })
    .into_any()
}

/// After a successful save, go to the resource's page.
fn go_to_saved(result: Signal<Option<Result<ResourceListRow, AppError>>>) {
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(row)) = result.get() {
            navigate(&format!("/resources/{}", row.slug), Default::default());
        }
    });
}

#[component]
pub fn NewResourcePage() -> AnyView {
    let query = use_query_map();
    let template = move || query.read().get("template").unwrap_or_default();
    let form = Resource::new(template, |t| get_resource_form(t, None));
    let create = ServerAction::<CreateResource>::new();
    let result: Signal<Option<Result<ResourceListRow, AppError>>> = create.value().into();
    go_to_saved(result);
    view! {
        <Title text="New resource" />
        <PageHeader title="New resource" subtitle="Choose a template; its module's variables become the form." />
        <p><a href="/resources">"← Resources"</a></p>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(form) => {
                        let picker = view! {
                            <nav class="template-picker" aria-label="Templates">
                                {form.templates.iter().map(|(key, name)| {
                                    let current = (key == &form.template_key).then_some("page");
                                    view! { <a class="chip" href=format!("/resources/new?template={key}") aria-current=current>{name.clone()}</a> }
                                }).collect_view()}
                            </nav>
                        };
                        if form.template_key.is_empty() {
                            return view! {
                                <section class="card">
                                    <h2>"Template"</h2>
                                    {picker}
                                    {form.templates.is_empty().then(|| view! { <p class="muted">"No concrete template has a source code version yet; add one on a template's page."</p> })}
                                </section>
                            }
                            .into_any();
                        }
                        let title = format!("New {}", form.template_name);
                        view! {
                            <section class="card">
                                <h2>"Template"</h2>
                                {picker}
                            </section>
                            <section class="card">
                                <h2>{title}</h2>
                                {if form.versions.is_empty() {
                                    view! { <p class="muted">"This template has no source code version yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ActionForm action=create attr:class="resource-form">
                                            <ResourceFields form=form.clone() result />
                                            <div class="form-actions">
                                                <button type="submit" class="button primary">"Create resource"</button>
                                            </div>
                                        </ActionForm>
                                        <FormSummary result />
                                    }
                                    .into_any()
                                }}
                            </section>
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

#[component]
pub fn EditResourcePage() -> AnyView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let form = Resource::new(slug, |s| get_resource_form(String::new(), Some(s)));
    let update = ServerAction::<UpdateResource>::new();
    let result: Signal<Option<Result<ResourceListRow, AppError>>> = update.value().into();
    go_to_saved(result);
    view! {
        <Title text="Edit resource" />
        <PageHeader title="Edit resource" subtitle="Saving makes a new revision; the previous ones stay, to compare." />
        <p><a href=move || format!("/resources/{}", slug())>"← Back to the resource"</a></p>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(form) => view! {
                        <section class="card">
                            <h2>{form.current.as_ref().map(|c| c.name.clone()).unwrap_or_default()}</h2>
                            <ActionForm action=update attr:class="resource-form">
                                <input type="hidden" name="input[base_revision]" value=form.current.as_ref().map(|c| c.revision.to_string()).unwrap_or_default() />
                                <ResourceFields form=form.clone() result />
                                <div class="form-actions">
                                    <button type="submit" class="button primary">"Save new revision"</button>
                                </div>
                            </ActionForm>
                            <FormSummary result />
                        </section>
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
fn Overview(
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
    view! {
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
                    {detail.can_delete.then(|| lifecycle)}
                    {(detail.can_delete && deletable).then(|| action_button("delete", "Delete", "button ghost danger"))}
                </div>
                <FormError result=act.value().into() />
            </section>
            <section class="card">
                <h2>"Outputs"</h2>
                {if detail.outputs.is_empty() {
                    let names = detail.version.interface.outputs.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join(", ");
                    view! { <p class="muted">{format!("The module's outputs ({names}) appear here once an apply has provisioned the resource.")}</p> }.into_any()
                } else {
                    view! {
                        <dl class="facts">
                            {detail.outputs.iter().map(|(k, v)| view! { <dt><code>{k.clone()}</code></dt><dd><code>{to_form(v)}</code></dd> }).collect_view()}
                        </dl>
                    }
                    .into_any()
                }}
            </section>
        </div>
        <WorkspacePanel
            slug=detail.slug.clone()
            initial=panel
            page_in_progress=detail.status == ResourceStatus::InProgress
            on_settled=refresh
        />
        <section class="card">
            <h2>"Variables"</h2>
            <div class="table-wrap flat">
                <table class="table">
                    <thead><tr><th scope="col">"Variable"</th><th scope="col">"Value"</th><th scope="col">"Description"</th></tr></thead>
                    <tbody>
                        {detail.version.interface.variables.iter().map(|v| {
                            let stored = detail.variables.iter().find(|x| x.name == v.name).cloned();
                            let shown = match (&stored, v.sensitive) {
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
fn CodeTab(detail: ResourceDetail) -> AnyView {
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
fn RevisionsTab(detail: ResourceDetail) -> AnyView {
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
                            </nav>
                        };
                        let body = match current.as_str() {
                            "code" => view! { <CodeTab detail=detail.clone() /> }.into_any(),
                            "revisions" => view! { <RevisionsTab detail=detail.clone() /> }.into_any(),
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
