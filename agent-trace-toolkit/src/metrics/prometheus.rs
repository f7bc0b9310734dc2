//! The Prometheus exposition of [`MetricsProcessor`], through `prometheus-client`: the processor
//! is a [`Collector`], encoded at scrape time from the same counts the snapshot reads.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use super::MetricsProcessor;

/// The `Content-Type` of [`MetricsProcessor::encode_prometheus`]'s output (the Prometheus text
/// format, version 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

impl MetricsProcessor {
    /// Adds these metrics to a `prometheus-client` registry (yours, next to your own metrics).
    ///
    /// ```
    /// let metrics = agent_trace_toolkit::metrics::MetricsProcessor::new();
    /// let mut registry = prometheus_client::registry::Registry::default();
    /// metrics.register(&mut registry);
    /// ```
    pub fn register(&self, registry: &mut Registry) {
        registry.register_collector(Box::new(self.clone()));
    }

    /// These metrics in the Prometheus text format (version 0.0.4, [`CONTENT_TYPE`]).
    pub fn encode_prometheus(&self) -> String {
        let mut registry = Registry::default();
        self.register(&mut registry);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }

    /// These metrics in the OpenMetrics text format (ends with `# EOF`).
    pub fn encode_openmetrics(&self) -> String {
        let mut registry = Registry::default();
        self.register(&mut registry);
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

impl Collector for MetricsProcessor {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let st = self.lock();
        {
            let mut m = encoder.encode_descriptor(
                "agent_trace_span_duration",
                "How long spans ran, by span kind and name (the model, for generations).",
                Some(&Unit::Seconds),
                MetricType::Histogram,
            )?;
            for (kind, by_name) in &st.spans {
                for (name, s) in by_name {
                    let labels = [("kind", kind.as_str()), ("name", name.as_ref())];
                    m.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                        s.latency.sum_seconds(),
                        s.latency.count,
                        &s.latency.prometheus_buckets(),
                        None,
                    )?;
                }
            }
        }
        {
            let mut m = encoder.encode_descriptor(
                "agent_trace_span_errors",
                "Spans that ended with an error, by span kind and name.",
                None,
                MetricType::Counter,
            )?;
            for (kind, by_name) in &st.spans {
                for (name, s) in by_name {
                    let labels = [("kind", kind.as_str()), ("name", name.as_ref())];
                    m.encode_family(&labels)?
                        .encode_counter::<NoLabelSet, _, u64>(&s.errors, None)?;
                }
            }
        }
        {
            let mut m = encoder.encode_descriptor(
                "agent_trace_tokens",
                "Tokens recorded on generation and response spans, by model and direction.",
                None,
                MetricType::Counter,
            )?;
            for (model, (input, output)) in &st.tokens {
                for (direction, n) in [("input", input), ("output", output)] {
                    let labels = [("model", model.as_ref()), ("direction", direction)];
                    m.encode_family(&labels)?
                        .encode_counter::<NoLabelSet, _, u64>(n, None)?;
                }
            }
        }
        {
            let mut m = encoder.encode_descriptor(
                "agent_trace_metrics_folded",
                "Spans counted under the name \"other\" because the label limit was reached.",
                None,
                MetricType::Counter,
            )?;
            for (label, n) in [("name", &st.folded_names), ("model", &st.folded_models)] {
                m.encode_family(&[("label", label)])?
                    .encode_counter::<NoLabelSet, _, u64>(n, None)?;
            }
        }
        Ok(())
    }
}
