//! What a generated workflow is made of: events, files, jobs and steps, and how each is written as
//! YAML.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Push,
    PullRequest,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Push => "push",
            Event::PullRequest => "pull_request",
        }
    }
}

/// A file Slipway writes into a repository.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GeneratedFile {
    /// The repository it goes to (the governed one, or the managed-workflows one).
    pub repository: String,
    pub path: String,
    pub contents: String,
}

/// Where the workflows go and what they are called.
pub struct Target<'a> {
    pub org: &'a str,
    pub repository: &'a str,
    pub managed_repository: &'a str,
    pub strategy: Strategy,
}

#[derive(Default)]
pub(super) struct Step {
    pub(super) name: String,
    pub(super) id: Option<String>,
    pub(super) uses: Option<&'static Pin>,
    pub(super) with: Vec<(&'static str, String)>,
    pub(super) env: Vec<(String, String)>,
    pub(super) run: Option<String>,
    pub(super) when: Option<String>,
}

impl Step {
    pub(super) fn run(name: &str, script: &str) -> Step {
        Step {
            name: name.into(),
            run: Some(script.into()),
            ..Step::default()
        }
    }

    pub(super) fn uses(name: &str, action: &str) -> Step {
        Step {
            name: name.into(),
            uses: Some(pin(action)),
            ..Step::default()
        }
    }

    pub(super) fn with(mut self, key: &'static str, value: impl Into<String>) -> Step {
        self.with.push((key, value.into()));
        self
    }

    pub(super) fn env(mut self, key: &str, value: impl Into<String>) -> Step {
        self.env.push((key.into(), value.into()));
        self
    }

    pub(super) fn id(mut self, id: &str) -> Step {
        self.id = Some(id.into());
        self
    }

    pub(super) fn when(mut self, condition: &str) -> Step {
        self.when = Some(condition.into());
        self
    }

    pub(super) fn yaml(&self) -> Yaml {
        let mut m = Yaml::map().text("name", &self.name);
        if let Some(id) = &self.id {
            m.push("id", Yaml::str(id));
        }
        if let Some(when) = &self.when {
            m.push("if", Yaml::str(when));
        }
        if let Some(pin) = self.uses {
            m.push(
                "uses",
                Yaml::Noted(format!("{}@{}", pin.action, pin.sha), pin.tag.into()),
            );
        }
        if !self.with.is_empty() {
            m.push(
                "with",
                Yaml::Map(
                    self.with
                        .iter()
                        .map(|(k, v)| {
                            let value = if v.contains('\n') {
                                Yaml::Block(v.clone())
                            } else {
                                Yaml::str(v)
                            };
                            (k.to_string(), value)
                        })
                        .collect(),
                ),
            );
        }
        if !self.env.is_empty() {
            m.push(
                "env",
                Yaml::Map(
                    self.env
                        .iter()
                        .map(|(k, v)| (k.clone(), Yaml::str(v)))
                        .collect(),
                ),
            );
        }
        if let Some(run) = &self.run {
            m.push("run", Yaml::Block(run.clone()));
        }
        m.build()
    }
}

#[derive(Default)]
pub(super) struct Job {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) needs: Vec<String>,
    pub(super) when: Option<String>,
    pub(super) permissions: Vec<(&'static str, &'static str)>,
    pub(super) matrix: Option<Vec<String>>,
    pub(super) env: Vec<(String, String)>,
    pub(super) outputs: Vec<(String, String)>,
    pub(super) steps: Vec<Step>,
}

impl Job {
    pub(super) fn yaml(&self) -> Yaml {
        let mut m = Yaml::map().text("name", &self.name);
        if !self.needs.is_empty() {
            m.push("needs", Yaml::seq(self.needs.iter().cloned()));
        }
        if let Some(when) = &self.when {
            m.push("if", Yaml::str(when));
        }
        m.push("runs-on", Yaml::str(RUNNER));
        m.push("timeout-minutes", Yaml::Plain("30".into()));
        m.push("permissions", permissions_yaml(&self.permissions));
        if let Some(values) = &self.matrix {
            m.push(
                "strategy",
                Yaml::map()
                    .with("fail-fast", Yaml::Plain("false".into()))
                    .with(
                        "matrix",
                        Yaml::map()
                            .with("version", Yaml::seq(values.iter().cloned()))
                            .build(),
                    )
                    .build(),
            );
        }
        if !self.outputs.is_empty() {
            m.push(
                "outputs",
                Yaml::Map(
                    self.outputs
                        .iter()
                        .map(|(k, v)| (k.clone(), Yaml::str(v)))
                        .collect(),
                ),
            );
        }
        if !self.env.is_empty() {
            m.push(
                "env",
                Yaml::Map(
                    self.env
                        .iter()
                        .map(|(k, v)| (k.clone(), Yaml::str(v)))
                        .collect(),
                ),
            );
        }
        m.push(
            "steps",
            Yaml::Seq(self.steps.iter().map(Step::yaml).collect()),
        );
        m.build()
    }
}

pub(super) fn permissions_yaml(permissions: &[(&'static str, &'static str)]) -> Yaml {
    Yaml::Map(
        permissions
            .iter()
            .map(|(k, v)| (k.to_string(), Yaml::str(*v)))
            .collect(),
    )
}

/// The union of the jobs' permissions, the stronger level winning: what the caller must grant
/// (a called workflow can only narrow what its caller gives).
pub(super) fn union(jobs: &[Job]) -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<(&'static str, &'static str)> = Vec::new();
    for (scope, level) in jobs.iter().flat_map(|j| j.permissions.iter().copied()) {
        match all.iter_mut().find(|(s, _)| *s == scope) {
            Some(existing) if level == "write" => existing.1 = "write",
            Some(_) => {}
            None => all.push((scope, level)),
        }
    }
    all.sort_by_key(|(scope, _)| *scope);
    all
}
