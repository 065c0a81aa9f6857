//! Events on Tenants, aggregated as client-go's `events.k8s.io/v1` recorder aggregates them: the
//! same type, reason, action and note on the same object within six minutes counts in the first
//! Event's series; a different note is a new Event. (kube-runtime's `Recorder` leaves the note out
//! of its key, so a second `Applied` within six minutes showed the first one's writes.)

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::events::{EventType, Reporter};
use kube::{Api, Client};
use serde_json::json;

/// How long a published Event takes repeats into its series.
const WINDOW: SignedDuration = SignedDuration::from_mins(6);

/// One Event to publish on an object.
pub(crate) struct Said<'a> {
    pub type_: EventType,
    pub reason: &'a str,
    pub action: &'a str,
    pub note: String,
}

/// What makes two Events one: every field a reader sees, and the object they regard.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    type_: &'static str,
    reason: String,
    action: String,
    note: String,
    regarding: (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
}

impl Key {
    fn of(said: &Said<'_>, regarding: &ObjectReference) -> Self {
        Self {
            type_: type_name(said.type_),
            reason: said.reason.into(),
            action: said.action.into(),
            note: said.note.clone(),
            regarding: (
                regarding.kind.clone(),
                regarding.namespace.clone(),
                regarding.name.clone(),
                regarding.uid.clone(),
            ),
        }
    }
}

fn type_name(type_: EventType) -> &'static str {
    match type_ {
        EventType::Normal => "Normal",
        EventType::Warning => "Warning",
    }
}

/// An Event published within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Published {
    name: String,
    count: i32,
    last: Timestamp,
}

/// The Events published within the window, by key.
#[derive(Debug, Default)]
struct Recent(HashMap<Key, Published>);

impl Recent {
    /// The Event `key` repeats, with its count raised, if it was published within the window
    /// before `now`; forgets the Events older than that.
    fn repeat(&mut self, key: &Key, now: Timestamp) -> Option<Published> {
        self.0.retain(|_, published| published.last + WINDOW > now);
        let published = self.0.get_mut(key)?;
        published.count += 1;
        published.last = now;
        Some(published.clone())
    }

    fn record(&mut self, key: Key, name: String, now: Timestamp) {
        let first = Published {
            name,
            count: 1,
            last: now,
        };
        self.0.insert(key, first);
    }

    fn forget(&mut self, key: &Key) {
        self.0.remove(key);
    }
}

/// Publishes Events for one reporter.
pub(crate) struct Events {
    client: Client,
    reporter: Reporter,
    recent: Mutex<Recent>,
}

impl Events {
    pub(crate) fn new(client: Client, reporter: Reporter) -> Self {
        Self {
            client,
            reporter,
            recent: Mutex::default(),
        }
    }

    /// Publishes `said` on `regarding` (cluster-scoped objects' Events go to `default`): a new
    /// Event, or a repeat counted in the series of the same Event published within the window.
    pub(crate) async fn publish(
        &self,
        said: Said<'_>,
        regarding: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let events: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        let key = Key::of(&said, regarding);
        let repeat = self.recent().repeat(&key, now);
        if let Some(repeat) = repeat {
            let series = EventSeries {
                count: repeat.count,
                last_observed_time: MicroTime(now),
            };
            let patch = Patch::Merge(json!({ "series": series }));
            match events
                .patch(&repeat.name, &PatchParams::default(), &patch)
                .await
            {
                Err(kube::Error::Api(e)) if e.code == 404 => self.recent().forget(&key),
                other => return other.map(drop),
            }
        }
        let event = self.event(&said, regarding, now);
        let created = events.create(&PostParams::default(), &event).await?;
        self.recent()
            .record(key, created.metadata.name.unwrap_or_default(), now);
        Ok(())
    }

    fn recent(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn event(&self, said: &Said<'_>, regarding: &ObjectReference, now: Timestamp) -> K8sEvent {
        let controller = &self.reporter.controller;
        let object = regarding.name.as_deref().unwrap_or(controller);
        K8sEvent {
            metadata: ObjectMeta {
                name: Some(format!("{object}.{:x}", now.as_nanosecond())),
                namespace: regarding.namespace.clone(),
                ..ObjectMeta::default()
            },
            action: Some(said.action.into()),
            reason: Some(said.reason.into()),
            note: Some(said.note.clone()),
            type_: Some(type_name(said.type_).into()),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(controller.clone()),
            reporting_instance: Some(
                self.reporter
                    .instance
                    .clone()
                    .unwrap_or_else(|| controller.clone()),
            ),
            ..K8sEvent::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(name: &str) -> ObjectReference {
        ObjectReference {
            kind: Some("Tenant".into()),
            name: Some(name.into()),
            uid: Some(format!("{name}-uid")),
            ..ObjectReference::default()
        }
    }

    fn key(note: &str, regarding: &str) -> Key {
        let said = Said {
            type_: EventType::Normal,
            reason: "Applied",
            action: "Apply",
            note: note.into(),
        };
        Key::of(&said, &tenant(regarding))
    }

    #[test]
    fn a_repeat_within_six_minutes_counts_in_the_series_and_another_note_is_a_new_event() {
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        let mut recent = Recent::default();
        let first = key(
            "1 created, 0 changed, 0 pruned: created NetworkPolicy a/x;",
            "a",
        );
        assert_eq!(recent.repeat(&first, start), None);
        recent.record(first.clone(), "a.1".into(), start);

        let later = start + SignedDuration::from_mins(5);
        let repeat = recent.repeat(&first, later).unwrap();
        assert_eq!((repeat.name.as_str(), repeat.count), ("a.1", 2));
        assert_eq!(recent.repeat(&first, later).unwrap().count, 3);

        let other = key(
            "0 created, 1 changed, 0 pruned: changed ResourceQuota a/q;",
            "a",
        );
        assert_eq!(recent.repeat(&other, later), None, "another note");
        let elsewhere = key(
            "1 created, 0 changed, 0 pruned: created NetworkPolicy a/x;",
            "b",
        );
        assert_eq!(recent.repeat(&elsewhere, later), None, "another Tenant");

        // Six minutes after the last repeat, the Event is forgotten: the next one is new.
        let past = later + WINDOW;
        assert_eq!(recent.repeat(&first, past), None);
        assert!(recent.0.is_empty(), "{recent:?}");
    }
}
