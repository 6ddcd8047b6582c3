//! Admission: plugins the store calls inside its write path, in upstream's order: mutating
//! admission, then the kind's strategy validation, then validating admission. Each plugin sees
//! the operation, the old and new objects, the resource, namespace, name, subresource, dry-run
//! and (once authentication lands) the user.

pub mod namespace_lifecycle;
pub mod service_alloc;

use api_types::resources::ResourceInfo;
use serde_json::Value;

use crate::cache::Cache;
use crate::error::ApiResult;

/// The admission operation, as upstream names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

/// Who makes the request, as the handler chain's authentication (and impersonation) found.
pub use crate::filters::authentication::UserInfo;

/// What a plugin is asked about.
pub struct Attributes<'a> {
    pub operation: Operation,
    /// The resource the request names (its version, not the storage version).
    pub resource: &'static ResourceInfo,
    pub subresource: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: &'a str,
    /// The stored object an update or delete replaces.
    pub old: Option<&'a Value>,
    pub dry_run: bool,
    pub user: Option<&'a UserInfo>,
}

/// What plugins may read besides the request: the watch cache (namespaces and the like).
pub struct Context<'a> {
    pub cache: &'a Cache,
    /// Service ClusterIPs and NodePorts.
    pub services: &'a service_alloc::ServiceAllocator,
}

/// A plugin that may change the object being written (or refuse it).
pub trait Mutating: Send + Sync {
    fn name(&self) -> &'static str;
    /// `obj` is the new object for creates and updates, `None` for deletes.
    fn admit(&self, ctx: &Context, attrs: &Attributes, obj: Option<&mut Value>) -> ApiResult<()>;
}

/// A plugin that may only accept or refuse the object being written.
pub trait Validating: Send + Sync {
    fn name(&self) -> &'static str;
    fn validate(&self, ctx: &Context, attrs: &Attributes, obj: Option<&Value>) -> ApiResult<()>;
}

/// The enabled plugins, in upstream's default order.
pub static MUTATING: &[&dyn Mutating] = &[
    &namespace_lifecycle::NamespaceLifecycle,
    &service_alloc::ServiceAllocation,
];
pub static VALIDATING: &[&dyn Validating] = &[];

/// Runs the mutating plugins in order; the first refusal wins.
pub fn mutate(ctx: &Context, attrs: &Attributes, mut obj: Option<&mut Value>) -> ApiResult<()> {
    for p in MUTATING {
        p.admit(ctx, attrs, obj.as_deref_mut())?;
    }
    Ok(())
}

/// Runs the validating plugins in order; the first refusal wins.
pub fn validate(ctx: &Context, attrs: &Attributes, obj: Option<&Value>) -> ApiResult<()> {
    for p in VALIDATING {
        p.validate(ctx, attrs, obj)?;
    }
    Ok(())
}
