//! The per-tenant parameters of the admission rules: one ConfigMap in each tenant namespace,
//! found by the bindings in the namespace of the request, so adding a tenant never rewrites a
//! policy. Defined once, by the tenant compiler, which puts it in each tenant's plan.

pub use harmony_tenant::{PARAMS_NAME, STORAGE_CLASS_KEY_PREFIX, tenant_parameters};
