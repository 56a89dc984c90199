//! `--demo`: seeded users, one per role, each in the group that role belongs to, so every part
//! of the portal can be tried without an identity provider. Seeding is idempotent.

use app::api::admin::NewBinding;
use app::domain::rbac::{EntityType, Role, Scope};
use app::error::{AppError, AppResult};
use app::server::directory::{self, DEMO_PROVIDER};
use app::server::Actor;
use sea_orm::DatabaseConnection;

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
            "Build and change workspaces, resources and repositories",
            vec![(Role::Member, everything)],
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
            "Sign off production releases; read the audit log",
            vec![
                (Role::Viewer, everything),
                (Role::Viewer, on(EntityType::Audit)),
            ],
        ),
        "sre" => (
            "Operate environments and release tracks",
            vec![(Role::Member, everything)],
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

pub async fn seed(db: &DatabaseConnection) -> AppResult<()> {
    if directory::find_demo_user(db, DEMO_USERS[0].login)
        .await?
        .is_some()
    {
        return Ok(());
    }
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
            &app::api::catalog::NewTemplate {
                key: key.into(),
                name: name.into(),
                description: description.into(),
                is_abstract: is_abstract.then(|| "true".to_string()),
                parents: parents.into(),
            },
        )
        .await?;
    }
    if directory::find_demo_user(db, DEMO_USERS[0].login)
        .await?
        .is_none()
    {
        return Err(AppError::internal("demo seeding left no demo users"));
    }
    Ok(())
}
