//! OpenTofu type constraints (`string`, `list(string)`, `object({ name = string })`, …), parsed
//! from the text a module declares, and values checked against them before they are written
//! into generated code. Errors name the path inside the value (`settings.max_azs`).

use serde_json::Value;
use std::collections::BTreeMap;

/// The form control a type is entered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Bool,
    /// Lists, maps, objects and `any`: typed as JSON.
    Json,
}

/// A value as a form field shows it again: strings bare, everything else as JSON.
pub fn to_form(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeConstraint {
    Any,
    String,
    Number,
    Bool,
    List(Box<TypeConstraint>),
    Set(Box<TypeConstraint>),
    Map(Box<TypeConstraint>),
    Tuple(Vec<TypeConstraint>),
    /// Attributes with their types and whether each is `optional(…)`.
    Object(BTreeMap<String, (TypeConstraint, bool)>),
}

impl TypeConstraint {
    /// Parses a type expression as written in a `variable` block; none means `any`.
    pub fn parse(text: Option<&str>) -> Result<TypeConstraint, String> {
        let Some(text) = text else {
            return Ok(TypeConstraint::Any);
        };
        let mut parser = Parser {
            text: text.as_bytes(),
            at: 0,
        };
        let (parsed, _) = parser.constraint()?;
        parser.space();
        if parser.at != parser.text.len() {
            return Err(format!(
                "unexpected text at column {} of the type {text:?}",
                parser.at + 1
            ));
        }
        Ok(parsed)
    }

    /// What kind of form field a value of this type needs.
    pub fn describe(&self) -> String {
        match self {
            TypeConstraint::Any => "any value".into(),
            TypeConstraint::String => "a string".into(),
            TypeConstraint::Number => "a number".into(),
            TypeConstraint::Bool => "true or false".into(),
            TypeConstraint::List(inner) | TypeConstraint::Set(inner) => {
                format!("a list of {}", plural(inner))
            }
            TypeConstraint::Map(inner) => format!("a map of {}", plural(inner)),
            TypeConstraint::Tuple(items) => format!("a list of {} items", items.len()),
            TypeConstraint::Object(_) => "an object".into(),
        }
    }

    /// How a form field for this type is entered.
    pub fn field_kind(&self) -> FieldKind {
        match self {
            TypeConstraint::String => FieldKind::Text,
            TypeConstraint::Number => FieldKind::Number,
            TypeConstraint::Bool => FieldKind::Bool,
            _ => FieldKind::Json,
        }
    }

    /// Reads what was typed into a form field: strings as they are, numbers and booleans as
    /// such, everything else as JSON. Blank is `None` (the default applies). The value is then
    /// checked against the type, so the error names what is wrong inside it.
    pub fn from_form(&self, text: &str, path: &str) -> Result<Option<Value>, String> {
        if text.trim().is_empty() && *self != TypeConstraint::String {
            return Ok(None);
        }
        if text.is_empty() {
            return Ok(None);
        }
        let value = match self.field_kind() {
            FieldKind::Text => Value::String(text.to_string()),
            FieldKind::Number => {
                let number: f64 = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("{path} must be a number, not {:?}", text.trim()))?;
                serde_json::Number::from_f64(number)
                    .map(|n| {
                        if number.fract() == 0.0 && number.abs() < 9.0e15 {
                            Value::from(number as i64)
                        } else {
                            Value::Number(n)
                        }
                    })
                    .ok_or_else(|| format!("{path} must be a finite number"))?
            }
            FieldKind::Bool => match text.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => return Err(format!("{path} must be true or false, not {other:?}")),
            },
            FieldKind::Json => serde_json::from_str(text).map_err(|e| {
                format!(
                    "{path} must be JSON ({}): {e} at line {}, column {}",
                    self.describe(),
                    e.line(),
                    e.column()
                )
            })?,
        };
        self.check(&value, path)?;
        Ok(Some(value))
    }

    /// Checks a value; `path` names it in the error (the variable's name at the top).
    pub fn check(&self, value: &Value, path: &str) -> Result<(), String> {
        let wrong = || Err(format!("{path} must be {}", self.describe()));
        match (self, value) {
            (_, Value::Null) => Ok(()),
            (TypeConstraint::Any, _) => Ok(()),
            (TypeConstraint::String, Value::String(_)) => Ok(()),
            (TypeConstraint::Number, Value::Number(_)) => Ok(()),
            (TypeConstraint::Bool, Value::Bool(_)) => Ok(()),
            (TypeConstraint::List(inner) | TypeConstraint::Set(inner), Value::Array(items)) => {
                items
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, item)| inner.check(item, &format!("{path}[{i}]")))
            }
            (TypeConstraint::Map(inner), Value::Object(map)) => map
                .iter()
                .try_for_each(|(k, v)| inner.check(v, &format!("{path}.{k}"))),
            (TypeConstraint::Tuple(types), Value::Array(items)) => {
                if types.len() != items.len() {
                    return wrong();
                }
                types
                    .iter()
                    .zip(items)
                    .enumerate()
                    .try_for_each(|(i, (t, v))| t.check(v, &format!("{path}[{i}]")))
            }
            (TypeConstraint::Object(fields), Value::Object(map)) => {
                if let Some(unknown) = map.keys().find(|k| !fields.contains_key(*k)) {
                    return Err(format!(
                        "{path}.{unknown} is not an attribute of this object"
                    ));
                }
                for (name, (field_type, optional)) in fields {
                    match map.get(name) {
                        Some(v) => field_type.check(v, &format!("{path}.{name}"))?,
                        None if *optional => {}
                        None => return Err(format!("{path}.{name} is required")),
                    }
                }
                Ok(())
            }
            _ => wrong(),
        }
    }
}

fn plural(inner: &TypeConstraint) -> String {
    match inner {
        TypeConstraint::String => "strings".into(),
        TypeConstraint::Number => "numbers".into(),
        TypeConstraint::Bool => "booleans".into(),
        other => format!("({})", other.describe()),
    }
}

struct Parser<'t> {
    text: &'t [u8],
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.at < self.text.len() && (self.text[self.at] as char).is_whitespace() {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        self.space();
        if self.text.get(self.at) == Some(&c) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!(
                "expected {:?} at column {}",
                c as char,
                self.at + 1
            ))
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.text.get(self.at).copied()
    }

    fn word(&mut self) -> Result<String, String> {
        self.space();
        let start = self.at;
        while self.at < self.text.len()
            && (self.text[self.at].is_ascii_alphanumeric() || b"_-\"".contains(&self.text[self.at]))
        {
            self.at += 1;
        }
        if start == self.at {
            return Err(format!("expected a type at column {}", start + 1));
        }
        Ok(String::from_utf8_lossy(&self.text[start..self.at])
            .trim_matches('"')
            .to_string())
    }

    /// A constraint, and whether it was wrapped in `optional(…)`.
    fn constraint(&mut self) -> Result<(TypeConstraint, bool), String> {
        let word = self.word()?;
        let wrapped = |p: &mut Self| -> Result<Box<TypeConstraint>, String> {
            p.eat(b'(')?;
            let (inner, _) = p.constraint()?;
            p.eat(b')')?;
            Ok(Box::new(inner))
        };
        let parsed = match word.as_str() {
            "any" => TypeConstraint::Any,
            "string" => TypeConstraint::String,
            "number" => TypeConstraint::Number,
            "bool" => TypeConstraint::Bool,
            "list" => TypeConstraint::List(wrapped(self)?),
            "set" => TypeConstraint::Set(wrapped(self)?),
            "map" => TypeConstraint::Map(wrapped(self)?),
            "optional" => {
                self.eat(b'(')?;
                let (inner, _) = self.constraint()?;
                // optional(type, default): the default is skipped to the closing parenthesis.
                if self.peek() == Some(b',') {
                    let mut depth = 0;
                    while let Some(c) = self.text.get(self.at) {
                        match c {
                            b'(' | b'[' | b'{' => depth += 1,
                            b')' if depth == 0 => break,
                            b')' | b']' | b'}' => depth -= 1,
                            _ => {}
                        }
                        self.at += 1;
                    }
                }
                self.eat(b')')?;
                return Ok((inner, true));
            }
            "tuple" => {
                self.eat(b'(')?;
                self.eat(b'[')?;
                let mut items = Vec::new();
                while self.peek() != Some(b']') {
                    items.push(self.constraint()?.0);
                    if self.peek() == Some(b',') {
                        self.at += 1;
                    }
                }
                self.eat(b']')?;
                self.eat(b')')?;
                TypeConstraint::Tuple(items)
            }
            "object" => {
                self.eat(b'(')?;
                self.eat(b'{')?;
                let mut fields = BTreeMap::new();
                while self.peek() != Some(b'}') {
                    let name = self.word()?;
                    match self.peek() {
                        Some(b'=') | Some(b':') => self.at += 1,
                        _ => {
                            return Err(format!(
                                "expected '=' after {name:?} at column {}",
                                self.at + 1
                            ))
                        }
                    }
                    let field = self.constraint()?;
                    fields.insert(name, field);
                    if self.peek() == Some(b',') {
                        self.at += 1;
                    }
                }
                self.eat(b'}')?;
                self.eat(b')')?;
                TypeConstraint::Object(fields)
            }
            other => return Err(format!("unknown type {other:?}")),
        };
        Ok((parsed, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_expressions_parse_as_modules_write_them() {
        use TypeConstraint as T;
        assert_eq!(T::parse(None), Ok(T::Any));
        assert_eq!(
            T::parse(Some("list(string)")),
            Ok(T::List(Box::new(T::String)))
        );
        assert_eq!(
            T::parse(Some("map(list(number))")),
            Ok(T::Map(Box::new(T::List(Box::new(T::Number)))))
        );
        let object = T::parse(Some(
            "object({\n  enable_dns = bool\n  max_azs    = optional(number, 3)\n})",
        ))
        .unwrap();
        let T::Object(fields) = object else {
            panic!("an object")
        };
        assert_eq!(fields["enable_dns"], (T::Bool, false));
        assert_eq!(fields["max_azs"], (T::Number, true));
        assert_eq!(
            T::parse(Some("tuple([string, number])")),
            Ok(T::Tuple(vec![T::String, T::Number]))
        );
        assert!(T::parse(Some("strnig"))
            .unwrap_err()
            .contains("unknown type \"strnig\""));
        assert!(T::parse(Some("list(string")).is_err());
    }

    #[test]
    fn values_are_checked_with_the_path_of_the_mistake_named() {
        let settings = TypeConstraint::parse(Some(
            "object({ enable_dns = bool, max_azs = optional(number) })",
        ))
        .unwrap();
        assert_eq!(
            settings.check(&json!({"enable_dns": true}), "settings"),
            Ok(())
        );
        assert_eq!(
            settings.check(&json!({"enable_dns": true, "max_azs": "three"}), "settings"),
            Err("settings.max_azs must be a number".into())
        );
        assert_eq!(
            settings.check(&json!({}), "settings"),
            Err("settings.enable_dns is required".into())
        );
        assert_eq!(
            settings.check(&json!({"enable_dns": true, "colour": "red"}), "settings"),
            Err("settings.colour is not an attribute of this object".into())
        );
        let azs = TypeConstraint::parse(Some("list(string)")).unwrap();
        assert_eq!(
            azs.check(&json!(["a", 1]), "azs"),
            Err("azs[1] must be a string".into())
        );
        assert_eq!(
            azs.check(&json!("a"), "azs"),
            Err("azs must be a list of strings".into())
        );
        assert_eq!(TypeConstraint::Any.check(&json!({"x": [1]}), "v"), Ok(()));
    }

    #[test]
    fn form_text_becomes_typed_values() {
        let number = TypeConstraint::Number;
        assert_eq!(
            number.from_form("3", "n").unwrap(),
            Some(serde_json::json!(3))
        );
        assert_eq!(
            number.from_form("2.5", "n").unwrap(),
            Some(serde_json::json!(2.5))
        );
        assert_eq!(number.from_form("  ", "n").unwrap(), None);
        assert!(number
            .from_form("three", "n")
            .unwrap_err()
            .contains("n must be a number"));
        let list = TypeConstraint::parse(Some("list(string)")).unwrap();
        assert_eq!(
            list.from_form("[\"a\", \"b\"]", "azs").unwrap(),
            Some(serde_json::json!(["a", "b"]))
        );
        assert!(list.from_form("[1", "azs").unwrap_err().contains("line 1"));
        assert!(list.from_form("[1]", "azs").unwrap_err().contains("azs[0]"));
        let flag = TypeConstraint::Bool;
        assert_eq!(
            flag.from_form("false", "f").unwrap(),
            Some(serde_json::json!(false))
        );
        assert!(flag.from_form("yes", "f").is_err());
        assert_eq!(to_form(&serde_json::json!("x")), "x");
        assert_eq!(to_form(&serde_json::json!([1])), "[\n  1\n]");
    }
}
