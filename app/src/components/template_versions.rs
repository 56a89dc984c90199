//! A template's source code versions with the interface read at each: the catalog and the
//! template page both show it.

use crate::api::sources::{
    get_sources, get_template_versions, CreateVersion, DeleteVersion, VersionRow,
};
#[allow(unused_imports)]
use crate::components::badges::*;
use crate::components::common::{ConfirmSubmit, ErrorPanel, FormError, Loading};
use crate::domain::variable_types::TypeConstraint;
use crate::error::AppError;
use leptos::prelude::*;

/// What a template's versions card reads and does. Made by the page, at its top: a resource
/// made inside what a `Suspend` renders is made twice on the server when its data are already
/// there, and the browser, making it once, would hydrate against another resource's markup.
#[derive(Clone, Copy)]
pub struct TemplateVersionsData {
    create: ServerAction<CreateVersion>,
    delete: ServerAction<DeleteVersion>,
    versions: Resource<Result<Vec<VersionRow>, AppError>>,
    sources: Resource<Result<crate::api::sources::SourcesView, AppError>>,
}

/// A template's source code versions, and (for members) the form that adds one.
#[component]
pub fn TemplateVersions(
    template: String,
    data: TemplateVersionsData,
    is_abstract: bool,
    can_edit: bool,
) -> AnyView {
    let TemplateVersionsData {
        create,
        delete,
        versions,
        sources,
    } = data;
    let template = StoredValue::new(template);
    if is_abstract {
        return view! {
            <section class="card">
                <h2>"Source code versions"</h2>
                <p class="muted">"Abstract templates group others; only concrete templates have source code."</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="card">
            <h2>"Source code versions"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match versions.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No version yet: add the module this template is built from."</p> }.into_any(),
                        Ok(list) => list.into_iter().map(|version| view! { <VersionItem version can_edit delete /> }).collect_view().into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
            <FormError result=delete.value().into() />
            {can_edit.then(|| view! {
                <h3>"Add a version"</h3>
                <Transition fallback=|| view! { <Loading /> }>
                    {move || Suspend::new(async move {
                        let template = template.get_value();
                        match sources.await {
                            Ok(data) if data.sources.is_empty() => view! { <p class="muted">"Register a "<a href="/catalog/sources">"source code repository"</a>" first."</p> }.into_any(),
                            Ok(data) => view! { <NewVersionForm template data create /> }.into_any(),
                            Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        }
                    })}
                </Transition>
            })}
        </section>
    }
    .into_any()
}

/// One version: its ref, module and interface, and Delete (which asks first) for members.
#[component]
fn VersionItem(
    version: VersionRow,
    can_edit: bool,
    delete: ServerAction<DeleteVersion>,
) -> AnyView {
    let v = version;
    let id = v.id;
    let question = format!(
        "Delete the version {}? Resources made from it must be deleted first.",
        v.git_ref
    );
    let title = format!(
        "{} · {}",
        v.git_ref,
        if v.module_path.is_empty() {
            "/".to_string()
        } else {
            format!("{}/", v.module_path)
        }
    );
    let meta = {
        use crate::domain::names::counted;
        format!(
            "{} · commit {} · {}, {} · {}",
            crate::domain::integrations::shown_repository_url(&v.source_url),
            v.commit.chars().take(12).collect::<String>(),
            counted(v.interface.variables.len() as u64, "variable", "variables"),
            counted(v.interface.outputs.len() as u64, "output", "outputs"),
            counted(v.resources as u64, "resource", "resources"),
        )
    };
    view! {
            <details class="version">
                <summary><strong>{title}</strong><span class="muted">{meta}</span></summary>
                <Interface version=v.clone() />
                {can_edit.then(|| view! {
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=id.to_string() />
                        <ConfirmSubmit label="Delete this version" class="button small ghost danger" question=question.clone() />
                    </ActionForm>
                })}
            </details>
        }
    .into_any()
}

/// Adding a version: a repository, a tag or branch and a module folder, with the refs and
/// modules the repositories hold offered as suggestions.
#[component]
fn NewVersionForm(
    template: String,
    data: crate::api::sources::SourcesView,
    create: ServerAction<CreateVersion>,
) -> AnyView {
    let refs: Vec<String> = data
        .sources
        .iter()
        .flat_map(|s| {
            s.listing
                .tags
                .iter()
                .chain(s.listing.branches.iter())
                .cloned()
        })
        .collect();
    let modules: Vec<String> = data
        .sources
        .iter()
        .flat_map(|s| s.listing.modules.iter().cloned())
        .collect();
    view! {
            <ActionForm action=create attr:class="binding-form">
                <input type="hidden" name="version[template]" value=template />
                <label>
                    <span>"Repository"</span>
                    <select name="version[source_id]">
                        {data.sources.iter().map(|s| view! { <option value=s.id.to_string()>{crate::domain::integrations::shown_repository_url(&s.url)}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>"Tag or branch"</span>
                    <input type="text" name="version[git_ref]" required list="version-refs" placeholder="v1.2.0" />
                    <datalist id="version-refs">{refs.into_iter().map(|r| view! { <option value=r /> }).collect_view()}</datalist>
                </label>
                <label>
                    <span>"Module folder"</span>
                    <input type="text" name="version[module_path]" list="version-modules" placeholder="folder of the module (blank: the repository root)" />
                    <datalist id="version-modules">{modules.into_iter().map(|m| view! { <option value=m /> }).collect_view()}</datalist>
                </label>
                <button type="submit" class="button primary">{move || if create.pending().get() { "Reading the module…" } else { "Add version" }}</button>
            </ActionForm>
            <FormError result=create.value().into() />
        }
        .into_any()
    .into_any()
}

impl TemplateVersionsData {
    /// For the template `key` names (the page's parameter).
    pub fn new(key: impl Fn() -> String + Send + Sync + 'static) -> Self {
        let create = ServerAction::<CreateVersion>::new();
        let delete = ServerAction::<DeleteVersion>::new();
        let versions = Resource::new(
            move || (key(), create.version().get(), delete.version().get()),
            |(key, _, _)| get_template_versions(key),
        );
        let sources = Resource::new(|| (), |_| get_sources());
        TemplateVersionsData {
            create,
            delete,
            versions,
            sources,
        }
    }
}

/// One version's variables and outputs as a compact table.
#[component]
pub fn Interface(version: VersionRow) -> AnyView {
    view! {
        <div class="table-wrap flat">
            <table class="table interface-table">
                <thead><tr><th scope="col">"Variable"</th><th scope="col">"Type"</th><th scope="col">"Default"</th><th scope="col">"Description and rules"</th></tr></thead>
                <tbody>
                    {version.interface.variables.into_iter().map(|v| {
                        let type_text = v.type_expr.clone().unwrap_or_else(|| "any".into());
                        let described = TypeConstraint::parse(v.type_expr.as_deref()).map(|t| t.describe()).unwrap_or_default();
                        view! {
                            <tr>
                                <td>
                                    <code>{v.name.clone()}</code>
                                    {v.is_required().then(|| view! { " " <span class="badge required">"required"</span> })}
                                    {v.sensitive.then(|| view! { " " <span class="badge sensitive">"sensitive"</span> })}
                                </td>
                                <td><code title=described>{type_text}</code></td>
                                <td>{v.default.as_ref().map(|d| view! { <code>{d.to_string()}</code> })}</td>
                                <td>
                                    {v.description.clone()}
                                    {v.validations.iter().map(|r| rule_view("", r)).collect_view()}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <p class="muted">"Outputs: "{version.interface.outputs.iter().map(|o| view! { <code class="output">{o.name.clone()}</code>" " }).collect_view()}</p>
    }
    .into_any()
}
