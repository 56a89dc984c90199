//! Source code: the module repositories Slipway mirrors (tags, branches, module folders), and a
//! template's versions with the interface discovered at each.

use crate::api::sources::{get_sources, CreateSource, DeleteSource, RefreshSource, SourceCodeRow};
#[allow(unused_imports)]
use crate::components::badges::*;
use crate::components::common::{
    ConfirmSubmit, EmptyState, ErrorPanel, FormError, Loading, PageHeader,
};
#[allow(unused_imports)]
use crate::components::template_versions::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn SourceCard(
    source: SourceCodeRow,
    can_change: bool,
    refresh: ServerAction<RefreshSource>,
    delete: ServerAction<DeleteSource>,
) -> AnyView {
    let listing = source.listing.clone();
    view! {
        <section class="card source-card">
            <header class="source-head">
                <div>
                    <h2><code>{crate::domain::integrations::shown_repository_url(&source.url)}</code></h2>
                    <p class="muted">
                        {format!("Through {} · ", source.integration)}
                        {source.refreshed_at.clone().map(|t| format!("fetched {t}")).unwrap_or_else(|| "never fetched".into())}
                        {listing.default_branch.clone().map(|b| format!(" · default branch {b}"))}
                    </p>
                    {(!source.description.is_empty()).then(|| view! { <p>{source.description.clone()}</p> })}
                </div>
                {can_change.then(|| view! {
                    <div class="button-row">
                        <ActionForm action=refresh>
                            <input type="hidden" name="id" value=source.id.to_string() />
                            <button type="submit" class="button small">"Fetch now"</button>
                        </ActionForm>
                        <ActionForm action=delete>
                            <input type="hidden" name="id" value=source.id.to_string() />
                            <ConfirmSubmit
                                label="Remove"
                                class="button small ghost danger"
                                question=format!("Remove the repository {}? Refused while template versions use it.", crate::domain::integrations::shown_repository_url(&source.url))
                            />
                        </ActionForm>
                    </div>
                })}
            </header>
            {source.last_error.clone().map(|e| view! { <p class="form-error" role="alert">{format!("The last fetch failed: {e}")}</p> })}
            <dl class="facts">
                <dt>"Modules"</dt>
                <dd>{listing.modules.iter().map(|m| view! { <span class="badge module">{if m.is_empty() { "/".to_string() } else { format!("{m}/") }}</span> }).collect_view()}</dd>
                <dt>"Tags"</dt>
                <dd>{listing.tags.iter().map(|t| view! { <span class="badge tag">{t.clone()}</span> }).collect_view()}</dd>
                <dt>"Branches"</dt>
                <dd>{listing.branches.iter().map(|b| view! { <span class="badge">{b.clone()}</span> }).collect_view()}</dd>
            </dl>
        </section>
    }
    .into_any()
}

#[component]
pub fn SourcesPage() -> AnyView {
    let create = ServerAction::<CreateSource>::new();
    let refresh = ServerAction::<RefreshSource>::new();
    let delete = ServerAction::<DeleteSource>::new();
    let listed = Resource::new(
        move || {
            (
                create.version().get(),
                refresh.version().get(),
                delete.version().get(),
            )
        },
        |_| get_sources(),
    );
    view! {
        <Title text="Source code" />
        <PageHeader title="Source code" subtitle="Git repositories of OpenTofu and Terraform modules. Slipway keeps a mirror of each and reads modules from it.">
            <a class="button ghost" href="/catalog">"Templates"</a>
        </PageHeader>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match listed.await {
                    Ok(data) => view! {
                        {data.sources.is_empty().then(|| view! {
                            <EmptyState title="No source code yet"><p>"Register a repository of modules below."</p></EmptyState>
                        })}
                        {data.sources.into_iter().map(|source| view! { <SourceCard source can_change=data.can_create refresh delete /> }).collect_view()}
                        <FormError result=refresh.value().into() />
                        <FormError result=delete.value().into() />
                        {data.can_create.then(|| view! {
                            <section class="card">
                                <h2>"Register a repository"</h2>
                                <ActionForm action=create attr:class="binding-form">
                                    <label class="grow"><span>"Repository URL"</span><input type="text" name="source[url]" required placeholder="https://github.com/acme/terraform-modules.git" /></label>
                                    <label>
                                        <span>"Git integration"</span>
                                        <select name="source[integration]">
                                            {data.git_integrations.iter().map(|i| view! { <option value=i.slug.clone()>{format!("{} ({})", i.name, i.provider.label())}</option> }).collect_view()}
                                        </select>
                                    </label>
                                    <label class="grow"><span>"Description"</span><input type="text" name="source[description]" /></label>
                                    <button type="submit" class="button primary">{move || if create.pending().get() { "Fetching…" } else { "Register" }}</button>
                                </ActionForm>
                                <FormError result=create.value().into() />
                            </section>
                        })}
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}
