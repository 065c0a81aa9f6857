//! Custom resources without a k8s-openapi type: [`api_resources!`] makes a serde model of one
//! (a `metadata` and a `spec`) a k8s-openapi [`Resource`](k8s_openapi::Resource) with
//! [`Metadata`](k8s_openapi::Metadata), so its group, version, kind and plural are written once,
//! and serialized objects carry `apiVersion` and `kind` as k8s-openapi's do.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// An object as serialized: its type's `apiVersion` and `kind` first.
#[doc(hidden)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Typed<'a, S> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: &'a ObjectMeta,
    pub spec: &'a S,
}

#[doc(hidden)]
pub use {k8s_openapi as __k8s_openapi, serde as __serde};

/// Implements k8s-openapi's `Resource` and `Metadata`, and `Serialize` (`apiVersion`, `kind`,
/// `metadata`, `spec`), for kinds of one API group, version and scope (a k8s-openapi scope type),
/// each kind named as its type and given its plural.
#[macro_export]
macro_rules! api_resources {
    ($scope:ident, $group:literal / $version:literal: $($kind:ident $plural:literal),+) => {$(
        impl $crate::resource::__k8s_openapi::Resource for $kind {
            const API_VERSION: &'static str = concat!($group, "/", $version);
            const GROUP: &'static str = $group;
            const KIND: &'static str = stringify!($kind);
            const VERSION: &'static str = $version;
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = $crate::resource::__k8s_openapi::$scope;
        }

        impl $crate::resource::__k8s_openapi::Metadata for $kind {
            type Ty = $crate::resource::__k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

            fn metadata(&self) -> &Self::Ty {
                &self.metadata
            }

            fn metadata_mut(&mut self) -> &mut Self::Ty {
                &mut self.metadata
            }
        }

        impl $crate::resource::__serde::Serialize for $kind {
            /// `apiVersion`, `kind`, `metadata`, `spec`, as the API serves it.
            fn serialize<S: $crate::resource::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                use $crate::resource::__k8s_openapi::Resource as _;
                $crate::resource::Typed {
                    api_version: Self::API_VERSION,
                    kind: Self::KIND,
                    metadata: &self.metadata,
                    spec: &self.spec,
                }
                .serialize(serializer)
            }
        }
    )+};
}
