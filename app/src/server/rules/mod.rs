//! A module's `validation` rules, evaluated when a resource is saved, as OpenTofu evaluates them
//! at plan time: the condition is an HCL expression over `var.*` (every variable of the module,
//! as OpenTofu 1.9 and Terraform 1.9 allow), read with hcl-rs and evaluated with the functions
//! below. A rule Slipway cannot evaluate — a function it does not implement, a variable whose
//! value it does not hold (a sensitive one kept from an earlier revision) — is left to the plan
//! and says so; it is never taken as broken.
//!
//! Functions: `can`, `try`, `length`, `contains`, `alltrue`, `anytrue`, `regex`, `regexall`,
//! `cidrhost`, `cidrnetmask`, `cidrsubnet`, `lower`, `upper`, `trimspace`, `startswith`,
//! `endswith`, `strcontains`, `substr`, `split`, `join`, `keys`, `values`, `min`, `max`, `abs`,
//! `floor`, `ceil`, `tonumber`, `tostring`, `tobool`, `coalesce`.

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::expr::{Expression, ObjectKey, Operation, TraversalOperator};
use hcl::{Number, Value};
use std::collections::BTreeSet;
use std::str::FromStr;

mod functions;
#[allow(unused_imports)]
use functions::*;

/// The functions a condition may call here (`can` and `try` are evaluated before the rest).
pub const FUNCTIONS: [&str; 31] = [
    "can",
    "try",
    "length",
    "contains",
    "alltrue",
    "anytrue",
    "regex",
    "regexall",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "lower",
    "upper",
    "trimspace",
    "startswith",
    "endswith",
    "strcontains",
    "substr",
    "split",
    "join",
    "keys",
    "values",
    "min",
    "max",
    "abs",
    "floor",
    "ceil",
    "tonumber",
    "tostring",
    "tobool",
    "coalesce",
];

/// What a rule said about the values.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Holds,
    /// The condition is false, or failed as OpenTofu's would (the reason, when there is one).
    Broken(Option<String>),
    /// Slipway cannot evaluate it: why. The plan will.
    Unchecked(String),
}

/// Why Slipway cannot evaluate `condition` whatever the values, or `None` when it can.
pub fn unchecked_reason(condition: &str) -> Option<String> {
    match Expression::from_str(condition) {
        Ok(expr) => why_unchecked(&Seen::of(&expr)),
        Err(error) => Some(format!("the condition does not parse here ({error})")),
    }
}

/// Why an expression that mentions `seen` cannot be evaluated here, whatever the values.
fn why_unchecked(seen: &Seen) -> Option<String> {
    let unsupported: Vec<&str> = seen
        .functions
        .iter()
        .map(String::as_str)
        .filter(|f| !FUNCTIONS.contains(f))
        .collect();
    if !unsupported.is_empty() {
        return Some(format!(
            "it calls {}, which Slipway does not evaluate",
            unsupported.join(", ")
        ));
    }
    seen.roots
        .iter()
        .find(|r| r.as_str() != "var")
        .map(|root| format!("it refers to {root}, which only a plan knows"))
}

/// Evaluates `condition` with `vars` (name → value; a variable missing here has no value
/// Slipway holds).
pub fn check(condition: &str, vars: &serde_json::Map<String, serde_json::Value>) -> Verdict {
    let expr = match Expression::from_str(condition) {
        Ok(expr) => expr,
        Err(error) => {
            return Verdict::Unchecked(format!("the condition does not parse here ({error})"))
        }
    };
    let seen = Seen::of(&expr);
    if let Some(why) = why_unchecked(&seen) {
        return Verdict::Unchecked(why);
    }
    if let Some(missing) = seen.vars.iter().find(|name| !vars.contains_key(*name)) {
        return Verdict::Unchecked(format!(
            "it reads var.{missing}, whose value Slipway does not hold here"
        ));
    }
    let mut context = Context::new();
    let object: hcl::Map<String, Value> = vars
        .iter()
        .map(|(k, v)| (k.clone(), hcl::to_value(v).unwrap_or(Value::Null)))
        .collect();
    context.declare_var("var", Value::Object(object));
    declare_functions(&mut context);
    let lowered = match lower(&expr, &context) {
        Ok(lowered) => lowered,
        Err(why) => return Verdict::Unchecked(why),
    };
    match lowered.evaluate(&context) {
        Ok(Value::Bool(true)) => Verdict::Holds,
        Ok(Value::Bool(false)) => Verdict::Broken(None),
        Ok(other) => Verdict::Broken(Some(format!(
            "the condition gave {other}, not true or false"
        ))),
        Err(error) => Verdict::Broken(Some(error.to_string())),
    }
}

/// What an expression mentions: the functions it calls, the roots of its references (`var`,
/// `local`, …, not counting a `for`'s own names) and the variables it reads as `var.NAME`.
#[derive(Default)]
struct Seen {
    functions: BTreeSet<String>,
    roots: BTreeSet<String>,
    vars: BTreeSet<String>,
}

impl Seen {
    fn of(expr: &Expression) -> Seen {
        let mut seen = Seen::default();
        seen.walk(expr, &mut Vec::new());
        seen
    }

    fn walk(&mut self, expr: &Expression, bound: &mut Vec<String>) {
        match expr {
            Expression::Variable(variable) => {
                let name = variable.to_string();
                if !bound.contains(&name) {
                    self.roots.insert(name);
                }
            }
            Expression::Traversal(traversal) => {
                if let (Expression::Variable(root), Some(TraversalOperator::GetAttr(name))) =
                    (&traversal.expr, traversal.operators.first())
                {
                    if root.to_string() == "var" && !bound.iter().any(|b| b == "var") {
                        self.vars.insert(name.to_string());
                    }
                }
                self.walk(&traversal.expr, bound);
                for operator in &traversal.operators {
                    if let TraversalOperator::Index(index) = operator {
                        self.walk(index, bound);
                    }
                }
            }
            Expression::FuncCall(call) => {
                self.functions.insert(call.name.name.to_string());
                if !call.name.namespace.is_empty() {
                    // provider::…::f(): never ours.
                    self.functions.insert(call.name.to_string());
                }
                for arg in &call.args {
                    self.walk(arg, bound);
                }
            }
            Expression::Array(items) => items.iter().for_each(|e| self.walk(e, bound)),
            Expression::Object(object) => {
                for (key, value) in object {
                    if let ObjectKey::Expression(key) = key {
                        self.walk(key, bound);
                    }
                    self.walk(value, bound);
                }
            }
            Expression::Parenthesis(inner) => self.walk(inner, bound),
            Expression::Conditional(c) => {
                self.walk(&c.cond_expr, bound);
                self.walk(&c.true_expr, bound);
                self.walk(&c.false_expr, bound);
            }
            Expression::Operation(operation) => match operation.as_ref() {
                Operation::Unary(unary) => self.walk(&unary.expr, bound),
                Operation::Binary(binary) => {
                    self.walk(&binary.lhs_expr, bound);
                    self.walk(&binary.rhs_expr, bound);
                }
            },
            Expression::ForExpr(for_expr) => {
                self.walk(&for_expr.collection_expr, bound);
                let before = bound.len();
                bound.push(for_expr.value_var.to_string());
                if let Some(key) = &for_expr.key_var {
                    bound.push(key.to_string());
                }
                for inner in [
                    Some(&for_expr.value_expr),
                    for_expr.key_expr.as_ref(),
                    for_expr.cond_expr.as_ref(),
                ]
                .into_iter()
                .flatten()
                {
                    self.walk(inner, bound);
                }
                bound.truncate(before);
            }
            Expression::TemplateExpr(template) => {
                // Interpolations are parsed when evaluated; a reference in one is found there.
                let text = template.to_string();
                if text.contains("${") || text.contains("%{") {
                    self.roots.insert("a template".into());
                }
            }
            Expression::Null
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::String(_) => {}
            _ => {
                self.roots.insert("an expression".into());
            }
        }
    }
}

/// `can(e)` and `try(a, b, …)` decide on whether `e` evaluates, which an ordinary function
/// (given evaluated arguments) cannot: they are replaced by their results first.
fn lower(expr: &Expression, context: &Context) -> Result<Expression, String> {
    Ok(match expr {
        Expression::FuncCall(call) if call.name.namespace.is_empty() => {
            let name = call.name.name.as_str();
            let args: Vec<Expression> = call
                .args
                .iter()
                .map(|a| lower(a, context))
                .collect::<Result<_, _>>()?;
            match name {
                "can" => {
                    let [arg] = args.as_slice() else {
                        return Err("can() takes one argument".into());
                    };
                    Expression::Bool(arg.evaluate(context).is_ok())
                }
                "try" => {
                    let value = args
                        .iter()
                        .find_map(|a| a.evaluate(context).ok())
                        .ok_or("no argument of try() evaluates")?;
                    Expression::from(value)
                }
                _ => {
                    let mut lowered = (**call).clone();
                    lowered.args = args;
                    Expression::FuncCall(Box::new(lowered))
                }
            }
        }
        Expression::Array(items) => Expression::Array(
            items
                .iter()
                .map(|e| lower(e, context))
                .collect::<Result<_, _>>()?,
        ),
        Expression::Parenthesis(inner) => Expression::Parenthesis(Box::new(lower(inner, context)?)),
        Expression::Conditional(c) => {
            let mut c = (**c).clone();
            c.cond_expr = lower(&c.cond_expr, context)?;
            c.true_expr = lower(&c.true_expr, context)?;
            c.false_expr = lower(&c.false_expr, context)?;
            Expression::Conditional(Box::new(c))
        }
        Expression::Operation(operation) => {
            let mut operation = (**operation).clone();
            match &mut operation {
                Operation::Unary(unary) => unary.expr = lower(&unary.expr, context)?,
                Operation::Binary(binary) => {
                    binary.lhs_expr = lower(&binary.lhs_expr, context)?;
                    binary.rhs_expr = lower(&binary.rhs_expr, context)?;
                }
            }
            Expression::Operation(Box::new(operation))
        }
        Expression::ForExpr(for_expr) => {
            // Inside a `for`, a can() depends on each element: not lowered, so refused.
            if Seen::of(&for_expr.value_expr)
                .functions
                .iter()
                .any(|f| f == "can" || f == "try")
                || for_expr.cond_expr.as_ref().is_some_and(|c| {
                    Seen::of(c)
                        .functions
                        .iter()
                        .any(|f| f == "can" || f == "try")
                })
            {
                return Err("it calls can() or try() inside a for expression".into());
            }
            expr.clone()
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn the_demo_modules_rules_hold_and_break_as_opentofu_s_would() {
        let cidr = "can(cidrhost(var.cidr_block, 0))";
        assert_eq!(
            check(cidr, &vars(json!({"cidr_block": "10.0.0.0/16"}))),
            Verdict::Holds
        );
        assert_eq!(
            check(cidr, &vars(json!({"cidr_block": "10.0.0.0/33"}))),
            Verdict::Broken(None)
        );
        assert_eq!(
            check(cidr, &vars(json!({"cidr_block": "10.0.0/16"}))),
            Verdict::Broken(None)
        );
        let name = r#"can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))"#;
        assert_eq!(
            check(name, &vars(json!({"name": "prod-vpc"}))),
            Verdict::Holds
        );
        assert_eq!(
            check(name, &vars(json!({"name": "Prod_VPC"}))),
            Verdict::Broken(None)
        );
        let groups = "alltrue([for group in var.node_groups : group.min_size <= group.max_size])";
        let fine = json!({"node_groups": {"general": {"min_size": 1, "max_size": 3}}});
        assert_eq!(check(groups, &vars(fine)), Verdict::Holds);
        let bad = json!({"node_groups": {"general": {"min_size": 1, "max_size": 3}, "gpu": {"min_size": 8, "max_size": 2}}});
        assert_eq!(check(groups, &vars(bad)), Verdict::Broken(None));
        let storage = "var.allocated_storage >= 20 && var.allocated_storage <= 65536";
        assert_eq!(
            check(storage, &vars(json!({"allocated_storage": 100}))),
            Verdict::Holds
        );
        assert_eq!(
            check(storage, &vars(json!({"allocated_storage": 10}))),
            Verdict::Broken(None)
        );
        let password = "length(var.master_password) >= 16";
        assert_eq!(
            check(password, &vars(json!({"master_password": "short"}))),
            Verdict::Broken(None)
        );
        // A value Slipway does not hold (a sensitive one kept from before): left to the plan.
        assert!(
            matches!(check(password, &vars(json!({}))), Verdict::Unchecked(why) if why.contains("var.master_password"))
        );
    }

    #[test]
    fn rules_across_variables_and_the_functions_people_write() {
        let both = vars(json!({"min_size": 8, "max_size": 2, "zones": ["a", "b"], "env": "prod"}));
        assert_eq!(
            check("var.min_size <= var.max_size", &both),
            Verdict::Broken(None)
        );
        assert_eq!(
            check(r#"contains(["dev", "prod"], var.env)"#, &both),
            Verdict::Holds
        );
        assert_eq!(check("length(var.zones) >= 2", &both), Verdict::Holds);
        assert_eq!(
            check(r#"try(var.env == "prod", false)"#, &both),
            Verdict::Holds
        );
        assert_eq!(
            check(r#"cidrsubnet("10.0.0.0/16", 8, 2) == "10.0.2.0/24""#, &both),
            Verdict::Holds
        );
        assert_eq!(
            check(r#"cidrhost("10.0.0.0/24", -1) == "10.0.0.255""#, &both),
            Verdict::Holds
        );
        assert_eq!(
            check(r#"cidrnetmask("10.0.0.0/12") == "255.240.0.0""#, &both),
            Verdict::Holds
        );
        assert_eq!(
            check(r#"cidrhost("fd00::/64", 5) == "fd00::5""#, &both),
            Verdict::Holds
        );
        assert_eq!(
            check(
                r#"regex("^(?P<env>[a-z]+)-", "prod-1").env == "prod""#,
                &both
            ),
            Verdict::Holds
        );
        assert_eq!(
            check(r#"length(regexall("[0-9]", "a1b2")) == 2"#, &both),
            Verdict::Holds
        );
        assert_eq!(
            check(r#"max(1, var.min_size, 3) == 8 && min(4, 2) == 2"#, &both),
            Verdict::Holds
        );
        assert_eq!(
            check(
                r#"startswith(lower("PROD-x"), "prod") && !endswith("a", "b")"#,
                &both
            ),
            Verdict::Holds
        );
        // Without can(), a failing function is a broken rule with the function's reason.
        assert!(
            matches!(check("cidrhost(var.env, 0) != \"\"", &both), Verdict::Broken(Some(why)) if why.contains("invalid CIDR"))
        );
    }

    #[test]
    fn what_slipway_cannot_evaluate_is_left_to_the_plan_and_says_why() {
        let any = vars(json!({"when": "2026-01-01T00:00:00Z"}));
        let why = unchecked_reason("timecmp(var.when, timestamp()) > 0").unwrap();
        assert!(
            why.contains("timecmp") && why.contains("timestamp"),
            "{why}"
        );
        assert!(matches!(
            check("timecmp(var.when, timestamp()) > 0", &any),
            Verdict::Unchecked(_)
        ));
        assert!(
            matches!(check("local.x > 0", &any), Verdict::Unchecked(why) if why.contains("local"))
        );
        assert!(matches!(
            check("alltrue([for z in var.when : can(z)])", &any),
            Verdict::Unchecked(_)
        ));
        assert_eq!(unchecked_reason("can(cidrhost(var.cidr_block, 0))"), None);
    }
}
