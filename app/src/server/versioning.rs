//! The versioning view of a workspace's repository: branches and version tags read from a
//! fresh fetch, and the merged pull requests Slipway knows, whose titles label the versions
//! of their merge commits.

use super::entities::pull_requests;
use super::ports::PullState;
use super::workspaces::{by_slug, reach};
use super::AppCtx;
use crate::domain::conventional::{check_title, Label};
use crate::domain::semver::Version;
use crate::domain::versioning::{Bump, TagKind};
use crate::error::{AppError, AppResult};
use crate::wire::versioning::{
    BranchVersioning, KnownPull, RepositoryVersioning, TimelineTag, TIMELINE_LIMIT,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::BTreeSet;

pub async fn repository(ctx: &AppCtx, slug: &str) -> AppResult<RepositoryVersioning> {
    let workspace = by_slug(&ctx.db, slug).await?;
    let (config, repo) = reach(ctx, &ctx.db, &workspace).await?;
    let read = ctx.workspace_git.tags(&repo, &config).await?;
    let heads: Vec<String> = read.branches.iter().map(|b| b.head.clone()).collect();
    let merged = pull_requests::Entity::find()
        .filter(pull_requests::Column::WorkspaceId.eq(workspace.id))
        .filter(pull_requests::Column::State.eq(PullState::Merged))
        .filter(pull_requests::Column::MergeCommit.is_in(heads))
        .all(&ctx.db)
        .await?;
    let branches: Vec<BranchVersioning> = read
        .branches
        .into_iter()
        .map(|b| {
            let merged_pull = merged
                .iter()
                .find(|p| p.merge_commit.as_deref() == Some(b.head.as_str()))
                .map(|p| KnownPull {
                    number: p.number,
                    title: p.title.clone(),
                    url: p.url.clone(),
                    label: check_title(&p.title)
                        .map_or(Label::None, |(_, label)| label)
                        .as_str()
                        .to_string(),
                });
            BranchVersioning {
                name: b.name,
                head: b.head,
                base: b.base,
                head_tags: b.head_tags,
                merged_pull,
            }
        })
        .collect();

    let tags = tag_timeline(&branches, read.tags)?;
    Ok(RepositoryVersioning {
        workspace: workspace.slug,
        repository: workspace.repository,
        default_branch: config.default_branch,
        branches,
        timeline: tags.timeline,
        tag_count: tags.count,
        ignored: read.ignored,
        numbering: tags.numbering,
    })
}

/// The version tags as the page shows them.
struct Tags {
    /// Newest first, at most [`TIMELINE_LIMIT`].
    timeline: Vec<TimelineTag>,
    count: usize,
    /// The pre-release numbers the preview needs: tags of the patch after any branch's base.
    numbering: Vec<String>,
}

fn tag_timeline(
    branches: &[BranchVersioning],
    tags: Vec<crate::server::ports::VersionTag>,
) -> AppResult<Tags> {
    let read_tags = tags;
    let targets: BTreeSet<String> = branches
        .iter()
        .map(|b| {
            let base = b
                .base
                .as_deref()
                .and_then(|t| Version::parse_tag(t).ok())
                .unwrap_or(Version::ZERO);
            Bump::Patch.apply(&base.core()).tag()
        })
        .collect();
    let mut parsed: Vec<(Version, crate::server::ports::VersionTag)> = read_tags
        .into_iter()
        .filter_map(|t| Version::parse_tag(&t.name).ok().map(|v| (v, t)))
        .collect();
    let numbering: Vec<String> = parsed
        .iter()
        .filter(|(v, _)| v.is_prerelease() && targets.contains(&v.core().tag()))
        .map(|(_, t)| t.name.clone())
        .collect();
    // Newest first; tags of one moment by precedence, highest first.
    parsed.sort_by(|(va, a), (vb, b)| b.at.cmp(&a.at).then_with(|| vb.precedence(va)));
    let tag_count = parsed.len();
    let timeline = parsed
        .into_iter()
        .take(TIMELINE_LIMIT)
        .map(|(version, t)| {
            Ok(TimelineTag {
                kind: TagKind::of(&version)
                    .map_or("other", TagKind::as_str)
                    .to_string(),
                name: t.name,
                commit: t.commit,
                at: chrono::DateTime::from_timestamp(t.at, 0)
                    .map(|at| super::when(&at))
                    .ok_or_else(|| AppError::internal("a tag's time is out of range"))?,
                annotated: t.annotated,
                message: t.message,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Tags {
        timeline,
        count: tag_count,
        numbering,
    })
}
