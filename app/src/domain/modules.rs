//! A module's interface as Slipway reads it from the `.tf` files: its variables and outputs.
//! Discovered on the server (`server::modules`), shown and checked everywhere.

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VariableValidation {
    /// The condition as written, shown to users as help.
    pub condition: String,
    pub error_message: String,
    /// Why Slipway cannot evaluate the rule when a resource is saved (a function it does not
    /// implement, a reference only a plan knows); none: it is checked on every save.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchecked: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleVariable {
    pub name: String,
    /// The type constraint as written (`string`, `list(string)`, `object({...})`); none = any.
    pub type_expr: Option<String>,
    /// The default as a value; none = the variable is required. `default = null` is
    /// `Some(Null)` (optional, null), kept apart from an absent default through JSON too.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
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

/// A field that is present is `Some`, even when it holds `null`.
fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_null_default_survives_a_round_trip_and_an_absent_one_stays_absent() {
        let optional = ModuleVariable {
            name: "certificate_arn".into(),
            type_expr: Some("string".into()),
            default: Some(serde_json::Value::Null),
            description: None,
            sensitive: false,
            nullable: true,
            validations: vec![],
            file: "main.tf".into(),
        };
        let json = serde_json::to_string(&optional).unwrap();
        let back: ModuleVariable = serde_json::from_str(&json).unwrap();
        assert_eq!(back.default, Some(serde_json::Value::Null));
        assert!(!back.is_required());
        let required = ModuleVariable {
            default: None,
            ..optional
        };
        let back: ModuleVariable =
            serde_json::from_str(&serde_json::to_string(&required).unwrap()).unwrap();
        assert!(back.is_required());
    }
}
