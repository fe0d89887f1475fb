//! What a command puts in the errors it makes ([`Context`]: its name and
//! the setting behind the error, one relaxed load each), and the check a
//! second construction of a named command goes through.

use crate::command::Command;
use crate::config::{feature, Config, LimitMode};
use crate::error::{Context, ErrorKind, SettingsConflict, SettingsError};
use crate::error_context::setting_index;
use crate::settings_conflict::{check_given, check_patch, first_conflict};
use std::sync::atomic::Ordering::Relaxed;

impl Command {
    /// The context of an error of `kind` made now: the command's name and
    /// the setting that decided it, with its value in force.
    pub fn context(&self, kind: ErrorKind) -> Context {
        let live = &self.inner.config;
        // Each name's index is found when this is compiled.
        const TIMEOUT: u8 = setting_index("timeout_ms");
        const FORCE_OPEN: u8 = setting_index("force_open");
        const SLEEP_WINDOW: u8 = setting_index("sleep_window_ms");
        const LIMIT: u8 = setting_index("limit");
        const MAX_CONCURRENT: u8 = setting_index("max_concurrent_requests");
        const RATE: u8 = setting_index("rate_limit_for_period");
        const FALLBACK_MAX: u8 = setting_index("fallback_max_concurrent_requests");
        let (setting, value) = match kind {
            ErrorKind::Timeout => (TIMEOUT, live.timeout_ms.load(Relaxed)),
            ErrorKind::ShortCircuited if live.force_open.load(Relaxed) => (FORCE_OPEN, 1),
            ErrorKind::ShortCircuited => (SLEEP_WINDOW, live.sleep_window_ms.load(Relaxed)),
            ErrorKind::Rejected if live.concurrency_limit_mode.load(Relaxed) != LimitMode::Fixed => {
                (LIMIT, self.limit())
            }
            ErrorKind::Rejected => (MAX_CONCURRENT, live.max_concurrent_requests.load(Relaxed)),
            ErrorKind::RateLimited => (RATE, live.rate_limit_for_period.load(Relaxed)),
            ErrorKind::FallbackRejected => (FALLBACK_MAX, live.fallback_max_concurrent_requests.load(Relaxed)),
            _ => (0, 0),
        };
        Context::of(kind, &self.inner.context_name, setting, value)
    }

    /// The context of a timeout that fired at `elapsed_ms` after the call
    /// started: `deadline_ms` when the call's deadline is on and was
    /// reached no later than the attempt's own timeout, else `timeout_ms`.
    pub fn timeout_context(&self, elapsed_ms: u64) -> Context {
        let live = &self.inner.config;
        let deadline = live.deadline_ms.load(Relaxed);
        if live.v2_features() & feature::DEADLINE != 0 && deadline > 0 && elapsed_ms >= deadline {
            const DEADLINE: u8 = setting_index("deadline_ms");
            return Context::of(ErrorKind::Timeout, &self.inner.context_name, DEADLINE, deadline);
        }
        self.context(ErrorKind::Timeout)
    }

    /// Checks settings given again for this command (a JSON object of SPEC
    /// names, as a binding passes a second construction's options): they
    /// must be valid and equal to this command's for every key given.
    /// Changing settings is [`Command::configure_json`]'s job; this never
    /// changes anything.
    pub fn check_same_settings(&self, given: &serde_json::Value) -> Result<(), SettingsError> {
        check_patch(self.name(), &self.config(), given)
    }

    /// [`Command::check_same_settings`] for settings a host gives without
    /// JSON (the npm package), as [`Command::configure_given`] takes them.
    pub fn check_same_settings_given(&self, given: &[(&str, crate::Given<'_>)]) -> Result<(), SettingsError> {
        check_given(self.name(), &self.config(), given)
    }

    /// Checks a whole configuration given again for this command: every
    /// key must equal this command's (the first that differs, in SPEC
    /// order, is named).
    pub fn check_same_config(&self, given: &Config) -> Result<(), SettingsConflict> {
        first_conflict(self.name(), &self.config(), given, |_| true)
    }
}
