//! The [`Registry`] as a host binding uses it (the npm package, the Python
//! module): the host makes each command itself (with its own clock, or
//! [`TimePassedIn`](crate::TimePassedIn)) and keeps a thin cache of its
//! wrappers by name, while the registry decides everything about names —
//! which exist, their settings, the "configure before or after first use"
//! rule, the "one command per name" rule (semantics §2) and removal.

use crate::command::Command;
use crate::config::Config;
use crate::error::{ConfigError, SettingsError};
use crate::registry::Registry;
use crate::settings_patch::SettingsPatch;
use std::sync::Arc;

/// What [`Registry::enter`] found or made under a name.
#[derive(Clone)]
pub enum Entered {
    /// The name had no command: this one was made, and is now registered.
    Created(Command),
    /// The command already registered under the name (the settings given
    /// matched it).
    Existing(Command),
}

impl Entered {
    /// The command registered under the name.
    pub fn command(&self) -> &Command {
        match self {
            Entered::Created(c) | Entered::Existing(c) => c,
        }
    }

    /// Whether the command was made by this call.
    pub fn created(&self) -> bool {
        matches!(self, Entered::Created(_))
    }
}

impl Command {
    /// Whether `self` and `other` are the same command (clones of one),
    /// not merely two commands with the same name.
    pub fn same_as(&self, other: &Command) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Registry {
    /// A registry for a host that makes its commands itself (with
    /// [`Registry::enter`]) and passes the time into every call: it owns no
    /// clock. [`Registry::get_or_create`] on it makes commands on
    /// [`TimePassedIn`](crate::TimePassedIn), which must not be read.
    pub fn hosted() -> Registry {
        Registry::new(Arc::new(crate::TimePassedIn))
    }

    /// The command called `name` for a construction that gives the settings
    /// `given`. If the name has a command, the settings given must equal
    /// its settings ([`SettingsError::Conflict`] naming the first key that
    /// differs, or [`SettingsError::Invalid`]) and it is shared. Otherwise
    /// `make(name, config)` makes it, `config` being the name's configured
    /// settings (which the settings given must equal) or the defaults with
    /// `given` applied, and it is registered. Nothing changes on an error.
    ///
    /// `make` runs with the registry locked: it must not use the registry
    /// and should only build the command.
    pub fn enter(
        &self,
        name: &str,
        given: &(impl SettingsPatch + ?Sized),
        make: impl FnOnce(&str, Config) -> Result<Command, ConfigError>,
    ) -> Result<Entered, SettingsError> {
        let mut entries = self.lock();
        if let Some(cmd) = entries.command(name) {
            if !given.is_empty() {
                given.check(name, &cmd.config())?;
            }
            return Ok(Entered::Existing(cmd.clone()));
        }
        let config = match entries.config(name) {
            Some(configured) => {
                if !given.is_empty() {
                    given.check(name, configured)?;
                }
                *configured
            }
            None => given.apply(&Config::default())?,
        };
        let cmd = make(name, config)?;
        debug_assert_eq!(cmd.name(), name, "make() must name the command it makes `name`");
        *entries.entry(name) = crate::registry::Entry { config: Some(config), command: Some(cmd.clone()) };
        Ok(Entered::Created(cmd))
    }

    /// Changes the settings `given` for `name`, before or after its first
    /// use: applied live to its command if it has one, else remembered
    /// (over what was configured before, or the defaults) for the command
    /// [`Registry::enter`] makes. Validated as a whole: nothing changes on
    /// an error. Returns the configuration now in force for the name.
    ///
    /// Listeners of the command may be notified while it is applied; the
    /// registry is not locked then.
    pub fn configure_patch(&self, name: &str, given: &(impl SettingsPatch + ?Sized)) -> Result<Config, ConfigError> {
        let mut entries = self.lock();
        let Some(cmd) = entries.command(name).cloned() else {
            let next = given.apply(entries.config(name).unwrap_or(&Config::default()))?;
            entries.entry(name).config = Some(next);
            return Ok(next);
        };
        drop(entries);
        let next = given.configure(&cmd)?;
        let mut entries = self.lock();
        // Remembered unless the name was removed (or taken over) meanwhile.
        if entries.command(name).is_some_and(|c| c.same_as(&cmd)) {
            entries.entry(name).config = Some(next);
        }
        Ok(next)
    }

    /// Forgets `name` and its configuration if `cmd` is the command
    /// registered under it (a closed or disposed command leaves the
    /// registry only if no other command took its name since). Whether it
    /// was removed.
    pub fn remove_command(&self, name: &str, cmd: &Command) -> bool {
        let mut entries = self.lock();
        if !entries.command(name).is_some_and(|c| c.same_as(cmd)) {
            return false;
        }
        entries.remove(name);
        true
    }
}
