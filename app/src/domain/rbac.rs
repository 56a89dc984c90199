//! Role-based access control: the one `authorize` that every server function and route calls.
//! Roles are bound to users or groups, globally, per entity type, or on one entity.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Roles in increasing order of power; `Ord` follows that order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Member,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Member, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == value)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every kind of thing Slipway guards. Later areas add their types here, and the table test
/// below fails until each new type has its expectations written down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Workspace,
    Template,
    Integration,
    Resource,
    Repository,
    Release,
    /// Users, groups and role bindings: who may do what.
    Access,
    /// The audit log.
    Audit,
}

impl EntityType {
    pub const ALL: [EntityType; 8] = [
        EntityType::Workspace,
        EntityType::Template,
        EntityType::Integration,
        EntityType::Resource,
        EntityType::Repository,
        EntityType::Release,
        EntityType::Access,
        EntityType::Audit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Workspace => "workspace",
            EntityType::Template => "template",
            EntityType::Integration => "integration",
            EntityType::Resource => "resource",
            EntityType::Repository => "repository",
            EntityType::Release => "release",
            EntityType::Access => "access",
            EntityType::Audit => "audit",
        }
    }

    pub fn parse(value: &str) -> Option<EntityType> {
        EntityType::ALL.into_iter().find(|t| t.as_str() == value)
    }

    /// How a message names one entity of the type.
    pub fn singular(self) -> &'static str {
        match self {
            EntityType::Access => "access entry",
            EntityType::Audit => "audit event",
            other => other.as_str(),
        }
    }

    /// How a message names the type as a whole.
    pub fn plural(self) -> &'static str {
        match self {
            EntityType::Workspace => "workspaces",
            EntityType::Template => "templates",
            EntityType::Integration => "integrations",
            EntityType::Resource => "resources",
            EntityType::Repository => "repositories",
            EntityType::Release => "releases",
            EntityType::Access => "users, groups and role bindings",
            EntityType::Audit => "the audit log",
        }
    }

    /// Sensitive types are not opened by a *global* viewer or member binding: reading who may do
    /// what, or the audit trail, takes a global admin or a binding on the type itself.
    pub fn is_sensitive(self) -> bool {
        matches!(self, EntityType::Access | EntityType::Audit)
    }

    /// Types anyone with a global role may read and use but only a global admin, or a binding
    /// on the type itself, may change: integrations hold the credentials everything else uses.
    pub fn guards_writes(self) -> bool {
        matches!(self, EntityType::Integration)
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    /// Approve or reject someone else's change (merge a pull request, sign off a stage).
    Approve,
    /// Change who may do what on the resource.
    Administer,
    /// Attach an integration to something and run with its credentials. Integrations guard
    /// every action but reading, so a global member does not have it: it takes a binding on
    /// integrations, or on the one integration (running an apply with it takes administer).
    Use,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Read,
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Approve,
        Action::Administer,
        Action::Use,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Approve => "approve",
            Action::Administer => "administer",
            Action::Use => "use",
        }
    }

    /// The least role that permits the action on `entity_type`: on a type that guards writes
    /// (integrations), changing takes admin on any scope; members bound to it may only use it.
    pub fn required_role_on(self, entity_type: EntityType) -> Role {
        match self {
            Action::Create | Action::Update | Action::Delete | Action::Approve
                if entity_type.guards_writes() =>
            {
                Role::Admin
            }
            _ => self.required_role(),
        }
    }

    /// The least role that permits the action.
    pub fn required_role(self) -> Role {
        match self {
            Action::Read => Role::Viewer,
            Action::Create | Action::Update | Action::Delete | Action::Approve | Action::Use => {
                Role::Member
            }
            Action::Administer => Role::Admin,
        }
    }
}

/// Where a role binding applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    Global,
    EntityType {
        entity_type: EntityType,
    },
    Entity {
        entity_type: EntityType,
        entity_id: String,
    },
}

impl Scope {
    pub fn covers(&self, resource: &ResourceRef) -> bool {
        match self {
            Scope::Global => true,
            Scope::EntityType { entity_type } => *entity_type == resource.entity_type,
            Scope::Entity {
                entity_type,
                entity_id,
            } => {
                *entity_type == resource.entity_type
                    && Some(entity_id) == resource.entity_id.as_ref()
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Scope::Global => "everything".to_string(),
            Scope::EntityType { entity_type } => entity_type.plural().to_string(),
            Scope::Entity {
                entity_type,
                entity_id,
            } => format!("{} {entity_id}", entity_type.singular()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

/// The caller as the policy sees it: their own and their groups' bindings, already resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub user_id: Option<i64>,
    pub grants: Vec<Grant>,
}

impl Subject {
    pub fn anonymous() -> Subject {
        Subject::default()
    }

    pub fn is_authenticated(&self) -> bool {
        self.user_id.is_some()
    }
}

/// What is being acted on: a whole type (listing, creating) or one entity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResourceRef {
    pub entity_type: EntityType,
    pub entity_id: Option<String>,
}

impl ResourceRef {
    pub fn of_type(entity_type: EntityType) -> ResourceRef {
        ResourceRef {
            entity_type,
            entity_id: None,
        }
    }

    pub fn entity(entity_type: EntityType, entity_id: impl Into<String>) -> ResourceRef {
        ResourceRef {
            entity_type,
            entity_id: Some(entity_id.into()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Nobody is signed in.
    Unauthenticated,
    /// Signed in, but no binding grants the needed role; the text says which role was needed.
    Deny(String),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        *self == Decision::Allow
    }
}

/// The whole policy. A grant permits an action when its scope covers the resource and its role
/// is at least the action's required role; global grants below admin do not open sensitive types.
pub fn authorize(subject: &Subject, action: Action, resource: &ResourceRef) -> Decision {
    if !subject.is_authenticated() {
        return Decision::Unauthenticated;
    }
    let needed = action.required_role_on(resource.entity_type);
    let guarded = resource.entity_type.is_sensitive()
        || (resource.entity_type.guards_writes() && action != Action::Read);
    let allowed = subject.grants.iter().any(|grant| {
        grant.scope.covers(resource)
            && grant.role >= needed
            && !(guarded && grant.scope == Scope::Global && grant.role < Role::Admin)
    });
    if allowed {
        Decision::Allow
    } else {
        let (what, pronoun) = match &resource.entity_id {
            Some(id) => (format!("{} {id}", resource.entity_type.singular()), "it"),
            None => (resource.entity_type.plural().to_string(), "them"),
        };
        let verb = action.as_str();
        Decision::Deny(if guarded {
            format!("You need a global admin role, or the {needed} role on {what}, to {verb} {pronoun}.")
        } else {
            format!("You need the {needed} role on {what} to {verb} {pronoun}.")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(grants: &[(Role, Scope)]) -> Subject {
        Subject {
            user_id: Some(1),
            grants: grants
                .iter()
                .map(|(role, scope)| Grant {
                    role: *role,
                    scope: scope.clone(),
                })
                .collect(),
        }
    }

    /// The expected minimum *global* role for every (action, entity type). `None` means a global
    /// grant below admin never suffices, which is the case for sensitive types.
    fn expected_global_minimum(action: Action, entity_type: EntityType) -> Role {
        let base = match action {
            Action::Read => Role::Viewer,
            Action::Create | Action::Update | Action::Delete | Action::Approve | Action::Use => {
                Role::Member
            }
            Action::Administer => Role::Admin,
        };
        match entity_type {
            EntityType::Access | EntityType::Audit => Role::Admin,
            EntityType::Integration if action != Action::Read => Role::Admin,
            EntityType::Workspace
            | EntityType::Template
            | EntityType::Integration
            | EntityType::Resource
            | EntityType::Repository
            | EntityType::Release => base,
        }
    }

    #[test]
    fn every_action_on_every_type_for_every_global_role() {
        let mut checked = 0;
        for action in Action::ALL {
            for entity_type in EntityType::ALL {
                let minimum = expected_global_minimum(action, entity_type);
                for role in Role::ALL {
                    let decision = authorize(
                        &subject(&[(role, Scope::Global)]),
                        action,
                        &ResourceRef::entity(entity_type, "42"),
                    );
                    assert_eq!(
                        decision.is_allowed(),
                        role >= minimum,
                        "global {role} doing {action:?} on {entity_type}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(
            checked,
            Action::ALL.len() * EntityType::ALL.len() * Role::ALL.len()
        );
    }

    #[test]
    fn integrations_are_used_by_members_bound_to_them_and_changed_by_their_admins() {
        let on_type = Scope::EntityType {
            entity_type: EntityType::Integration,
        };
        let prod = ResourceRef::entity(EntityType::Integration, "aws-production");
        let member = subject(&[
            (Role::Member, Scope::Global),
            (Role::Member, on_type.clone()),
        ]);
        assert!(authorize(&member, Action::Use, &prod).is_allowed());
        for change in [
            Action::Create,
            Action::Update,
            Action::Delete,
            Action::Administer,
        ] {
            assert!(
                !authorize(&member, change, &prod).is_allowed(),
                "{change:?}"
            );
        }
        // A global member reads integrations but neither uses nor changes them.
        let global = subject(&[(Role::Member, Scope::Global)]);
        assert!(authorize(&global, Action::Read, &prod).is_allowed());
        assert!(!authorize(&global, Action::Use, &prod).is_allowed());
        let owner = subject(&[(
            Role::Admin,
            Scope::Entity {
                entity_type: EntityType::Integration,
                entity_id: "aws-production".into(),
            },
        )]);
        for action in Action::ALL {
            assert!(authorize(&owner, action, &prod).is_allowed(), "{action:?}");
        }
        let staging = ResourceRef::entity(EntityType::Integration, "aws-staging");
        assert!(!authorize(&owner, Action::Use, &staging).is_allowed());
    }

    #[test]
    fn type_and_entity_bindings_grant_only_their_scope() {
        for action in Action::ALL {
            for entity_type in EntityType::ALL {
                let needed = action.required_role_on(entity_type);
                let on_type = subject(&[(needed, Scope::EntityType { entity_type })]);
                let on_entity = subject(&[(
                    needed,
                    Scope::Entity {
                        entity_type,
                        entity_id: "7".into(),
                    },
                )]);
                let seven = ResourceRef::entity(entity_type, "7");
                let eight = ResourceRef::entity(entity_type, "8");
                assert!(authorize(&on_type, action, &seven).is_allowed());
                assert!(authorize(&on_type, action, &eight).is_allowed());
                assert!(authorize(&on_entity, action, &seven).is_allowed());
                assert!(!authorize(&on_entity, action, &eight).is_allowed());
                // An entity binding never opens the type as a whole (listing, creating).
                assert!(
                    !authorize(&on_entity, action, &ResourceRef::of_type(entity_type)).is_allowed()
                );
                for other in EntityType::ALL.into_iter().filter(|t| *t != entity_type) {
                    assert!(
                        !authorize(&on_type, action, &ResourceRef::entity(other, "7")).is_allowed()
                    );
                }
                if needed > Role::Viewer {
                    let weaker = subject(&[(Role::Viewer, Scope::EntityType { entity_type })]);
                    assert!(!authorize(&weaker, action, &seven).is_allowed());
                }
            }
        }
    }

    #[test]
    fn anonymous_and_empty_subjects_are_refused_with_reasons() {
        let resource = ResourceRef::of_type(EntityType::Workspace);
        assert_eq!(
            authorize(&Subject::anonymous(), Action::Read, &resource),
            Decision::Unauthenticated
        );
        assert_eq!(
            authorize(&subject(&[]), Action::Create, &resource),
            Decision::Deny("You need the member role on workspaces to create them.".into())
        );
        assert_eq!(
            authorize(
                &subject(&[(Role::Viewer, Scope::Global)]),
                Action::Update,
                &ResourceRef::entity(EntityType::Template, "vpc")
            ),
            Decision::Deny("You need the member role on template vpc to update it.".into())
        );
        assert_eq!(
            authorize(
                &subject(&[(Role::Member, Scope::Global)]),
                Action::Read,
                &ResourceRef::of_type(EntityType::Audit)
            ),
            Decision::Deny(
                "You need a global admin role, or the viewer role on the audit log, to read them."
                    .into()
            )
        );
    }

    #[test]
    fn scopes_read_as_words() {
        assert_eq!(Scope::Global.describe(), "everything");
        assert_eq!(
            Scope::EntityType {
                entity_type: EntityType::Audit
            }
            .describe(),
            "the audit log"
        );
        assert_eq!(
            Scope::Entity {
                entity_type: EntityType::Workspace,
                entity_id: "payments".into()
            }
            .describe(),
            "workspace payments"
        );
    }

    #[test]
    fn roles_and_types_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for entity_type in EntityType::ALL {
            assert_eq!(EntityType::parse(entity_type.as_str()), Some(entity_type));
        }
        assert_eq!(Role::parse("owner"), None);
    }
}
