//! The OpenTofu files generated for one resource: `main.tf` (the module, every variable wired),
//! `variables.tf` (each variable with the resource's value as its default) and `outputs.tf`
//! (the module's outputs re-exported). Deterministic: the same resource gives the same bytes.
//! Sensitive values are never written: they reach the run as `TF_VAR_<name>`.

use super::hcl::{file, quote, Item};
use super::modules::{ModuleInterface, ModuleOutput, ModuleVariable};
use super::names::validate_slug;
use super::variable_types::TypeConstraint;
use serde_json::Value;
use std::collections::BTreeMap;

/// The largest value one variable may hold, as JSON text.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSource {
    pub repository_url: String,
    /// Folder inside the repository, relative, without `..`.
    pub module_path: String,
    /// A tag or branch.
    pub git_ref: String,
}

/// A `provider` block the resource's cloud integrations call for: local name, registry source,
/// and the non-secret arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderBlock {
    pub name: String,
    pub source: String,
    pub arguments: Vec<(String, String)>,
}

/// The `backend` block keeping the resource's state remotely: its type (`s3`, `azurerm`, `gcs`)
/// and its arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct BackendBlock {
    pub kind: String,
    pub arguments: Vec<(String, Value)>,
}

/// What the resource's cloud integrations add to the module: provider blocks and at most one
/// state backend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CloudBlocks {
    pub providers: Vec<ProviderBlock>,
    pub backend: Option<BackendBlock>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    pub name: &'static str,
    pub contents: String,
}

/// A problem with the resource's input, naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeError {
    pub field: String,
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> CodeError {
    CodeError {
        field: field.into(),
        message: message.into(),
    }
}

/// A module path a user may choose: relative, inside the repository, plain characters.
pub fn validate_module_path(path: &str) -> Result<String, String> {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.starts_with('/') || trimmed.contains('\\') {
        return Err("must be a relative path inside the repository".into());
    }
    let mut parts = Vec::new();
    for part in trimmed.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("must not leave the repository (no '..')".into()),
            part if part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
            {
                parts.push(part)
            }
            part => return Err(format!("{part:?} holds characters a module folder may not")),
        }
    }
    Ok(parts.join("/"))
}

/// A tag or branch name that git accepts and that cannot smuggle options or a URL part.
pub fn validate_git_ref(git_ref: &str) -> Result<(), String> {
    let ok_chars = git_ref
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if git_ref.is_empty() || git_ref.len() > 200 {
        return Err("must be 1–200 characters".into());
    }
    if !ok_chars
        || git_ref.starts_with(['-', '/', '.'])
        || git_ref.ends_with(['/', '.'])
        || git_ref.contains("..")
        || git_ref.contains("//")
        || git_ref.ends_with(".lock")
    {
        return Err(format!("{git_ref:?} is not a valid tag or branch name"));
    }
    Ok(())
}

/// A repository URL OpenTofu and git can fetch: https, http, ssh, file or scp-like
/// `git@host:path`, with no credentials, spaces, quotes, query or fragment.
pub fn validate_repository_url(url: &str) -> Result<(), String> {
    let scheme_ok = ["https://", "http://", "ssh://", "file://"]
        .iter()
        .any(|s| url.starts_with(s))
        || (url.starts_with("git@") && url.contains(':'));
    if !scheme_ok
        || url.len() > 2000
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'?#`$".contains(c))
    {
        return Err(
            "must be an https, http, ssh, file or git@host: URL without spaces, quotes, '?' or '#'"
                .into(),
        );
    }
    if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    {
        let authority = rest.split('/').next().unwrap_or("");
        if authority.is_empty() {
            return Err("must name a host".into());
        }
        if authority.contains('@') {
            return Err(
                "must not hold a user name or token; the integration supplies credentials".into(),
            );
        }
    }
    Ok(())
}

/// `git::<url>//<path>?ref=<ref>`, the module source OpenTofu fetches.
pub fn module_source(source: &ModuleSource) -> Result<String, CodeError> {
    let url = source.repository_url.trim();
    validate_repository_url(url).map_err(|m| error("repository_url", m))?;
    let path = validate_module_path(&source.module_path).map_err(|m| error("module_path", m))?;
    validate_git_ref(&source.git_ref).map_err(|m| error("ref", m))?;
    let mut out = format!("git::{url}");
    if !path.is_empty() {
        out.push_str("//");
        out.push_str(&path);
    }
    out.push_str("?ref=");
    out.push_str(&source.git_ref);
    Ok(out)
}

/// Variables whose value a parent's output supplies at run time: variable → (parent resource,
/// output).
pub type Bindings = BTreeMap<String, (String, String)>;

/// Checks the resource's values against the module's variables: no unknown names, the right
/// types, every required variable set (sensitive ones may be supplied at run time), bounded size.
pub fn check_values(
    variables: &[ModuleVariable],
    values: &BTreeMap<String, Value>,
) -> Result<(), CodeError> {
    check_bound_values(variables, values, &Bindings::new())
}

/// [`check_values`], with the variables `bound` to parents' outputs supplied at run time.
fn check_bound_values(
    variables: &[ModuleVariable],
    values: &BTreeMap<String, Value>,
    bound: &Bindings,
) -> Result<(), CodeError> {
    for name in values.keys() {
        if !variables.iter().any(|v| &v.name == name) {
            return Err(error(name.clone(), "is not a variable of this module"));
        }
    }
    for variable in variables {
        match values.get(&variable.name) {
            Some(value) => {
                if value.to_string().len() > MAX_VALUE_BYTES {
                    return Err(error(
                        variable.name.clone(),
                        format!("is larger than {} KiB", MAX_VALUE_BYTES / 1024),
                    ));
                }
                let constraint =
                    TypeConstraint::parse(variable.type_expr.as_deref()).map_err(|m| {
                        error(
                            variable.name.clone(),
                            format!("the module's type does not parse: {m}"),
                        )
                    })?;
                constraint
                    .check(value, &variable.name)
                    .map_err(|m| error(variable.name.clone(), m))?;
            }
            None if variable.default.is_none()
                && !variable.sensitive
                && !bound.contains_key(&variable.name) =>
            {
                return Err(error(variable.name.clone(), "is required"));
            }
            None => {}
        }
    }
    Ok(())
}

/// The files, in the order a reader opens them: `main.tf`, `variables.tf`, `outputs.tf`,
/// `providers.tf` when the resource's integrations call for provider blocks, and `backend.tf`
/// when one of them keeps state remotely.
pub fn generate(
    resource_slug: &str,
    source: &ModuleSource,
    interface: &ModuleInterface,
    values: &BTreeMap<String, Value>,
    cloud: &CloudBlocks,
) -> Result<Vec<GeneratedFile>, CodeError> {
    generate_bound(
        resource_slug,
        source,
        interface,
        values,
        &Bindings::new(),
        cloud,
    )
}

/// [`generate`], with variables `bound` to parents' outputs: they get no default (the value is
/// resolved when the resource is planned and given as `TF_VAR_<name>`), and their description
/// says where the value comes from.
pub fn generate_bound(
    resource_slug: &str,
    source: &ModuleSource,
    interface: &ModuleInterface,
    values: &BTreeMap<String, Value>,
    bound: &Bindings,
    cloud: &CloudBlocks,
) -> Result<Vec<GeneratedFile>, CodeError> {
    validate_slug(resource_slug).map_err(|m| error("name", m))?;
    // An interface read before names were checked may still hold one that would end a line.
    for name in interface
        .variables
        .iter()
        .map(|v| &v.name)
        .chain(interface.outputs.iter().map(|o| &o.name))
    {
        crate::domain::names::validate_identifier(name)
            .map_err(|m| error("template", format!("the module declares a bad name: {m}")))?;
    }
    check_bound_values(&interface.variables, values, bound)?;
    let source_text = module_source(source)?;
    let mut variables: Vec<&ModuleVariable> = interface.variables.iter().collect();
    variables.sort_by(|a, b| a.name.cmp(&b.name));
    let mut outputs: Vec<&ModuleOutput> = interface.outputs.iter().collect();
    outputs.sort_by(|a, b| a.name.cmp(&b.name));

    let mut module_body = vec![Item::Attribute("source".into(), quote(&source_text))];
    if !variables.is_empty() {
        module_body.push(Item::Blank);
        for variable in &variables {
            module_body.push(Item::Attribute(
                variable.name.clone(),
                format!("var.{}", variable.name),
            ));
        }
    }
    let main = file(&[Item::Block(
        format!("module {}", quote(resource_slug)),
        module_body,
    )]);

    let variable_blocks = variable_blocks(&variables, values, bound);
    let output_blocks = output_blocks(resource_slug, &outputs);
    let mut files = vec![
        GeneratedFile {
            name: "main.tf",
            contents: main,
        },
        GeneratedFile {
            name: "variables.tf",
            contents: file(&variable_blocks),
        },
        GeneratedFile {
            name: "outputs.tf",
            contents: file(&output_blocks),
        },
    ];
    if !cloud.providers.is_empty() {
        files.push(GeneratedFile {
            name: "providers.tf",
            contents: providers_file(&cloud.providers)?,
        });
    }
    if let Some(backend) = &cloud.backend {
        files.push(GeneratedFile {
            name: "backend.tf",
            contents: backend_file(backend)?,
        });
    }
    Ok(files)
}

/// `variables.tf`: each variable with its type and description, and its value as the default
/// (a sensitive one gets none: its value is set where the run is, never written).
fn variable_blocks(
    variables: &[&ModuleVariable],
    values: &BTreeMap<String, Value>,
    bound: &Bindings,
) -> Vec<Item> {
    variables
        .iter()
        .map(|variable| {
            let mut body = Vec::new();
            if let Some(type_expr) = &variable.type_expr {
                body.push(Item::Attribute("type".into(), type_expr.clone()));
            }
            let from = bound
                .get(&variable.name)
                .map(|(parent, output)| format!("Set by Slipway from {parent}'s output {output}."));
            let description = match (&variable.description, from.as_ref()) {
                (Some(d), Some(from)) => Some(format!("{d} {from}")),
                (Some(d), None) => Some(d.clone()),
                (None, from) => from.cloned(),
            };
            if let Some(description) = &description {
                body.push(Item::Attribute("description".into(), quote(description)));
            }
            if bound.contains_key(&variable.name) {
                // Resolved when planned; no default to fall back to.
            } else if variable.sensitive {
                body.push(Item::Attribute("sensitive".into(), "true".into()));
            } else if let Some(value) = values.get(&variable.name).or(variable.default.as_ref()) {
                body.push(Item::Attribute(
                    "default".into(),
                    super::hcl::literal(value, 1),
                ));
            }
            Item::Block(format!("variable {}", quote(&variable.name)), body)
        })
        .collect()
}

/// `outputs.tf`: each module output passed through under its own name.
fn output_blocks(resource_slug: &str, outputs: &[&ModuleOutput]) -> Vec<Item> {
    outputs
        .iter()
        .map(|output| {
            let mut body = vec![Item::Attribute(
                "value".into(),
                format!("module.{resource_slug}.{}", output.name),
            )];
            if let Some(description) = &output.description {
                body.push(Item::Attribute("description".into(), quote(description)));
            }
            if output.sensitive {
                body.push(Item::Attribute("sensitive".into(), "true".into()));
            }
            Item::Block(format!("output {}", quote(&output.name)), body)
        })
        .collect()
}

/// `backend.tf`: where the state is kept, when an integration keeps it remotely.
fn backend_file(backend: &BackendBlock) -> Result<String, CodeError> {
    if !super::hcl::is_identifier(&backend.kind)
        || !backend
            .arguments
            .iter()
            .all(|(k, _)| super::hcl::is_identifier(k))
    {
        return Err(error(
            "integrations",
            format!("{:?} is not a backend Slipway can write", backend.kind),
        ));
    }
    let arguments = backend
        .arguments
        .iter()
        .map(|(k, v)| Item::Attribute(k.clone(), super::hcl::literal(v, 2)))
        .collect();
    Ok(file(&[Item::Block(
        "terraform".into(),
        vec![Item::Block(
            format!("backend {}", quote(&backend.kind)),
            arguments,
        )],
    )]))
}

/// `terraform { required_providers { … } }` and one `provider` block per provider, sorted by
/// name so the output does not depend on the order integrations were chosen in.
fn providers_file(providers: &[ProviderBlock]) -> Result<String, CodeError> {
    let mut providers: Vec<&ProviderBlock> = providers.iter().collect();
    providers.sort_by(|a, b| a.name.cmp(&b.name));
    providers.dedup_by(|a, b| a.name == b.name);
    let mut required = Vec::new();
    let mut blocks = Vec::new();
    for provider in &providers {
        if !super::hcl::is_identifier(&provider.name) {
            return Err(error(
                "integrations",
                format!("{:?} is not a provider name", provider.name),
            ));
        }
        required.push(Item::Attribute(
            provider.name.clone(),
            super::hcl::literal(&serde_json::json!({ "source": provider.source }), 2),
        ));
        let arguments = provider
            .arguments
            .iter()
            .map(|(k, v)| Item::Attribute(k.clone(), quote(v)))
            .collect();
        blocks.push(Item::Block(
            format!("provider {}", quote(&provider.name)),
            arguments,
        ));
    }
    let mut all = vec![Item::Block(
        "terraform".into(),
        vec![Item::Block("required_providers".into(), required)],
    )];
    all.extend(blocks);
    Ok(file(&all))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn interface(variables: &[ModuleVariable], outputs: &[ModuleOutput]) -> ModuleInterface {
        ModuleInterface {
            variables: variables.to_vec(),
            outputs: outputs.to_vec(),
        }
    }

    pub(crate) fn vpc_module() -> (ModuleSource, Vec<ModuleVariable>, Vec<ModuleOutput>) {
        let variable =
            |name: &str, type_expr: &str, default: Option<Value>, sensitive: bool| ModuleVariable {
                name: name.into(),
                type_expr: Some(type_expr.into()),
                description: Some(format!("The {name}")),
                default,
                sensitive,
                nullable: true,
                validations: vec![],
                file: "main.tf".into(),
            };
        (
            ModuleSource {
                repository_url: "https://git.example.com/platform/modules.git".into(),
                module_path: "aws-vpc/".into(),
                git_ref: "v1.2.0".into(),
            },
            vec![
                variable("vpc_name", "string", None, false),
                variable("cidr_block", "string", Some(json!("10.0.0.0/16")), false),
                variable("azs", "list(string)", Some(json!(["us-east-1a"])), false),
                variable("tags", "map(string)", Some(json!({})), false),
                variable("admin_password", "string", None, true),
            ],
            vec![
                ModuleOutput {
                    name: "vpc_id".into(),
                    description: Some("The VPC's id".into()),
                    sensitive: false,
                    file: "outputs.tf".into(),
                },
                ModuleOutput {
                    name: "admin_password".into(),
                    description: None,
                    sensitive: true,
                    file: "outputs.tf".into(),
                },
            ],
        )
    }

    #[test]
    fn a_vpc_resource_generates_three_deterministic_files() {
        let (source, variables, outputs) = vpc_module();
        let values: BTreeMap<String, Value> = [
            ("vpc_name".to_string(), json!("production-vpc")),
            (
                "tags".to_string(),
                json!({"team": "platform", "cost-centre": "42"}),
            ),
        ]
        .into_iter()
        .collect();
        let files = generate(
            "production-vpc",
            &source,
            &interface(&variables, &outputs),
            &values,
            &CloudBlocks::default(),
        )
        .unwrap();
        assert_eq!(
            files[0].contents,
            "module \"production-vpc\" {\n  source = \"git::https://git.example.com/platform/modules.git//aws-vpc?ref=v1.2.0\"\n\n  admin_password = var.admin_password\n  azs            = var.azs\n  cidr_block     = var.cidr_block\n  tags           = var.tags\n  vpc_name       = var.vpc_name\n}\n"
        );
        assert!(files[1].contents.contains("variable \"admin_password\" {\n  type        = string\n  description = \"The admin_password\"\n  sensitive   = true\n}\n"));
        assert!(
            !files[1].contents.contains("admin_password\"\n  default"),
            "sensitive values are never written"
        );
        assert!(files[1].contents.contains(
            "  default = {\n    cost-centre = \"42\"\n    team        = \"platform\"\n  }\n"
        ));
        assert!(files[2].contents.contains("output \"vpc_id\" {\n  value       = module.production-vpc.vpc_id\n  description = \"The VPC's id\"\n}\n"));
        // Same input, same bytes, whatever order the module listed things in.
        let mut reversed = variables.clone();
        reversed.reverse();
        assert_eq!(
            generate(
                "production-vpc",
                &source,
                &interface(&reversed, &outputs),
                &values,
                &CloudBlocks::default()
            )
            .unwrap(),
            files
        );
    }

    #[test]
    fn bad_input_names_its_field_and_generates_nothing() {
        let (source, variables, outputs) = vpc_module();
        let with = |pairs: &[(&str, Value)]| -> BTreeMap<String, Value> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        };
        let attempt = |values: BTreeMap<String, Value>| {
            generate(
                "vpc",
                &source,
                &interface(&variables, &outputs),
                &values,
                &CloudBlocks::default(),
            )
            .unwrap_err()
        };
        assert_eq!(attempt(with(&[])), error("vpc_name", "is required"));
        assert_eq!(
            attempt(with(&[("vpc_name", json!("a")), ("colour", json!("red"))])),
            error("colour", "is not a variable of this module")
        );
        assert_eq!(
            attempt(with(&[("vpc_name", json!(42))])),
            error("vpc_name", "vpc_name must be a string")
        );
        assert_eq!(
            attempt(with(&[("vpc_name", json!("x".repeat(10 * 1024 * 1024)))])),
            error("vpc_name", "is larger than 256 KiB")
        );
        let mut escaping = source.clone();
        escaping.module_path = "../../etc".into();
        let values = with(&[("vpc_name", json!("a"))]);
        assert_eq!(
            generate(
                "vpc",
                &escaping,
                &interface(&variables, &outputs),
                &values,
                &CloudBlocks::default()
            )
            .unwrap_err(),
            error("module_path", "must not leave the repository (no '..')")
        );
        let mut bad_ref = source.clone();
        bad_ref.git_ref = "--upload-pack=evil".into();
        assert_eq!(
            generate(
                "vpc",
                &bad_ref,
                &interface(&variables, &outputs),
                &values,
                &CloudBlocks::default()
            )
            .unwrap_err()
            .field,
            "ref"
        );
        let mut bad_url = source.clone();
        bad_url.repository_url = "https://x/y.git?ref=main#".into();
        assert_eq!(
            generate(
                "vpc",
                &bad_url,
                &interface(&variables, &outputs),
                &values,
                &CloudBlocks::default()
            )
            .unwrap_err()
            .field,
            "repository_url"
        );
        assert_eq!(
            generate(
                "../vpc",
                &source,
                &interface(&variables, &outputs),
                &values,
                &CloudBlocks::default()
            )
            .unwrap_err()
            .field,
            "name"
        );
    }

    #[test]
    fn module_paths_and_refs_are_validated() {
        assert_eq!(validate_module_path("./aws/vpc/"), Ok("aws/vpc".into()));
        assert_eq!(validate_module_path(""), Ok("".into()));
        assert!(validate_module_path("/etc").is_err());
        assert!(validate_module_path("a/../../b").is_err());
        assert!(validate_module_path("a b").is_err());
        for good in ["v1.2.0", "main", "release/1.2", "feature/x_y"] {
            assert_eq!(validate_git_ref(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "-x",
            "a..b",
            "a b",
            "x.lock",
            "a//b",
            "refs/heads/../x",
            "v1;rm",
        ] {
            assert!(validate_git_ref(bad).is_err(), "{bad}");
        }
    }
}
