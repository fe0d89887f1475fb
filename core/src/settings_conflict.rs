//! Two constructions of one named command that disagree on a setting
//! (semantics §2, "One command per name"): the comparison every binding
//! uses, and the error it gives.

use crate::config::{Config, Given};
use crate::error::{ConfigError, ErrorKind};
use crate::error_context::CommandName;
use serde_json::Value;
use std::fmt;

/// A command of this name already exists with a different value for a
/// setting the new construction gave explicitly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsConflict {
    command: String,
    key: &'static str,
    existing: String,
    given: String,
}

impl SettingsConflict {
    /// The name of the command.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The first setting (in SPEC order) whose values differ.
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The existing command's value, as JSON (`100`, `true`, `"aimd"`).
    pub fn existing(&self) -> &str {
        &self.existing
    }

    /// The value the new construction gave, as JSON.
    pub fn given(&self) -> &str {
        &self.given
    }
}

impl fmt::Display for SettingsConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (key, existing, given) = (self.key, &self.existing, &self.given);
        write!(
            f,
            "{} already exists with {key}={existing}; got {key}={given} — use configure() to change settings",
            CommandName(&self.command)
        )
    }
}

impl std::error::Error for SettingsConflict {}

/// Why settings given for an existing name were refused: they are not a
/// valid configuration, or they differ from the command's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingsError {
    /// The settings broke a rule of semantics §2 or §8.1.
    Invalid(ConfigError),
    /// The settings are valid but differ from the existing command's.
    Conflict(SettingsConflict),
}

impl SettingsError {
    /// `invalid_config` or `settings_conflict`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SettingsError::Invalid(_) => ErrorKind::InvalidConfig,
            SettingsError::Conflict(_) => ErrorKind::SettingsConflict,
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::Invalid(e) => e.fmt(f),
            SettingsError::Conflict(c) => c.fmt(f),
        }
    }
}

impl std::error::Error for SettingsError {}

impl From<ConfigError> for SettingsError {
    fn from(e: ConfigError) -> Self {
        SettingsError::Invalid(e)
    }
}

impl From<SettingsConflict> for SettingsError {
    fn from(c: SettingsConflict) -> Self {
        SettingsError::Conflict(c)
    }
}

/// The first key whose place in SPEC order `keys` accepts on which
/// `existing` and `given` differ, as a conflict for the command `command`.
pub(crate) fn first_conflict(
    command: &str,
    existing: &Config,
    given: &Config,
    mut keys: impl FnMut(usize) -> bool,
) -> Result<(), SettingsConflict> {
    if existing == given {
        return Ok(());
    }
    for (at, key) in Config::keys().enumerate().filter(|(at, _)| keys(*at)) {
        let (old, new) = (existing.setting_at(at), given.setting_at(at));
        if old != new {
            let text = |s: Option<crate::config::Setting>| s.map(|s| s.to_string()).unwrap_or_default();
            return Err(SettingsConflict { command: command.to_string(), key, existing: text(old), given: text(new) });
        }
    }
    Ok(())
}

/// Checks the settings of a JSON object `patch` (SPEC names, as a binding
/// passes them) against `existing`: valid, and equal for every key given.
pub(crate) fn check_patch(command: &str, existing: &Config, patch: &Value) -> Result<(), SettingsError> {
    let given = existing.patched(patch)?;
    let map = patch.as_object().expect("patched() accepts only objects");
    first_conflict(command, existing, &given, |at| Config::key_at(at).is_some_and(|k| map.contains_key(k)))?;
    Ok(())
}

/// [`check_patch`] for settings a host gives without JSON
/// ([`Config::patched_given`]).
pub(crate) fn check_given(command: &str, existing: &Config, patch: &[(&str, Given<'_>)]) -> Result<(), SettingsError> {
    let given = existing.patched_given(patch)?;
    first_conflict(command, existing, &given, |at| patch.iter().any(|(g, _)| Config::key_at(at) == Some(*g)))?;
    Ok(())
}

/// [`check_given`] for settings given by their place in SPEC order
/// ([`Config::patched_at`]).
pub(crate) fn check_at(command: &str, existing: &Config, patch: &[(usize, Given<'_>)]) -> Result<(), SettingsError> {
    let given = existing.patched_at(patch)?;
    first_conflict(command, existing, &given, |at| patch.iter().any(|(g, _)| *g == at))?;
    Ok(())
}
