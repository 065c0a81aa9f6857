//! `ManifestTopology`: the embedded default topology. It writes each tenant's plan, and the
//! cluster guardrails' plan, as a folder of manifests (one object per file, phase-ordered names, a
//! `kustomization.yaml`) for GitOps, and needs no cluster.

mod encode;
mod folder;
mod guardrails;
mod topology;

pub use encode::{Format, Manifest, encode_stream, folder_files, manifest_files, stream};
pub use folder::{GENERATED, write_folder};
pub use topology::ManifestTopology;
