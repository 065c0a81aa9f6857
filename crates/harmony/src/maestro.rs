use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::{InterpretError, Outcome, OutcomeStatus, Score, Topology};

/// Runs a list of scores against one topology, in order, with progress on stderr.
///
/// The progress bar is drawn only when stderr is a terminal. A failing score does not stop the
/// scores after it; the [`Report`] says which failed.
pub struct Maestro<T: Topology> {
    topology: T,
    scores: Vec<Box<dyn Score<T>>>,
}

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
    /// A Maestro for `topology` with no scores yet.
    pub fn new(topology: T) -> Self {
        Self {
            topology,
            scores: Vec::new(),
        }
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
        self.topology.ensure_ready().await?;
        let progress = progress_bar(self.scores.len());
        let mut results = Vec::with_capacity(self.scores.len());
        for score in &self.scores {
            let name = score.name();
            progress.set_message(name.clone());
            let started = Instant::now();
            let result = score.create_interpret().execute(&self.topology).await;
            if let Err(error) = &result {
                progress.println(format!("{name}: {error}"));
            }
            results.push(ScoreResult {
                score: name,
                result,
                elapsed: started.elapsed(),
            });
            progress.inc(1);
        }
        progress.finish_and_clear();
        Ok(Report {
            topology: self.topology.name(),
            results,
        })
    }
}

impl<T: Topology> Maestro<T> {
    /// Like [`run`](Self::run), but with up to `limit` scores in flight at once (at least one).
    /// The report keeps the order the scores were registered in.
    pub async fn run_concurrently(&self, limit: usize) -> Result<Report, InterpretError> {
        self.topology.ensure_ready().await?;
        let progress = progress_bar(self.scores.len());
        let mut waiting = self.scores.iter().enumerate();
        let mut running: Vec<Running<'_>> = Vec::new();
        let mut results: Vec<Option<ScoreResult>> = self.scores.iter().map(|_| None).collect();
        std::future::poll_fn(|cx| {
            loop {
                while running.len() < limit.max(1) {
                    let Some((index, score)) = waiting.next() else {
                        break;
                    };
                    let topology = &self.topology;
                    running.push(Running {
                        index,
                        name: score.name(),
                        started: Instant::now(),
                        future: Box::pin(async move {
                            score.create_interpret().execute(topology).await
                        }),
                    });
                }
                if running.is_empty() {
                    return Poll::Ready(());
                }
                let before = running.len();
                let mut i = 0;
                while i < running.len() {
                    match running[i].future.as_mut().poll(cx) {
                        Poll::Ready(result) => {
                            let done = running.swap_remove(i);
                            if let Err(error) = &result {
                                progress.println(format!("{}: {error}", done.name));
                            }
                            progress.inc(1);
                            results[done.index] = Some(ScoreResult {
                                score: done.name,
                                result,
                                elapsed: done.started.elapsed(),
                            });
                        }
                        Poll::Pending => i += 1,
                    }
                }
                if running.len() == before {
                    return Poll::Pending;
                }
            }
        })
        .await;
        progress.finish_and_clear();
        Ok(Report {
            topology: self.topology.name(),
            results: results.into_iter().flatten().collect(),
        })
    }
}

/// A score in flight in [`Maestro::run_concurrently`].
struct Running<'a> {
    index: usize,
    name: String,
    started: Instant,
    future: Pin<Box<dyn Future<Output = Result<Outcome, InterpretError>> + Send + 'a>>,
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    bar
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
