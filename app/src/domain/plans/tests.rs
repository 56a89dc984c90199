use super::*;

// Real `terraform show -json` output of Terraform 1.11.4 for one root module of
// `terraform_data` resources (a sensitive `db_password` flows into `database.input.password` and
// the sensitive output `connection`): created, then changed (an input, a `triggers_replace`, a
// count gone to 0, a new password), destroyed, and planned again with nothing to do.
const CREATE: &str = include_str!("testdata/create_plan.json");
const UPDATE: &str = include_str!("testdata/update_plan.json");
const DESTROY: &str = include_str!("testdata/destroy_plan.json");
const NO_CHANGES: &str = include_str!("testdata/nochange_plan.json");
// Real output of a failed `terraform plan`: the stderr of a variable validation failure
// (`-no-color`), stdout and stderr together with a warning and two errors (`-no-color`), and
// the same two errors in colour, boxed.
const VALIDATION_FAILED: &str = include_str!("testdata/validation_failed.txt");
const TWO_ERRORS_AND_WARNING: &str = include_str!("testdata/two_errors_and_warning.txt");
const BOXED_ERRORS_COLOR: &str = include_str!("testdata/boxed_errors_color.txt");

/// The passwords of the fixtures (test values, not real secrets).
const SECRETS: [&str; 2] = ["hunter2-secret", "hunter3-secret"];

fn summary(json: &str) -> PlanSummary {
    summarize(json).expect("the fixture is a plan")
}

fn change<'a>(summary: &'a PlanSummary, address: &str) -> &'a ResourceChange {
    summary
        .changes
        .iter()
        .find(|c| c.address == address)
        .unwrap_or_else(|| panic!("no change for {address}"))
}

fn attribute<'a>(change: &'a ResourceChange, path: &str) -> &'a AttributeChange {
    change
        .attributes
        .iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("{} has no attribute {path}", change.address))
}

fn paths(change: &ResourceChange) -> Vec<&str> {
    change.attributes.iter().map(|a| a.path.as_str()).collect()
}

fn value(text: &str) -> Shown {
    Shown::Value(text.to_string())
}

/// A plan of one resource change, for the cases the fixtures do not have.
fn one_change(actions: &str, change: &str) -> String {
    format!(
        r#"{{"format_version":"1.2","terraform_version":"1.11.4","resource_changes":[
            {{"address":"terraform_data.x","change":{{"actions":{actions},{change}}}}}]}}"#
    )
}

#[test]
fn a_create_plan_lists_every_resource_with_what_is_known() {
    let summary = summary(CREATE);
    assert_eq!(summary.runtime_version, "1.11.4");
    let actions: Vec<(&str, ChangeAction)> = summary
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("terraform_data.cache[0]", ChangeAction::Create),
            ("terraform_data.database", ChangeAction::Create),
            ("terraform_data.migration", ChangeAction::Create),
            ("terraform_data.web", ChangeAction::Create),
        ]
    );
    assert_eq!(
        summary.counts,
        Counts {
            add: 4,
            change: 0,
            destroy: 0
        }
    );
    assert_eq!(summary.counts.label(), "+4 ~0 -0");
    assert!(!summary.is_empty());

    let web = change(&summary, "terraform_data.web");
    // Null attributes (`triggers_replace`) are left out; unknown ones (`id`, `output`, and
    // `input.db_id`, which is only in after_unknown) are listed as such.
    assert_eq!(
        paths(web),
        vec![
            "id",
            "input.db_id",
            "input.image",
            "input.labels",
            "input.ports[0]",
            "input.ports[1]",
            "input.replicas",
            "output",
        ]
    );
    for path in ["id", "input.db_id", "output"] {
        assert_eq!(attribute(web, path).before, Shown::Absent);
        assert_eq!(attribute(web, path).after, Shown::Unknown, "{path}");
    }
    assert_eq!(attribute(web, "input.image").after, value("\"nginx:1.25\""));
    assert_eq!(attribute(web, "input.labels").after, value("{}"));
    assert_eq!(attribute(web, "input.ports[1]").after, value("443"));
    assert_eq!(attribute(web, "input.replicas").after, value("2"));
    assert_eq!(web.more_attributes, 0);

    let database = change(&summary, "terraform_data.database");
    assert_eq!(
        attribute(database, "input.password").after,
        Shown::Sensitive
    );
    assert_eq!(
        attribute(database, "input.tags.Name").after,
        value("\"orders-db\"")
    );

    let outputs: Vec<(&str, &Shown)> = summary
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), &o.after))
        .collect();
    assert_eq!(
        outputs,
        vec![
            ("cache_input", &value("\"redis\"")),
            ("connection", &Shown::Sensitive),
            ("image", &value("\"nginx:1.25\"")),
            ("replicas", &value("2")),
            ("web_id", &Shown::Unknown),
        ]
    );
    assert!(summary
        .outputs
        .iter()
        .all(|o| o.action == ChangeAction::Create && o.before == Shown::Absent));
}

#[test]
fn an_update_plan_reads_update_replace_and_destroy_as_terraform_counts_them() {
    let summary = summary(UPDATE);
    let actions: Vec<(&str, ChangeAction)> = summary
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("terraform_data.cache[0]", ChangeAction::Delete),
            ("terraform_data.database", ChangeAction::Update),
            ("terraform_data.migration", ChangeAction::Replace),
            ("terraform_data.web", ChangeAction::Update),
        ]
    );
    // Terraform's own line for this plan: "Plan: 1 to add, 2 to change, 2 to destroy."
    assert_eq!(
        summary.counts,
        Counts {
            add: 1,
            change: 2,
            destroy: 2
        }
    );
    assert_eq!(summary.counts.label(), "+1 ~2 -2");

    // Only what differs: the unchanged ports, labels and db_id of web are not listed.
    let web = change(&summary, "terraform_data.web");
    assert_eq!(paths(web), vec!["input.image", "input.replicas", "output"]);
    let image = attribute(web, "input.image");
    assert_eq!(
        (&image.before, &image.after),
        (&value("\"nginx:1.25\""), &value("\"nginx:1.27\""))
    );
    assert!(!image.forces_replacement);
    let output = attribute(web, "output");
    assert_eq!(
        output.before,
        value(
            r#"{"db_id":"da26428d-679d-a4c0-df7c-53ea053c9e15","image":"nginx:1.25","labels":{},"ports":[80,443],"replicas":2}"#
        )
    );
    assert_eq!(output.after, Shown::Unknown);

    let migration = change(&summary, "terraform_data.migration");
    assert_eq!(
        paths(migration),
        vec!["id", "input", "output", "triggers_replace[0]"]
    );
    let trigger = attribute(migration, "triggers_replace[0]");
    assert_eq!(
        (&trigger.before, &trigger.after),
        (&value("1"), &value("2"))
    );
    assert!(
        trigger.forces_replacement,
        "replace_paths names triggers_replace"
    );
    assert!(!attribute(migration, "input").forces_replacement);
    assert_eq!(attribute(migration, "id").after, Shown::Unknown);

    let cache = change(&summary, "terraform_data.cache[0]");
    assert_eq!(paths(cache), vec!["id", "input", "output"]);
    assert!(cache.attributes.iter().all(|a| a.after == Shown::Absent));
    assert_eq!(attribute(cache, "input").before, value("\"redis\""));

    // A changed secret is listed as a change, hidden on both sides.
    let password = attribute(
        change(&summary, "terraform_data.database"),
        "input.password",
    );
    assert_eq!(
        (&password.before, &password.after),
        (&Shown::Sensitive, &Shown::Sensitive)
    );

    let outputs: Vec<(&str, ChangeAction, &Shown, &Shown)> = summary
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.action, &o.before, &o.after))
        .collect();
    // web_id is unchanged (no-op) and left out.
    assert_eq!(
        outputs,
        vec![
            (
                "cache_input",
                ChangeAction::Update,
                &value("\"redis\""),
                &Shown::Absent
            ),
            (
                "connection",
                ChangeAction::Update,
                &Shown::Sensitive,
                &Shown::Sensitive
            ),
            (
                "image",
                ChangeAction::Update,
                &value("\"nginx:1.25\""),
                &value("\"nginx:1.27\"")
            ),
            ("replicas", ChangeAction::Update, &value("2"), &value("3")),
        ]
    );
}

#[test]
fn sensitive_values_appear_nowhere_in_the_summary_or_the_comment() {
    for (name, json) in [
        ("create", CREATE),
        ("update", UPDATE),
        ("destroy", DESTROY),
        ("no changes", NO_CHANGES),
    ] {
        assert!(
            json.contains("hunter2-secret"),
            "the {name} fixture holds it"
        );
        let summary = summary(json);
        let shown = [
            format!("{summary:?}"),
            serde_json::to_string(&summary).unwrap(),
            summary.markdown("Plan"),
        ];
        for text in &shown {
            for secret in SECRETS {
                assert!(!text.contains(secret), "{secret} shown in the {name} plan");
            }
        }
    }
}

#[test]
fn a_secret_terraform_left_unmarked_is_hidden_where_it_was_marked_elsewhere() {
    // Once in state, terraform_data's `output` copies the password unmarked (its
    // before_sensitive has no `password`); the same string is marked in `input`.
    assert!(UPDATE.contains(r#""output": {"#));
    let summary = summary(UPDATE);
    let output = attribute(change(&summary, "terraform_data.database"), "output");
    assert_eq!(
        output.before,
        value(
            r#"{"engine":"postgres","password":(sensitive),"subnets":["subnet-a","subnet-b"],"tags":{"Name":"orders-db","Team":"payments"},"version":"16"}"#
        )
    );
    let destroyed = summary_of_destroy();
    let database = change(&destroyed, "terraform_data.database");
    assert_eq!(
        attribute(database, "output.password").before,
        Shown::Sensitive
    );
    assert_eq!(
        attribute(database, "output.engine").before,
        value("\"postgres\"")
    );
}

fn summary_of_destroy() -> PlanSummary {
    summary(DESTROY)
}

#[test]
fn marks_hide_a_secret_inside_a_value_shown_whole_and_a_whole_side() {
    // `conf` turns from a string into an object, so it is shown whole, with its secret hidden.
    let plan = one_change(
        r#"["update"]"#,
        r#""before":{"conf":"plain","token":"abc"},
           "after":{"conf":{"user":"app","pw":"pa55-word"},"token":"abd"},
           "after_unknown":{},"before_sensitive":{"token":true},
           "after_sensitive":{"conf":{"pw":true},"token":true}"#,
    );
    let summary = summarize(&plan).unwrap();
    let x = &summary.changes[0];
    assert_eq!(paths(x), vec!["conf", "token"]);
    assert_eq!(
        attribute(x, "conf").after,
        value(r#"{"pw":(sensitive),"user":"app"}"#)
    );
    assert_eq!(attribute(x, "token").after, Shown::Sensitive);

    // A whole resource marked sensitive: every value hidden.
    let plan = one_change(
        r#"["create"]"#,
        r#""before":null,"after":{"a":{"b":"pa55-word"},"c":["pa55-word"]},
           "after_unknown":{},"before_sensitive":false,"after_sensitive":true"#,
    );
    let summary = summarize(&plan).unwrap();
    assert!(summary.changes[0]
        .attributes
        .iter()
        .all(|a| a.after == Shown::Sensitive));
    assert!(!format!("{summary:?}").contains("pa55-word"));
    assert!(!summary.markdown("t").contains("pa55-word"));
}

#[test]
fn a_sensitive_root_variable_is_hidden_even_where_the_plan_forgot_it() {
    let plan = r#"{"format_version":"1.2",
        "variables":{"token":{"value":"tok-123456"}},
        "configuration":{"root_module":{"variables":{"token":{"sensitive":true}}}},
        "resource_changes":[{"address":"terraform_data.x","change":{"actions":["create"],
            "before":null,"after":{"input":"tok-123456"},"after_unknown":{},
            "before_sensitive":false,"after_sensitive":{}}}]}"#;
    let summary = summarize(plan).unwrap();
    assert_eq!(summary.changes[0].attributes[0].after, Shown::Sensitive);
}

#[test]
fn a_destroy_plan_destroys_every_resource_and_output() {
    let summary = summary_of_destroy();
    assert_eq!(summary.changes.len(), 4);
    assert!(summary
        .changes
        .iter()
        .all(|c| c.action == ChangeAction::Delete));
    assert_eq!(summary.counts.label(), "+0 ~0 -4");
    let migration = change(&summary, "terraform_data.migration");
    assert_eq!(
        paths(migration),
        vec!["id", "input", "output", "triggers_replace[0]"]
    );
    assert!(migration
        .attributes
        .iter()
        .all(|a| a.after == Shown::Absent && !a.forces_replacement));
    let names: Vec<&str> = summary.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["cache_input", "connection", "image", "replicas", "web_id"]
    );
    assert!(summary
        .outputs
        .iter()
        .all(|o| o.action == ChangeAction::Delete && o.after == Shown::Absent));
    assert_eq!(summary.outputs[1].before, Shown::Sensitive);
}

#[test]
fn a_plan_with_no_changes_is_empty_and_says_so() {
    let summary = summary(NO_CHANGES);
    assert!(NO_CHANGES.contains(r#""no-op""#));
    assert!(summary.changes.is_empty());
    assert!(summary.outputs.is_empty());
    assert!(summary.is_empty());
    assert_eq!(summary.counts.label(), "+0 ~0 -0");
    assert_eq!(
        summary.markdown("Plan for `network`"),
        "### Plan for `network`\n\n**No changes.** The infrastructure matches the code.\n"
    );
}

#[test]
fn a_read_alone_changes_nothing() {
    let plan = one_change(
        r#"["read"]"#,
        r#""before":null,"after":{"name":"x"},"after_unknown":{"id":true},
           "before_sensitive":false,"after_sensitive":{}"#,
    );
    let summary = summarize(&plan).unwrap();
    assert_eq!(summary.changes[0].action, ChangeAction::Read);
    assert_eq!(summary.counts.label(), "+0 ~0 -0");
    assert!(summary.is_empty());
}

#[test]
fn the_comment_shows_the_plan_as_terraform_does() {
    let markdown = summary(UPDATE).markdown("Plan for `orders` at 1a2b3c4");
    let expected = r#"### Plan for `orders` at 1a2b3c4

**Plan:** 1 to add, 2 to change, 2 to destroy (`+1 ~2 -2`)

`-` **destroy** `terraform_data.cache[0]`
```diff
- id = "329b574d-8d21-9dea-4d59-8ce26847fdc0"
- input = "redis"
- output = "redis"
```

`~` **update in place** `terraform_data.database`
```diff
~ input.password = (sensitive) -> (sensitive)
~ output = {"engine":"postgres","password":(sensitive),"subnets":["subnet-a","subnet-b"],"tags":{"Name":"orders-db","Team":"payments"},"version":"16"} -> (known after apply)
```

`-/+` **replace** `terraform_data.migration`
```diff
~ id = "b1fa8953-d1fb-a267-b245-2e9907fecaaa" -> (known after apply)
~ input = "schema-v1" -> "schema-v2"
~ output = "schema-v1" -> (known after apply)
~ triggers_replace[0] = 1 -> 2 # forces replacement
```

`~` **update in place** `terraform_data.web`
```diff
~ input.image = "nginx:1.25" -> "nginx:1.27"
~ input.replicas = 2 -> 3
~ output = {"db_id":"da26428d-679d-a4c0-df7c-53ea053c9e15","image":"nginx:1.25","labels":{},"ports":[80,443],"replicas":2} -> (known after apply)
```

**Outputs**
```diff
- cache_input = "redis"
~ connection = (sensitive) -> (sensitive)
~ image = "nginx:1.25" -> "nginx:1.27"
~ replicas = 2 -> 3
```
"#;
    assert_eq!(markdown, expected);

    let created = summary(CREATE).markdown("Plan");
    assert!(created.contains("**Plan:** 4 to add, 0 to change, 0 to destroy (`+4 ~0 -0`)"));
    assert!(created.contains("`+` **create** `terraform_data.web`"));
    assert!(created.contains("\n+ input.db_id = (known after apply)\n"));
    assert!(created.contains("\n+ input.password = (sensitive)\n"));
    assert!(created.contains("\n+ connection = (sensitive)\n"));
}

/// A summary of `resources` changes of `attributes` attributes with long values.
fn large_summary(resources: usize, attributes: usize) -> PlanSummary {
    let long = format!("\"{}\"", "v".repeat(300));
    PlanSummary {
        changes: (0..resources)
            .map(|r| ResourceChange {
                address: format!("module.app.terraform_data.item[{r}]"),
                action: ChangeAction::Update,
                attributes: (0..attributes)
                    .map(|a| AttributeChange {
                        path: format!("input.key_{a}"),
                        before: value(&long),
                        after: value(&long.replace('v', "w")),
                        forces_replacement: false,
                    })
                    .collect(),
                more_attributes: 0,
            })
            .collect(),
        outputs: vec![OutputChange {
            name: "endpoint".into(),
            action: ChangeAction::Create,
            before: Shown::Absent,
            after: value("\"https://example.test\""),
        }],
        counts: Counts {
            add: 0,
            change: resources as u32,
            destroy: 0,
        },
        drift: Vec::new(),
        runtime_version: "1.11.4".into(),
    }
}

#[test]
fn the_comment_is_capped_and_says_what_was_left_out() {
    let summary = large_summary(300, 10);
    let markdown = summary.markdown("Plan");
    assert!(markdown.chars().count() <= MAX_COMMENT_CHARS);
    assert!(
        markdown.chars().count() > MAX_COMMENT_CHARS - 2_000,
        "the room is used"
    );
    let fences = markdown.lines().filter(|l| l.starts_with("```")).count();
    assert_eq!(fences % 2, 0, "every diff block is closed");
    let last = markdown.lines().last().unwrap();
    assert!(last.starts_with("_Left out: "), "{last}");
    // Every line shown or counted: 3,000 attribute lines and one output line.
    let shown = markdown
        .lines()
        .filter(|l| l.starts_with("~ input.key_"))
        .count();
    let shown_resources = markdown
        .lines()
        .filter(|l| l.contains("**update in place**"))
        .count();
    let resources_left = 300 - shown_resources + usize::from(shown % 10 != 0);
    assert!(
        last.contains(&format!("{resources_left} resource changes")),
        "{last}"
    );
    assert!(last.contains("and 1 outputs"), "{last}");
    assert!(
        last.contains(&format!("{} diff lines", 3_000 + 1 - shown)),
        "{last}"
    );

    // One resource whose lines alone pass the limit: cut inside its block, still closed.
    let markdown = large_summary(1, MAX_ATTRIBUTES).markdown("Plan");
    assert!(markdown.chars().count() <= MAX_COMMENT_CHARS);
    assert_eq!(
        markdown.lines().filter(|l| l.starts_with("```")).count() % 2,
        0
    );
    assert!(markdown
        .lines()
        .last()
        .unwrap()
        .starts_with("_Left out: 1 resource changes"));
}

#[test]
fn long_values_are_cut_and_many_attributes_counted() {
    let long = "x".repeat(10_000);
    let keys: Vec<String> = (0..250).map(|i| format!(r#""k{i:03}":{i}"#)).collect();
    let plan = one_change(
        r#"["create"]"#,
        &format!(
            r#""before":null,"after":{{"long":"{long}","list":[{list}],"map":{{{keys}}}}},
               "after_unknown":{{}},"before_sensitive":false,"after_sensitive":{{}}"#,
            list = (0..12).map(|i| i.to_string()).collect::<Vec<_>>().join(","),
            keys = keys.join(","),
        ),
    );
    let summary = summarize(&plan).unwrap();
    let x = &summary.changes[0];
    // 12 list items, the long string, 250 map keys: 263 in all.
    assert_eq!(x.attributes.len(), MAX_ATTRIBUTES);
    assert_eq!(x.more_attributes, 263 - MAX_ATTRIBUTES);
    // Sorted by path, list indexes by number.
    assert_eq!(
        &paths(x)[..13],
        &[
            "list[0]", "list[1]", "list[2]", "list[3]", "list[4]", "list[5]", "list[6]", "list[7]",
            "list[8]", "list[9]", "list[10]", "list[11]", "long",
        ]
    );
    let Shown::Value(shown) = &attribute(x, "long").after else {
        panic!("the long value is shown");
    };
    assert_eq!(shown.chars().count(), MAX_VALUE_CHARS + 1);
    assert!(shown.starts_with("\"xxx"));
    assert!(shown.ends_with("x…"));
    let markdown = summary.markdown("Plan");
    assert!(markdown.contains("  … and 63 more changed attributes\n"));
}

#[test]
fn keys_that_are_not_plain_names_are_quoted_in_paths() {
    let plan = one_change(
        r#"["update"]"#,
        r#""before":{"tags":{"kubernetes.io/role":"a","Name":"x"}},
           "after":{"tags":{"kubernetes.io/role":"b","Name":"x"}},
           "after_unknown":{},"before_sensitive":{},"after_sensitive":{}"#,
    );
    let summary = summarize(&plan).unwrap();
    assert_eq!(
        paths(&summary.changes[0]),
        vec![r#"tags["kubernetes.io/role"]"#]
    );
}

#[test]
fn replacement_is_forced_at_a_replace_path_and_under_it_only() {
    let plan = one_change(
        r#"["delete","create"]"#,
        r#""before":{"spec":{"zone":"a","size":1,"disks":[{"type":"ssd"}]}},
           "after":{"spec":{"zone":"b","size":2,"disks":[{"type":"hdd"}]}},
           "after_unknown":{},"before_sensitive":{},"after_sensitive":{},
           "replace_paths":[["spec","zone"],["spec","disks",0]]"#,
    );
    let summary = summarize(&plan).unwrap();
    let x = &summary.changes[0];
    assert_eq!(x.action, ChangeAction::Replace);
    let forced: Vec<(&str, bool)> = x
        .attributes
        .iter()
        .map(|a| (a.path.as_str(), a.forces_replacement))
        .collect();
    assert_eq!(
        forced,
        vec![
            ("spec.disks[0].type", true),
            ("spec.size", false),
            ("spec.zone", true)
        ]
    );
    assert_eq!(summary.counts.label(), "+1 ~0 -1");
}

#[test]
fn deep_nesting_is_an_error_not_a_panic() {
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // Not even an object: refused before it is read.
    assert!(summarize(&nested).is_err());
    // In a field Slipway does not read: skipped without recursion, then refused as no plan.
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    assert!(summarize(&deep_object).is_err());
    // Where Slipway reads values: serde_json's nesting limit answers.
    let plan = one_change(
        r#"["create"]"#,
        &format!(r#""before":null,"after":{{"a":{nested}}}"#),
    );
    let error = summarize(&plan).unwrap_err();
    assert!(error.contains("nests too deeply"), "{error}");
    assert!(error.len() < 100);
}

#[test]
fn garbage_is_an_error_that_quotes_nothing() {
    for garbage in [
        "",
        "not json",
        "{",
        "[]",
        "{}",
        "null",
        r#"{"format_version":"2.0"}"#,
        r#"{"format_version":"1.2","resource_changes":"hunter2-secret"}"#,
        r#"{"format_version":"1.2","resource_changes":[{"change":{}}]}"#,
        r#"{"format_version":"1.2","resource_changes":[{"address":"a","change":{"actions":"hunter2-secret"}}]}"#,
    ] {
        let error = summarize(garbage).expect_err(garbage);
        assert!(!error.is_empty() && error.len() < 100, "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}

#[test]
fn a_large_plan_is_read_in_linear_time() {
    // About 16 MB: 8,000 resources of 1 KB each way, and one resource with 200,000 attributes.
    let value = format!(
        r#"{{"a":"{}","b":[1,2,3],"c":{{"d":true}}}}"#,
        "z".repeat(1_000)
    );
    let mut changes: Vec<String> = (0..8_000)
        .map(|i| {
            format!(
                r#"{{"address":"terraform_data.r[{i}]","change":{{"actions":["update"],
                "before":{{"input":{value},"n":{i}}},"after":{{"input":{value},"n":{}}},
                "after_unknown":{{}},"before_sensitive":{{}},"after_sensitive":{{}}}}}}"#,
                i + 1
            )
        })
        .collect();
    let wide: Vec<String> = (0..200_000).map(|i| format!(r#""key{i}":{i}"#)).collect();
    changes.push(format!(
        r#"{{"address":"terraform_data.wide","change":{{"actions":["create"],"before":null,
        "after":{{{}}},"after_unknown":{{}},"before_sensitive":false,"after_sensitive":{{}}}}}}"#,
        wide.join(",")
    ));
    let plan = format!(
        r#"{{"format_version":"1.2","resource_changes":[{}]}}"#,
        changes.join(",")
    );
    assert!(plan.len() > 15_000_000, "{}", plan.len());
    let summary = summarize(&plan).unwrap();
    assert_eq!(summary.counts.label(), "+1 ~8000 -0");
    assert_eq!(paths(&summary.changes[0]), vec!["n"]);
    let wide = change(&summary, "terraform_data.wide");
    assert_eq!(wide.attributes.len(), MAX_ATTRIBUTES);
    assert_eq!(wide.more_attributes, 200_000 - MAX_ATTRIBUTES);
    assert!(summary.markdown("Plan").chars().count() <= MAX_COMMENT_CHARS);
}

#[test]
fn error_lines_of_a_real_validation_failure() {
    assert_eq!(
        error_lines(VALIDATION_FAILED),
        vec![
            "Error: Invalid value for variable",
            "",
            "  on main.tf line 6:",
            "   6: variable \"replicas\" {",
            "    ├────────────────",
            "    │ var.replicas is 0",
            "",
            "replicas must be between 1 and 10.",
            "",
            "This was checked by the validation rule at main.tf:9,3-13.",
        ]
    );
}

#[test]
fn error_lines_keep_each_error_and_leave_warnings_and_progress_out() {
    let lines = error_lines(TWO_ERRORS_AND_WARNING);
    assert!(TWO_ERRORS_AND_WARNING.contains("Warning: Value for undeclared variable"));
    let expected = vec![
        "Error: Invalid value for variable",
        "",
        "  on extra.tfvars line 3:",
        "   3: replicas = 0",
        "    ├────────────────",
        "    │ var.replicas is 0",
        "",
        "replicas must be between 1 and 10.",
        "",
        "This was checked by the validation rule at main.tf:9,3-13.",
        "",
        "Error: Invalid value for input variable",
        "",
        "  on main.tf line 20:",
        "  20: variable \"generation\" {",
        "",
        "Unsuitable value for var.generation set using -var=\"generation=...\": a number",
        "is required.",
    ];
    assert_eq!(lines, expected);

    // The same errors boxed and coloured: boxes and colours gone, the same text.
    let boxed = error_lines(BOXED_ERRORS_COLOR);
    assert!(BOXED_ERRORS_COLOR.contains('│') && BOXED_ERRORS_COLOR.contains('\u{1b}'));
    assert_eq!(boxed[..11], expected[..11]);
    assert_eq!(
        boxed[16..],
        [
            "Unsuitable value for var.generation set using -var=\"generation=...\": a",
            "number is required."
        ]
    );
    assert!(boxed
        .iter()
        .all(|l| !l.contains('\u{1b}') && !l.starts_with('│') && !l.ends_with(' ')));
}

#[test]
fn error_lines_end_a_box_at_its_edge_and_keep_at_most_forty() {
    let output = "╷\n│ Error: one\n│ \n│ detail\n╵\nnot part of it\n";
    assert_eq!(error_lines(output), vec!["Error: one", "", "detail"]);
    // Plain: the detail paragraphs are unindented too; progress after a blank line ends it.
    let output = "Error: two\n\nTerraform could not do it.\n\naws_s3_bucket.b: Still destroying... [10s elapsed]\n";
    assert_eq!(
        error_lines(output),
        vec!["Error: two", "", "Terraform could not do it."]
    );

    let many: String = (0..30)
        .map(|i| format!("╷\n│ Error: number {i}\n│ \n│ detail {i}\n╵\n"))
        .collect();
    let lines = error_lines(&many);
    assert_eq!(lines.len(), 40);
    assert_eq!(lines[0], "Error: number 0");
    assert_eq!(lines[4], "Error: number 1");
}

#[test]
fn without_an_error_block_error_lines_are_the_last_twenty() {
    let output: String = (1..=30).map(|i| format!("line {i}   \n\n")).collect();
    let lines = error_lines(&output);
    assert_eq!(lines.len(), 20);
    assert_eq!(lines.first().unwrap(), "line 11");
    assert_eq!(lines.last().unwrap(), "line 30");
    assert!(error_lines("").is_empty());
}

#[test]
fn change_actions_have_terraform_words_and_marks() {
    let table = [
        (ChangeAction::Create, "create", "create", "+"),
        (ChangeAction::Update, "update", "update in place", "~"),
        (ChangeAction::Replace, "replace", "replace", "-/+"),
        (ChangeAction::Delete, "delete", "destroy", "-"),
        (ChangeAction::Read, "read", "read", "<="),
        (ChangeAction::NoOp, "no-op", "no change", " "),
    ];
    for (action, text, label, symbol) in table {
        assert_eq!(action.as_str(), text);
        assert_eq!(ChangeAction::parse(text), Some(action));
        assert_eq!(action.label(), label);
        assert_eq!(action.symbol(), symbol);
        assert_eq!(
            serde_json::to_string(&action).unwrap(),
            format!("\"{text}\"")
        );
    }
    assert_eq!(Shown::Sensitive.to_string(), "(sensitive)");
    assert_eq!(Shown::Unknown.to_string(), "(known after apply)");
    assert_eq!(value("\"a\"").to_string(), "\"a\"");
}

#[test]
fn every_plan_status_reads_back_and_says_what_it_is() {
    let table = [
        (PlanStatus::Queued, "queued", "waiting to plan", true),
        (PlanStatus::Planning, "planning", "planning", true),
        (PlanStatus::Ready, "ready", "ready for review", false),
        (PlanStatus::Failed, "failed", "plan failed", false),
        (PlanStatus::Superseded, "superseded", "superseded", false),
        (PlanStatus::Applying, "applying", "applying", true),
        (PlanStatus::Applied, "applied", "applied", false),
        (
            PlanStatus::ApplyFailed,
            "apply_failed",
            "apply failed",
            false,
        ),
        (PlanStatus::Stale, "stale", "stale: state moved", false),
    ];
    for (status, text, label, running) in table {
        assert_eq!(status.as_str(), text);
        assert_eq!(status.to_string(), text);
        assert_eq!(PlanStatus::parse(text), Some(status));
        assert_eq!(status.label(), label);
        assert_eq!(status.is_running(), running);
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            format!("\"{text}\"")
        );
    }
    assert_eq!(PlanStatus::parse("Ready"), None);
    assert_eq!(PlanStatus::parse("applied "), None);
}

#[test]
fn a_summary_survives_its_round_trip_through_json() {
    // The service stores the summary as JSON and the page reads it back.
    let summary = summary(UPDATE);
    let stored = serde_json::to_string(&summary).unwrap();
    assert_eq!(
        serde_json::from_str::<PlanSummary>(&stored).unwrap(),
        summary
    );
}

#[test]
fn a_refresh_only_plan_reads_as_drift() {
    let json = r#"{"format_version":"0.2","terraform_version":"1.0.3","resource_drift":[
        {"address":"module.net.cloud_object.network","change":{"actions":["update"],
         "before":{"id":"vpc-1","properties":{"cidr_block":"10.0.0.0/16","token":"hunter2-secret"}},
         "after":{"id":"vpc-1","properties":{"cidr_block":"10.9.0.0/16","token":"hunter2-secret"}},
         "before_sensitive":{"properties":{"token":true}},"after_sensitive":{"properties":{"token":true}}}},
        {"address":"module.net.cloud_object.gone","change":{"actions":["delete"],
         "before":{"id":"vpc-2"},"after":null}}]}"#;
    let summary = summary(json);
    assert!(summary.changes.is_empty());
    assert_eq!(summary.counts.label(), "+0 ~0 -0");
    let addresses: Vec<_> = summary
        .drift
        .iter()
        .map(|d| (d.address.as_str(), d.action))
        .collect();
    assert_eq!(
        addresses,
        [
            ("module.net.cloud_object.network", ChangeAction::Update),
            ("module.net.cloud_object.gone", ChangeAction::Delete)
        ]
    );
    let text = format!("{:?}", summary.drift);
    assert!(text.contains("10.9.0.0/16"), "{text}");
    assert!(!text.contains("hunter2-secret"), "{text}");
}
