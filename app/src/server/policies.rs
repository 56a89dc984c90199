//! Policies checked on every plan of a change before anyone may approve it (see
//! `domain::policies`): each Policy manifest's Rego is compiled when it is saved (its errors
//! named at their line and column in the manifest) and evaluated in process, with a time limit,
//! on the plan's `show -json` when the plan is made. A `deny` blocks approval with its message
//! until as many distinct members of the policy's override group as it asks have overridden it
//! (never an author of the change), each with a reason, audited.

use super::audit::{self, Change};
use super::entities::{plans, release_manifests as manifests, resources, templates};
use super::{when, Actor, AppCtx};
use crate::domain::manifests::Manifest;
use crate::domain::plans::PlanStatus;
use crate::domain::policies::{Policy, PolicyOverride, PolicyResult};
use crate::domain::release_manifests::{parse_release_source, RELEASE_SOURCE_FILE};
use crate::error::{AppError, AppResult};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::time::Duration;

/// The longest one policy may evaluate one plan; past it the policy denies (fails closed).
const EVALUATION_LIMIT: Duration = Duration::from_secs(2);
/// The longest override reason, in characters.
const MAX_REASON: usize = 1000;

fn engine(policy: &Policy) -> Result<regorus::Engine, (usize, usize, String)> {
    let mut engine = regorus::Engine::new();
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: EVALUATION_LIMIT,
        check_interval: std::num::NonZeroU32::new(64).unwrap_or(std::num::NonZeroU32::MIN),
    });
    match engine.add_policy(
        format!("{}.rego", policy.metadata.name),
        policy.rego.clone(),
    ) {
        Ok(_) => Ok(engine),
        Err(e) => Err(rego_position(&e.to_string())),
    }
}

/// `(line, column, message)` of a regorus error, which reads
/// `--> file.rego:LINE:COL`, the source line with a caret, then `error: message`; (1, 1, the
/// first line) when it names no place.
fn rego_position(text: &str) -> (usize, usize, String) {
    let place = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("-->"))
        .and_then(|at| {
            let mut parts = at.trim().rsplitn(3, ':');
            let column = parts.next()?.trim().parse().ok()?;
            let line = parts.next()?.trim().parse().ok()?;
            Some((line, column))
        });
    let message = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("error:"))
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| {
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("the Rego does not compile")
                .to_string()
        });
    let (line, column) = place.unwrap_or((1, 1));
    (line, column, message)
}

/// Every problem of a policy's Rego as `manifest.yaml:line:column: message` lines, at their
/// place in the manifest (the Rego starts on the line after `rego: |`, indented).
pub fn rego_errors(policy: &Policy) -> Vec<String> {
    let (line, column, message) = match (engine(policy), policy.package()) {
        (Err(found), _) => found,
        (Ok(_), None) => {
            return vec![format!(
                "{RELEASE_SOURCE_FILE}:{}: spec.rego declares no package",
                policy.rego_pos
            )]
        }
        // Evaluated once on an empty plan: an unknown function or a rule that cannot run
        // shows now, not on the first plan.
        (Ok(mut engine), Some(package)) => {
            engine.set_input(regorus::Value::new_object());
            match engine.eval_rule(format!("data.{package}.deny")) {
                Ok(_) => return Vec::new(),
                Err(e) => rego_position(&e.to_string()),
            }
        }
    };
    // A block scalar's node starts at its first line of content, at its indentation.
    vec![format!(
        "{RELEASE_SOURCE_FILE}:{}:{}: spec.rego: {message}",
        policy.rego_pos.line + line.saturating_sub(1),
        policy.rego_pos.column + column.saturating_sub(1)
    )]
}

/// The policies saved now, each with its revision.
async fn current<C: ConnectionTrait>(db: &C) -> AppResult<Vec<(Policy, i32)>> {
    let rows = manifests::Entity::find()
        .filter(manifests::Column::Kind.eq("Policy"))
        .all(db)
        .await?;
    let mut policies = Vec::new();
    for row in rows {
        match parse_release_source(&row.source) {
            Ok(Manifest::Policy(policy)) => policies.push((policy, row.revision)),
            _ => {
                return Err(AppError::internal(format!(
                    "the stored Policy {} no longer loads",
                    row.name
                )))
            }
        }
    }
    Ok(policies)
}

/// What every policy that applies to the resource says of a plan (`show -json`). A policy that
/// fails to evaluate (or runs past its time) denies, saying so.
pub(crate) async fn evaluate<C: ConnectionTrait>(
    db: &C,
    resource: &resources::Model,
    workspace: &str,
    destroy: bool,
    show_json: &str,
) -> AppResult<Vec<PolicyResult>> {
    let template = templates::Entity::find_by_id(resource.template_id)
        .one(db)
        .await?
        .map(|t| t.key)
        .unwrap_or_default();
    let policies = current(db).await?;
    if policies.is_empty() {
        return Ok(Vec::new());
    }
    let plan = regorus::Value::from_json_str(show_json)
        .map_err(|e| AppError::internal(format!("the plan's JSON does not read: {e}")))?;
    let mut input = regorus::Value::new_object();
    {
        let map = input
            .as_object_mut()
            .map_err(|e| AppError::internal(e.to_string()))?;
        map.insert(regorus::Value::from("plan"), plan);
        map.insert(
            regorus::Value::from("change"),
            regorus::Value::from(if destroy { "destroy" } else { "update" }),
        );
        let about = serde_json::json!({ "slug": resource.slug, "template": template, "workspace": workspace });
        map.insert(
            regorus::Value::from("resource"),
            regorus::Value::from_json_str(&about.to_string())
                .map_err(|e| AppError::internal(e.to_string()))?,
        );
    }
    let mut results = Vec::new();
    for (policy, revision) in policies
        .into_iter()
        .filter(|(p, _)| p.applies_to(&template))
    {
        let denials = denials(&policy, &input);
        results.push(PolicyResult {
            policy: policy.metadata.name.clone(),
            revision,
            owner: policy.owner.clone(),
            denials,
            override_group: policy.override_group.clone(),
            approvals: policy.approvals,
            overrides: Vec::new(),
        });
    }
    Ok(results)
}

fn denials(policy: &Policy, input: &regorus::Value) -> Vec<String> {
    let failed = |why: String| {
        vec![format!(
            "the policy could not be evaluated ({why}): it denies until it is fixed"
        )]
    };
    let Some(package) = policy.package() else {
        return failed("it declares no package".into());
    };
    let mut engine = match engine(policy) {
        Ok(engine) => engine,
        Err((_, _, message)) => return failed(message),
    };
    engine.set_input(input.clone());
    match engine.eval_rule(format!("data.{package}.deny")) {
        Ok(regorus::Value::Undefined) => Vec::new(),
        Ok(value) => match value.as_set() {
            Ok(set) => set
                .iter()
                .map(|v| match v.as_string() {
                    Ok(s) => s.to_string(),
                    Err(_) => v.to_string(),
                })
                .collect(),
            Err(_) => failed(format!("deny is not a set but {value}")),
        },
        Err(e) => failed(e.to_string().lines().next().unwrap_or_default().to_string()),
    }
}

/// The policies of a plan, as it keeps them.
pub(crate) fn results_of(plan: &plans::Model) -> Vec<PolicyResult> {
    plan.policy
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default()
}

/// Why a plan cannot be approved for its policies, if it cannot.
pub(crate) fn blocked(plan: &plans::Model) -> Option<String> {
    let blocking: Vec<String> = results_of(plan)
        .into_iter()
        .filter(PolicyResult::blocks)
        .map(|r| {
            let how = match &r.override_group {
                Some(group) => format!(
                    "{} of {} members of {group} have overridden it",
                    r.overrides.len(),
                    r.approvals
                ),
                None => "it cannot be overridden".to_string(),
            };
            format!(
                "policy {} denies ({}); {how}",
                r.policy,
                r.denials.join("; ")
            )
        })
        .collect();
    (!blocking.is_empty()).then(|| blocking.join(". "))
}

/// Overrides a policy's denial of a plan: by a member of its override group who wrote none of
/// the change, once each, with a reason; audited.
pub async fn override_denial(
    ctx: &AppCtx,
    actor: &Actor,
    resource_slug: &str,
    plan_id: i64,
    policy: &str,
    reason: &str,
) -> AppResult<()> {
    let reason = reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(AppError::invalid(
            "reason",
            format!("say why the plan may pass (at most {MAX_REASON} characters)"),
        ));
    }
    let Some(user_id) = actor.user_id else {
        return Err(AppError::Forbidden(
            "only a person overrides a policy".into(),
        ));
    };
    let groups = crate::server::directory::groups_of(&ctx.db, user_id).await?;
    audit::audited(&ctx.db, actor, async |txn| {
        let resource = crate::server::resources::resource_by_slug(txn, resource_slug).await?;
        let plan = super::plans::plan_by_id(txn, plan_id).await?;
        if plan.resource_id != resource.id {
            return Err(AppError::not_found(format_args!("Plan #{plan_id} of {resource_slug}")));
        }
        if plan.status != PlanStatus::Ready {
            return Err(AppError::Conflict(format!(
                "Plan #{plan_id} is {}: only a plan waiting for approval is overridden.",
                plan.status.label()
            )));
        }
        let mut results = results_of(&plan);
        let Some(result) = results.iter_mut().find(|r| r.policy == policy) else {
            return Err(AppError::not_found(format_args!("Policy {policy} on plan #{plan_id}")));
        };
        if result.denials.is_empty() {
            return Err(AppError::Conflict(format!("Policy {policy} does not deny plan #{plan_id}: there is nothing to override.")));
        }
        let Some(group) = result.override_group.clone() else {
            return Err(AppError::Forbidden(format!("Policy {policy} cannot be overridden: change the plan, or the policy.")));
        };
        if !groups.contains(&group) {
            return Err(AppError::Forbidden(format!(
                "Policy {policy} is overridden by members of {group}, and you are not one."
            )));
        }
        if super::plans::plan_authors(txn, &plan).await?.contains(&actor.label) {
            return Err(AppError::Forbidden(format!(
                "Plan #{plan_id} holds your change: you may not override a policy on it."
            )));
        }
        if result.overrides.iter().any(|o| o.by == actor.label) {
            return Err(AppError::Conflict(format!(
                "You overrode policy {policy} on plan #{plan_id} already: another member of {group} must."
            )));
        }
        result.overrides.push(PolicyOverride {
            by: actor.label.clone(),
            reason: reason.clone(),
            at: when(&chrono::Utc::now()),
        });
        let (given, needed) = (result.overrides.len(), result.approvals);
        let mut active: plans::ActiveModel = plan.clone().into();
        active.policy = Set(Some(serde_json::to_string(&results).map_err(AppError::internal)?));
        active.update(txn).await?;
        let change = Change::new("resource.policy_override", "resource", resource.id).after(
            &serde_json::json!({ "plan": plan_id, "policy": policy, "reason": reason, "overrides": given, "needed": needed }),
        );
        Ok(((), change))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policies::EXAMPLE_POLICY;

    fn example() -> Policy {
        match parse_release_source(EXAMPLE_POLICY) {
            Ok(Manifest::Policy(p)) => p,
            other => panic!("{other:?}"),
        }
    }

    fn input(max_size: i64) -> regorus::Value {
        input_for(max_size, "update")
    }

    fn input_for(max_size: i64, change: &str) -> regorus::Value {
        let json = serde_json::json!({
            "plan": { "variables": { "cluster_name": { "value": "k8s" }, "node_groups": { "value": { "general": { "instance_type": "m6i.large", "min_size": 2, "max_size": max_size } } } } },
            "resource": { "slug": "k8s", "template": "eks-cluster", "workspace": "live" },
            "change": change,
        });
        regorus::Value::from_json_str(&json.to_string()).unwrap()
    }

    #[test]
    fn the_example_denies_an_oversized_node_group_only() {
        let policy = example();
        assert!(
            rego_errors(&policy).is_empty(),
            "{:?}",
            rego_errors(&policy)
        );
        assert_eq!(
            denials(&policy, &input(40)),
            ["node group general may grow to 40 nodes; the limit is 10"]
        );
        assert!(denials(&policy, &input(6)).is_empty());
        // Destroying the oversized cluster is not growing it.
        assert!(denials(&policy, &input_for(40, "destroy")).is_empty());
    }

    #[test]
    fn a_broken_rule_is_named_at_its_place_in_the_manifest() {
        let text = EXAMPLE_POLICY.replace("settings.max_size > 10", "settings.max_size >");
        let Ok(Manifest::Policy(policy)) = parse_release_source(&text) else {
            panic!()
        };
        let errors = rego_errors(&policy);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("manifest.yaml:"), "{errors:?}");
        let line: usize = errors[0].split(':').nth(1).unwrap().parse().unwrap();
        let wanted = text
            .lines()
            .position(|l| l.contains("settings.max_size >"))
            .unwrap()
            + 1;
        assert!(
            (wanted..=wanted + 2).contains(&line),
            "{errors:?} (the rule is on line {wanted})"
        );
        assert!(errors[0].contains("expecting"), "{errors:?}");
    }

    #[test]
    fn a_rule_that_cannot_run_on_a_plan_denies_it() {
        let text = EXAMPLE_POLICY.replace("settings.max_size > 10", "no_such_function(settings)");
        let Ok(Manifest::Policy(policy)) = parse_release_source(&text) else {
            panic!()
        };
        let said = denials(&policy, &input(40));
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with("the policy could not be evaluated"),
            "{said:?}"
        );
    }

    #[test]
    fn a_policy_that_runs_away_fails_closed() {
        let text = EXAMPLE_POLICY.replace(
            "settings.max_size > 10",
            "count([x | some x in numbers.range(1, 100000000)]) > 0",
        );
        let Ok(Manifest::Policy(policy)) = parse_release_source(&text) else {
            panic!()
        };
        let started = std::time::Instant::now();
        let said = denials(&policy, &input(40));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with("the policy could not be evaluated"),
            "{said:?}"
        );
    }
}
