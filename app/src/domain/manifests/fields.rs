//! Reading each manifest kind's fields, every problem collected.

use super::*;

/// Reads one mapping's fields, remembering which were asked for, so that the rest can be
/// reported as unknown (with the nearest known name).
pub(crate) struct Fields<'a> {
    pub(crate) node: &'a Node,
    pub(crate) entries: &'a [(Node, Node)],
}

impl<'a> Fields<'a> {
    pub(crate) fn of(node: &'a Node, what: &str, errors: &mut Errors) -> Option<Fields<'a>> {
        match &node.value {
            Value::Mapping(entries) => Some(Fields { node, entries }),
            _ => {
                errors.at(
                    node.pos,
                    format!("{what} must be a mapping, not {}", node.kind()),
                );
                None
            }
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    }

    pub(crate) fn required(&self, key: &str, what: &str, errors: &mut Errors) -> Option<&'a Node> {
        let found = self.get(key);
        if found.is_none() {
            errors.at(self.node.pos, format!("{what} needs `{key}`"));
        }
        found
    }

    /// Reports every key that is not in `known`.
    pub(crate) fn only(&self, known: &[&str], errors: &mut Errors) {
        for (key, _) in self.entries {
            let name = key.as_str().unwrap_or_default();
            if !known.contains(&name) {
                errors.at(key.pos, unknown("field", name, known));
            }
        }
    }
}

pub(crate) fn text(node: &Node, what: &str, errors: &mut Errors) -> Option<String> {
    match node.as_str() {
        Some(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        _ => {
            errors.at(
                node.pos,
                format!("{what} must be a non-empty text, not {}", node.kind()),
            );
            None
        }
    }
}

pub(crate) fn texts(node: &Node, what: &str, errors: &mut Errors) -> Vec<String> {
    match &node.value {
        Value::Sequence(items) => items.iter().filter_map(|i| text(i, what, errors)).collect(),
        _ => {
            errors.at(
                node.pos,
                format!("{what} must be a list, not {}", node.kind()),
            );
            Vec::new()
        }
    }
}

/// A name that becomes a path, a branch or a workflow file name: letters, digits, `-`, `_`, `.`,
/// starting with a letter or digit, at most 100 characters.
pub fn check_name(value: &str) -> Result<(), String> {
    let ok = value.len() <= 100
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !value.contains("..");
    if ok {
        Ok(())
    } else {
        Err("must be letters, digits, '-', '_' or '.', starting with a letter or digit (at most 100)".into())
    }
}

pub(crate) fn safe_name(node: &Node, what: &str, errors: &mut Errors) -> Option<String> {
    let value = text(node, what, errors)?;
    match check_name(&value) {
        Ok(()) => Some(value),
        Err(why) => {
            errors.at(node.pos, format!("{what} {value:?} {why}"));
            None
        }
    }
}

/// A list of names that each pass [`safe_name`].
pub(crate) fn names(node: &Node, what: &str, errors: &mut Errors) -> Vec<String> {
    match &node.value {
        Value::Sequence(items) => items
            .iter()
            .filter_map(|i| safe_name(i, what, errors))
            .collect(),
        _ => {
            errors.at(
                node.pos,
                format!("{what} must be a list, not {}", node.kind()),
            );
            Vec::new()
        }
    }
}

/// GitHub logins: letters, digits and single hyphens, not at either end, at most 39.
pub(crate) fn logins(node: &Node, what: &str, errors: &mut Errors) -> Vec<String> {
    let Value::Sequence(items) = &node.value else {
        errors.at(
            node.pos,
            format!("{what} must be a list, not {}", node.kind()),
        );
        return Vec::new();
    };
    let mut found = Vec::new();
    for item in items {
        let Some(value) = text(item, what, errors) else {
            continue;
        };
        let value = value.strip_prefix('@').unwrap_or(&value).to_string();
        let ok = !value.is_empty()
            && value.len() <= 39
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--")
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            found.push(value);
        } else {
            errors.at(
                item.pos,
                format!("{what}: {value:?} is not a GitHub login (letters, digits and single hyphens, at most 39)"),
            );
        }
    }
    found
}

/// A CODEOWNERS path pattern: no whitespace, comment, negation, escape or character class
/// (GitHub's CODEOWNERS supports none of those).
pub(crate) fn owned_path(node: &Node, errors: &mut Errors) -> Option<String> {
    let value = text(node, "codeOwners.path", errors)?;
    let bad = value
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | '\\' | '[' | ']' | '!'));
    match bad {
        _ if value.len() > 255 => {
            errors.at(
                node.pos,
                "codeOwners.path is longer than 255 characters".into(),
            );
            None
        }
        Some(c) => {
            errors.at(
                node.pos,
                format!("codeOwners.path {value:?}: {c:?} is not allowed in a CODEOWNERS pattern"),
            );
            None
        }
        None => Some(value),
    }
}

pub(crate) fn principals(node: &Node, what: &str, errors: &mut Errors) -> Principals {
    let Some(fields) = Fields::of(node, what, errors) else {
        return Principals::default();
    };
    fields.only(&["groups", "users"], errors);
    Principals {
        groups: fields
            .get("groups")
            .map(|n| names(n, &format!("{what}.groups"), errors))
            .unwrap_or_default(),
        users: fields
            .get("users")
            .map(|n| logins(n, &format!("{what}.users"), errors))
            .unwrap_or_default(),
    }
}

pub(crate) fn metadata(node: &Node, errors: &mut Errors) -> Option<Metadata> {
    let fields = Fields::of(node, "metadata", errors)?;
    fields.only(&["name", "parent", "github-connection"], errors);
    let name = fields
        .required("name", "metadata", errors)
        .and_then(|n| safe_name(n, "metadata.name", errors));
    let parent = fields.get("parent").and_then(|n| {
        let value = text(n, "metadata.parent", errors)?;
        match value.split_once('/') {
            Some((kind, parent)) if KINDS.contains(&kind) && !parent.is_empty() => {
                Some((kind.to_string(), parent.to_string()))
            }
            Some((kind, _)) if !KINDS.contains(&kind) => {
                errors.at(n.pos, unknown("kind", kind, &KINDS));
                None
            }
            _ => {
                errors.at(n.pos, format!("metadata.parent {value:?} must be Kind/name, as GithubRepository/my-service"));
                None
            }
        }
    });
    let github_connection = fields
        .get("github-connection")
        .and_then(|n| safe_name(n, "metadata.github-connection", errors));
    Some(Metadata {
        name: name?,
        parent,
        github_connection,
        pos: node.pos,
    })
}

pub(crate) fn github_repository(
    meta: Metadata,
    spec: &Node,
    errors: &mut Errors,
) -> Option<GithubRepository> {
    use crate::domain::versioning::Strategy;
    let fields = Fields::of(spec, "spec", errors)?;
    fields.only(&["strategy", "permissions", "codeOwners"], errors);
    let strategies: Vec<&str> = Strategy::ALL.iter().map(|s| s.as_str()).collect();
    let strategy = fields.required("strategy", "spec", errors).and_then(|n| {
        let value = text(n, "spec.strategy", errors)?;
        let found = Strategy::parse(&value);
        if found.is_none() {
            errors.at(n.pos, unknown("strategy", &value, &strategies));
        }
        found
    });
    let (mut administrators, mut contributors) = (Principals::default(), Principals::default());
    if let Some(node) = fields.get("permissions") {
        if let Some(permissions) = Fields::of(node, "spec.permissions", errors) {
            permissions.only(&["administrators", "contributors"], errors);
            if let Some(n) = permissions.get("administrators") {
                administrators = principals(n, "spec.permissions.administrators", errors);
            }
            if let Some(n) = permissions.get("contributors") {
                contributors = principals(n, "spec.permissions.contributors", errors);
            }
        }
    }
    let mut code_owners = Vec::new();
    if let Some(node) = fields.get("codeOwners") {
        match &node.value {
            Value::Sequence(items) => {
                for item in items {
                    let Some(entry) = Fields::of(item, "a codeOwners entry", errors) else {
                        continue;
                    };
                    entry.only(&["path", "groups", "users"], errors);
                    let path = entry
                        .required("path", "a codeOwners entry", errors)
                        .and_then(|n| owned_path(n, errors));
                    let owners = Principals {
                        groups: entry
                            .get("groups")
                            .map(|n| names(n, "codeOwners.groups", errors))
                            .unwrap_or_default(),
                        users: entry
                            .get("users")
                            .map(|n| logins(n, "codeOwners.users", errors))
                            .unwrap_or_default(),
                    };
                    if owners.groups.is_empty() && owners.users.is_empty() {
                        errors.at(item.pos, "a codeOwners entry needs groups or users".into());
                    }
                    if let Some(path) = path {
                        code_owners.push(CodeOwner { path, owners });
                    }
                }
            }
            _ => errors.at(
                node.pos,
                format!("spec.codeOwners must be a list, not {}", node.kind()),
            ),
        }
    }
    Some(GithubRepository {
        metadata: meta,
        strategy: strategy?,
        administrators,
        contributors,
        code_owners,
    })
}

pub(crate) fn build_definition(
    meta: Metadata,
    spec: &Node,
    errors: &mut Errors,
) -> Option<BuildDefinition> {
    let fields = Fields::of(spec, "spec", errors)?;
    let types: Vec<&str> = BuildType::ALL.iter().map(|t| t.as_str()).collect();
    let build_type = fields.required("type", "spec", errors).and_then(|n| {
        let value = text(n, "spec.type", errors)?;
        let found = BuildType::parse(&value);
        if found.is_none() {
            errors.at(n.pos, unknown("build type", &value, &types));
        }
        found
    });
    // The type's settings live under its name in lower case (`golang:`, `flutter_web:`).
    let settings_key = build_type.map(|t| t.as_str().to_lowercase());
    let mut known = vec!["type", "stages", "containerize"];
    if let Some(key) = &settings_key {
        known.push(key);
    }
    fields.only(&known, errors);
    let stages = fields
        .required("stages", "spec", errors)
        .map(|node| build_stages(node, build_type, errors))
        .unwrap_or_default();
    let settings = match (settings_key.as_deref(), build_type) {
        (Some(key), Some(build_type)) => fields
            .get(key)
            .map(|node| build_settings(node, key, build_type, errors))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let containerize = fields
        .get("containerize")
        .map(|node| containerize_targets(node, &stages, errors))
        .unwrap_or_default();
    Some(BuildDefinition {
        metadata: meta,
        build_type: build_type?,
        stages,
        settings,
        containerize,
    })
}

/// `spec.stages`: each a stage the build type has, none twice.
fn build_stages(node: &Node, build_type: Option<BuildType>, errors: &mut Errors) -> Vec<Stage> {
    let mut stages = Vec::new();
    let Value::Sequence(items) = &node.value else {
        errors.at(
            node.pos,
            format!("spec.stages must be a list, not {}", node.kind()),
        );
        return stages;
    };
    for item in items {
        let Some(value) = text(item, "a stage", errors) else {
            continue;
        };
        let all: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
        match Stage::parse(&value) {
            None => errors.at(item.pos, unknown("stage", &value, &all)),
            Some(stage) if stages.contains(&stage) => {
                errors.at(item.pos, format!("stage `{value}` is listed twice"))
            }
            Some(stage) => match build_type {
                Some(t) if !t.stages().contains(&stage) => errors.at(
                    item.pos,
                    format!(
                        "stage `{value}` is not available for {}; it has {}",
                        t.as_str(),
                        t.stages()
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                _ => stages.push(stage),
            },
        }
    }
    if items.is_empty() {
        errors.at(node.pos, "spec.stages lists no stage".into());
    }
    stages
}

/// The build type's own settings (`spec.golang:`, `spec.flutter_web:`), each checked.
fn build_settings(
    node: &Node,
    key: &str,
    build_type: BuildType,
    errors: &mut Errors,
) -> Vec<(String, Vec<String>)> {
    let mut settings = Vec::new();
    let what = format!("spec.{key}");
    let Some(own) = Fields::of(node, &what, errors) else {
        return settings;
    };
    let schema = build_type.settings();
    let names: Vec<&str> = schema.iter().map(|s| s.key).collect();
    own.only(&names, errors);
    for setting in schema {
        let Some(value) = own.get(setting.key) else {
            continue;
        };
        let key = format!("{what}.{}", setting.key);
        let values = if setting.many {
            texts(value, &key, errors)
        } else {
            text(value, &key, errors).into_iter().collect()
        };
        let mut good = true;
        for v in &values {
            if let Err(why) = (setting.check)(v) {
                errors.at(value.pos, format!("{key} {v:?}: {why}"));
                good = false;
            }
        }
        if good && !values.is_empty() {
            settings.push((setting.key.to_string(), values));
        }
    }
    settings
}

/// `spec.containerize`: the images to build, each with a name and its registries.
fn containerize_targets(node: &Node, stages: &[Stage], errors: &mut Errors) -> Vec<Containerize> {
    let mut containerize = Vec::new();
    if !stages.contains(&Stage::Containerize) {
        errors.at(
            node.pos,
            "containerize targets need the `containerize` stage".into(),
        );
    }
    let Value::Sequence(items) = &node.value else {
        errors.at(
            node.pos,
            format!("spec.containerize must be a list, not {}", node.kind()),
        );
        return containerize;
    };
    for item in items {
        let Some(target) = Fields::of(item, "a containerize target", errors) else {
            continue;
        };
        target.only(&["name", "registries"], errors);
        let name = target
            .required("name", "a containerize target", errors)
            .and_then(|n| safe_name(n, "containerize.name", errors));
        let registries = target
            .required("registries", "a containerize target", errors)
            .map(|n| names(n, "containerize.registries", errors))
            .unwrap_or_default();
        if let Some(name) = name {
            containerize.push(Containerize { name, registries });
        }
    }
    containerize
}
