//! Integrations: the list by kind, one integration's page (settings, which secrets are set, the
//! connection test for git hosts), and the provider-specific form for creating and editing.
//! Secret fields are write-only: the form never holds a stored secret.

use crate::api::integrations::{
    get_integration, get_integrations, CreateIntegration, DeleteIntegration, IntegrationDetail,
    IntegrationRow, TestIntegration, UpdateIntegration,
};
use crate::components::common::{
    ConfirmSubmit, EmptyState, ErrorPanel, FieldMessage, FormError, Loading, PageHeader,
};
use crate::domain::integrations::{Input, IntegrationKind, Provider};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

/// The provider's fields. `current` fills plain settings back in and says which secrets are
/// stored; secrets are never filled in.
#[component]
fn ProviderFields(
    provider: Provider,
    current: Option<IntegrationRow>,
    result: Signal<Option<Result<IntegrationRow, AppError>>>,
) -> AnyView {
    let fields = provider.fields();
    if fields.is_empty() {
        return view! { <p class="muted">"This provider needs no settings."</p> }.into_any();
    }
    fields
        .iter()
        .map(|field| {
            let group = if field.secret { "secrets" } else { "settings" };
            let name = format!("input[{group}][{}]", field.name);
            let stored = current.as_ref().is_some_and(|c| c.secrets_set.iter().any(|s| s == field.name));
            let value = current
                .as_ref()
                .and_then(|c| c.settings.get(field.name).cloned())
                .or_else(|| field.default.map(str::to_string))
                .unwrap_or_default();
            let placeholder = if field.secret && stored {
                "Stored encrypted; type a new value to rotate it".to_string()
            } else if field.secret {
                "Write-only: stored encrypted, never shown again".to_string()
            } else {
                String::new()
            };
            let required = field.required && !(field.secret && stored);
            let field_name = field.name.to_string();
            let error = move || match result.get() {
                Some(Err(error)) => error.message_for(&field_name),
                _ => None,
            };
            let control = match (field.input, field.secret) {
                (Input::Choice(options), _) => view! {
                    <select name=name.clone()>
                        {options.iter().map(|o| view! { <option value=*o selected=*o == value>{*o}</option> }).collect_view()}
                    </select>
                }
                .into_any(),
                (Input::Multiline, true) => view! {
                    <textarea name=name.clone() rows="4" class="mono" spellcheck="false" autocomplete="off" placeholder=placeholder.clone() required=required></textarea>
                }
                .into_any(),
                (_, true) => view! {
                    <input type="password" name=name.clone() autocomplete="new-password" placeholder=placeholder.clone() required=required />
                }
                .into_any(),
                (_, false) => view! {
                    <input type="text" name=name.clone() value=value.clone() required=required />
                }
                .into_any(),
            };
            view! {
                <label class=if field.input == Input::Multiline { "grow" } else { "" }>
                    <span>
                        {field.label}
                        {field.secret.then(|| view! { " " <span class="badge sensitive">{if stored { "secret · set" } else { "secret" }}</span> })}
                    </span>
                    {control}
                    <small class="hint">{field.help}</small>
                    {move || error().map(|m| view! { <small class="field-error" role="alert">{m}</small> })}
                </label>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
pub fn IntegrationsPage() -> AnyView {
    let create = ServerAction::<CreateIntegration>::new();
    let listed = Resource::new(move || create.version().get(), |_| get_integrations());
    let provider = RwSignal::new(Provider::Github);
    let result: Signal<Option<Result<IntegrationRow, AppError>>> = create.value().into();
    view! {
        <Title text="Integrations" />
        <PageHeader title="Integrations" subtitle="Credentials and settings for clouds, git hosts and sign-in providers. Secrets are encrypted at rest and never shown again." />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match listed.await {
                    Ok(data) => {
                        let rows = data.integrations.clone();
                        view! {
                            {if rows.is_empty() {
                                view! { <EmptyState title="No integrations yet"><p>"An administrator adds the first one below."</p></EmptyState> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap">
                                        <table class="table">
                                            <thead><tr><th scope="col">"Integration"</th><th scope="col">"Kind"</th><th scope="col">"Provider"</th><th scope="col">"Settings"</th><th scope="col">"Secrets"</th></tr></thead>
                                            <tbody>
                                                {rows.into_iter().map(|i| view! {
                                                    <tr>
                                                        <td><a href=format!("/integrations/{}", i.slug)><strong>{i.name.clone()}</strong></a><br /><code>{i.slug.clone()}</code></td>
                                                        <td>{i.kind.label()}</td>
                                                        <td><span class=format!("provider provider-{}", i.provider.as_str())>{i.provider.label()}</span></td>
                                                        <td class="muted">{i.settings.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(" · ")}</td>
                                                        <td>{i.secrets_set.iter().map(|s| view! { <span class="badge sensitive">{format!("{s} ✓")}</span> }).collect_view()}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            }}
                            {data.can_create.then(|| view! {
                                <section class="card">
                                    <h2>"New integration"</h2>
                                    <label class="provider-picker">
                                        <span>"Provider"</span>
                                        <select on:change=move |ev| if let Some(p) = Provider::parse(&event_target_value(&ev)) { provider.set(p) }>
                                            {[IntegrationKind::Cloud, IntegrationKind::Git, IntegrationKind::Auth].into_iter().map(|kind| view! {
                                                <optgroup label=kind.label()>
                                                    {Provider::ALL.into_iter().filter(|p| p.kind() == kind).map(|p| view! {
                                                        <option value=p.as_str() selected=move || provider.get() == p>{p.label()}</option>
                                                    }).collect_view()}
                                                </optgroup>
                                            }).collect_view()}
                                        </select>
                                    </label>
                                    <ActionForm action=create attr:class="settings-form">
                                        <input type="hidden" name="input[provider]" value=move || provider.get().as_str() />
                                        <label><span>"Slug"</span><input type="text" name="input[slug]" required pattern=crate::domain::names::SLUG_PATTERN placeholder="aws-production" aria-describedby="new-integration-slug" /><FieldMessage result field="slug" id="new-integration-slug" /></label>
                                        <label><span>"Name"</span><input type="text" name="input[name]" required placeholder="what people call it, e.g. Production account" aria-describedby="new-integration-name" /><FieldMessage result field="name" id="new-integration-name" /></label>
                                        <label class="grow"><span>"Description"</span><input type="text" name="input[description]" aria-describedby="new-integration-description" /><FieldMessage result field="description" id="new-integration-description" /></label>
                                        {move || view! { <ProviderFields provider=provider.get() current=None result /> }}
                                        <div class="form-actions"><button type="submit" class="button primary">"Add integration"</button></div>
                                    </ActionForm>
                                    <FormError result />
                                </section>
                            })}
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
pub fn IntegrationPage() -> AnyView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let update = ServerAction::<UpdateIntegration>::new();
    let delete = ServerAction::<DeleteIntegration>::new();
    let test = ServerAction::<TestIntegration>::new();
    let detail = Resource::new(
        move || (slug(), update.version().get()),
        |(s, _)| get_integration(s),
    );
    let result: Signal<Option<Result<IntegrationRow, AppError>>> = update.value().into();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/integrations", Default::default());
        }
    });
    view! {
        <Title text="Integration" />
        <p><a href="/integrations">"← Integrations"</a></p>
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => {
                        let i = detail.integration.clone();
                        let is_git = i.kind == IntegrationKind::Git;
                        view! {
                            <div class="page-header">
                                <div>
                                    <h1>{i.name.clone()}</h1>
                                    <p class="subtitle">{format!("{} · {}", i.kind.label(), i.provider.label())}</p>
                                </div>
                            </div>
                            <div class="grid two">
                                <IntegrationFacts detail=detail.clone() />
                                {is_git.then(|| view! { <ConnectionTest slug=i.slug.clone() test /> })}
                            </div>
                            {detail.can_edit.then(|| view! { <IntegrationEdit integration=i.clone() update delete result /> })}
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

/// The integration's settings, which secrets are set (never their values), and what uses it.
#[component]
fn IntegrationFacts(detail: IntegrationDetail) -> AnyView {
    let i = detail.integration.clone();
    view! {
    <section class="card">
        <h2>"Settings"</h2>
        <dl class="facts">
            <dt>"Slug"</dt><dd><code>{i.slug.clone()}</code></dd>
            <dt>"Description"</dt><dd>{i.description.clone()}</dd>
            {i.settings.iter().map(|(k, v)| view! { <dt>{k.clone()}</dt><dd><code>{v.clone()}</code></dd> }).collect_view()}
            <dt>"Secrets"</dt>
            <dd>{if i.secrets_set.is_empty() { view! { <span class="muted">"none"</span> }.into_any() } else { i.secrets_set.iter().map(|s| view! { <span class="badge sensitive">{format!("{s} · set")}</span> }).collect_view().into_any() }}</dd>
            <dt>"Changed"</dt><dd>{i.updated_at.clone()}</dd>
            <dt>"Used by"</dt>
            <dd>{if detail.used_by.is_empty() { view! { <span class="muted">"nothing yet"</span> }.into_any() } else { detail.used_by.iter().map(|u| view! { <span class="badge">{u.clone()}</span> }).collect_view().into_any() }}</dd>
        </dl>
    </section>
    }
    .into_any()
}

/// A git host's connection test: signs in with the stored credentials and says what it saw.
#[component]
fn ConnectionTest(slug: String, test: ServerAction<TestIntegration>) -> AnyView {
    view! {
    <section class="card">
        <h2>"Connection"</h2>
        <p class="muted">"Signs in to the host with the stored credentials and checks the organisation is visible."</p>
        <ActionForm action=test>
            <input type="hidden" name="slug" value=slug />
            <button type="submit" class="button">{move || if test.pending().get() { "Testing…" } else { "Test connection" }}</button>
        </ActionForm>
        {move || match test.value().get() {
            Some(Ok(message)) => Some(view! { <p class="form-ok" role="status">{message}</p> }.into_any()),
            Some(Err(error)) => Some(view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()),
            None => None,
        }}
    </section>
}
    .into_any()
}

/// Changing the settings or rotating secrets, and deleting the integration (which asks first
/// and is refused while something uses it).
#[component]
fn IntegrationEdit(
    integration: IntegrationRow,
    update: ServerAction<UpdateIntegration>,
    delete: ServerAction<DeleteIntegration>,
    result: Signal<Option<Result<IntegrationRow, AppError>>>,
) -> AnyView {
    let i = integration;
    let current = Some(i.clone());
    let slug = i.slug.clone();
    let question = format!(
        "Delete the integration {}? Its stored secrets are destroyed; anything set up with it must be set up again.",
        i.name
    );
    view! {
        <section class="card">
            <h2>"Change settings or rotate secrets"</h2>
            <ActionForm action=update attr:class="settings-form">
                <input type="hidden" name="input[slug]" value=i.slug.clone() />
                <input type="hidden" name="input[provider]" value=i.provider.as_str() />
                <label><span>"Name"</span><input type="text" name="input[name]" required value=i.name.clone() aria-describedby="integration-name" /><FieldMessage result field="name" id="integration-name" /></label>
                <label class="grow"><span>"Description"</span><input type="text" name="input[description]" value=i.description.clone() aria-describedby="integration-description" /><FieldMessage result field="description" id="integration-description" /></label>
                <ProviderFields provider=i.provider current result />
                <div class="form-actions"><button type="submit" class="button primary">"Save"</button></div>
            </ActionForm>
            {move || matches!(result.get(), Some(Ok(_))).then(|| view! { <p class="form-ok" role="status">"Saved."</p> })}
            <FormError result />
        </section>
        <section class="card danger-zone">
            <h2>"Delete"</h2>
            <p class="muted">"Refused while source code or resources use it."</p>
            <ActionForm action=delete>
                <input type="hidden" name="slug" value=slug />
                <ConfirmSubmit label="Delete integration" class="button danger" question />
            </ActionForm>
            <FormError result=delete.value().into() />
        </section>
    }
    .into_any()
}
