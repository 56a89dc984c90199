//! Freeze windows: times when nothing is deployed or applied in part of the estate, one model for
//! both halves of Slipway. A freeze is a manifest kept with revisions like the release manifests,
//! edited by platform / SRE:
//!
//! ```yaml
//! apiVersion: lowops.manifests.v1
//! kind: FreezeWindow
//! metadata:
//!   name: weekend
//! spec:
//!   reason: No changes over the weekend
//!   scope:                        # `everything`, or environments and/or workspaces (slugs)
//!     environments: [production]
//!     workspaces: [prod-infra]
//!   schedule:                     # recurring: a start, how long, in which time zone
//!     cron: "0 18 * * FRI"
//!     duration: 62h
//!     timeZone: Europe/Amsterdam
//!   # or a fixed period (RFC 3339 times); without `end` it lasts until lifted:
//!   # period: { start: "2026-12-21T00:00:00+01:00", end: "2027-01-04T09:00:00+01:00" }
//!   exceptions:                   # optional: who lets one change through
//!     group: incident-commanders  # the default
//!     approvals: 1                # distinct members, never the one who asks
//! ```
//!
//! A recurring window starts at each time the cron expression names on the wall clock of its
//! time zone and lasts `duration` of wall-clock time there, so "Friday 18:00 for 62h" ends on
//! Monday at 08:00 local time on the weekend the clocks change too. Windows that overlap or
//! touch are one freeze. Reading the cron expression and the time zone needs the time zone
//! database, which only the server carries (`server::freezes::schedule`); the browser checks
//! the rest as it is typed.

use super::manifests::{names, safe_name, text, Errors, Fields, Metadata};
use super::yaml::{Node, Pos, Value};
use chrono::{DateTime, Utc};

/// The group that edits freeze windows and may lift them.
pub const FREEZE_OWNERS: &str = "sre";
/// Who approves an exception when a window names no group.
pub const DEFAULT_EXCEPTION_GROUP: &str = "incident-commanders";
/// The most approvals an exception may ask for.
pub const MAX_APPROVALS: u32 = 10;
/// The longest a recurring window lasts, in minutes (a year).
pub const MAX_DURATION_MINUTES: i64 = 366 * 24 * 60;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FreezeWindow {
    pub metadata: Metadata,
    pub reason: String,
    pub scope: Scope,
    pub when: When,
    /// The group whose members approve an exception, and how many distinct ones must.
    pub exception_group: String,
    pub approvals: u32,
}

/// What a freeze covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub everything: bool,
    pub environments: Vec<String>,
    /// Workspace slugs.
    pub workspaces: Vec<String>,
}

/// Something a freeze may cover: a deployment into an environment, an apply in a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    Environment(&'a str),
    Workspace(&'a str),
}

impl Target<'_> {
    pub fn describe(&self) -> String {
        match self {
            Target::Environment(env) => format!("environment {env}"),
            Target::Workspace(slug) => format!("workspace {slug}"),
        }
    }
}

impl Scope {
    pub fn covers(&self, target: Target<'_>) -> bool {
        self.everything
            || match target {
                Target::Environment(env) => self.environments.iter().any(|e| e == env),
                Target::Workspace(slug) => self.workspaces.iter().any(|w| w == slug),
            }
    }

    pub fn describe(&self) -> String {
        if self.everything {
            return "everything".into();
        }
        let mut parts = Vec::new();
        if !self.environments.is_empty() {
            parts.push(format!("environments {}", self.environments.join(", ")));
        }
        if !self.workspaces.is_empty() {
            parts.push(format!("workspaces {}", self.workspaces.join(", ")));
        }
        parts.join("; ")
    }
}

/// When a freeze holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    Recurring {
        cron: String,
        cron_pos: Pos,
        minutes: i64,
        time_zone: String,
        zone_pos: Pos,
    },
    /// From `start`, until `end` or, without one, until lifted.
    Period {
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    },
}

/// One time a freeze holds: from `start` until `end`, or until lifted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// Reads `62h`, `90m`, `2d`, `1d12h`, `1h30m` as minutes: at least one minute, at most a year.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a duration: write it as 62h, 90m, 2d or 1h30m");
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut units = 0;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let per = match c {
            'd' => 24 * 60,
            'h' => 60,
            'm' => 1,
            _ => return Err(bad()),
        };
        if digits.is_empty() || digits.len() > 6 {
            return Err(bad());
        }
        total += digits.parse::<i64>().map_err(|_| bad())? * per;
        digits.clear();
        units += 1;
    }
    if !digits.is_empty() || units == 0 {
        return Err(bad());
    }
    if total < 1 || total > MAX_DURATION_MINUTES {
        return Err(format!("{text:?} must be from 1m to 366d"));
    }
    Ok(total)
}

/// A duration in minutes as people write it (`62h`, `1d12h`, `1h30m`).
pub fn format_duration(minutes: i64) -> String {
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    let mut out = String::new();
    if d > 0 {
        out.push_str(&format!("{d}d"));
    }
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 || out.is_empty() {
        out.push_str(&format!("{m}m"));
    }
    out
}

fn time(node: &Node, what: &str, errors: &mut Errors) -> Option<DateTime<Utc>> {
    let value = text(node, what, errors)?;
    match DateTime::parse_from_rfc3339(&value) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errors.at(
                node.pos,
                format!("{what} {value:?} is not an RFC 3339 time with its offset, as 2026-12-21T18:00:00+01:00"),
            );
            None
        }
    }
}

pub(super) fn freeze_window(
    meta: Metadata,
    spec: &Node,
    errors: &mut Errors,
) -> Option<FreezeWindow> {
    if let Some((kind, parent)) = &meta.parent {
        errors.at(
            meta.pos,
            format!("a FreezeWindow has no parent (metadata.parent: {kind}/{parent})"),
        );
    }
    let fields = Fields::of(spec, "spec", errors)?;
    fields.only(
        &["reason", "scope", "schedule", "period", "exceptions"],
        errors,
    );
    let reason = fields
        .required("reason", "spec", errors)
        .and_then(|n| text(n, "spec.reason", errors));
    if let (Some(reason), Some(node)) = (&reason, fields.get("reason")) {
        if reason.chars().count() > 500 {
            errors.at(node.pos, "spec.reason is longer than 500 characters".into());
        }
    }
    let scope = fields
        .required("scope", "spec", errors)
        .and_then(|n| scope(n, errors));
    let when = match (fields.get("schedule"), fields.get("period")) {
        (Some(_), Some(period)) => {
            errors.at(
                period.pos,
                "a FreezeWindow has either spec.schedule (recurring) or spec.period (fixed), not both".into(),
            );
            None
        }
        (None, None) => {
            errors.at(
                spec.pos,
                "spec needs `schedule` (cron, duration, timeZone) or `period` (start, and end unless it lasts until lifted)".into(),
            );
            None
        }
        (Some(node), None) => schedule(node, errors),
        (None, Some(node)) => period(node, errors),
    };
    let (mut exception_group, mut approvals) = (Some(DEFAULT_EXCEPTION_GROUP.to_string()), 1);
    if let Some(node) = fields.get("exceptions") {
        if let Some(settings) = Fields::of(node, "spec.exceptions", errors) {
            settings.only(&["group", "approvals"], errors);
            if let Some(n) = settings.get("group") {
                exception_group = safe_name(n, "spec.exceptions.group", errors);
            }
            if let Some(n) = settings.get("approvals") {
                match text(n, "spec.exceptions.approvals", errors).map(|t| t.parse::<u32>()) {
                    Some(Ok(count)) if (1..=MAX_APPROVALS).contains(&count) => approvals = count,
                    Some(_) => errors.at(
                        n.pos,
                        format!("spec.exceptions.approvals must be a whole number from 1 to {MAX_APPROVALS}"),
                    ),
                    None => {}
                }
            }
        }
    }
    Some(FreezeWindow {
        metadata: meta,
        reason: reason?,
        scope: scope?,
        when: when?,
        exception_group: exception_group?,
        approvals,
    })
}

fn scope(node: &Node, errors: &mut Errors) -> Option<Scope> {
    if let Value::Scalar { .. } = &node.value {
        return match node.as_str() {
            Some("everything") => Some(Scope {
                everything: true,
                ..Scope::default()
            }),
            _ => {
                errors.at(
                    node.pos,
                    "spec.scope is `everything`, or a mapping of environments and/or workspaces"
                        .into(),
                );
                None
            }
        };
    }
    let fields = Fields::of(node, "spec.scope", errors)?;
    fields.only(&["environments", "workspaces"], errors);
    let environments = fields
        .get("environments")
        .map(|n| names(n, "spec.scope.environments", errors))
        .unwrap_or_default();
    let workspaces = fields
        .get("workspaces")
        .map(|n| names(n, "spec.scope.workspaces", errors))
        .unwrap_or_default();
    if environments.is_empty() && workspaces.is_empty() {
        errors.at(
            node.pos,
            "spec.scope names no environment and no workspace (write `scope: everything` to freeze everything)".into(),
        );
        return None;
    }
    Some(Scope {
        everything: false,
        environments,
        workspaces,
    })
}

fn schedule(node: &Node, errors: &mut Errors) -> Option<When> {
    let fields = Fields::of(node, "spec.schedule", errors)?;
    fields.only(&["cron", "duration", "timeZone"], errors);
    let cron_node = fields.required("cron", "spec.schedule", errors);
    let cron = cron_node.and_then(|n| text(n, "spec.schedule.cron", errors));
    let minutes = fields
        .required("duration", "spec.schedule", errors)
        .and_then(|n| {
            let value = text(n, "spec.schedule.duration", errors)?;
            parse_duration(&value)
                .map_err(|why| errors.at(n.pos, format!("spec.schedule.duration {why}")))
                .ok()
        });
    let zone_node = fields.required("timeZone", "spec.schedule", errors);
    let time_zone = zone_node.and_then(|n| text(n, "spec.schedule.timeZone", errors));
    Some(When::Recurring {
        cron: cron?,
        cron_pos: cron_node?.pos,
        minutes: minutes?,
        time_zone: time_zone?,
        zone_pos: zone_node?.pos,
    })
}

fn period(node: &Node, errors: &mut Errors) -> Option<When> {
    let fields = Fields::of(node, "spec.period", errors)?;
    fields.only(&["start", "end"], errors);
    let start = fields
        .required("start", "spec.period", errors)
        .and_then(|n| time(n, "spec.period.start", errors));
    let end = match fields.get("end") {
        None => Some(None),
        Some(n) => time(n, "spec.period.end", errors).map(Some),
    };
    let (start, end) = (start?, end?);
    if let (Some(end), Some(n)) = (end, fields.get("end")) {
        if end <= start {
            errors.at(n.pos, "spec.period.end must be after its start".into());
            return None;
        }
    }
    Some(When::Period { start, end })
}

impl FreezeWindow {
    /// How the window holds, as people read it (the cron part as written; the server adds the
    /// words for it).
    pub fn describe_when(&self) -> String {
        match &self.when {
            When::Recurring {
                cron,
                minutes,
                time_zone,
                ..
            } => format!(
                "from `{cron}` for {} ({time_zone})",
                format_duration(*minutes)
            ),
            When::Period { start, end: None } => {
                format!("from {} until lifted", start.format("%Y-%m-%d %H:%M UTC"))
            }
            When::Period {
                start,
                end: Some(end),
            } => format!(
                "from {} to {}",
                start.format("%Y-%m-%d %H:%M UTC"),
                end.format("%Y-%m-%d %H:%M UTC")
            ),
        }
    }
}

/// The example the new-manifest page offers for a FreezeWindow.
pub const EXAMPLE_FREEZE: &str = "apiVersion: lowops.manifests.v1
kind: FreezeWindow
metadata:
  name: weekend
spec:
  reason: No production changes over the weekend
  scope:
    environments: [production]
  schedule:
    cron: \"0 18 * * FRI\"
    duration: 62h
    timeZone: Europe/Amsterdam
  exceptions:
    group: incident-commanders
    approvals: 1
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::manifests::Manifest;
    use crate::domain::release_manifests::parse_release_source;

    fn load(text: &str) -> Result<FreezeWindow, Vec<String>> {
        match parse_release_source(text) {
            Ok(Manifest::FreezeWindow(f)) => Ok(f),
            Ok(other) => panic!("{other:?}"),
            Err(errors) => Err(errors.iter().map(|e| e.to_string()).collect()),
        }
    }

    #[test]
    fn the_example_loads() {
        let freeze = load(EXAMPLE_FREEZE).unwrap();
        assert_eq!(freeze.reason, "No production changes over the weekend");
        assert!(freeze.scope.covers(Target::Environment("production")));
        assert!(!freeze.scope.covers(Target::Environment("staging")));
        assert!(!freeze.scope.covers(Target::Workspace("production")));
        assert_eq!(freeze.exception_group, "incident-commanders");
        assert!(matches!(freeze.when, When::Recurring { minutes: 3720, .. }));
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("62h"), Ok(62 * 60));
        assert_eq!(parse_duration("1h30m"), Ok(90));
        assert_eq!(parse_duration("1d12h"), Ok(36 * 60));
        assert_eq!(format_duration(36 * 60), "1d12h");
        assert_eq!(format_duration(90), "1h30m");
        for bad in ["", "h", "62", "3w", "0m", "367d", "1.5h", "-1h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_mistake_is_named_at_once_with_its_place() {
        let text = "apiVersion: lowops.manifests.v1\nkind: FreezeWindow\nmetadata:\n  name: f\nspec:\n  reasn: x\n  scope: {}\n  schedule:\n    cron: \"0 18 * * FRI\"\n    duration: 3w\n  period:\n    start: tomorrow\n  exceptions:\n    approvals: 11\n";
        let errors = load(text).unwrap_err();
        let all = errors.join("\n");
        assert!(
            all.contains("6:3: unknown field `reasn`; did you mean `reason`?"),
            "{all}"
        );
        assert!(all.contains("spec needs `reason`"), "{all}");
        assert!(
            all.contains("names no environment and no workspace"),
            "{all}"
        );
        assert!(all.contains("not both"), "{all}");
        assert!(
            all.contains("approvals must be a whole number from 1 to 10"),
            "{all}"
        );
    }

    #[test]
    fn a_period_without_an_end_lasts_until_lifted() {
        let text = "apiVersion: lowops.manifests.v1\nkind: FreezeWindow\nmetadata:\n  name: incident\nspec:\n  reason: Outage\n  scope: everything\n  period:\n    start: \"2026-12-07T10:00:00Z\"\n";
        let freeze = load(text).unwrap();
        assert!(freeze.scope.covers(Target::Workspace("anything")));
        assert!(matches!(freeze.when, When::Period { end: None, .. }));
        assert!(freeze.describe_when().ends_with("until lifted"));
        let backwards = text.replace(
            "start: \"2026-12-07T10:00:00Z\"\n",
            "start: \"2026-12-07T10:00:00Z\"\n    end: \"2026-12-07T09:00:00+00:00\"\n",
        );
        let errors = load(&backwards).unwrap_err();
        assert!(
            errors[0].contains("10:10: spec.period.end must be after its start"),
            "{errors:?}"
        );
    }
}
