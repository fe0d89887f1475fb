//! [`SettingsPatch`]: the settings a host gives for a named command — only
//! the keys given — as JSON (the Python and C bindings) or as
//! [`Given`] values (the npm package, whose wasm parses no JSON).

use crate::command::Command;
use crate::config::{Config, Given};
use crate::error::{ConfigError, SettingsError};
use crate::settings_conflict::{check_given, check_patch};
use serde_json::Value;

/// Settings given by name, over some base configuration.
#[derive(Clone, Copy, Debug)]
pub enum SettingsPatch<'a> {
    /// A JSON object of SPEC keys ([`Config::patched`]).
    Json(&'a Value),
    /// SPEC keys with host values ([`Config::patched_given`]).
    Given(&'a [(&'a str, Given<'a>)]),
}

impl SettingsPatch<'_> {
    /// No settings at all (what a construction that gives none passes).
    pub const NONE: SettingsPatch<'static> = SettingsPatch::Given(&[]);

    /// Whether no key is given (a JSON value that is not an object is not
    /// empty: applying it reports that it is not an object).
    pub fn is_empty(&self) -> bool {
        match self {
            SettingsPatch::Json(v) => v.as_object().is_some_and(|m| m.is_empty()),
            SettingsPatch::Given(g) => g.is_empty(),
        }
    }

    /// `base` with the given keys changed, validated as a whole.
    pub fn apply(&self, base: &Config) -> Result<Config, ConfigError> {
        match self {
            SettingsPatch::Json(v) => base.patched(v),
            SettingsPatch::Given(g) => base.patched_given(g),
        }
    }

    /// Checks the given keys against `existing`, the settings of the
    /// command (or configured name) `name`: they must be valid and equal
    /// for every key given (semantics §2, "One command per name").
    pub fn check(&self, name: &str, existing: &Config) -> Result<(), SettingsError> {
        match self {
            SettingsPatch::Json(v) => check_patch(name, existing, v),
            SettingsPatch::Given(g) => check_given(name, existing, g),
        }
    }

    /// Applies the given keys live to `cmd`, all or none; the
    /// configuration now in force.
    pub fn configure(&self, cmd: &Command) -> Result<Config, ConfigError> {
        match self {
            SettingsPatch::Json(v) => cmd.configure_json(v),
            SettingsPatch::Given(g) => cmd.configure_given(g),
        }
    }
}
