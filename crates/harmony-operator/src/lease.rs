//! Leader election with a `coordination.k8s.io` Lease: of the replicas, only the holder reconciles.
//!
//! Every write carries the `resourceVersion` last read, so two replicas never both take the lease:
//! the API server refuses the second write (409) and that replica reads again. A lease counts as
//! expired when its record has not changed for its duration, measured on this replica's own clock
//! (never by comparing another node's timestamps).

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;

/// Where the lease is and who this replica is.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// The lease's namespace, such as `harmony-system`.
    pub namespace: String,
    /// The lease's name.
    pub name: String,
    /// This replica (its pod name).
    pub identity: String,
    /// How long a lease not renewed stays held.
    pub duration: Duration,
    /// How often the holder renews, and how often a standby looks.
    pub retry: Duration,
}

impl LeaseSettings {
    /// The operator's lease `harmony-operator` in `namespace`, held by `identity`: 15 s, renewed
    /// every 2 s.
    pub fn new(namespace: impl Into<String>, identity: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: "harmony-operator".into(),
            identity: identity.into(),
            duration: Duration::from_secs(15),
            retry: Duration::from_secs(2),
        }
    }
}

/// Why the lease could not be taken or kept.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// A request failed for another reason than a lost race.
    #[error("lease {namespace}/{name}: {source}")]
    Api {
        /// The lease's namespace.
        namespace: String,
        /// The lease's name.
        name: String,
        /// The failed request.
        #[source]
        source: kube::Error,
    },
    /// Another replica holds the lease now.
    #[error("lease {namespace}/{name}: lost to `{holder}`")]
    Lost {
        /// The lease's namespace.
        namespace: String,
        /// The lease's name.
        name: String,
        /// Who holds it.
        holder: String,
    },
}

/// A lease this replica takes, renews and gives back.
pub struct Elector {
    api: Api<Lease>,
    settings: LeaseSettings,
    /// The record last seen (holder, renew time) and when it was first seen so.
    observed: Option<(String, Option<MicroTime>, Instant)>,
}

fn now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

fn conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 409)
}

impl Elector {
    /// An elector for the lease `settings` name, through `client`.
    pub fn new(client: kube::Client, settings: LeaseSettings) -> Self {
        Self {
            api: Api::namespaced(client, &settings.namespace),
            settings,
            observed: None,
        }
    }

    fn api_error(&self, source: kube::Error) -> LeaseError {
        LeaseError::Api {
            namespace: self.settings.namespace.clone(),
            name: self.settings.name.clone(),
            source,
        }
    }

    fn spec(&self, acquired: Option<MicroTime>, transitions: i32) -> LeaseSpec {
        let seconds = i32::try_from(self.settings.duration.as_secs()).unwrap_or(i32::MAX);
        LeaseSpec {
            holder_identity: Some(self.settings.identity.clone()),
            lease_duration_seconds: Some(seconds),
            acquire_time: Some(acquired.unwrap_or_else(now)),
            renew_time: Some(now()),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// One attempt to take or renew the lease: `Ok(true)` when this replica holds it now.
    pub async fn try_acquire(&mut self) -> Result<bool, LeaseError> {
        let name = self.settings.name.clone();
        let current = self
            .api
            .get_opt(&name)
            .await
            .map_err(|e| self.api_error(e))?;
        let Some(mut lease) = current else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name),
                    namespace: Some(self.settings.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec(None, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(e) if conflict(&e) => Ok(false),
                Err(e) => Err(self.api_error(e)),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let record = (holder.clone(), spec.renew_time.clone());
        let seen_at = match &self.observed {
            Some((h, r, at)) if (h, r) == (&record.0, &record.1) => *at,
            _ => Instant::now(),
        };
        self.observed = Some((record.0, record.1, seen_at));
        let duration = spec
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map_or(self.settings.duration, Duration::from_secs);
        let mine = holder == self.settings.identity;
        let free = holder.is_empty() || seen_at.elapsed() > duration;
        if !mine && !free {
            return Ok(false);
        }
        let transitions = spec.lease_transitions.unwrap_or_default() + i32::from(!mine);
        let acquired = if mine { spec.acquire_time } else { None };
        lease.spec = Some(self.spec(acquired, transitions));
        // `replace` sends the resourceVersion read above: a concurrent writer makes it fail.
        match self
            .api
            .replace(&name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if conflict(&e) => Ok(false),
            Err(e) => Err(self.api_error(e)),
        }
    }

    /// Waits until this replica holds the lease.
    pub async fn acquire(&mut self) -> Result<(), LeaseError> {
        loop {
            if self.try_acquire().await? {
                return Ok(());
            }
            tokio::time::sleep(self.settings.retry).await;
        }
    }

    /// Renews the lease until it is lost (another replica took it, or it could not be renewed
    /// within its duration); returns why.
    pub async fn hold(&mut self) -> LeaseError {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.settings.retry).await;
            match self.try_acquire().await {
                Ok(true) => renewed = Instant::now(),
                Ok(false) => {
                    let holder = self
                        .observed
                        .as_ref()
                        .map(|(h, ..)| h.clone())
                        .unwrap_or_default();
                    return LeaseError::Lost {
                        namespace: self.settings.namespace.clone(),
                        name: self.settings.name.clone(),
                        holder,
                    };
                }
                Err(error) if renewed.elapsed() > self.settings.duration => return error,
                Err(error) => tracing::warn!("renewing the lease: {error}"),
            }
        }
    }

    /// Gives the lease back (on shutdown), so a standby takes over at once.
    pub async fn release(&mut self) -> Result<(), LeaseError> {
        let name = self.settings.name.clone();
        let Some(mut lease) = self
            .api
            .get_opt(&name)
            .await
            .map_err(|e| self.api_error(e))?
        else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        match self
            .api
            .replace(&name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if conflict(&e) => Ok(()),
            Err(e) => Err(self.api_error(e)),
        }
    }
}
