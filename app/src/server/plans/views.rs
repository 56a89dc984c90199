//! What the pages show of a resource's runs.

use super::*;

pub(crate) fn plan_view(plan: &plans::Model, pull_number: Option<i64>) -> PlanView {
    let summary: Option<PlanSummary> = plan
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    PlanView {
        id: plan.id,
        status: plan.status,
        mode: plan.mode,
        purpose: plan.purpose,
        policies: crate::server::policies::results_of(plan),
        commit: plan.commit.clone(),
        pull_number,
        counts: summary.as_ref().map(|s| s.counts.label()),
        summary,
        error: plan
            .error
            .as_deref()
            .map(|e| e.lines().map(str::to_string).collect())
            .unwrap_or_default(),
        inputs: plan
            .inputs
            .as_deref()
            .and_then(|i| serde_json::from_str(i).ok())
            .unwrap_or_default(),
        runtime: plan.runtime,
        runtime_version: plan.runtime_version.clone(),
        approved_by: plan.approved_by.clone(),
        requested_by: plan.requested_by.clone(),
        created_at: when(&plan.created_at),
        finished_at: plan.finished_at.as_ref().map(when),
        applied_at: plan.applied_at.as_ref().map(when),
    }
}

/// The resource's newest plan of a change (not a drift check), with its pull request's number.
pub(crate) async fn latest_plan<C: ConnectionTrait>(
    db: &C,
    resource_id: i64,
) -> AppResult<Option<PlanView>> {
    let Some(plan) = plans::Entity::find()
        .filter(plans::Column::ResourceId.eq(resource_id))
        .filter(plans::Column::Purpose.eq(PlanPurpose::Change))
        .order_by_desc(plans::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let number = match plan.pull_request_id {
        Some(id) => pull_requests::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|p| p.number),
        None => None,
    };
    Ok(Some(plan_view(&plan, number)))
}

/// How many plans and state versions the resource page lists.
const LISTED: u64 = 20;

/// The resource's plans (newest first), outputs, state versions and lock.
pub async fn resource_runs(
    db: &DatabaseConnection,
    slug: &str,
    viewer: (&str, &[String]),
) -> AppResult<ResourceRuns> {
    let resource = crate::server::resources::resource_by_slug(db, slug).await?;
    let plans = plans::Entity::find()
        .filter(plans::Column::ResourceId.eq(resource.id))
        .order_by_desc(plans::Column::Id)
        .limit(LISTED)
        .all(db)
        .await?;
    let pull_ids: Vec<i64> = plans.iter().filter_map(|p| p.pull_request_id).collect();
    let numbers: BTreeMap<i64, i64> = pull_requests::Entity::find()
        .filter(pull_requests::Column::Id.is_in(pull_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.number))
        .collect();
    let views: Vec<PlanView> = plans
        .iter()
        .map(|p| {
            plan_view(
                p,
                p.pull_request_id.and_then(|id| numbers.get(&id).copied()),
            )
        })
        .collect();
    let states = state_versions::Entity::find()
        .filter(state_versions::Column::ResourceId.eq(resource.id))
        .order_by_desc(state_versions::Column::Id)
        .limit(LISTED)
        .all(db)
        .await?
        .into_iter()
        .map(|v| StateVersionRow {
            id: v.id,
            serial: v.serial,
            lineage: v.lineage,
            size: v.size,
            sha256: v.sha256,
            plan_id: v.plan_id,
            created_by: v.created_by,
            created_at: when(&v.created_at),
        })
        .collect();
    let lock = state_locks::Entity::find_by_id(resource.id)
        .one(db)
        .await?
        .map(|l| format!("{} since {}", l.holder, when(&l.locked_at)));
    let latest = views
        .iter()
        .find(|p| p.purpose == PlanPurpose::Change)
        .cloned();
    // An approved change not applied yet says what freeze holds its apply.
    let waiting = latest.as_ref().filter(|p| {
        p.approved_by.is_some()
            && p.applied_at.is_none()
            && matches!(p.status, PlanStatus::Ready | PlanStatus::Applying)
    });
    let frozen = match (
        waiting,
        crate::server::freezes::workspace_slug(db, resource.id).await?,
    ) {
        (Some(plan), Some(workspace)) => {
            let target = [crate::domain::freezes::Target::Workspace(&workspace)];
            crate::server::freezes::note_for(db, &target, &format!("plan:{}", plan.id), viewer)
                .await?
        }
        _ => None,
    };
    Ok(ResourceRuns {
        latest,
        plans: views,
        states,
        lock,
        frozen,
    })
}

/// Two of the resource's state versions compared, as a listing with no value in it: each
/// resource instance's address and id, and each output (sensitive ones masked).
pub async fn state_diff(ctx: &AppCtx, slug: &str, from: i64, to: i64) -> AppResult<StateDiff> {
    let resource = crate::server::resources::resource_by_slug(&ctx.db, slug).await?;
    let listing = async |id: i64| -> AppResult<String> {
        let version = state_versions::Entity::find_by_id(id)
            .one(&ctx.db)
            .await?
            .filter(|v| v.resource_id == resource.id)
            .ok_or_else(|| AppError::not_found(format_args!("State version #{id} of {slug}")))?;
        let state = ctx
            .secrets
            .open(&state_purpose(resource.id), &version.state)
            .map_err(|e| AppError::internal(format!("state version #{id}: {e}")))?;
        Ok(crate::domain::state_listing::state_listing(&state))
    };
    let (old, new) = (listing(from).await?, listing(to).await?);
    Ok(StateDiff {
        from,
        to,
        lines: crate::server::diff::diff_lines(&old, &new),
    })
}
