//! Source code, versions and resources on both databases, against real git repositories: the
//! demo repository's listing, module discovery at a ref, every bad input refused with its field
//! named and nothing written, revisions and their diff, sealed sensitive values, and the
//! permission matrix over HTTP.

use crate::db_test;
use crate::support::{call, client, demo_sign_in, module_repository, ServerOptions, TestServer};
use app::api::resources::ResourceInput;
use app::api::sources::{NewSource, NewVersion};
use app::domain::resources::DiffLine;
use app::error::AppError;
use app::server::entities::resources as resource_rows;
use app::server::{resources, sources, Actor};
use sea_orm::{EntityTrait, PaginatorTrait};
use std::collections::BTreeMap;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The id of the demo version of `template` at `tag` (seeded in MODULES × TAGS order).
pub(crate) fn demo_version(template: &str, tag: &str) -> String {
    use server::demo_modules::{MODULES, TAGS};
    let t = MODULES.iter().position(|(_, k)| *k == template).unwrap();
    let v = TAGS.iter().position(|x| *x == tag).unwrap();
    (t * TAGS.len() + v + 1).to_string()
}

fn bucket(slug: &str, values: &[(&str, &str)]) -> ResourceInput {
    ResourceInput {
        slug: slug.into(),
        name: "Logs".into(),
        template: "s3-bucket".into(),
        version_id: demo_version("s3-bucket", "v1.2.0"),
        parents: BTreeMap::new(),
        integrations: BTreeMap::new(),
        values: map(values),
        workspace: String::new(),
        bindings: Default::default(),
        base_revision: None,
    }
}

db_test! {
    async fn source_code_is_mirrored_listed_and_read_at_a_ref(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let ctx = &server.ctx;
        let actor = Actor::system("test");
        let listed = sources::list(&ctx.db).await.unwrap();
        assert_eq!(listed.len(), 1);
        let demo = &listed[0];
        assert_eq!(demo.listing.tags, vec!["v1.2.0", "v1.1.0", "v1.0.0"]);
        assert_eq!(demo.listing.branches, vec!["main"]);
        assert_eq!(demo.listing.default_branch.as_deref(), Some("main"));
        assert_eq!(demo.listing.modules, vec!["aws-alb", "aws-eks", "aws-rds", "aws-s3", "aws-vpc"]);

        // The versions seeded for RDS differ as the module evolved: v1.2.0 adds a sensitive password.
        let versions = sources::versions_of(&ctx.db, "rds-database").await.unwrap();
        let at = |tag: &str| versions.iter().find(|v| v.git_ref == tag).unwrap().interface.clone();
        assert!(!at("v1.0.0").variables.iter().any(|v| v.name == "multi_az"));
        let password = at("v1.2.0").variables.into_iter().find(|v| v.name == "master_password").unwrap();
        assert!(password.sensitive && password.is_required());
        assert_eq!(password.validations[0].error_message, "The password must be at least 16 characters.");

        // Bad refs, paths and HCL: each names its field (and file:line:column), nothing is written.
        let broken = server.data_dir.join("git/team/broken.git");
        module_repository(&broken, &[("net/main.tf", "variable \"ok\" {}\n\nvariable \"bad\" {\n  type = \n}\n"), ("README.md", "x")]);
        let broken_source = sources::create(ctx, &actor, &NewSource { url: format!("file://{}", broken.canonicalize().unwrap().display()), integration: "local-git".into(), description: String::new() }).await.unwrap();
        let events = app::server::audit::verify(&ctx.db).await.unwrap().unwrap();
        let version = |template: &str, source: i64, git_ref: &str, path: &str| NewVersion { template: template.into(), source_id: source.to_string(), git_ref: git_ref.into(), module_path: path.into() };
        let cases = [
            (version("vpc", demo.id, "v9.9.9", "aws-vpc"), "git_ref", "the repository has no tag or branch \"v9.9.9\""),
            (version("vpc", demo.id, "v1.2.0", "aws-nope"), "module_path", "v1.2.0 has no folder \"aws-nope\""),
            (version("vpc", demo.id, "v1.2.0", "../etc"), "module_path", "must not leave the repository (no '..')"),
            (version("vpc", demo.id, "--upload-pack=x", "aws-vpc"), "git_ref", "\"--upload-pack=x\" is not a valid tag or branch name"),
            (version("vpc", demo.id, "v1.2.0", ""), "module_path", "the repository root at v1.2.0 holds no .tf files"),
            (version("aws-region", demo.id, "v1.2.0", "aws-vpc"), "template", "aws-region is abstract; only concrete templates have source code"),
            (version("vpc", demo.id, "v1.2.0", "aws-vpc"), "git_ref", "vpc already has v1.2.0 of this module"),
        ];
        for (input, field, message) in cases {
            assert_eq!(sources::create_version(ctx, &actor, &input).await.unwrap_err(), AppError::invalid(field, message), "{}", input.git_ref);
        }
        let syntax = sources::create_version(ctx, &actor, &version("vpc", broken_source.id, "v1.0.0", "net")).await.unwrap_err();
        match syntax {
            AppError::Invalid { field, message, .. } => {
                assert_eq!(field, "module_path");
                assert!(message.starts_with("net/main.tf:4:10: invalid expression"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(app::server::audit::verify(&ctx.db).await.unwrap().unwrap(), events);

        // Repositories out of reach are refused before anything is saved.
        let outside = sources::create(ctx, &actor, &NewSource { url: "file:///etc".into(), integration: "local-git".into(), description: String::new() }).await.unwrap_err();
        assert!(matches!(&outside, AppError::Invalid { field, message, .. } if field == "url" && message.contains("reaches only repositories under")), "{outside:?}");
        let unreachable = sources::create(ctx, &actor, &NewSource { url: "http://127.0.0.1:9/acme/modules.git".into(), integration: "local-git".into(), description: String::new() }).await.unwrap_err();
        assert!(matches!(&unreachable, AppError::Invalid { field, .. } if field == "url"), "{unreachable:?}");
        let with_token = sources::create(ctx, &actor, &NewSource { url: "https://user:token@example.com/a.git".into(), integration: "local-git".into(), description: String::new() }).await.unwrap_err();
        assert!(matches!(&with_token, AppError::Invalid { message, .. } if message.contains("must not hold a user name or token")));
        assert_eq!(sources::list(&ctx.db).await.unwrap().len(), 2);

        // A new tag upstream appears on refresh.
        let work = broken.with_extension("work");
        let tag = std::process::Command::new("git").args(["tag", "v2.0.0"]).current_dir(&work).status().unwrap();
        assert!(tag.success());
        let push = std::process::Command::new("git").args(["push", "-q", broken.to_str().unwrap(), "v2.0.0"]).current_dir(&work).status().unwrap();
        assert!(push.success());
        let refreshed = sources::refresh(ctx, &actor, broken_source.id).await.unwrap();
        assert_eq!(refreshed.listing.tags, vec!["v2.0.0", "v1.0.0"]);
    }
}

db_test! {
    async fn resources_are_checked_whole_and_keep_revisions(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let ctx = &server.ctx;
        let actor = Actor::user(1, "ada");
        // A second AWS account that also keeps remote state.
        app::server::integrations::create(&ctx.db, &ctx.secrets, &actor, &app::api::integrations::IntegrationInput {
            slug: "aws-staging".into(),
            name: "AWS Staging".into(),
            description: String::new(),
            provider: "aws".into(),
            settings: map(&[("access_key_id", "AKIAIOSFODNN7EXAMPLF"), ("state_bucket", "acme-staging-state")]),
            secrets: map(&[("secret_access_key", &"k".repeat(40))]),
        }).await.unwrap();
        let count = || async { resource_rows::Entity::find().count(&ctx.db).await.unwrap() };
        let before = count().await;
        let events = app::server::audit::verify(&ctx.db).await.unwrap().unwrap();

        let huge = "x".repeat(10 * 1024 * 1024);
        let mut eks_without_parent = bucket("new-eks", &[("cluster_name", "x"), ("vpc_id", "vpc-1")]);
        eks_without_parent.template = "eks-cluster".into();
        eks_without_parent.version_id = demo_version("eks-cluster", "v1.2.0");
        let mut eks_wrong_parent = eks_without_parent.clone();
        eks_wrong_parent.parents = map(&[("assets-bucket", "on")]);
        let mut wrong_version = bucket("logs", &[("bucket_name", "acme-logs")]);
        wrong_version.version_id = demo_version("vpc", "v1.2.0");
        let mut abstract_template = bucket("logs", &[]);
        abstract_template.template = "aws-region".into();
        let mut github_as_cloud = bucket("logs", &[("bucket_name", "acme-logs")]);
        github_as_cloud.integrations = map(&[("local-git", "on")]);
        let mut two_states = bucket("logs", &[("bucket_name", "acme-logs")]);
        two_states.integrations = map(&[("aws-production", "on"), ("aws-staging", "on")]);
        // The module's validation rules, evaluated on save with the module's own messages.
        let vpc = |values: &[(&str, &str)]| {
            let mut input = bucket("new-vpc", values);
            input.template = "vpc".into();
            input.version_id = demo_version("vpc", "v1.2.0");
            input
        };
        let mut eks_groups = eks_without_parent.clone();
        eks_groups.parents = map(&[("prod-vpc", "on")]);
        eks_groups.values.insert("node_groups".into(), r#"{"general": {"instance_type": "m6i.large", "min_size": 2, "max_size": 6}, "gpu": {"instance_type": "g5.xlarge", "min_size": 8, "max_size": 2}}"#.into());
        let cases: Vec<(ResourceInput, AppError)> = vec![
            (vpc(&[("name", "new-vpc"), ("cidr_block", "10.0.0.0/33")]), AppError::invalid("values.cidr_block", "The CIDR block must be a valid IPv4 range such as 10.0.0.0/16.")),
            (vpc(&[("name", "New_VPC")]), AppError::invalid("values.name", "The name must be 2 to 41 lowercase letters, digits or hyphens, starting with a letter.")),
            (bucket("logs", &[("bucket_name", "Acme_Logs")]), AppError::invalid("values.bucket_name", "Bucket names are 3 to 63 lowercase letters, digits, dots and hyphens.")),
            (eks_groups, AppError::invalid("values.node_groups", "Every node group's min_size must be at most its max_size.")),
            (bucket("logs", &[("bucket_name", "acme-logs"), ("colour", "red")]), AppError::invalid("values.colour", "colour is not a variable of s3-bucket v1.2.0")),
            (bucket("logs", &[("bucket_name", "acme-logs"), ("versioning", "maybe")]), AppError::invalid("values.versioning", "versioning must be true or false, not \"maybe\"")),
            (bucket("logs", &[("bucket_name", "acme-logs"), ("lifecycle_days", "ninety")]), AppError::invalid("values.lifecycle_days", "lifecycle_days must be a number, not \"ninety\"")),
            (bucket("logs", &[("bucket_name", "acme-logs"), ("tags", "[\"a\"]")]), AppError::invalid("values.tags", "tags must be a map of strings")),
            (bucket("logs", &[]), AppError::invalid("values.bucket_name", "is required")),
            (bucket("logs", &[("bucket_name", &huge)]), AppError::invalid("values.bucket_name", "is 10240 KiB; a value may be at most 256 KiB")),
            (bucket("assets-bucket", &[("bucket_name", "acme-logs")]), AppError::invalid("slug", "a resource named \"assets-bucket\" already exists")),
            (bucket("../escape", &[("bucket_name", "acme-logs")]), AppError::invalid("slug", "must start with a lowercase letter")),
            (eks_without_parent, AppError::invalid("parents", "choose the parent resource: an instance of vpc")),
            (eks_wrong_parent, AppError::invalid("parents", "assets-bucket is a s3-bucket; parents must be instances of vpc")),
            (wrong_version, AppError::invalid("version_id", "s3-bucket has no such version")),
            (abstract_template, AppError::invalid("template", "aws-region is abstract; resources come from concrete templates")),
            (github_as_cloud, AppError::invalid("integrations", "local-git is not a cloud integration")),
            (two_states, AppError::invalid("integrations", "aws-production and aws-staging both keep remote state; a resource's state lives in one place, so choose one of them")),
        ];
        for (input, expected) in cases {
            let slug = input.slug.clone();
            assert_eq!(resources::create(ctx, &actor, &input).await.unwrap_err(), expected, "{slug}");
        }
        // Every problem of a submission at once, each naming its field.
        let mut many = bucket("logs", &[("bucket_name", "Acme_Logs"), ("lifecycle_days", "ninety"), ("colour", "red")]);
        many.name = "  ".into();
        let refused = resources::create(ctx, &actor, &many).await.unwrap_err();
        let mut problems: Vec<(&str, &str)> = refused.problems();
        problems.sort();
        assert_eq!(problems, vec![
            ("name", "must not be empty"),
            ("values.bucket_name", "Bucket names are 3 to 63 lowercase letters, digits, dots and hyphens."),
            ("values.colour", "colour is not a variable of s3-bucket v1.2.0"),
            ("values.lifecycle_days", "lifecycle_days must be a number, not \"ninety\""),
        ]);
        assert_eq!(count().await, before, "no refusal wrote a resource");
        assert_eq!(app::server::audit::verify(&ctx.db).await.unwrap().unwrap(), events, "nor an audit event");

        // A variable whose default is null is optional (the ALB's certificate).
        let mut alb = bucket("public-lb", &[("name", "public")]);
        alb.template = "alb".into();
        alb.version_id = demo_version("alb", "v1.2.0");
        alb.parents = map(&[("prod-vpc", "on")]);
        resources::create(ctx, &actor, &alb).await.unwrap();

        // A good one, then an edit: two revisions, the diff names the change, the code follows.
        let created = resources::create(ctx, &actor, &bucket("logs", &[("bucket_name", "acme-logs"), ("tags", "{\"team\": \"platform\"}")])).await.unwrap();
        assert_eq!((created.revision, created.state.as_str()), (1, "provision"));
        resources::update(ctx, &actor, &bucket("logs", &[("bucket_name", "acme-logs-eu"), ("tags", "{\"team\": \"platform\"}"), ("lifecycle_days", "30")])).await.unwrap();
        let unchanged = resources::update(ctx, &actor, &bucket("logs", &[("bucket_name", "acme-logs-eu"), ("tags", "{\"team\": \"platform\"}"), ("lifecycle_days", "30")])).await.unwrap_err();
        assert_eq!(unchanged, AppError::invalid("name", "nothing changed; no new revision was made"));
        // An edit filled from revision 1 does not overwrite revision 2.
        let mut stale = bucket("logs", &[("bucket_name", "acme-logs-us"), ("tags", "{\"team\": \"platform\"}")]);
        stale.base_revision = Some(1);
        let refused = resources::update(ctx, &actor, &stale).await.unwrap_err();
        assert_eq!(refused, AppError::Conflict("Resource logs is at revision 2 now (you edited revision 1): reload to see the changes, then edit again.".into()));
        let diff = resources::diff(&ctx.db, "logs", 1, 2).await.unwrap();
        let fields: Vec<(&str, &str, &str)> = diff.fields.iter().map(|f| (f.field.as_str(), f.before.as_str(), f.after.as_str())).collect();
        assert_eq!(fields, vec![("bucket_name", "acme-logs", "acme-logs-eu"), ("lifecycle_days", "(default)", "30")]);
        let variables = diff.files.iter().find(|f| f.name == "variables.tf").unwrap();
        assert!(variables.changed);
        assert!(variables.lines.contains(&DiffLine::Added("  default     = \"acme-logs-eu\"".into())), "{:?}", variables.lines);
        assert!(!diff.files.iter().find(|f| f.name == "main.tf").unwrap().changed);
        let detail = resources::detail(ctx, "logs").await.unwrap();
        assert_eq!(detail.revisions.iter().map(|r| r.revision).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(detail.revisions[0].summary, "Changed bucket_name, lifecycle_days");
        assert!(detail.files[0].contents.contains("source = \"git::file://"), "{}", detail.files[0].contents);

        // Sensitive values: sealed in the row, absent from code, revisions and the audit log.
        let db_detail = resources::detail(ctx, "prod-db").await.unwrap();
        let password = db_detail.variables.iter().find(|v| v.name == "master_password").unwrap();
        assert!(password.sensitive_set && password.value.is_none());
        let row = resource_rows::Entity::find_by_id(db_detail.id).one(&ctx.db).await.unwrap().unwrap();
        assert!(!row.variables.contains("correct-horse-battery-staple") && row.variables.contains("\"v1."));
        assert!(db_detail.files.iter().all(|f| !f.contents.contains("correct-horse")));
        for event in app::server::entities::audit_events::Entity::find().all(&ctx.db).await.unwrap() {
            assert!(!format!("{:?}", event.after).contains("correct-horse"));
        }
        // Provider blocks come from the cloud integration's non-secret settings.
        let mut cloud = bucket("cloud-logs", &[("bucket_name", "acme-cloud-logs")]);
        cloud.integrations = map(&[("aws-production", "on")]);
        resources::create(ctx, &actor, &cloud).await.unwrap();
        let cloud_detail = resources::detail(ctx, "cloud-logs").await.unwrap();
        let providers = cloud_detail.files.iter().find(|f| f.name == "providers.tf").unwrap();
        assert!(providers.contents.contains("provider \"aws\" {\n  region = \"us-east-1\"\n}"), "{}", providers.contents);
        assert!(!providers.contents.contains("AKIA"));
        // And the integration's state bucket gives the backend, keyed like the workspace folder.
        let backend = cloud_detail.files.iter().find(|f| f.name == "backend.tf").unwrap();
        assert!(backend.contents.contains("backend \"s3\" {\n    bucket         = \"acme-production-tofu-state\"\n    key            = \"s3-bucket/cloud-logs/terraform.tfstate\""), "{}", backend.contents);

        // Lifecycle: a parent with children cannot be deleted; a new resource can.
        let refused = resources::act(&ctx.db, &actor, "prod-vpc", "delete").await.unwrap_err();
        assert!(matches!(&refused, AppError::Conflict(m) if m.contains("parent of prod-db, prod-eks")), "{refused:?}");
        resources::act(&ctx.db, &actor, "logs", "delete").await.unwrap();
        assert!(resources::detail(ctx, "logs").await.is_err());
    }
}

db_test! {
    async fn viewers_read_resources_and_members_change_them(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let viewer = client();
        demo_sign_in(&viewer, &server, "pat").await;
        let (status, body) = call(&viewer, &server, "get_resources", &[("page", "0")]).await;
        assert_eq!(status, 200, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!((page["total"].as_u64(), page["can_create"].as_bool()), (Some(4), Some(false)));
        let form = [("input[slug]", "cache"), ("input[name]", "Cache"), ("input[template]", "s3-bucket"), ("input[version_id]", "15"), ("input[values][bucket_name]", "acme-cache")];
        assert_eq!(call(&viewer, &server, "create_resource", &form).await.0, 403);
        let member = client();
        demo_sign_in(&member, &server, "dev").await;
        let (status, body) = call(&member, &server, "create_resource", &form).await;
        assert_eq!(status, 200, "{body}");
        // The form's errors name the field, so the page can show them beside it.
        let bad = [("input[slug]", "cache2"), ("input[name]", "Cache"), ("input[template]", "s3-bucket"), ("input[version_id]", "15"), ("input[values][bucket_name]", "acme-cache"), ("input[values][versioning]", "sometimes")];
        let (status, body) = call(&member, &server, "create_resource", &bad).await;
        assert_eq!(status, 422);
        assert_eq!(body, r#"{"Invalid":{"field":"values.versioning","message":"versioning must be true or false, not \"sometimes\""}}"#);
        // A 10 MB value over HTTP gets the same clear refusal, naming the field.
        let huge = "x".repeat(10 * 1024 * 1024);
        let big = [("input[slug]", "cache3"), ("input[name]", "Cache"), ("input[template]", "s3-bucket"), ("input[version_id]", "15"), ("input[values][bucket_name]", huge.as_str())];
        let (status, body) = call(&member, &server, "create_resource", &big).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body, r#"{"Invalid":{"field":"values.bucket_name","message":"is 10240 KiB; a value may be at most 256 KiB"}}"#);
        // Past the request limit, the refusal comes from the declared length, before the body is
        // read, in the same shape.
        let answer = {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://")).await.unwrap();
            let request = format!("POST /api/create_resource HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", 17 * 1024 * 1024 + 1);
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.unwrap();
            answer
        };
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.ends_with(r#"{"Invalid":{"field":"request","message":"the request is 18 MiB; at most 16 MiB is accepted"}}"#), "{answer}");
        // The resource and code pages render on the server.
        let page = member.get(server.url("/resources/prod-db?tab=code")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("variables.tf") && html.contains("module &quot;prod-db&quot;") || html.contains("module \"prod-db\""), "{html}");
        assert!(!html.contains("correct-horse"));
    }
}
