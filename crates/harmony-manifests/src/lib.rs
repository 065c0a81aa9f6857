//! `ManifestTopology`: the embedded default topology. It writes each tenant's plan, and the
//! cluster guardrails' and monitoring plans, as a folder of manifests (one object per file, phase-ordered names, a
//! `kustomization.yaml`) for GitOps, and needs no cluster.

mod encode;
mod folder;
mod guardrails;
mod monitoring;
mod topology;

pub use encode::{Format, Manifest, encode_stream, folder_files, manifest_files, stream};
pub use folder::{GENERATED, write_folder};
pub use monitoring::monitoring_files;
pub use topology::ManifestTopology;
