//! `PriceSheet`: what a core-hour, a GiB-hour of memory and a GiB-month of storage (by storage
//! class) cost, in one currency. Loaded with the core's loader, so every bad price is located.

use std::collections::BTreeMap;

use harmony::{DocumentKind, Problem, identity_problems};
use serde::Deserialize;

/// The `apiVersion` of price sheets.
pub const API_VERSION: &str = "harmony.nationtech.io/v1alpha1";

/// The storage class key whose price applies to classes the sheet does not name.
pub const DEFAULT_CLASS: &str = "default";

/// A price sheet file: `kind: PriceSheet`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceSheet {
    api_version: String,
    kind: String,
    metadata: Metadata,
    /// The prices.
    pub spec: Prices,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    name: String,
}

/// The prices of a sheet, all in `currency`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// ISO 4217 code, such as `EUR`.
    pub currency: String,
    /// One CPU core for one hour.
    #[serde(rename = "cpuCoreHour")]
    pub cpu_core_hour: f64,
    /// One GiB (2^30 bytes) of memory for one hour.
    #[serde(rename = "memoryGiBHour")]
    pub memory_gib_hour: f64,
    /// One GiB of storage for one month (730 hours), by storage class; `default` for the others.
    #[serde(rename = "storageGiBMonth", default)]
    pub storage_gib_month: BTreeMap<String, f64>,
}

impl PriceSheet {
    /// The sheet's name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }
}

impl Prices {
    /// The price of a GiB-month of `class`: its own, else the `default` one; `None` when neither.
    pub fn storage(&self, class: &str) -> Option<f64> {
        self.storage_gib_month
            .get(class)
            .or_else(|| self.storage_gib_month.get(DEFAULT_CLASS))
            .copied()
    }
}

impl DocumentKind for PriceSheet {
    const API_VERSION: &'static str = API_VERSION;
    const KIND: &'static str = "PriceSheet";
    type Context = ();

    fn problems(&self, _: &()) -> Vec<Problem> {
        let mut problems = identity_problems::<Self>(Some(&self.api_version), Some(&self.kind));
        let spec = &self.spec;
        if spec.currency.len() != 3 || !spec.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            problems.push(Problem::new(
                "spec.currency",
                format!(
                    "`{}` is not a currency code: write its 3 upper-case letters (ISO 4217), such as EUR or USD",
                    spec.currency
                ),
            ));
        }
        let unit = &spec.currency;
        check_price(
            &mut problems,
            "spec.cpuCoreHour",
            spec.cpu_core_hour,
            &format!("{unit} per core-hour, such as 0.0316"),
        );
        check_price(
            &mut problems,
            "spec.memoryGiBHour",
            spec.memory_gib_hour,
            &format!("{unit} per GiB-hour, such as 0.0042"),
        );
        for (class, price) in &spec.storage_gib_month {
            if class.is_empty() {
                problems.push(Problem::new(
                    "spec.storageGiBMonth",
                    "has an empty storage class name: name the class, or `default` for the others",
                ));
            }
            check_price(
                &mut problems,
                &format!("spec.storageGiBMonth.{class}"),
                *price,
                &format!("{unit} per GiB-month of class `{class}`, such as 0.04"),
            );
        }
        problems
    }
}

/// A problem at `path` unless `price` is a finite number ≥ 0.
fn check_price(problems: &mut Vec<Problem>, path: &str, price: f64, accepted: &str) {
    if !price.is_finite() || price < 0.0 {
        problems.push(Problem::new(
            path,
            format!("`{price}` is not a price: write a number ≥ 0 in {accepted}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harmony::Documents;

    const GOOD: &str = "apiVersion: harmony.nationtech.io/v1alpha1
kind: PriceSheet
metadata: {name: on-prem}
spec:
  currency: EUR
  cpuCoreHour: 0.03
  memoryGiBHour: 0.004
  storageGiBMonth: {fast: 0.1, default: 0.04}
";

    fn load(text: &str) -> Result<PriceSheet, Vec<String>> {
        Documents::parse("prices.yaml", text)
            .unwrap()
            .load_one::<PriceSheet>(&())
            .map_err(|p| p.0.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn loads_a_sheet_and_falls_back_to_the_default_class() {
        let sheet = load(GOOD).unwrap();
        assert_eq!(sheet.name(), "on-prem");
        assert_eq!(sheet.spec.storage("fast"), Some(0.1));
        assert_eq!(sheet.spec.storage("slow"), Some(0.04));
    }

    #[test]
    fn the_example_sheet_is_valid() {
        let sheet = load(include_str!("../../../examples/prices.yaml")).unwrap();
        assert_eq!(sheet.spec.storage("ceph-rbd"), Some(0.04));
    }

    #[test]
    fn a_class_without_a_price_or_default_has_none() {
        let text = GOOD.replace(", default: 0.04", "");
        assert_eq!(load(&text).unwrap().spec.storage("slow"), None);
    }

    #[test]
    fn refuses_bad_prices_located_with_the_value_and_the_fix() {
        let text = GOOD
            .replace("currency: EUR", "currency: euro")
            .replace("cpuCoreHour: 0.03", "cpuCoreHour: -1")
            .replace("fast: 0.1", "fast: -0.5");
        assert_eq!(
            load(&text).unwrap_err(),
            [
                "prices.yaml:5:13: spec.currency: `euro` is not a currency code: write its 3 \
                 upper-case letters (ISO 4217), such as EUR or USD",
                "prices.yaml:6:16: spec.cpuCoreHour: `-1` is not a price: write a number ≥ 0 in \
                 euro per core-hour, such as 0.0316",
                "prices.yaml:8:27: spec.storageGiBMonth.fast: `-0.5` is not a price: write a \
                 number ≥ 0 in euro per GiB-month of class `fast`, such as 0.04",
            ]
        );
    }

    #[test]
    fn refuses_a_price_that_is_not_a_number_and_unknown_fields() {
        let text = GOOD
            .replace("memoryGiBHour: 0.004", "memoryGiBHour: cheap")
            .replace("currency: EUR", "currency: EUR\n  gpuHour: 1");
        let problems = load(&text).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("prices.yaml:6:3: spec.gpuHour: unknown field `gpuHour`"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with(
                "prices.yaml:8:18: spec.memoryGiBHour: invalid type: string \"cheap\""
            ),
            "{problems:?}"
        );
    }
}
