//! Checking a resource form against its template version and module: every problem at once.

use super::*;

/// A form or a stored row, checked and turned into everything a write needs.
pub(crate) struct Prepared {
    pub(crate) name: String,
    pub(crate) template: templates::Model,
    pub(crate) version: source_code_versions::Model,
    pub(crate) parents: Vec<resources::Model>,
    pub(crate) integrations: Vec<IntegrationRow>,
    pub(crate) stored: StoredValues,
    pub(crate) snapshot: Snapshot,
}

/// The problems of one submission, each naming its field, refused together.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    fn about(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| f == field)
    }

    fn refuse(self) -> AppResult<()> {
        AppError::invalid_all(self.0).map_or(Ok(()), Err)
    }
}

/// Checks a resource form (or a stored row being regenerated) against its template version:
/// name, parents, integrations, each variable's value and the module's own rules. Every problem
/// of the submission is reported at once; only a template or version that cannot be found stops
/// the checking early.
pub(crate) async fn prepare<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    slug: &str,
    input: &ResourceInput,
    existing: Option<&StoredValues>,
    revision: i32,
) -> AppResult<Prepared> {
    let mut problems = Problems::default();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        problems.add("name", "must not be empty");
    } else if let Err(m) = validate_text(&name, 200) {
        problems.add("name", m);
    }
    let (template, version) = template_version(db, input).await?;
    let interface: ModuleInterface =
        serde_json::from_str(&version.interface).map_err(AppError::internal)?;
    let source = source_codes::Entity::find_by_id(version.source_code_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a version's source code is missing"))?;
    let parents = chosen_parents(db, slug, input, template.id, &mut problems).await?;
    let chosen_integrations = chosen_integrations(db, input, &mut problems).await?;
    for key in input.values.keys() {
        if !interface.variables.iter().any(|v| &v.name == key) {
            problems.add(
                format!("values.{key}"),
                format!(
                    "{key} is not a variable of {} {}",
                    template.key, version.git_ref
                ),
            );
        }
    }
    let offered = super::output_names(db, &parents).await?;
    let values = Values::read(
        ctx,
        slug,
        Form {
            input,
            interface: &interface,
            offered: &offered,
        },
        existing,
        revision,
        &mut problems,
    )?;
    check_rules(&interface, &values.known, &mut problems);
    let cloud = cloud_blocks(
        &chosen_integrations,
        &format!("{}/{slug}", template.key),
        &mut problems,
    );
    problems.refuse()?;
    let module = ModuleSource {
        repository_url: source.url.clone(),
        module_path: version.module_path.clone(),
        git_ref: version.git_ref.clone(),
    };
    let files = generate_bound(
        slug,
        &module,
        &interface,
        &values.stored.plain,
        &values.stored.bound,
        &cloud,
    )
    .map_err(|e| {
        let field = if interface.variables.iter().any(|v| v.name == e.field) {
            format!("values.{}", e.field)
        } else {
            e.field
        };
        AppError::invalid(field, e.message)
    })?;
    let snapshot = Snapshot {
        name: name.clone(),
        version: version_label(&version),
        parents: parents.iter().map(|p| p.slug.clone()).collect(),
        integrations: chosen_integrations.iter().map(|i| i.slug.clone()).collect(),
        variables: values.shown,
        files: files
            .into_iter()
            .map(|f| CodeFile {
                name: f.name.to_string(),
                contents: f.contents,
            })
            .collect(),
        summary: String::new(),
    };
    Ok(Prepared {
        name,
        template,
        version,
        parents,
        integrations: chosen_integrations,
        stored: values.stored,
        snapshot,
    })
}

/// The concrete template and the version of it the form chose.
async fn template_version<C: ConnectionTrait>(
    db: &C,
    input: &ResourceInput,
) -> AppResult<(templates::Model, source_code_versions::Model)> {
    let template = template_by_key(db, &input.template).await?;
    if template.is_abstract {
        return Err(AppError::invalid(
            "template",
            format!(
                "{} is abstract; resources come from concrete templates",
                template.key
            ),
        ));
    }
    let version_id: i64 = input.version_id.trim().parse().map_err(|_| {
        AppError::invalid(
            "version_id",
            "choose one of the template's source code versions",
        )
    })?;
    let version = source_code_versions::Entity::find_by_id(version_id)
        .one(db)
        .await?
        .filter(|v| v.template_id == template.id)
        .ok_or_else(|| {
            AppError::invalid(
                "version_id",
                format!("{} has no such version", template.key),
            )
        })?;
    Ok((template, version))
}

/// The ticked parents: existing resources, not the resource itself, each an instance of one of
/// the template's parents.
async fn chosen_parents<C: ConnectionTrait>(
    db: &C,
    slug: &str,
    input: &ResourceInput,
    template_id: i64,
    problems: &mut Problems,
) -> AppResult<Vec<resources::Model>> {
    let parent_slugs: Vec<&String> = input.parents.keys().collect();
    if parent_slugs.iter().any(|p| p.as_str() == slug) {
        problems.add("parents", "a resource cannot be its own parent");
    }
    let parents = if parent_slugs.is_empty() {
        Vec::new()
    } else {
        resources::Entity::find()
            .filter(resources::Column::Slug.is_in(parent_slugs.iter().map(|s| s.as_str())))
            .order_by_asc(resources::Column::Slug)
            .all(db)
            .await?
    };
    if let Some(missing) = parent_slugs
        .iter()
        .find(|s| !parents.iter().any(|p| &p.slug == **s))
    {
        problems.add("parents", format!("no resource is named {missing:?}"));
    }
    let template_keys: BTreeMap<i64, String> = templates::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.key))
        .collect();
    let chosen: Vec<(String, String)> = parents
        .iter()
        .map(|p| {
            (
                p.slug.clone(),
                template_keys
                    .get(&p.template_id)
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
    if let Err(m) = check_parents(&parents_of_template(db, template_id).await?, &chosen) {
        if !problems.about("parents") {
            problems.add("parents", m);
        }
    }
    Ok(parents)
}

/// The ticked cloud integrations (they give provider blocks; credentials go to runs as
/// environment).
async fn chosen_integrations<C: ConnectionTrait>(
    db: &C,
    input: &ResourceInput,
    problems: &mut Problems,
) -> AppResult<Vec<IntegrationRow>> {
    let mut chosen = Vec::new();
    for slug in input.integrations.keys() {
        let Some(found) = integrations::Entity::find()
            .filter(integrations::Column::Slug.eq(slug.as_str()))
            .one(db)
            .await?
        else {
            problems.add("integrations", format!("no integration is named {slug:?}"));
            continue;
        };
        let row = crate::server::integrations::row(&found)?;
        if row.kind != IntegrationKind::Cloud {
            problems.add(
                "integrations",
                format!("{} is not a cloud integration", row.slug),
            );
            continue;
        }
        chosen.push(row);
    }
    Ok(chosen)
}

/// The variables' values, read from the form: each typed value checked and required ones
/// present; sensitive ones sealed (or kept sealed from the revision that set them).
struct Values {
    stored: StoredValues,
    /// What the revision shows of each value (never a sensitive one).
    shown: BTreeMap<String, String>,
    /// What the module's validation rules see as `var`: the values given, else the defaults.
    known: serde_json::Map<String, Value>,
}

/// What a submission gives the variables: typed values, bindings to the chosen parents'
/// outputs (`offered`), checked against the module's interface.
struct Form<'a> {
    input: &'a ResourceInput,
    interface: &'a ModuleInterface,
    offered: &'a [(String, String)],
}

impl Values {
    fn read(
        ctx: &AppCtx,
        slug: &str,
        form: Form<'_>,
        existing: Option<&StoredValues>,
        revision: i32,
        problems: &mut Problems,
    ) -> AppResult<Values> {
        let Form {
            input,
            interface,
            offered,
        } = form;
        let mut values = Values {
            stored: StoredValues::default(),
            shown: BTreeMap::new(),
            known: serde_json::Map::new(),
        };
        for name in input.bindings.keys() {
            if !interface.variables.iter().any(|v| &v.name == name) {
                problems.add(
                    format!("values.{name}"),
                    format!("{name} is not a variable of this module"),
                );
            }
        }
        for variable in &interface.variables {
            let field = format!("values.{}", variable.name);
            let text = input
                .values
                .get(&variable.name)
                .map(String::as_str)
                .unwrap_or("");
            let binding = input
                .bindings
                .get(&variable.name)
                .map(|b| b.trim())
                .filter(|b| !b.is_empty());
            if let Some(binding) = binding {
                values.bind(variable, binding, text, offered, &field, problems);
                continue;
            }
            let value = match typed_value(variable, text) {
                Ok(value) => value,
                Err(m) => {
                    problems.add(&field, m);
                    continue;
                }
            };
            if let Some(value) = value.as_ref().or(variable.default.as_ref()) {
                values.known.insert(variable.name.clone(), value.clone());
            }
            let present = if variable.sensitive {
                values.sensitive(ctx, slug, variable, value, existing, revision)?
            } else if let Some(value) = value {
                values.shown.insert(variable.name.clone(), to_form(&value));
                values.stored.plain.insert(variable.name.clone(), value);
                true
            } else {
                false
            };
            if !present && variable.is_required() {
                problems.add(&field, "is required");
            }
        }
        Ok(values)
    }

    /// A variable taken from a chosen parent's output (`parent.output`), resolved when the
    /// resource is planned.
    fn bind(
        &mut self,
        variable: &ModuleVariable,
        binding: &str,
        text: &str,
        offered: &[(String, String)],
        field: &str,
        problems: &mut Problems,
    ) {
        let Some((parent, output)) = binding.split_once('.') else {
            problems.add(
                field,
                format!("{binding:?} names no output: choose one as parent.output"),
            );
            return;
        };
        if !text.trim().is_empty() {
            problems.add(field, "give a value or a parent's output, not both");
            return;
        }
        if !offered.iter().any(|(p, _)| p == parent) {
            problems.add(
                field,
                format!(
                    "{parent} is not a parent of this resource: tick it among the parents first"
                ),
            );
            return;
        }
        if !offered.iter().any(|(p, o)| p == parent && o == output) {
            problems.add(field, format!("{parent} has no output {output}"));
            return;
        }
        self.stored.bound.insert(
            variable.name.clone(),
            (parent.to_string(), output.to_string()),
        );
        self.shown.insert(
            variable.name.clone(),
            format!("(from {parent}'s output {output})"),
        );
    }

    /// A sensitive value: sealed when given, else the one sealed before kept; false when there
    /// is none.
    fn sensitive(
        &mut self,
        ctx: &AppCtx,
        slug: &str,
        variable: &ModuleVariable,
        value: Option<Value>,
        existing: Option<&StoredValues>,
        revision: i32,
    ) -> AppResult<bool> {
        let name = &variable.name;
        let (sealed, set_in) = match value {
            Some(value) => {
                let json = serde_json::to_string(&value).map_err(AppError::internal)?;
                (
                    ctx.secrets.seal(&sealed_purpose(slug, name), &json),
                    revision,
                )
            }
            None => {
                let kept = existing.and_then(|e| {
                    e.sealed.get(name).map(|s| {
                        (
                            s.clone(),
                            e.sensitive_set_in.get(name).copied().unwrap_or(revision),
                        )
                    })
                });
                match kept {
                    Some(kept) => kept,
                    None => return Ok(false),
                }
            }
        };
        self.stored.sealed.insert(name.clone(), sealed);
        self.stored.sensitive_set_in.insert(name.clone(), set_in);
        self.shown.insert(
            name.clone(),
            format!("(sensitive, set in revision {set_in})"),
        );
        Ok(true)
    }
}

/// Arguments with their names owned.
fn owned<V, T: FromIterator<(String, V)>>(arguments: Vec<(&str, V)>) -> T {
    arguments
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// One variable's value from its form text, checked against the module's type; None when empty.
fn typed_value(variable: &ModuleVariable, text: &str) -> Result<Option<Value>, String> {
    if text.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "is {} KiB; a value may be at most {} KiB",
            text.len() / 1024,
            MAX_VALUE_BYTES / 1024
        ));
    }
    TypeConstraint::parse(variable.type_expr.as_deref())
        .map_err(|m| format!("the module's type does not parse: {m}"))?
        .from_form(text, &variable.name)
}

/// The module's own validation rules, as the plan would apply them, with the module's messages.
fn check_rules(
    interface: &ModuleInterface,
    known: &serde_json::Map<String, Value>,
    problems: &mut Problems,
) {
    for variable in &interface.variables {
        for rule in &variable.validations {
            if let crate::server::rules::Verdict::Broken(reason) =
                crate::server::rules::check(&rule.condition, known)
            {
                let message = match reason {
                    Some(reason) => format!("{} ({reason})", rule.error_message),
                    None => rule.error_message.clone(),
                };
                problems.add(format!("values.{}", variable.name), message);
            }
        }
    }
}

/// The provider blocks of the chosen integrations, and the one backend that keeps the state
/// under `state_key` (where the workspace keeps the code: `<template>/<resource>`).
fn cloud_blocks(
    chosen: &[IntegrationRow],
    state_key: &str,
    problems: &mut Problems,
) -> CloudBlocks {
    let providers = chosen
        .iter()
        .filter_map(|i| terraform_provider(i.provider, &i.settings))
        .map(|(name, source, arguments)| ProviderBlock {
            name: name.to_string(),
            source: source.to_string(),
            arguments: owned(arguments),
        })
        .collect();
    let backends: Vec<(String, BackendBlock)> = chosen
        .iter()
        .filter_map(|i| {
            terraform_backend(i.provider, &i.settings, state_key).map(|(kind, arguments)| {
                (
                    i.slug.clone(),
                    BackendBlock {
                        kind: kind.to_string(),
                        arguments: owned(arguments),
                    },
                )
            })
        })
        .collect();
    if let [(first, _), (second, _), ..] = backends.as_slice() {
        problems.add(
            "integrations",
            format!(
                "{first} and {second} both keep remote state; a resource's state lives in one \
                 place, so choose one of them"
            ),
        );
    }
    CloudBlocks {
        providers,
        backend: backends.into_iter().next().map(|(_, block)| block),
    }
}

/// Which fields differ between two snapshots (files are diffed separately).
pub(crate) fn field_changes(before: &Snapshot, after: &Snapshot) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut push = |field: String, a: String, b: String| {
        if a != b {
            changes.push(FieldChange {
                field,
                before: a,
                after: b,
            });
        }
    };
    push("name".into(), before.name.clone(), after.name.clone());
    push(
        "version".into(),
        before.version.clone(),
        after.version.clone(),
    );
    push(
        "parents".into(),
        before.parents.join(", "),
        after.parents.join(", "),
    );
    push(
        "integrations".into(),
        before.integrations.join(", "),
        after.integrations.join(", "),
    );
    let names: BTreeSet<&String> = before
        .variables
        .keys()
        .chain(after.variables.keys())
        .collect();
    for name in names {
        push(
            name.clone(),
            before
                .variables
                .get(name)
                .cloned()
                .unwrap_or_else(|| "(default)".into()),
            after
                .variables
                .get(name)
                .cloned()
                .unwrap_or_else(|| "(default)".into()),
        );
    }
    changes
}
