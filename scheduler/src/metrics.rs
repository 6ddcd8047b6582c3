//! The scheduler's Prometheus metrics, with upstream's names: attempts by result and
//! profile, attempt latency, pending pods per sub-queue, and the Bind extension point's
//! duration.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    attempts: IntCounterVec,
    attempt_duration: HistogramVec,
    pending: IntGaugeVec,
    extension_point: HistogramVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let attempts = IntCounterVec::new(
            Opts::new(
                "scheduler_schedule_attempts_total",
                "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
            ),
            &["result", "profile"],
        )
        .expect("static metric");
        let attempt_duration = HistogramVec::new(
            HistogramOpts::new(
                "scheduler_scheduling_attempt_duration_seconds",
                "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
            )
            .buckets(prometheus::exponential_buckets(0.001, 2.0, 15).expect("static buckets")),
            &["result", "profile"],
        )
        .expect("static metric");
        let pending = IntGaugeVec::new(
            Opts::new(
                "scheduler_pending_pods",
                "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods.",
            ),
            &["queue"],
        )
        .expect("static metric");
        let extension_point = HistogramVec::new(
            HistogramOpts::new(
                "scheduler_framework_extension_point_duration_seconds",
                "Latency for running all plugins of a specific extension point.",
            )
            .buckets(prometheus::exponential_buckets(0.0001, 2.0, 12).expect("static buckets")),
            &["extension_point", "status", "profile"],
        )
        .expect("static metric");
        for c in [
            Box::new(attempts.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(attempt_duration.clone()),
            Box::new(pending.clone()),
            Box::new(extension_point.clone()),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ] {
            registry.register(c).expect("metrics registered once");
        }
        Metrics {
            registry,
            attempts,
            attempt_duration,
            pending,
            extension_point,
        }
    }

    pub fn attempt(&self, result: &str, profile: &str, took: Duration) {
        self.attempts.with_label_values(&[result, profile]).inc();
        self.attempt_duration
            .with_label_values(&[result, profile])
            .observe(took.as_secs_f64());
    }

    pub fn binding(&self, took: Duration) {
        self.extension_point
            .with_label_values(&["Bind", "Success", "default-scheduler"])
            .observe(took.as_secs_f64());
    }

    /// The text exposition, with the queue lengths as of now.
    pub fn render(&self, pending: (usize, usize, usize)) -> Vec<u8> {
        for (queue, n) in [
            ("active", pending.0),
            ("backoff", pending.1),
            ("unschedulable", pending.2),
        ] {
            self.pending.with_label_values(&[queue]).set(n as i64);
        }
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metric families.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}
