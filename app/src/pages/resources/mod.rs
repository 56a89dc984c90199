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

mod detail;
mod form;
mod runs;
pub use detail::*;
pub use form::*;
#[allow(unused_imports)]
use {detail::*, form::*, runs::*};

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
                                <span>{format!("Page {current} of {pages} · {}", crate::domain::names::counted(page.total, "resource", "resources"))}</span>
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
