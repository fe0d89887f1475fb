//! A [`Config`]'s fields by their place in SPEC order (the order of
//! `KEYS`): reading or setting a key by name is one lookup of the name,
//! then no more comparisons of names (a `match` over 48 names was the
//! largest part of the settings' code in the npm package's wasm).

use super::{Config, Jitter, LimitMode, Setting, KEYS};

/// One field of a [`Config`], borrowed mutably, by its type.
pub(super) enum FieldMut<'a> {
    /// A boolean key.
    Bool(&'a mut bool),
    /// An integer key.
    Int(&'a mut u64),
    /// `retry_jitter`.
    Jitter(&'a mut Jitter),
    /// `concurrency_limit_mode`.
    Mode(&'a mut LimitMode),
}

impl FieldMut<'_> {
    /// The field's value.
    pub(super) fn get(&self) -> Setting {
        match self {
            FieldMut::Bool(b) => Setting::Bool(**b),
            FieldMut::Int(i) => Setting::Int(**i),
            FieldMut::Jitter(j) => Setting::Name(j.as_str()),
            FieldMut::Mode(m) => Setting::Name(m.as_str()),
        }
    }
}

/// The [`FieldMut`] of each type a [`Config`] field has.
trait AsField {
    fn as_field(&mut self) -> FieldMut<'_>;
}

/// `impl AsField` for each field type, with its variant.
macro_rules! as_field {
    ($($ty:ty => $variant:ident),*) => {
        $(impl AsField for $ty {
            fn as_field(&mut self) -> FieldMut<'_> {
                FieldMut::$variant(self)
            }
        })*
    };
}
as_field!(bool => Bool, u64 => Int, Jitter => Jitter, LimitMode => Mode);

impl Config {
    /// The field of the key at `at` in SPEC order; `None` past the last.
    pub(super) fn field_mut(&mut self, at: usize) -> Option<FieldMut<'_>> {
        macro_rules! all_fields {
            ($($f:ident),*) => {
                [$(|c: &mut Config| c.$f.as_field()),*]
            };
        }
        const ALL: [for<'a> fn(&'a mut Config) -> FieldMut<'a>; KEYS.len()] = crate::for_each_config_field!(all_fields);
        ALL.get(at).map(|f| f(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KeyType;
    use serde_json::Value;

    /// A value for the key at `at` that differs from its default and is valid on its own.
    fn other_value(at: usize) -> Setting {
        match (KEYS[at].1, Config::default().setting(KEYS[at].0).unwrap()) {
            (_, Setting::Bool(b)) => Setting::Bool(!b),
            (KeyType::Int(min, _), Setting::Int(i)) => Setting::Int(if i == min { min + 1 } else { min }),
            (KeyType::Name(names), Setting::Name(n)) => Setting::Name(names.iter().find(|m| **m != n).unwrap()),
            other => panic!("key {at}: type and default disagree: {other:?}", other = other.1),
        }
    }

    /// The JSON value serde writes for a setting (serde reads the fields
    /// by their own names: independent of `field_mut`).
    fn json(s: Setting) -> Value {
        match s {
            Setting::Bool(b) => Value::from(b),
            Setting::Int(i) => Value::from(i),
            Setting::Name(n) => Value::from(n),
        }
    }

    #[test]
    fn each_key_reads_and_sets_its_own_field_and_no_other() {
        let defaults: Value = serde_json::to_value(Config::default()).unwrap();
        for (at, (key, _)) in KEYS.iter().enumerate() {
            let value = other_value(at);
            let mut c = Config::default();
            c.set(key, value).unwrap();
            assert_eq!(c.setting(key), Some(value), "{key}");
            let mut want = defaults.clone();
            want[*key] = json(value);
            assert_eq!(serde_json::to_value(c).unwrap(), want, "setting {key} changed another field");
        }
        assert!(Config::default().field_mut(KEYS.len()).is_none());
        assert_eq!(Config::default().setting("no_such_key"), None);
    }

    #[test]
    fn set_refuses_wrong_types_and_names_as_before() {
        let mut c = Config::default();
        let err = |r: Result<(), crate::error::ConfigError>| r.unwrap_err().to_string();
        assert_eq!(err(c.set("nope", Setting::Int(1))), "invalid config: nope is not a configuration key");
        assert_eq!(err(c.set("force_open", Setting::Int(1))), "invalid config: force_open must be a boolean");
        assert_eq!(err(c.set("timeout_ms", Setting::Bool(true))), "invalid config: timeout_ms must be an integer");
        assert_eq!(
            err(c.set("retry_jitter", Setting::Int(1))),
            "invalid config: retry_jitter must be one of \"none\", \"full\", \"equal\" or \"decorrelated\""
        );
        assert_eq!(
            err(c.set("concurrency_limit_mode", Setting::Name("vegas"))),
            "invalid config: concurrency_limit_mode must be one of \"fixed\", \"aimd\" or \"gradient2\", got \"vegas\""
        );
        assert_eq!(c, Config::default());
    }
}
