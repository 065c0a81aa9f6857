//! `meta.k8s.io/v1` Table responses, which `kubectl get` asks for (`Accept: ...;as=Table`).

use serde_json::{Value, json};

use super::registry::ResourceInfo;

/// A Table of one object or a list: `Name` and `Created At` columns, with partial object metadata.
pub fn table(info: &ResourceInfo, reply: &Value) -> Value {
    let objects: Vec<&Value> = match reply["items"].as_array() {
        Some(items) => items.iter().collect(),
        None => vec![reply],
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({
                "cells": [o["metadata"]["name"], o["metadata"]["creationTimestamp"]],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o["metadata"],
                },
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": { "resourceVersion": reply["metadata"]["resourceVersion"] },
        "columnDefinitions": [
            { "name": "Name", "type": "string", "format": "name", "description": format!("Name of the {}", info.kind), "priority": 0 },
            { "name": "Created At", "type": "date", "format": "", "description": "When the object was created", "priority": 0 },
        ],
        "rows": rows,
    })
}
