//! [`ClusterError`]: why a map cannot be expressed as a Job or a Batch request.

/// Why a [`crate::MapJob`] cannot be turned into a manifest or a request. Each message names
/// the field at fault, its value, and the limit or rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A field is missing or malformed.
    #[error("map `{map}`: {field} {problem}")]
    Invalid {
        /// The map's name.
        map: String,
        /// The field at fault, e.g. `image` or `requests.cpu`.
        field: &'static str,
        /// What is wrong, as the end of a sentence.
        problem: String,
    },
    /// A value exceeds a limit of the target.
    #[error("map `{map}`: {what} is {value}, but {target} allows at most {limit}{hint}")]
    OverLimit {
        /// The map's name.
        map: String,
        /// What exceeds the limit, e.g. `the number of elements`.
        what: String,
        /// The value.
        value: u64,
        /// The limit.
        limit: u64,
        /// `Kubernetes` or `AWS Batch`, with the rule's context.
        target: &'static str,
        /// What to do instead, starting with `; `, or empty.
        hint: String,
    },
    /// An environment variable would carry a secret value into the manifest.
    #[error("map `{map}`: the environment variable `{name}` looks like a credential; secrets never go into manifests: reference them instead (a Kubernetes Secret, an IAM role, or AWS Batch `secrets`)")]
    SecretInEnv {
        /// The map's name.
        map: String,
        /// The variable's name (its value is never printed).
        name: String,
    },
}
