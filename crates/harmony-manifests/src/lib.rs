//! `ManifestTopology`: the embedded default topology. It writes each tenant's plan as a folder of
//! manifests (one object per file, phase-ordered names, a `kustomization.yaml`) for GitOps, and
//! needs no cluster.

mod encode;
mod topology;

pub use encode::{Format, encode_stream, manifest_files};
pub use topology::ManifestTopology;
