//! [`SettingsPatch`]: the settings a host gives for a named command — only
//! the keys given — as a JSON object (the Python and C bindings) or as
//! [`Given`] values (the npm package, whose wasm parses no JSON). A trait,
//! not an enum, so a host that never gives JSON links no JSON parser.

use crate::command::Command;
use crate::config::{Config, Given};
use crate::error::{ConfigError, SettingsError};
use crate::settings_conflict::{check_at, check_given, check_patch};
use serde_json::Value;

/// No settings at all: what a construction that gives none passes.
pub const NO_SETTINGS: &[(&str, Given<'static>)] = &[];

/// No settings at all, for a host that gives keys by their place in SPEC
/// order (so that it links no code that looks names up).
pub const NO_SETTINGS_AT: &[(usize, Given<'static>)] = &[];

/// Settings given by name, over some base configuration.
pub trait SettingsPatch {
    /// Whether no key is given (a JSON value that is not an object is not
    /// empty: applying it reports that it is not an object).
    fn is_empty(&self) -> bool;

    /// `base` with the given keys changed, validated as a whole.
    fn apply(&self, base: &Config) -> Result<Config, ConfigError>;

    /// Checks the given keys against `existing`, the settings of the
    /// command (or configured name) `name`: they must be valid and equal
    /// for every key given (semantics §2, "One command per name").
    fn check(&self, name: &str, existing: &Config) -> Result<(), SettingsError>;

    /// Applies the given keys live to `cmd`, all or none; the
    /// configuration now in force.
    fn configure(&self, cmd: &Command) -> Result<Config, ConfigError>;
}

/// A JSON object of SPEC keys ([`Config::patched`]).
impl SettingsPatch for Value {
    fn is_empty(&self) -> bool {
        self.as_object().is_some_and(|m| m.is_empty())
    }

    fn apply(&self, base: &Config) -> Result<Config, ConfigError> {
        base.patched(self)
    }

    fn check(&self, name: &str, existing: &Config) -> Result<(), SettingsError> {
        check_patch(name, existing, self)
    }

    fn configure(&self, cmd: &Command) -> Result<Config, ConfigError> {
        cmd.configure_json(self)
    }
}

/// SPEC keys with host values ([`Config::patched_given`]).
impl SettingsPatch for [(&str, Given<'_>)] {
    fn is_empty(&self) -> bool {
        <[_]>::is_empty(self)
    }

    fn apply(&self, base: &Config) -> Result<Config, ConfigError> {
        base.patched_given(self)
    }

    fn check(&self, name: &str, existing: &Config) -> Result<(), SettingsError> {
        check_given(name, existing, self)
    }

    fn configure(&self, cmd: &Command) -> Result<Config, ConfigError> {
        cmd.configure_given(self)
    }
}

/// SPEC keys by their place in SPEC order, with host values
/// ([`Config::patched_at`]).
impl SettingsPatch for [(usize, Given<'_>)] {
    fn is_empty(&self) -> bool {
        <[_]>::is_empty(self)
    }

    fn apply(&self, base: &Config) -> Result<Config, ConfigError> {
        base.patched_at(self)
    }

    fn check(&self, name: &str, existing: &Config) -> Result<(), SettingsError> {
        check_at(name, existing, self)
    }

    fn configure(&self, cmd: &Command) -> Result<Config, ConfigError> {
        cmd.configure_at(self)
    }
}
