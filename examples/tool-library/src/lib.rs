#![forbid(unsafe_code)]
//! A tool library as a third party would write it: it instruments its functions with
//! agent-trace and depends on the API only (`default-features = false`), so it pulls no export
//! pipeline, no Tokio runtime, no ring buffers and no retry crate. Spans it makes join the
//! application's trace when the application has one, and cost a few nanoseconds when it has
//! none.
//!
//! `.ci/run` checks with `cargo tree -p tool-library` that none of the pipeline's crates is in
//! this library's dependency tree.

use agent_trace::{traced, Instrument};
use serde::Serialize;

/// A forecast, as the tool returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The city asked about.
    pub city: String,
    /// Degrees Celsius.
    pub celsius: i32,
}

/// Why the tool failed.
#[derive(Debug, PartialEq)]
pub struct UnknownCity(pub String);

impl std::fmt::Display for UnknownCity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown city: {}", self.0)
    }
}

impl std::error::Error for UnknownCity {}

/// Looks up the weather: a `function` span with the city as input and the forecast as output.
#[traced(kind = "function", name = "get_weather")]
pub async fn get_weather(city: &str) -> Result<Forecast, UnknownCity> {
    let celsius = lookup(city)
        .in_span(agent_trace::custom_span("weather-db"))
        .await
        .ok_or_else(|| UnknownCity(city.to_owned()))?;
    Ok(Forecast {
        city: city.to_owned(),
        celsius,
    })
}

async fn lookup(city: &str) -> Option<i32> {
    match city {
        "Lisbon" => Some(21),
        "Oslo" => Some(-3),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use agent_trace::testing::CollectingProcessor;
    use agent_trace::TracerProvider;

    use super::*;

    #[test]
    fn spans_join_the_callers_trace() {
        let spans = CollectingProcessor::new();
        let provider = TracerProvider::builder()
            .with_processor(spans.clone())
            .build();
        let out = futures::executor::block_on(
            provider
                .trace("app")
                .run(async { (get_weather("Lisbon").await, get_weather("Atlantis").await) }),
        );
        assert_eq!(out.0.unwrap().celsius, 21);
        assert_eq!(out.1, Err(UnknownCity("Atlantis".into())));
        let recorded = spans.spans();
        let names: Vec<_> = recorded.iter().map(|s| s.data.name().unwrap()).collect();
        assert_eq!(
            names,
            ["weather-db", "get_weather", "weather-db", "get_weather"]
        );
        assert_eq!(recorded[1].id, recorded[0].parent_id.unwrap());
        assert!(recorded[3].error.is_some());
    }

    #[test]
    fn without_a_trace_the_tool_just_runs() {
        let out = futures::executor::block_on(get_weather("Oslo")).unwrap();
        assert_eq!(out.celsius, -3);
    }
}
