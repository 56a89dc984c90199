//! Durable jobs as the rest of Slipway sees them: the states a job (and an executor run, which
//! follows its job) goes through, and how long a failed attempt waits before the next one.

use serde::{Deserialize, Serialize};

/// Where a job is: waiting for a worker (first attempt or a retry), held by one, or ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn parse(value: &str) -> Option<JobStatus> {
        match value {
            "queued" => Some(JobStatus::Queued),
            "running" => Some(JobStatus::Running),
            "succeeded" => Some(JobStatus::Succeeded),
            "failed" => Some(JobStatus::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    /// Whether the job has ended for good (no further attempt will run).
    pub fn is_done(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed)
    }

    /// Waiting for a worker or held by one.
    pub const ACTIVE: [JobStatus; 2] = [JobStatus::Queued, JobStatus::Running];
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Seconds before attempt `attempt + 1` of a job whose attempt `attempt` failed: 5 s doubling,
/// capped at 10 minutes.
pub fn backoff_seconds(attempt: i32) -> i64 {
    let exponent = attempt.clamp(1, 16) - 1;
    (5i64 << exponent).min(600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(
            (1..=9).map(backoff_seconds).collect::<Vec<_>>(),
            vec![5, 10, 20, 40, 80, 160, 320, 600, 600]
        );
    }

    #[test]
    fn every_status_reads_back_and_nothing_else_reads() {
        for status in [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed,
        ] {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JobStatus::parse("done"), None);
        assert_eq!(JobStatus::parse("Queued"), None);
    }
}
