//! The price table for `--prices FILE.toml`: US dollars per million tokens, per model.
//!
//! ```toml
//! [models."gpt-4o-mini"]
//! input = 0.15    # per million prompt tokens
//! output = 0.60   # per million completion tokens
//! ```
//!
//! A model matches its exact name, else a table name followed by a dated or numbered version
//! suffix (`gpt-4o-mini-2024-07-18` is priced as `gpt-4o-mini`, but `gpt-4o-mini` is never
//! priced as `gpt-4o`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::parse::Tokens;

/// Why the price table could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The file could not be read.
    #[error("cannot read the price table `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid price table.
    #[error("the price table `{path}` is not valid: {reason}; expected [models.\"NAME\"] tables with `input` and `output` prices per million tokens")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Prices of one model, per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Per million prompt tokens.
    #[serde(default)]
    pub input: f64,
    /// Per million completion tokens.
    #[serde(default)]
    pub output: f64,
}

/// A price table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// Prices by model name.
    pub models: BTreeMap<String, Price>,
}

impl Prices {
    /// Parses a table from TOML text.
    pub fn parse(text: &str, path: &str) -> Result<Prices, PriceError> {
        let prices: Prices = toml::from_str(text).map_err(|e| PriceError::Invalid {
            path: path.into(),
            reason: e.message().to_owned(),
        })?;
        for (name, p) in &prices.models {
            if !(p.input.is_finite() && p.output.is_finite() && p.input >= 0.0 && p.output >= 0.0) {
                return Err(PriceError::Invalid {
                    path: path.into(),
                    reason: format!("the prices of `{name}` must be numbers >= 0"),
                });
            }
        }
        Ok(prices)
    }

    /// Reads a table from a file.
    pub fn load(path: &Path) -> Result<Prices, PriceError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PriceError::Read {
            path: name.clone(),
            source,
        })?;
        Prices::parse(&text, &name)
    }

    /// The price of `model`: exact, else a table name followed by `-` and a version made of
    /// digits and dashes.
    pub fn lookup(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.models.get(model) {
            return Some(*p);
        }
        self.models
            .iter()
            .filter(|(name, _)| {
                model
                    .strip_prefix(name.as_str())
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|v| {
                        !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '-')
                    })
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, p)| *p)
    }

    /// The cost in dollars of `tokens` on `model`, if the model is in the table.
    pub fn cost(&self, model: &str, tokens: Tokens) -> Option<f64> {
        self.lookup(model).map(|p| {
            (tokens.input as f64 * p.input + tokens.output as f64 * p.output) / 1_000_000.0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_longest_prefix() {
        let p = Prices::parse(
            "[models.\"gpt-4o\"]\ninput = 2.5\noutput = 10.0\n[models.\"gpt-4o-mini\"]\ninput = 0.15\noutput = 0.6\n",
            "p.toml",
        )
        .unwrap();
        let t = Tokens {
            input: 1_000_000,
            output: 2_000_000,
        };
        assert_eq!(p.cost("gpt-4o", t), Some(22.5));
        let mini = p.cost("gpt-4o-mini-2024-07-18", t).unwrap();
        assert!((mini - 1.35).abs() < 1e-9, "{mini}");
        assert_eq!(p.cost("gpt-4o-2024-08-06", t), Some(22.5));
        assert_eq!(p.cost("claude", t), None);
        let only_big = Prices::parse("[models.\"gpt-4o\"]\ninput = 2.5\n", "p.toml").unwrap();
        assert_eq!(
            only_big.cost("gpt-4o-mini", t),
            None,
            "another model, not a version"
        );
        assert_eq!(only_big.cost("gpt-4o-", t), None);
    }

    #[test]
    fn bad_tables_say_what_is_expected() {
        for bad in [
            "models = 3",
            "[models.x]\ninput = \"cheap\"",
            "[models.x]\ninput = -1.0",
            "[models.x]\nprompt = 1.0",
            "[[nope",
        ] {
            let e = Prices::parse(bad, "p.toml").unwrap_err().to_string();
            assert!(e.contains("p.toml") && e.contains("expected"), "{bad}: {e}");
        }
    }
}
