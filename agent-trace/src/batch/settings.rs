//! The batch processor's numeric settings: their ranges, and how a value from the environment
//! or a builder call that falls outside one is clamped (with a warning that names the setting
//! and the value used) instead of aborting the process or silently dropping everything.

use std::time::Duration;

use crate::diag::{emit, Diagnostic};

/// A setting's name (its environment variable, or builder method), range and unit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setting {
    pub(crate) name: &'static str,
    pub(crate) min: u64,
    pub(crate) max: u64,
    pub(crate) unit: &'static str,
}

/// Items per producing thread's ring. The largest keeps one thread's ring near 50 MB; the
/// smallest keeps a ring able to hold a burst of a few spans.
pub(crate) const QUEUE_SIZE: Setting = Setting {
    name: "max_queue_size",
    min: 16,
    max: 1 << 18,
    unit: "items",
};

/// Items per exported batch.
pub(crate) const BATCH_SIZE: Setting = Setting {
    name: "max_batch_size",
    min: 1,
    max: 1 << 16,
    unit: "items",
};

/// How long a partial batch may wait, in milliseconds.
pub(crate) const SCHEDULE_DELAY_MS: Setting = Setting {
    name: "schedule_delay",
    min: 1,
    max: 3_600_000,
    unit: "ms",
};

/// How long one export attempt may take, in milliseconds.
pub(crate) const EXPORT_TIMEOUT_MS: Setting = Setting {
    name: "export_timeout",
    min: 1,
    max: 3_600_000,
    unit: "ms",
};

/// How long a flush waits for the exporters, in milliseconds.
pub(crate) const FLUSH_TIMEOUT_MS: Setting = Setting {
    name: "flush_timeout",
    min: 1,
    max: 3_600_000,
    unit: "ms",
};

impl Setting {
    /// `value` if it is in range, else the nearest bound, with a warning naming `source`
    /// (the variable or builder method the value came from) and the value used.
    pub(crate) fn clamp(&self, source: &str, value: u64) -> u64 {
        let used = value.clamp(self.min, self.max);
        if used != value {
            let side = if value < self.min {
                "below the smallest"
            } else {
                "above the largest"
            };
            emit(Diagnostic {
                key: "bad_setting",
                message: format!(
                    "{source}={value} is {side} supported {} ({} to {} {}); using {used}",
                    self.name, self.min, self.max, self.unit
                ),
                count: 1,
            });
        }
        used
    }

    /// The setting's value from environment variable `key`, clamped; `default` when the
    /// variable is unset or not a whole number (which is said once, too).
    pub(crate) fn read_env(&self, key: &str, default: u64) -> u64 {
        match std::env::var(key) {
            Err(_) => default,
            Ok(v) => match v.trim().parse::<u64>() {
                Ok(n) => self.clamp(key, n),
                Err(_) => {
                    emit(Diagnostic {
                        key: "bad_env",
                        message: format!(
                            "{key}={v:?} is not a whole number of {}; using the default {default}",
                            self.unit
                        ),
                        count: 1,
                    });
                    default
                }
            },
        }
    }

    /// For the settings in milliseconds: a duration clamped to the range.
    pub(crate) fn clamp_duration(&self, source: &str, d: Duration) -> Duration {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let used = self.clamp(source, ms);
        if used == ms {
            d
        } else {
            Duration::from_millis(used)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_range_pass_unchanged() {
        assert_eq!(QUEUE_SIZE.clamp("t", 8192), 8192);
        assert_eq!(BATCH_SIZE.clamp("t", 1), 1);
        let d = Duration::from_micros(1500);
        assert_eq!(SCHEDULE_DELAY_MS.clamp_duration("t", d), d);
    }

    #[test]
    fn values_out_of_range_are_clamped() {
        assert_eq!(QUEUE_SIZE.clamp("t", 99_999_999_999), 1 << 18);
        assert_eq!(QUEUE_SIZE.clamp("t", 0), 16);
        assert_eq!(BATCH_SIZE.clamp("t", 0), 1);
        assert_eq!(
            EXPORT_TIMEOUT_MS.clamp_duration("t", Duration::ZERO),
            Duration::from_millis(1)
        );
        assert_eq!(
            SCHEDULE_DELAY_MS.clamp_duration("t", Duration::MAX),
            Duration::from_millis(3_600_000)
        );
    }
}
