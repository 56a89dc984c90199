//! The resource form: its fields from the template's variables, checked as you type, for a new
//! resource and an edit.

use super::*;

/// The error message for one field of the last submission, if it was about that field.
pub(super) fn field_error(
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
/// What a variable may take from a parent: the outputs offered, and the one it takes now.
#[derive(Clone, Default)]
pub struct Binding {
    pub choices: Vec<String>,
    pub bound: Option<String>,
}

#[component]
pub(super) fn VariableField(
    variable: ModuleVariable,
    current: Option<String>,
    sensitive_set: bool,
    #[prop(optional)] binding: Binding,
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
    // A variable that may take a parent's output is not required as typed: the form cannot
    // know before it is sent which of the two is given (the server checks that one is).
    let required = variable.is_required()
        && !(variable.sensitive && sensitive_set)
        && binding.choices.is_empty();
    let bind_name = format!("input[bindings][{}]", variable.name);
    let bind_id = format!("bind-{}", variable.name);
    let bind_choice = (!binding.choices.is_empty()).then(|| {
        let bound = binding.bound.clone().unwrap_or_default();
        view! {
            <label class="bind-choice" for=bind_id.clone()>
                <span class="hint">"or take it from a parent's output (resolved when planned)"</span>
                <select id=bind_id.clone() name=bind_name.clone()>
                    <option value="" selected=bound.is_empty()>"— the value typed above —"</option>
                    {binding.choices.iter().map(|c| view! { <option value=c.clone() selected=*c == bound>{c.replace('.', " → ")}</option> }).collect_view()}
                </select>
            </label>
        }
    });
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
            {bind_choice}
            {variable.validations.iter().map(|v| crate::components::badges::rule_view("Must hold: ", v)).collect_view()}
            {move || error().map(|message| view! { <p class="field-error" id=error_id.clone() role="alert">{message}</p> })}
        </div>
    }
    .into_any()
}

/// The form's fields for a template: name, version, parents, integrations and the variables of
/// the chosen version. Used for creating and for editing.
#[component]
pub(super) fn ResourceFields(
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
    let offered = StoredValue::new(form.parent_outputs.clone());
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
        <Choices form=form.clone() parents=parents_chosen integrations=integrations_chosen result />
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
        <div class="variables"><VersionVariables version versions current_values offered result /></div>
    }
    .into_any()
}

/// The chosen version's variables, each with its field: changing the version changes them.
#[component]
fn VersionVariables(
    version: RwSignal<i64>,
    versions: StoredValue<Vec<VersionRow>>,
    current_values: StoredValue<Vec<crate::api::resources::VariableValue>>,
    /// The candidate parents' outputs a variable may take, `(parent, output)`.
    offered: StoredValue<Vec<(String, String)>>,
    result: Signal<Option<Result<ResourceListRow, AppError>>>,
) -> AnyView {
    (move || {
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
                let (value, sensitive_set, bound) = stored
                    .map(|s| (s.value, s.sensitive_set, s.bound_from))
                    .unwrap_or((None, false, None));
                // Outputs named like the variable first: they are the likely fit.
                let mut choices: Vec<String> =
                    offered.with_value(|o| o.iter().map(|(p, out)| format!("{p}.{out}")).collect());
                choices.sort_by_key(|c| !c.ends_with(&format!(".{}", variable.name)));
                let binding = Binding { choices, bound };
                view! { <VariableField variable current=value sensitive_set binding result /> }
            })
            .collect_view()
            .into_any()
    })
    .into_any()
}

/// The parent resources and cloud integrations to choose from, with those chosen ticked.
#[component]
fn Choices(
    form: ResourceForm,
    parents: Vec<String>,
    integrations: Vec<String>,
    result: Signal<Option<Result<ResourceListRow, AppError>>>,
) -> AnyView {
    let (parents_chosen, integrations_chosen) = (parents, integrations);
    let error_for = move |field: &str| field_error(result, field.to_string());
    view! {
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
                        <span>{i.name.clone()}" "<span class="badge">{i.provider.label()}</span></span>
                    </label>
                }).collect_view().into_any()
            }}
            {move || error_for("integrations")().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </fieldset>
    }
    .into_any()
}

/// Under the form: what went wrong, unless the message already stands beside its field.
#[component]
pub(super) fn FormSummary(result: Signal<Option<Result<ResourceListRow, AppError>>>) -> AnyView {
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
pub(super) fn go_to_saved(result: Signal<Option<Result<ResourceListRow, AppError>>>) {
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
