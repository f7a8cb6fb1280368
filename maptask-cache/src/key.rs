//! The cache key of one element: task name, cache version and the element's own inputs.
//!
//! ```text
//! digest = blake3( "maptask.cache.key.v1\0"
//!                  ‖ len(task) ‖ task ‖ len(version) ‖ version
//!                  ‖ count ‖ for each input not ignored, sorted by name:
//!                                len(name) ‖ name ‖ blake3(canonical(value)) )
//! ```
//!
//! Lengths and the count are `u64` little-endian; `canonical` is [`crate::canonical`]. Inputs are
//! sorted by name, so the order of parameters in the function does not matter, and each value
//! enters through its own hash, so a large value shared by every element of a map (a bound value)
//! is encoded and hashed once per map, not once per element. The map's configuration
//! (concurrency, success criterion, retries, timeout, name) is never part of the key.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::canonical::{self, EncodeError};

/// The version of the key scheme above. A change to it invalidates every entry.
pub const KEY_SCHEME: &str = "maptask.cache.key.v1";

/// A 32-byte BLAKE3 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 8 bytes, big-endian: orders digests as their bytes do, but for ties.
    pub fn prefix(&self) -> u64 {
        let mut first = [0; 8];
        first.copy_from_slice(&self.0[..8]);
        u64::from_be_bytes(first)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// One named input of an element, reduced to the hash of its canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input<'a> {
    /// The parameter's name.
    pub name: &'a str,
    /// `blake3(canonical(value))`.
    pub digest: Digest,
}

impl<'a> Input<'a> {
    /// The input `name` with value `value`.
    pub fn new<T: Serialize + ?Sized>(name: &'a str, value: &T) -> Result<Input<'a>, EncodeError> {
        let mut scratch = Vec::new();
        Input::with_scratch(name, value, &mut scratch)
    }

    /// Like [`Input::new`], reusing `scratch` (cleared first) for the encoding.
    pub fn with_scratch<T: Serialize + ?Sized>(
        name: &'a str,
        value: &T,
        scratch: &mut Vec<u8>,
    ) -> Result<Input<'a>, EncodeError> {
        scratch.clear();
        canonical::encode(value, scratch)?;
        Ok(Input::from_canonical(name, scratch))
    }

    /// The input `name` whose canonical encoding is `canonical`.
    pub fn from_canonical(name: &'a str, canonical: &[u8]) -> Input<'a> {
        Input {
            name,
            digest: Digest(*blake3::hash(canonical).as_bytes()),
        }
    }
}

/// Where an element's output is stored: its task and the digest of everything else.
///
/// The task is kept in clear beside the digest so that a store can list and clear entries per
/// task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// The task's name.
    pub task: Arc<str>,
    /// The digest of the task, its cache version and the element's inputs.
    pub digest: Digest,
}

impl CacheKey {
    /// The key of one element of task `task` at cache version `version`, with these inputs
    /// (mapped and bound, in any order); inputs named in `ignore` are left out.
    ///
    /// ```
    /// use maptask_cache::{CacheKey, Input};
    /// let key = |x: i64, factor: i64, seed: u64| {
    ///     let inputs = [
    ///         Input::new("x", &x).unwrap(),
    ///         Input::new("factor", &factor).unwrap(),
    ///         Input::new("seed", &seed).unwrap(),
    ///     ];
    ///     CacheKey::for_element("demo::scale", "1.0", &inputs, &["seed"])
    /// };
    /// assert_eq!(key(1, 10, 7), key(1, 10, 8)); // `seed` is ignored
    /// assert_ne!(key(1, 10, 7), key(2, 10, 7));
    /// assert_ne!(key(1, 10, 7), key(1, 11, 7));
    /// ```
    pub fn for_element(task: &str, version: &str, inputs: &[Input<'_>], ignore: &[&str]) -> Self {
        let mut kept: Vec<&Input<'_>> = inputs
            .iter()
            .filter(|i| !ignore.contains(&i.name))
            .collect();
        kept.sort_unstable_by(|a, b| a.name.cmp(b.name));
        let digest = element_digest(task, version, kept.iter().map(|i| (i.name, &i.digest)));
        CacheKey {
            task: Arc::from(task),
            digest,
        }
    }
}

/// The digest of an element from its inputs, which must already be sorted by name and filtered
/// of ignored names. The engine's fast path calls this directly.
pub fn element_digest<'a>(
    task: &str,
    version: &str,
    sorted_inputs: impl ExactSizeIterator<Item = (&'a str, &'a Digest)>,
) -> Digest {
    element_digest_with(&mut Vec::new(), task, version, sorted_inputs)
}

/// [`element_digest`], building the hashed bytes in `preimage` (cleared first), so that a caller
/// keying many elements allocates once and hashes each element in a single call.
pub fn element_digest_with<'a>(
    preimage: &mut Vec<u8>,
    task: &str,
    version: &str,
    sorted_inputs: impl ExactSizeIterator<Item = (&'a str, &'a Digest)>,
) -> Digest {
    preimage.clear();
    preimage.extend_from_slice(KEY_SCHEME.as_bytes());
    preimage.push(0);
    put(preimage, task.as_bytes());
    put(preimage, version.as_bytes());
    preimage.extend_from_slice(&(sorted_inputs.len() as u64).to_le_bytes());
    for (name, digest) in sorted_inputs {
        put(preimage, name.as_bytes());
        preimage.extend_from_slice(&digest.0);
    }
    Digest(*blake3::hash(preimage).as_bytes())
}

/// [`element_digest`] built up input by input, so that a caller keying many elements hashes the
/// part they share once: the scheme, task, version and input count, and every input (a bound
/// value) that sorts before the first one that differs per element. Clone it after the shared
/// part, then add each element's own inputs and [`finish`](DigestBuilder::finish).
///
/// ```
/// use maptask_cache::key::{element_digest, DigestBuilder};
/// use maptask_cache::Input;
/// let (factor, x) = (Input::new("factor", &10).unwrap(), Input::new("x", &3).unwrap());
/// let mut shared = DigestBuilder::new("demo::scale", "1.0", 2);
/// shared.input(factor.name, &factor.digest);
/// let mut element = shared.clone();
/// element.input(x.name, &x.digest);
/// let inputs = [(factor.name, &factor.digest), (x.name, &x.digest)];
/// assert_eq!(element.finish(), element_digest("demo::scale", "1.0", inputs.into_iter()));
/// ```
#[derive(Clone)]
pub struct DigestBuilder(blake3::Hasher);

impl DigestBuilder {
    /// The digest of an element of `task` at `version` with `count` kept inputs, which must then
    /// be added in name order.
    pub fn new(task: &str, version: &str, count: usize) -> DigestBuilder {
        let mut hasher = blake3::Hasher::new();
        hasher.update(KEY_SCHEME.as_bytes());
        hasher.update(&[0]);
        hasher.update(&(task.len() as u64).to_le_bytes());
        hasher.update(task.as_bytes());
        hasher.update(&(version.len() as u64).to_le_bytes());
        hasher.update(version.as_bytes());
        hasher.update(&(count as u64).to_le_bytes());
        DigestBuilder(hasher)
    }

    /// Adds the next input (in name order).
    pub fn input(&mut self, name: &str, digest: &Digest) {
        // One `update` call per input: the hasher's per-call overhead is not small.
        let mut bytes = [0u8; 8 + 64 + 32];
        let n = name.len();
        if n <= 64 {
            bytes[..8].copy_from_slice(&(n as u64).to_le_bytes());
            bytes[8..8 + n].copy_from_slice(name.as_bytes());
            bytes[8 + n..8 + n + 32].copy_from_slice(&digest.0);
            self.0.update(&bytes[..8 + n + 32]);
        } else {
            self.0.update(&(n as u64).to_le_bytes());
            self.0.update(name.as_bytes());
            self.0.update(&digest.0);
        }
    }

    /// The digest.
    pub fn finish(&self) -> Digest {
        Digest(*self.0.finalize().as_bytes())
    }
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(task: &str, version: &str, inputs: &[(&str, i64)], ignore: &[&str]) -> CacheKey {
        let inputs: Vec<Input<'_>> = inputs
            .iter()
            .map(|(n, v)| Input::new(n, v).unwrap())
            .collect();
        CacheKey::for_element(task, version, &inputs, ignore)
    }

    #[test]
    fn the_digest_is_pinned() {
        // A change here invalidates every user's cache: bump KEY_SCHEME when it is deliberate.
        let k = key("demo::scale", "1.0", &[("x", 3), ("factor", 10)], &[]);
        assert_eq!(
            k.digest.to_string(),
            "16523fb1e3f7f8d75f7ed308cf8cc58c76d8e9ae7d9b4b85c7223dc499127b02"
        );
    }

    #[test]
    fn input_order_does_not_matter_and_names_do() {
        let a = key("t", "1", &[("x", 3), ("y", 4)], &[]);
        let b = key("t", "1", &[("y", 4), ("x", 3)], &[]);
        assert_eq!(a, b);
        let swapped = key("t", "1", &[("x", 4), ("y", 3)], &[]);
        assert_ne!(a, swapped);
    }

    #[test]
    fn task_version_and_values_all_count() {
        let base = key("t", "1", &[("x", 3)], &[]);
        assert_ne!(base, key("u", "1", &[("x", 3)], &[]));
        assert_ne!(base.digest, key("u", "1", &[("x", 3)], &[]).digest);
        assert_ne!(base, key("t", "2", &[("x", 3)], &[]));
        assert_ne!(base, key("t", "1", &[("x", 4)], &[]));
        // Length prefixes keep ("ab", "c") apart from ("a", "bc").
        assert_ne!(key("ab", "c", &[], &[]), key("a", "bc", &[], &[]));
    }

    #[test]
    fn the_builder_gives_the_same_digest() {
        let long = "n".repeat(100);
        for names in [
            vec!["a", "b", "c"],
            vec!["x"],
            vec![long.as_str(), "z"],
            vec![],
        ] {
            let inputs: Vec<Input<'_>> = names
                .iter()
                .zip(0i64..)
                .map(|(n, v)| Input::new(n, &v).unwrap())
                .collect();
            let mut builder = DigestBuilder::new("some::task", "2.5", inputs.len());
            for i in &inputs {
                builder.input(i.name, &i.digest);
            }
            let pairs = inputs.iter().map(|i| (i.name, &i.digest));
            assert_eq!(
                builder.finish(),
                element_digest("some::task", "2.5", pairs),
                "{names:?}"
            );
        }
    }

    #[test]
    fn ignored_inputs_are_left_out() {
        let a = key("t", "1", &[("x", 3), ("seed", 1)], &["seed"]);
        let b = key("t", "1", &[("x", 3), ("seed", 2)], &["seed"]);
        let c = key("t", "1", &[("x", 3)], &[]);
        assert_eq!(a, b);
        assert_eq!(a, c);
    }
}
