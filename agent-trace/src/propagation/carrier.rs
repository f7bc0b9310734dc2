//! Carriers: where headers are read from and written to.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// Reads propagation headers from a carrier (HTTP headers, message metadata, a string map).
/// Keys are the lowercase header names; implementations for case-sensitive maps also find
/// other spellings.
pub trait Extractor {
    /// The value of `key`, if present (the first one, when the carrier repeats keys).
    fn get(&self, key: &str) -> Option<&str>;

    /// Every value of `key` (several `tracestate` headers form one list; several
    /// `traceparent` headers make the request's context invalid). By default, [`get`](Self::get)'s.
    fn get_all(&self, key: &str) -> Vec<&str> {
        self.get(key).into_iter().collect()
    }
}

/// Writes propagation headers into a carrier. Keys are lowercase header names.
pub trait Injector {
    /// Sets `key` to `value`, replacing what it held.
    fn set(&mut self, key: &str, value: String);
}

fn find_ci<'a>(
    mut entries: impl Iterator<Item = (&'a String, &'a String)>,
    key: &str,
) -> Option<&'a str> {
    entries
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

impl<S: BuildHasher> Extractor for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        match HashMap::get(self, key) {
            Some(v) => Some(v),
            None => find_ci(self.iter(), key),
        }
    }
}

impl<S: BuildHasher> Injector for HashMap<String, String, S> {
    fn set(&mut self, key: &str, value: String) {
        self.retain(|k, _| !k.eq_ignore_ascii_case(key));
        self.insert(key.to_owned(), value);
    }
}

impl Extractor for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        match BTreeMap::get(self, key) {
            Some(v) => Some(v),
            None => find_ci(self.iter(), key),
        }
    }
}

impl Injector for BTreeMap<String, String> {
    fn set(&mut self, key: &str, value: String) {
        self.retain(|k, _| !k.eq_ignore_ascii_case(key));
        self.insert(key.to_owned(), value);
    }
}

/// A list of `(name, value)` pairs, as many message headers are (repeated keys allowed).
impl Extractor for Vec<(String, String)> {
    fn get(&self, key: &str) -> Option<&str> {
        find_ci(self.iter().map(|(k, v)| (k, v)), key)
    }

    fn get_all(&self, key: &str) -> Vec<&str> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl Injector for Vec<(String, String)> {
    fn set(&mut self, key: &str, value: String) {
        self.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.push((key.to_owned(), value));
    }
}

impl<T: Extractor + ?Sized> Extractor for &T {
    fn get(&self, key: &str) -> Option<&str> {
        (**self).get(key)
    }

    fn get_all(&self, key: &str) -> Vec<&str> {
        (**self).get_all(key)
    }
}

impl<T: Injector + ?Sized> Injector for &mut T {
    fn set(&mut self, key: &str, value: String) {
        (**self).set(key, value)
    }
}
