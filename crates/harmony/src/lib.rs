//! Harmony's core framework.
//!
//! A [`Score`] says *what* should exist, an [`Interpret`] (created by the score) says *how* to get
//! there, and a [`Topology`] says *where*. Capabilities are traits a topology implements and a score
//! names as bounds, so running a score against a topology that lacks a capability does not compile.
//! [`Maestro`] runs a list of scores against one topology, in order.
//!
//! Score files are read by one loader: [`Documents`] reads files, folders and standard input,
//! and loads each document as a [`DocumentKind`] (known by its `apiVersion` and `kind`), with
//! every [`Problem`] located by file, line and column.
//!
//! This crate knows nothing about Kubernetes.

mod document;
mod error;
mod interpret;
mod kind;
mod load;
mod maestro;
mod outcome;
pub mod private_file;
mod problem;
mod score;
mod topology;

pub use document::Document;
pub use error::InterpretError;
pub use interpret::Interpret;
pub use kind::{DocumentKind, identity_problems};
pub use load::{Documents, Loaded, STDIN};
pub use maestro::{Maestro, Observer, Report, ScoreResult};
pub use outcome::{Outcome, OutcomeStatus};
pub use problem::{Problem, Problems};
pub use score::Score;
pub use topology::Topology;

/// Re-exported so implementors use the same `async_trait` as the traits here.
pub use async_trait::async_trait;
