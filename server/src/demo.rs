//! `--demo`: seeded users, one per role, each in the group that role belongs to, so every part
//! of the portal can be tried without an identity provider. Seeding is idempotent.

use crate::config::Config;
use app::domain::integrations::Fields;
use app::domain::rbac::{EntityType, Role, Scope};
use app::error::{AppError, AppResult};
use app::server::directory::{self, DEMO_PROVIDER};
use app::server::Actor;
use app::server::{integrations, resources, sources, AppCtx};
use app::wire::admin::NewBinding;
use app::wire::executors::ExecutorInput;
use app::wire::integrations::IntegrationInput;
use app::wire::resources::ResourceInput;
use app::wire::sources::{NewSource, NewVersion};
use std::path::Path;

pub struct DemoUser {
    pub login: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub group: &'static str,
}

pub const DEMO_USERS: [DemoUser; 7] = [
    DemoUser {
        login: "ada",
        name: "Ada Admin",
        role: "administrator",
        group: "platform-admins",
    },
    DemoUser {
        login: "dev",
        name: "Devon Developer",
        role: "developer",
        group: "developers",
    },
    DemoUser {
        login: "quinn",
        name: "Quinn QA",
        role: "QA engineer",
        group: "qa",
    },
    DemoUser {
        login: "pat",
        name: "Pat Product",
        role: "product manager",
        group: "product",
    },
    DemoUser {
        login: "sam",
        name: "Sam Security",
        role: "security reviewer",
        group: "security",
    },
    DemoUser {
        login: "riley",
        name: "Riley SRE",
        role: "site reliability engineer",
        group: "sre",
    },
    DemoUser {
        login: "remy",
        name: "Remy Release",
        role: "release manager",
        group: "release-managers",
    },
];

/// The seed's hierarchy example: (key, name, abstract, parents, description).
const DEMO_TEMPLATES: [(&str, &str, bool, &str, &str); 7] = [
    (
        "aws-account",
        "AWS Account",
        true,
        "",
        "An AWS account: the boundary for billing and access",
    ),
    (
        "aws-region",
        "AWS Region",
        true,
        "aws-account",
        "One region of an account",
    ),
    (
        "vpc",
        "VPC",
        false,
        "aws-region",
        "A virtual private cloud with public and private subnets",
    ),
    (
        "eks-cluster",
        "EKS Cluster",
        false,
        "vpc",
        "A managed Kubernetes cluster inside a VPC",
    ),
    (
        "rds-database",
        "RDS Database",
        false,
        "vpc",
        "A managed PostgreSQL database inside a VPC",
    ),
    (
        "alb",
        "Application Load Balancer",
        false,
        "vpc",
        "An HTTP(S) load balancer inside a VPC",
    ),
    (
        "s3-bucket",
        "S3 Bucket",
        false,
        "aws-region",
        "An object storage bucket in a region",
    ),
];

/// Each group's description and its role bindings.
fn group_plan(group: &str) -> (&'static str, Vec<(Role, Scope)>) {
    let everything = Scope::Global;
    let on = |entity_type| Scope::EntityType { entity_type };
    match group {
        "platform-admins" => (
            "Administer Slipway: access, integrations, everything",
            vec![(Role::Admin, everything)],
        ),
        "developers" => (
            "Build and change workspaces, resources and repositories; plan with the integrations",
            vec![
                (Role::Member, everything),
                (Role::Member, on(EntityType::Integration)),
            ],
        ),
        "qa" => (
            "Sign off staging",
            vec![
                (Role::Viewer, everything),
                (Role::Member, on(EntityType::Release)),
            ],
        ),
        "product" => (
            "Sign off production releases",
            vec![(Role::Viewer, everything)],
        ),
        "security" => (
            "Sign off production releases; read the audit log; write the policies plans must pass",
            vec![
                (Role::Viewer, everything),
                (Role::Viewer, on(EntityType::Audit)),
                (Role::Member, on(EntityType::Release)),
            ],
        ),
        "sre" => (
            "Operate environments and release tracks; plan with the integrations",
            vec![
                (Role::Member, everything),
                (Role::Member, on(EntityType::Integration)),
            ],
        ),
        "incident-commanders" => ("Sign off hotfixes", vec![(Role::Viewer, everything)]),
        "release-managers" => (
            "Start and promote releases",
            vec![
                (Role::Viewer, everything),
                (Role::Admin, on(EntityType::Release)),
            ],
        ),
        _ => ("", vec![]),
    }
}

/// What `seed` makes beyond the users, groups and catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Estate {
    /// `slipway serve --demo`: the workspace with its resources, governed repositories and
    /// releases of `demo_estate`, so both halves can be tried at once.
    Both,
    /// The catalog's resources only, outside any workspace (tests that build their own estate).
    CatalogOnly,
}

/// Seeds users, groups, the template hierarchy, integrations, the demo module repository with
/// its versions, its resources and (`Estate::Both`) the estate of `demo_estate` (a workspace
/// holding those resources, governed repositories, releases). Runs once: a seeded database is
/// left alone.
pub async fn seed(ctx: &AppCtx, config: &Config, estate: Estate) -> AppResult<()> {
    let db = &ctx.db;
    if directory::find_demo_user(db, DEMO_USERS[0].login)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let data_dir = config.data_dir.as_path();
    let actor = Actor::system("demo-seed");
    let mut groups: Vec<&str> = DEMO_USERS.iter().map(|u| u.group).collect();
    groups.push("incident-commanders");
    for group in &groups {
        let (description, bindings) = group_plan(group);
        directory::create_group(db, &actor, group, description).await?;
        for (role, scope) in bindings {
            let (scope_kind, entity_type, entity_id) = app::server::access::scope_columns(&scope);
            directory::create_binding(
                db,
                &actor,
                &NewBinding {
                    subject_kind: "group".into(),
                    subject: group.to_string(),
                    role: role.to_string(),
                    scope_kind: scope_kind.into(),
                    entity_type: entity_type.unwrap_or_default(),
                    entity_id: entity_id.unwrap_or_default(),
                },
            )
            .await?;
        }
    }
    for user in &DEMO_USERS {
        let claims = directory::VerifiedSignIn {
            provider: DEMO_PROVIDER.into(),
            subject: user.login.into(),
            login_hint: user.login.into(),
            email: Some(format!("{}@demo.slipway.test", user.login)),
            email_verified: false,
            name: user.name.into(),
        };
        let created = directory::create_demo_identity(db, &claims).await?;
        directory::add_group_member(db, &actor, user.group, &created.login).await?;
        if user.login == "riley" {
            directory::add_group_member(db, &actor, "incident-commanders", &created.login).await?;
        }
    }
    for (key, name, is_abstract, parents, description) in DEMO_TEMPLATES {
        app::server::catalog::create_template(
            db,
            &actor,
            &app::wire::catalog::NewTemplate {
                key: key.into(),
                name: name.into(),
                description: description.into(),
                is_abstract: is_abstract.then(|| "true".to_string()),
                parents: parents.into(),
            },
        )
        .await?;
    }
    seed_catalog(ctx, data_dir, estate).await?;
    if estate == Estate::Both {
        let (cloud, serving) = crate::demo_cloud::listen(&config.data_dir)
            .await
            .map_err(|e| AppError::internal(format!("the demo cloud cannot listen: {e}")))?;
        let worker = crate::jobs::Worker::new(ctx.clone(), config).with_demo_cloud(cloud);
        let seeded = async {
            crate::demo_estate::resources(ctx, &worker).await?;
            crate::demo_estate::releases(ctx, &worker).await
        }
        .await;
        serving.abort();
        seeded?;
    }
    if directory::find_demo_user(db, DEMO_USERS[0].login)
        .await?
        .is_none()
    {
        return Err(AppError::internal("demo seeding left no demo users"));
    }
    Ok(())
}

/// The local git integration, an AWS integration with AWS's documented example keys, the
/// module repository under `<data>/git/demo`, a version per concrete template and tag, and a
/// small production estate, created by the demo developer (in the demo's workspace, with
/// `Estate::Both`).
// Long: the demo catalog as data: one call per integration, template and version
async fn seed_catalog(ctx: &AppCtx, data_dir: &Path, estate: Estate) -> AppResult<()> {
    let actor = &Actor::system("demo-seed");
    let developer = directory::find_demo_user(&ctx.db, "dev")
        .await?
        .ok_or_else(|| AppError::internal("the demo developer is missing"))?;
    let developer = Actor::user(developer.id, &developer.login);
    let fields = |pairs: &[(&str, &str)]| -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    integrations::create(
        &ctx.db,
        &ctx.secrets,
        actor,
        &IntegrationInput {
            slug: "local-git".into(),
            name: "Local Git".into(),
            description: "Repositories hosted by this Slipway server".into(),
            provider: "local_git".into(),
            ..Default::default()
        },
    )
    .await?;
    integrations::create(
        &ctx.db,
        &ctx.secrets,
        actor,
        &IntegrationInput {
            slug: "aws-production".into(),
            name: "AWS Production".into(),
            description: "The production account (AWS's documented example keys)".into(),
            provider: "aws".into(),
            settings: fields(&[
                ("access_key_id", "AKIAIOSFODNN7EXAMPLE"),
                ("region", "us-east-1"),
                ("state_bucket", "acme-production-tofu-state"),
                ("state_lock_table", "tofu-state-locks"),
            ]),
            secrets: fields(&[(
                "secret_access_key",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            )]),
        },
    )
    .await?;
    let workspace = &match estate {
        Estate::Both => crate::demo_estate::workspace(ctx).await?,
        Estate::CatalogOnly => String::new(),
    };
    let repository = data_dir.join("git/demo/terraform-modules.git");
    crate::demo_modules::ensure_repository(&repository)
        .map_err(|e| AppError::internal(format!("creating the demo module repository: {e}")))?;
    let repository = repository
        .canonicalize()
        .map_err(|e| AppError::internal(format!("{}: {e}", repository.display())))?;
    let source = sources::create(
        ctx,
        actor,
        &NewSource {
            url: format!("file://{}", repository.display()),
            integration: "local-git".into(),
            description: "The demo catalog's modules".into(),
        },
    )
    .await?;
    let mut latest = std::collections::BTreeMap::new();
    for (folder, template) in crate::demo_modules::MODULES {
        for tag in crate::demo_modules::TAGS {
            let version = sources::create_version(
                ctx,
                actor,
                &NewVersion {
                    template: template.into(),
                    source_id: source.id.to_string(),
                    git_ref: tag.into(),
                    module_path: folder.into(),
                },
            )
            .await?;
            latest.insert(template, version.id.to_string());
        }
    }
    let resource = |slug: &str,
                    name: &str,
                    template: &'static str,
                    parents: &[&str],
                    values: &[(&str, &str)]| ResourceInput {
        slug: slug.into(),
        name: name.into(),
        template: template.into(),
        version_id: latest[template].clone(),
        parents: parents
            .iter()
            .map(|p| (p.to_string(), "on".to_string()))
            .collect(),
        // No cloud integration: the demo's modules plan and apply offline, with no provider
        // to download (a resource with one gets its providers.tf and backend.tf).
        integrations: Default::default(),
        values: fields(values),
        workspace: workspace.to_string(),
        bindings: Default::default(),
        base_revision: None,
    };
    for input in [
        resource(
            "prod-vpc",
            "Production VPC",
            "vpc",
            &[],
            &[
                ("name", "production"),
                (
                    "availability_zones",
                    r#"["us-east-1a", "us-east-1b", "us-east-1c"]"#,
                ),
                (
                    "tags",
                    r#"{"team": "platform", "environment": "production"}"#,
                ),
            ],
        ),
        resource(
            "prod-eks",
            "Production EKS",
            "eks-cluster",
            &["prod-vpc"],
            &[
                ("cluster_name", "production"),
                ("vpc_id", "vpc-6f1ed002ab5595859"),
            ],
        ),
        resource(
            "prod-db",
            "Orders database",
            "rds-database",
            &["prod-vpc"],
            &[
                ("identifier", "orders"),
                ("multi_az", "true"),
                ("master_password", "correct-horse-battery-staple"),
            ],
        ),
        resource(
            "assets-bucket",
            "Static assets",
            "s3-bucket",
            &[],
            &[("bucket_name", "acme-static-assets")],
        ),
    ] {
        resources::create(ctx, &developer, &input).await?;
    }
    app::server::executors::save(
        &ctx.db,
        actor,
        &ExecutorInput {
            slug: "scratch-network".into(),
            name: "Scratch network plan".into(),
            description: "Plans a throwaway VPC layout from the demo modules".into(),
            runtime: "terraform".into(),
            command: "-var name=scratch -var 'availability_zones=[\"us-east-1a\",\"us-east-1b\",\"us-east-1c\"]'".into(),
            source_id: source.id.to_string(),
            git_ref: "v1.2.0".into(),
            module_path: "aws-vpc".into(),
            integrations: fields(&[("aws-production", "on")]),
        },
        true,
    )
    .await?;
    Ok(())
}
