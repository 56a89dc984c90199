//! The catalog: the template hierarchy drawn as a tree, the templates in a table, and (for
//! members) a form to add one.

use crate::api::catalog::{
    get_catalog, CreateTemplate, DeleteTemplate, TemplateRow, UpdateTemplate,
};
use crate::components::common::{
    ConfirmSubmit, EmptyState, ErrorPanel, FormError, Loading, PageHeader,
};
use crate::domain::templates::TreeBox;
use leptos::prelude::*;
use leptos_meta::Title;

const BOX_WIDTH: usize = 210;
const BOX_HEIGHT: usize = 40;
const COLUMN: usize = 240;
const ROW: usize = 52;

/// The hierarchy as a picture: one box per template, elbow lines from each parent; each box
/// opens its template (by click, or Enter on the keyboard).
#[component]
fn TemplateTree(boxes: Vec<TreeBox>) -> AnyView {
    let navigate = leptos_router::hooks::use_navigate();
    let depth = boxes.iter().map(|b| b.depth).max().unwrap_or(0);
    let width = (depth * COLUMN + BOX_WIDTH + 20).to_string();
    let height = (boxes.len() * ROW + 10).to_string();
    let links = boxes
        .iter()
        .filter_map(|b| {
            let parent = b.parent_row?;
            let x0 = 10 + (b.depth - 1) * COLUMN + 16;
            let y0 = 10 + parent * ROW + BOX_HEIGHT;
            let x1 = 10 + b.depth * COLUMN;
            let y1 = 10 + b.row * ROW + BOX_HEIGHT / 2;
            Some(view! { <path class="tree-link" d=format!("M{x0} {y0} V{y1} H{x1}") /> })
        })
        .collect_view();
    let nodes = boxes
        .into_iter()
        .map(|b| {
            let x = 10 + b.depth * COLUMN;
            let y = 10 + b.row * ROW;
            let class = match (b.is_abstract, b.repeat) {
                (_, true) => "tree-node repeat",
                (true, false) => "tree-node abstract",
                (false, false) => "tree-node concrete",
            };
            let label = if b.is_abstract { format!("{} · abstract", b.name) } else { b.name.clone() };
            let aria = format!("Template {label}");
            let href = format!("/catalog/{}", b.key);
            let (on_click, on_key) = (navigate.clone(), navigate.clone());
            let (click_href, key_href) = (href.clone(), href);
            view! {
                <g
                    class=class
                    role="link"
                    tabindex="0"
                    aria-label=aria
                    on:click=move |_| on_click(&click_href, Default::default())
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" {
                            on_key(&key_href, Default::default());
                        }
                    }
                >
                    <title>{b.key.clone()}</title>
                    <rect x=x.to_string() y=y.to_string() width=BOX_WIDTH.to_string() height=BOX_HEIGHT.to_string() rx="8" />
                    <text x=(x + 14).to_string() y=(y + 25).to_string()>{label}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <div class="tree-wrap">
            <svg class="template-tree" role="group" aria-label="Template hierarchy" width=width.clone() height=height.clone() viewBox=format!("0 0 {width} {height}")>
                {links}
                {nodes}
            </svg>
        </div>
    }
    .into_any()
}

#[component]
pub fn CatalogPage() -> AnyView {
    let create = ServerAction::<CreateTemplate>::new();
    let delete = ServerAction::<DeleteTemplate>::new();
    let catalog = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| get_catalog(),
    );
    view! {
        <Title text="Catalog" />
        <PageHeader title="Catalog" subtitle="Templates backed by OpenTofu and Terraform modules, arranged as a hierarchy.">
            <a class="button ghost" href="/catalog/sources">"Source code"</a>
            <a class="button primary" href="/resources/new">"New resource"</a>
        </PageHeader>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match catalog.await {
                    Ok(view_data) => {
                        let tree = view_data.tree.clone();
                        let keys = view_data.templates.iter().map(|t| t.key.clone()).collect::<Vec<_>>().join(", ");
                        view! {
                            {if view_data.templates.is_empty() {
                                view! {
                                    <EmptyState title="The catalog is empty">
                                        <p>"Add the first template below; abstract templates group the concrete ones under them."</p>
                                    </EmptyState>
                                }.into_any()
                            } else {
                                view! {
                                    <section class="card">
                                        <h2>"Hierarchy"</h2>
                                        <TemplateTree boxes=tree />
                                    </section>
                                    <TemplateTable templates=view_data.templates.clone() can_delete=view_data.can_create delete />
                                    <FormError result=delete.value().into() />
                                }.into_any()
                            }}
                            {view_data.can_create.then(|| view! { <NewTemplateForm create keys=keys.clone() /> })}
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

/// Every template, with Delete (which asks first) for those who may.
#[component]
fn TemplateTable(
    templates: Vec<TemplateRow>,
    can_delete: bool,
    delete: ServerAction<DeleteTemplate>,
) -> AnyView {
    view! {
    <div class="table-wrap">
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Template"</th>
                    <th scope="col">"Kind"</th>
                    <th scope="col">"Parents"</th>
                    <th scope="col">"Description"</th>
                    {can_delete.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                </tr>
            </thead>
            <tbody>
                {templates.into_iter().map(|t| {
                    let key = t.key.clone();
                    view! {
                        <tr>
                            <td><a href=format!("/catalog/{}", t.key)><strong>{t.name}</strong></a><br /><code>{t.key.clone()}</code></td>
                            <td>{if t.is_abstract { "abstract" } else { "concrete" }}</td>
                            <td>{t.parents.into_iter().map(|p| view! { <span class="badge">{p}</span> }).collect_view()}</td>
                            <td>{t.description}</td>
                            {can_delete.then(|| view! {
                                <td class="actions">
                                    <ActionForm action=delete>
                                        <input type="hidden" name="key" value=key.clone() />
                                        <ConfirmSubmit
                                            label="Delete"
                                            class="button small ghost danger"
                                            aria_label=format!("Delete {key}")
                                            question=format!("Delete the template {key}? Its versions go with it; resources made from it must be deleted first.")
                                        />
                                    </ActionForm>
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    </div>
    }
    .into_any()
}

/// Adding a template to the catalog.
#[component]
fn NewTemplateForm(create: ServerAction<CreateTemplate>, keys: String) -> AnyView {
    view! {
        <section class="card">
        <h2>"New template"</h2>
        <ActionForm action=create attr:class="binding-form">
            <label>
                <span>"Key"</span>
                <input type="text" name="template[key]" required placeholder="aws-vpc" />
            </label>
            <label>
                <span>"Name"</span>
                <input type="text" name="template[name]" required placeholder="VPC" />
            </label>
            <label class="grow">
                <span>"Description"</span>
                <input type="text" name="template[description]" />
            </label>
            <label>
                <span>"Parents (keys, comma-separated)"</span>
                <input type="text" name="template[parents]" placeholder=keys.clone() />
            </label>
            <label class="checkbox">
                <input type="checkbox" name="template[is_abstract]" value="true" />
                <span>"Abstract"</span>
            </label>
            <button type="submit" class="button primary">"Add template"</button>
        </ActionForm>
        <FormError result=create.value().into() />
    </section>
    }
    .into_any()
}

/// One template: its place in the hierarchy and, for members, the form to change it.
#[component]
pub fn TemplatePage() -> AnyView {
    let params = leptos_router::hooks::use_params_map();
    let key = move || params.read().get("key").unwrap_or_default();
    let update = ServerAction::<UpdateTemplate>::new();
    let catalog = Resource::new(move || (key(), update.version().get()), |_| get_catalog());
    let versions = crate::components::template_versions::TemplateVersionsData::new(key);
    view! {
        <Title text="Template" />
        <PageHeader title="Template" />
        <p><a href="/catalog">"← Catalog"</a></p>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                let wanted = key();
                match catalog.await {
                    Ok(data) => match data.templates.iter().find(|t| t.key == wanted).cloned() {
                        Some(template) => {
                            let can_edit = data.can_create;
                            view! {
                                <section class="card">
                                    <h2>{template.name.clone()}</h2>
                                    <dl class="facts">
                                        <dt>"Key"</dt><dd><code>{template.key.clone()}</code></dd>
                                        <dt>"Kind"</dt><dd>{if template.is_abstract { "abstract" } else { "concrete" }}</dd>
                                        <dt>"Parents"</dt>
                                        <dd>{template.parents.iter().map(|p| {
                                            let href = format!("/catalog/{p}");
                                            view! { <a class="badge link" href=href>{p.clone()}</a> }
                                        }).collect_view()}</dd>
                                        <dt>"Description"</dt><dd>{template.description.clone()}</dd>
                                    </dl>
                                </section>
                                <crate::components::template_versions::TemplateVersions template=template.key.clone() data=versions is_abstract=template.is_abstract can_edit />
                                {(!template.is_abstract).then(|| view! {
                                    <p><a class="button" href=format!("/resources/new?template={}", template.key)>"New resource from this template"</a></p>
                                })}
                                {can_edit.then(|| view! {
                                    <section class="card">
                                        <h2>"Change this template"</h2>
                                        <ActionForm action=update attr:class="binding-form">
                                            <input type="hidden" name="template[key]" value=template.key.clone() />
                                            <label>
                                                <span>"Name"</span>
                                                <input type="text" name="template[name]" required value=template.name.clone() />
                                            </label>
                                            <label class="grow">
                                                <span>"Description"</span>
                                                <input type="text" name="template[description]" value=template.description.clone() />
                                            </label>
                                            <label>
                                                <span>"Parents (keys, comma-separated)"</span>
                                                <input type="text" name="template[parents]" value=template.parents.join(", ") />
                                            </label>
                                            <label class="checkbox">
                                                <input type="checkbox" name="template[is_abstract]" value="true" checked=template.is_abstract />
                                                <span>"Abstract"</span>
                                            </label>
                                            <button type="submit" class="button primary">"Save"</button>
                                        </ActionForm>
                                        <FormError result=update.value().into() />
                                    </section>
                                })}
                            }
                            .into_any()
                        }
                        None => view! {
                            <ErrorPanel error=crate::error::AppError::not_found(format_args!("The template {wanted:?}")) />
                        }
                        .into_any(),
                    },
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}
