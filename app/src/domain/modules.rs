//! A module's interface as Slipway reads it from the `.tf` files: its variables and outputs.
//! Discovered on the server (`server::modules`), shown and checked everywhere.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariableValidation {
    /// The condition as written, shown to users as help.
    pub condition: String,
    pub error_message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleVariable {
    pub name: String,
    /// The type constraint as written (`string`, `list(string)`, `object({...})`); none = any.
    pub type_expr: Option<String>,
    /// The default as a value; none = the variable is required.
    pub default: Option<serde_json::Value>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub nullable: bool,
    pub validations: Vec<VariableValidation>,
    /// The file that declares it.
    pub file: String,
}

impl ModuleVariable {
    pub fn is_required(&self) -> bool {
        self.default.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleOutput {
    pub name: String,
    pub description: Option<String>,
    pub sensitive: bool,
    pub file: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModuleInterface {
    /// Sorted by name.
    pub variables: Vec<ModuleVariable>,
    /// Sorted by name.
    pub outputs: Vec<ModuleOutput>,
}
