//! Users, identities, groups and role bindings: sign-in, grants and the admin pages' changes.
//! Every change commits together with its audit event.

use crate::server::access::{self, scope_columns, SUBJECT_GROUP, SUBJECT_USER};

use crate::server::audit::{self, Change};

use crate::server::entities::{group_members, groups, identities, role_bindings, users};

use crate::server::Actor;

use crate::wire::admin::{BindingRow, GroupDetail, GroupRow, NewBinding, UserRef, UserRow};

use crate::domain::names::{validate_slug, validate_text};

use crate::domain::rbac::{EntityType, Role, Scope};

use crate::error::{AppError, AppResult};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use serde::Serialize;

use std::collections::BTreeMap;

mod accounts;
mod bindings;
mod demo;
mod membership;
mod sign_in;
pub use accounts::*;
#[allow(unused_imports)]
pub(crate) use accounts::*;
pub use bindings::*;
#[allow(unused_imports)]
pub(crate) use bindings::*;
pub use demo::*;
#[allow(unused_imports)]
pub(crate) use demo::*;
pub use membership::*;
#[allow(unused_imports)]
pub(crate) use membership::*;
pub use sign_in::*;
#[allow(unused_imports)]
pub(crate) use sign_in::*;
