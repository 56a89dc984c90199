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

pub(crate) async fn prepare<C: ConnectionTrait>(
    ctx: &AppCtx,
    db: &C,
    slug: &str,
    input: &ResourceInput,
    existing: Option<&StoredValues>,
    revision: i32,
) -> AppResult<Prepared> {
    // Every problem of the submission is collected and reported at once; only a template or
    // version that cannot be found stops the checking early.
    let mut problems: Vec<(String, String)> = Vec::new();
    macro_rules! problem {
        ($field:expr, $message:expr $(,)?) => {
            problems.push((($field).to_string(), $message))
        };
    }
    let name = input.name.trim().to_string();
    if name.is_empty() {
        problem!("name", "must not be empty".into());
    } else if let Err(m) = validate_text(&name, 200) {
        problem!("name", m);
    }
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
    let interface: ModuleInterface =
        serde_json::from_str(&version.interface).map_err(AppError::internal)?;
    let source = source_codes::Entity::find_by_id(version.source_code_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a version's source code is missing"))?;

    // Parents: ticked resources, each an instance of one of the template's parents.
    let parent_slugs: Vec<&String> = input.parents.keys().collect();
    if parent_slugs.iter().any(|p| p.as_str() == slug) {
        problem!("parents", "a resource cannot be its own parent".into());
    }
    let parents = if parent_slugs.is_empty() {
        vec![]
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
        problem!("parents", format!("no resource is named {missing:?}"));
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
    if let Err(m) = check_parents(&parents_of_template(db, template.id).await?, &chosen) {
        if !problems.iter().any(|(f, _)| f == "parents") {
            problem!("parents", m);
        }
    }

    // Cloud integrations give provider blocks (credentials go to runs as environment).
    let mut chosen_integrations = Vec::new();
    for integration_slug in input.integrations.keys() {
        let Some(found) = integrations::Entity::find()
            .filter(integrations::Column::Slug.eq(integration_slug.as_str()))
            .one(db)
            .await?
        else {
            problem!(
                "integrations",
                format!("no integration is named {integration_slug:?}"),
            );
            continue;
        };
        let row = crate::server::integrations::row(&found)?;
        if row.kind != IntegrationKind::Cloud {
            problem!(
                "integrations",
                format!("{} is not a cloud integration", row.slug),
            );
            continue;
        }
        chosen_integrations.push(row);
    }

    // Variables: unknown names refused, each typed value checked, required ones present.
    for key in input.values.keys() {
        if !interface.variables.iter().any(|v| &v.name == key) {
            problem!(
                &format!("values.{key}"),
                format!(
                    "{key} is not a variable of {} {}",
                    template.key, version.git_ref
                ),
            );
        }
    }
    let mut stored = StoredValues::default();
    let mut shown = BTreeMap::new();
    // What the module's validation rules see as `var`: the values given, else the defaults.
    let mut known = serde_json::Map::new();
    for variable in &interface.variables {
        let field = format!("values.{}", variable.name);
        let text = input
            .values
            .get(&variable.name)
            .map(String::as_str)
            .unwrap_or("");
        if text.len() > MAX_VALUE_BYTES {
            problem!(
                &field,
                format!(
                    "is {} KiB; a value may be at most {} KiB",
                    text.len() / 1024,
                    MAX_VALUE_BYTES / 1024
                ),
            );
            continue;
        }
        let constraint = match TypeConstraint::parse(variable.type_expr.as_deref()) {
            Ok(constraint) => constraint,
            Err(m) => {
                problem!(&field, format!("the module's type does not parse: {m}"));
                continue;
            }
        };
        let value = match constraint.from_form(text, &variable.name) {
            Ok(value) => value,
            Err(m) => {
                problem!(&field, m);
                continue;
            }
        };
        match (&value, &variable.default) {
            (Some(value), _) | (None, Some(value)) => {
                known.insert(variable.name.clone(), value.clone());
            }
            (None, None) => {}
        }
        if variable.sensitive {
            match value {
                Some(value) => {
                    let json = serde_json::to_string(&value).map_err(AppError::internal)?;
                    stored.sealed.insert(
                        variable.name.clone(),
                        ctx.secrets
                            .seal(&sealed_purpose(slug, &variable.name), &json),
                    );
                    stored
                        .sensitive_set_in
                        .insert(variable.name.clone(), revision);
                }
                None => {
                    let kept = existing.and_then(|e| {
                        e.sealed
                            .get(&variable.name)
                            .map(|s| (s.clone(), e.sensitive_set_in.get(&variable.name).copied()))
                    });
                    match kept {
                        Some((sealed, set_in)) => {
                            stored.sealed.insert(variable.name.clone(), sealed);
                            stored
                                .sensitive_set_in
                                .insert(variable.name.clone(), set_in.unwrap_or(revision));
                        }
                        None if variable.is_required() => {
                            problem!(&field, "is required".into());
                        }
                        None => {}
                    }
                }
            }
            if let Some(set_in) = stored.sensitive_set_in.get(&variable.name) {
                shown.insert(
                    variable.name.clone(),
                    format!("(sensitive, set in revision {set_in})"),
                );
            }
        } else {
            match value {
                Some(value) => {
                    shown.insert(variable.name.clone(), to_form(&value));
                    stored.plain.insert(variable.name.clone(), value);
                }
                None if variable.is_required() => {
                    problem!(&field, "is required".into());
                }
                None => {}
            }
        }
    }

    // The module's own rules, as the plan would apply them, with the module's messages.
    for variable in &interface.variables {
        for rule in &variable.validations {
            if let crate::server::rules::Verdict::Broken(reason) =
                crate::server::rules::check(&rule.condition, &known)
            {
                let message = match reason {
                    Some(reason) => format!("{} ({reason})", rule.error_message),
                    None => rule.error_message.clone(),
                };
                problem!(&format!("values.{}", variable.name), message);
            }
        }
    }

    let providers: Vec<ProviderBlock> = chosen_integrations
        .iter()
        .filter_map(|i| terraform_provider(i.provider, &i.settings))
        .map(|(name, source, arguments)| ProviderBlock {
            name: name.to_string(),
            source: source.to_string(),
            arguments: arguments
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        })
        .collect();
    // State goes where the workspace keeps the code: `<template>/<resource>`.
    let state_key = format!("{}/{slug}", template.key);
    let mut backends = chosen_integrations.iter().filter_map(|i| {
        terraform_backend(i.provider, &i.settings, &state_key).map(|(kind, arguments)| {
            (
                i.slug.clone(),
                BackendBlock {
                    kind: kind.to_string(),
                    arguments: arguments
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                },
            )
        })
    });
    let backend = backends.next();
    if let (Some((first, _)), Some((second, _))) = (&backend, backends.next()) {
        problem!(
            "integrations",
            format!(
                "{first} and {second} both keep remote state; a resource's state lives in one \
                 place, so choose one of them"
            ),
        );
    }
    if let Some(refused) = AppError::invalid_all(problems) {
        return Err(refused);
    }
    let cloud = CloudBlocks {
        providers,
        backend: backend.map(|(_, block)| block),
    };
    let files = generate(
        slug,
        &ModuleSource {
            repository_url: source.url.clone(),
            module_path: version.module_path.clone(),
            git_ref: version.git_ref.clone(),
        },
        &interface,
        &stored.plain,
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
        variables: shown,
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
        stored,
        snapshot,
    })
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
