use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;

use crate::{InterpretError, Outcome, OutcomeStatus, Score, Topology};

/// Runs a list of scores against one topology, in order, telling a [`Observer`] as each score
/// starts and finishes.
///
/// A failing score does not stop the scores after it; the [`Report`] says which failed.
pub struct Maestro<T: Topology> {
    topology: T,
    scores: Vec<Box<dyn Score<T>>>,
    observer: Box<dyn Observer>,
}

/// Told of a Maestro run's progress (the CLI draws a progress bar from it).
pub trait Observer: Send + Sync {
    /// `total` scores are about to run.
    fn on_run(&self, total: usize) {
        let _ = total;
    }
    /// The score `name` started.
    fn on_start(&self, name: &str) {
        let _ = name;
    }
    /// A score finished.
    fn on_finish(&self, result: &ScoreResult) {
        let _ = result;
    }
    /// Every score has finished.
    fn on_done(&self) {}
}

/// An observer that ignores everything.
struct Silent;

impl Observer for Silent {}

/// What happened to one score.
#[derive(Debug, Serialize)]
pub struct ScoreResult {
    /// The score's name.
    pub score: String,
    /// Its outcome, or the error that stopped it.
    #[serde(serialize_with = "serialize_result")]
    pub result: Result<Outcome, InterpretError>,
    /// How long it took.
    #[serde(skip)]
    pub elapsed: Duration,
}

impl ScoreResult {
    /// The typed report the interpret attached to its outcome, even when it stopped partway.
    pub fn report<R: std::any::Any>(&self) -> Option<&R> {
        match &self.result {
            Ok(outcome) => outcome.report(),
            Err(InterpretError::Stopped { done, .. }) => done.report(),
            Err(_) => None,
        }
    }
}

/// The results of a Maestro run, in the order the scores were given.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The topology's name.
    pub topology: String,
    /// One result per score.
    pub results: Vec<ScoreResult>,
}

impl Report {
    /// True when every score succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.results.iter().all(|r| r.result.is_ok())
    }

    /// One line: how many scores changed, were unchanged, failed.
    pub fn summary(&self) -> String {
        let count = |want: Option<OutcomeStatus>| {
            self.results
                .iter()
                .filter(|r| r.result.as_ref().ok().map(|o| o.status) == want)
                .count()
        };
        format!(
            "{}: {} changed, {} unchanged, {} failed",
            self.topology,
            count(Some(OutcomeStatus::Changed)),
            count(Some(OutcomeStatus::Unchanged)),
            count(None),
        )
    }
}

impl<T: Topology> Maestro<T> {
    /// A Maestro for `topology` with no scores yet, telling no one of its progress.
    pub fn new(topology: T) -> Self {
        Self {
            topology,
            scores: Vec::new(),
            observer: Box::new(Silent),
        }
    }

    /// Tells `observer` of the progress of the runs from now on.
    pub fn observe(&mut self, observer: impl Observer + 'static) {
        self.observer = Box::new(observer);
    }

    /// Adds scores to run after those already registered.
    pub fn register(&mut self, scores: impl IntoIterator<Item = Box<dyn Score<T>>>) {
        self.scores.extend(scores);
    }

    /// The topology the scores run against.
    pub fn topology(&self) -> &T {
        &self.topology
    }

    /// Checks the topology is ready, then runs every score in order.
    ///
    /// Fails without running anything when the topology is not ready.
    pub async fn run(&self) -> Result<Report, InterpretError> {
        self.run_concurrently(1).await
    }

    /// Like [`run`](Self::run), but with up to `limit` scores in flight at once (at least one).
    /// The report keeps the order the scores were registered in.
    pub async fn run_concurrently(&self, limit: usize) -> Result<Report, InterpretError> {
        self.topology.ensure_ready().await?;
        self.observer.on_run(self.scores.len());
        let results = futures::stream::iter(&self.scores)
            .map(|score| self.execute(score.as_ref()))
            .buffered(limit.max(1))
            .collect()
            .await;
        self.observer.on_done();
        Ok(Report {
            topology: self.topology.name(),
            results,
        })
    }

    async fn execute(&self, score: &dyn Score<T>) -> ScoreResult {
        let name = score.name();
        self.observer.on_start(&name);
        let started = Instant::now();
        let result = score.create_interpret().execute(&self.topology).await;
        let result = ScoreResult {
            score: name,
            result,
            elapsed: started.elapsed(),
        };
        self.observer.on_finish(&result);
        result
    }
}

fn serialize_result<S: serde::Serializer>(
    result: &Result<Outcome, InterpretError>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    enum Shown<'a> {
        Ok(&'a Outcome),
        Error(String),
    }
    match result {
        Ok(outcome) => Shown::Ok(outcome),
        Err(error) => Shown::Error(error.to_string()),
    }
    .serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Interpret;
    use std::sync::Mutex;

    /// A topology that records what ran on it.
    struct Journal {
        ready: bool,
        entries: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl Topology for Journal {
        fn name(&self) -> String {
            "journal".into()
        }
        async fn ensure_ready(&self) -> Result<(), InterpretError> {
            if self.ready {
                Ok(())
            } else {
                Err(InterpretError::NotReady("journal is closed".into()))
            }
        }
    }

    struct Entry(&'static str);

    impl Score<Journal> for Entry {
        fn name(&self) -> String {
            format!("entry {}", self.0)
        }
        fn create_interpret(&self) -> Box<dyn Interpret<Journal>> {
            Box::new(EntryInterpret(self.0))
        }
    }

    struct EntryInterpret(&'static str);

    #[async_trait::async_trait]
    impl Interpret<Journal> for EntryInterpret {
        fn name(&self) -> String {
            self.0.into()
        }
        async fn execute(&self, topology: &Journal) -> Result<Outcome, InterpretError> {
            if self.0 == "bad" {
                return Err(InterpretError::Invalid("bad entry".into()));
            }
            let mut entries = topology.entries.lock().unwrap();
            if entries.iter().any(|e| e == self.0) {
                return Ok(Outcome::unchanged("already there", vec![]));
            }
            entries.push(self.0.into());
            Ok(Outcome::changed("written", vec![self.0.into()]))
        }
    }

    fn journal(ready: bool) -> Journal {
        Journal {
            ready,
            entries: Mutex::new(Vec::new()),
        }
    }

    fn scores(names: &[&'static str]) -> Vec<Box<dyn Score<Journal>>> {
        names
            .iter()
            .map(|n| Box::new(Entry(n)) as Box<dyn Score<Journal>>)
            .collect()
    }

    #[tokio::test]
    async fn runs_scores_in_order_and_keeps_going_after_a_failure() {
        let mut maestro = Maestro::new(journal(true));
        maestro.register(scores(&["a", "bad", "b", "a"]));
        let report = maestro.run().await.unwrap();
        assert_eq!(*maestro.topology().entries.lock().unwrap(), ["a", "b"]);
        assert!(!report.all_succeeded());
        assert_eq!(
            report.summary(),
            "journal: 2 changed, 1 unchanged, 1 failed"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["results"][0]["result"]["ok"]["status"], "changed");
        assert_eq!(
            json["results"][1]["result"]["error"],
            "invalid score: bad entry"
        );
    }

    #[tokio::test]
    async fn concurrent_runs_keep_report_order_and_bound_the_flight() {
        let mut maestro = Maestro::new(journal(true));
        let names = ["a", "b", "bad", "c", "d", "e", "f"];
        maestro.register(
            names
                .iter()
                .map(|n| Box::new(Slow(n)) as Box<dyn Score<Journal>>),
        );
        let report = maestro.run_concurrently(3).await.unwrap();
        let order: Vec<&str> = report.results.iter().map(|r| r.score.as_str()).collect();
        assert_eq!(
            order,
            names
                .map(|n| format!("slow {n}"))
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        );
        assert_eq!(
            report.summary(),
            "journal: 6 changed, 0 unchanged, 1 failed"
        );
        let peak = maestro
            .topology()
            .entries
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.starts_with("peak"))
            .max()
            .unwrap()
            .clone();
        assert_eq!(peak, "peak 3", "at most 3 in flight, and 3 reached");
    }

    /// A score that yields to the runtime while recording how many run at once.
    struct Slow(&'static str);

    impl Score<Journal> for Slow {
        fn name(&self) -> String {
            format!("slow {}", self.0)
        }
        fn create_interpret(&self) -> Box<dyn Interpret<Journal>> {
            Box::new(SlowInterpret(self.0))
        }
    }

    struct SlowInterpret(&'static str);

    static IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    #[async_trait::async_trait]
    impl Interpret<Journal> for SlowInterpret {
        fn name(&self) -> String {
            self.0.into()
        }
        async fn execute(&self, topology: &Journal) -> Result<Outcome, InterpretError> {
            use std::sync::atomic::Ordering;
            let now = IN_FLIGHT.fetch_add(1, Ordering::SeqCst) + 1;
            topology.entries.lock().unwrap().push(format!("peak {now}"));
            tokio::time::sleep(Duration::from_millis(20)).await;
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
            if self.0 == "bad" {
                return Err(InterpretError::Invalid("bad entry".into()));
            }
            Ok(Outcome::changed("slept", vec![]))
        }
    }

    #[tokio::test]
    async fn runs_nothing_when_the_topology_is_not_ready() {
        let mut maestro = Maestro::new(journal(false));
        maestro.register(scores(&["a"]));
        let error = maestro.run().await.unwrap_err();
        assert!(matches!(error, InterpretError::NotReady(_)));
        assert!(maestro.topology().entries.lock().unwrap().is_empty());
    }
}
