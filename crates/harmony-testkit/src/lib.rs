//! Dev-only test kit: a stateful fake Kubernetes API server and fixtures. Never a product target.
