use super::*;

fn facts(source: &str, target: &str) -> PullRequestFacts {
    PullRequestFacts {
        source: source.into(),
        target: target.into(),
        title: "fix: handle empty input".into(),
        commits: vec![("a1b2c3d4e5".into(), "fix: handle empty input".into())],
        author: "dev".into(),
        approvers: vec!["ada".into()],
        method: None,
    }
}

fn failed(strategy: Strategy, facts: &PullRequestFacts) -> Vec<Rule> {
    authorize(strategy, facts)
        .failures()
        .map(|c| c.rule)
        .collect()
}

#[test]
fn the_seeds_tables_row_by_row() {
    let rows = |s| {
        policies(s)
            .into_iter()
            .map(|p| (p.role.shown(), p.merge_policy, p.release.as_str()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rows(Strategy::GithubFlow),
        [
            ("main", "Squash only".into(), "LATEST"),
            ("feat/*, fix/*, docs/*, …", "Any".into(), "NONE"),
        ]
    );
    assert_eq!(
        rows(Strategy::GitFlow),
        [
            ("main", "Merge only (from release/hotfix)".into(), "LATEST"),
            ("develop", "Squash from feature branches".into(), "ALPHA"),
            ("release/*", "Merge/squash (bugfixes only)".into(), "BETA"),
            ("hotfix/*", "Any".into(), "HOTFIX"),
            ("feat/*, fix/*, docs/*, …", "Any".into(), "NONE"),
        ]
    );
    assert_eq!(
        rows(Strategy::TrunkBased),
        [
            ("main", "Squash only".into(), "LATEST"),
            ("release/*", "Merge/squash (bugfixes only)".into(), "HOTFIX"),
            ("feat/*, fix/*, docs/*, …", "Any".into(), "NONE"),
        ]
    );
}

// Seed, GitHub Flow, "Branch protection": main requires 1 reviewer, the Merge Authorized
// gate, and only conventional-commit-prefixed branches can merge into it.
#[test]
fn github_flow_main_accepts_only_conventional_branches() {
    for prefix in CONVENTIONAL_PREFIXES {
        let f = facts(&format!("{prefix}thing"), "main");
        assert!(authorize(Strategy::GithubFlow, &f).allowed(), "{prefix}");
    }
    for source in [
        "bugfix/x",
        "feature/x",
        "develop",
        "release/1.0",
        "hotfix/x",
        "feat",
        "feat/",
    ] {
        let f = facts(source, "main");
        assert_eq!(
            failed(Strategy::GithubFlow, &f),
            [Rule::SourceBranch],
            "{source}"
        );
    }
    let verdict = authorize(Strategy::GithubFlow, &facts("feature/x", "main"));
    assert_eq!(
        verdict.summary(),
        "Only conventional-commit branches (feat/, fix/, docs/, test/, ci/, refactor/, perf/, chore/, revert/) can merge into main (GitHub Flow); feature/x is not one of them"
            .chars()
            .take(139)
            .collect::<String>()
            + "…"
    );
}

#[test]
fn main_needs_one_approval_from_someone_else() {
    for strategy in Strategy::ALL {
        let source = if strategy == Strategy::GitFlow {
            "release/1.0"
        } else {
            "feat/x"
        };
        let mut f = facts(source, "main");
        f.approvers = vec![];
        assert_eq!(failed(strategy, &f), [Rule::Approvals]);
        f.approvers = vec!["dev".into()];
        assert_eq!(failed(strategy, &f), [Rule::Approvals], "the author's own");
        f.approvers = vec!["ada".into(), "ada".into(), "dev".into()];
        let verdict = authorize(strategy, &f);
        assert!(verdict.allowed(), "{verdict:?}");
    }
}

// "Feature branches have no reviewer requirement and accept any merge method."
#[test]
fn feature_branches_need_no_review_and_take_any_method() {
    for strategy in Strategy::ALL {
        for method in MergeMethod::ALL {
            let mut f = facts("fix/y", "feat/x");
            f.approvers.clear();
            f.method = Some(method);
            assert!(authorize(strategy, &f).allowed(), "{strategy:?} {method:?}");
        }
    }
}

#[test]
fn merge_methods_follow_the_tables() {
    let cases = [
        (
            Strategy::GithubFlow,
            "feat/x",
            "main",
            MergeMethod::Squash,
            true,
        ),
        (
            Strategy::GithubFlow,
            "feat/x",
            "main",
            MergeMethod::Merge,
            false,
        ),
        (
            Strategy::GithubFlow,
            "feat/x",
            "main",
            MergeMethod::Rebase,
            false,
        ),
        (
            Strategy::GitFlow,
            "release/1.0",
            "main",
            MergeMethod::Merge,
            true,
        ),
        (
            Strategy::GitFlow,
            "release/1.0",
            "main",
            MergeMethod::Squash,
            false,
        ),
        (
            Strategy::GitFlow,
            "feat/x",
            "develop",
            MergeMethod::Squash,
            true,
        ),
        (
            Strategy::GitFlow,
            "feat/x",
            "develop",
            MergeMethod::Merge,
            false,
        ),
        (
            Strategy::GitFlow,
            "fix/x",
            "release/1.0",
            MergeMethod::Merge,
            true,
        ),
        (
            Strategy::GitFlow,
            "fix/x",
            "release/1.0",
            MergeMethod::Squash,
            true,
        ),
        (
            Strategy::GitFlow,
            "fix/x",
            "release/1.0",
            MergeMethod::Rebase,
            false,
        ),
        (
            Strategy::GitFlow,
            "fix/x",
            "hotfix/1.0",
            MergeMethod::Rebase,
            true,
        ),
        (
            Strategy::TrunkBased,
            "feat/x",
            "main",
            MergeMethod::Squash,
            true,
        ),
        (
            Strategy::TrunkBased,
            "feat/x",
            "main",
            MergeMethod::Merge,
            false,
        ),
        (
            Strategy::TrunkBased,
            "fix/x",
            "release/1.0",
            MergeMethod::Merge,
            true,
        ),
        (
            Strategy::TrunkBased,
            "fix/x",
            "release/1.0",
            MergeMethod::Rebase,
            false,
        ),
    ];
    for (strategy, source, target, method, ok) in cases {
        let mut f = facts(source, target);
        f.method = Some(method);
        let failures = failed(strategy, &f);
        if ok {
            assert!(
                failures.is_empty(),
                "{strategy:?} {source}->{target} {method:?}: {failures:?}"
            );
        } else {
            assert_eq!(
                failures,
                [Rule::MergeMethod],
                "{strategy:?} {source}->{target} {method:?}"
            );
        }
    }
}

// Git Flow "Key rules".
#[test]
fn git_flow_key_rules() {
    let gf = Strategy::GitFlow;
    // Only release/* and hotfix/* branches can merge into main.
    for (source, ok) in [
        ("release/2.4", true),
        ("hotfix/cve-1", true),
        ("develop", false),
        ("feat/x", false),
        ("fix/x", false),
    ] {
        assert_eq!(
            authorize(gf, &facts(source, "main")).allowed(),
            ok,
            "{source}"
        );
    }
    // Only conventional-commit branches, release branches and hotfix branches can merge
    // into develop.
    for (source, ok) in [
        ("feat/x", true),
        ("chore/deps", true),
        ("release/2.4", true),
        ("hotfix/cve-1", true),
        ("bugfix/x", false),
        ("main", false),
        ("wip", false),
    ] {
        assert_eq!(
            authorize(gf, &facts(source, "develop")).allowed(),
            ok,
            "{source}"
        );
    }
    // Release branches only accept bugfix/ and fix/ branches.
    for (source, ok) in [
        ("bugfix/x", true),
        ("fix/x", true),
        ("feat/x", false),
        ("develop", false),
        ("hotfix/x", false),
    ] {
        assert_eq!(
            authorize(gf, &facts(source, "release/2.4")).allowed(),
            ok,
            "{source}"
        );
    }
    let verdict = authorize(gf, &facts("feat/x", "release/2.4"));
    assert_eq!(
        verdict.failures().next().unwrap().detail,
        "Only bugfix/* and fix/* can merge into release/* (Git Flow); feat/x is not one of them"
    );
}

#[test]
fn trunk_release_branches_take_bugfixes_only() {
    let tb = Strategy::TrunkBased;
    assert!(authorize(tb, &facts("fix/x", "release/1.0")).allowed());
    assert!(authorize(tb, &facts("bugfix/x", "release/1.0")).allowed());
    assert_eq!(
        failed(tb, &facts("feat/x", "release/1.0")),
        [Rule::SourceBranch]
    );
    assert_eq!(
        failed(tb, &facts("release/1.0", "main")),
        [Rule::SourceBranch]
    );
}

// "All strategies enforce Conventional Commits on both PR titles and commit messages."
#[test]
fn titles_and_commit_messages_must_be_conventional_everywhere() {
    for strategy in Strategy::ALL {
        for target in ["main", "feat/x", "somewhere"] {
            let source = if strategy == Strategy::GitFlow && target == "main" {
                "release/1.0"
            } else {
                "fix/y"
            };
            let mut f = facts(source, target);
            f.title = "Update stuff".into();
            assert_eq!(failed(strategy, &f), [Rule::Title], "{strategy:?} {target}");
            let detail = authorize(strategy, &f)
                .failures()
                .next()
                .unwrap()
                .detail
                .clone();
            assert!(
                detail.starts_with("The title is not a Conventional Commit: 1:"),
                "{detail}"
            );
            let mut f = facts(source, target);
            f.commits.push(("0123456789abcdef".into(), "wip".into()));
            let verdict = authorize(strategy, &f);
            assert_eq!(
                verdict.failures().map(|c| c.rule).collect::<Vec<_>>(),
                [Rule::CommitMessages]
            );
            assert!(
                verdict
                    .summary()
                    .starts_with("1 commit message is not Conventional Commits: 0123456 (1:"),
                "{}",
                verdict.summary()
            );
        }
    }
}

#[test]
fn rulesets_carry_the_policy() {
    let main = policy_for(Strategy::GitFlow, "main").unwrap();
    let json = ruleset(&main);
    assert_eq!(json["name"], "slipway-primary-branch");
    assert_eq!(
        json["conditions"]["ref_name"]["include"][0],
        "refs/heads/main"
    );
    let rules = json["rules"].as_array().unwrap();
    let types: Vec<&str> = rules.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "deletion",
            "non_fast_forward",
            "pull_request",
            "required_status_checks"
        ]
    );
    assert_eq!(
        rules[2]["parameters"]["allowed_merge_methods"],
        serde_json::json!(["merge"])
    );
    assert_eq!(rules[2]["parameters"]["required_approving_review_count"], 1);
    assert_eq!(
        rules[3]["parameters"]["required_status_checks"][0]["context"],
        MERGE_AUTHORIZED
    );
    let release = policy_for(Strategy::GitFlow, "release/1").unwrap();
    let json = ruleset(&release);
    assert_eq!(
        json["conditions"]["ref_name"]["include"][0],
        "refs/heads/release/**"
    );
    assert_eq!(
        json["rules"][0]["type"], "non_fast_forward",
        "release branches may be deleted"
    );
}
