//! Isolation audit: who can do what (RBAC) and who can reach whom (NetworkPolicy).
