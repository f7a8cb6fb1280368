//! [`S3Config`]: how S3 stores are reached, and which secrets must never be printed.

use std::fmt;
use std::time::Duration;

/// A secret string: its `Debug` never shows the value, and it is scrubbed from error details.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that must send it (the S3 client).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// How to reach S3 or an S3-compatible server (MinIO, moto, Ceph, R2, …).
///
/// [`S3Config::from_env`] reads the usual AWS variables:
///
/// | variable | meaning |
/// |---|---|
/// | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | static credentials |
/// | `AWS_REGION` (else `AWS_DEFAULT_REGION`) | the region, `us-east-1` when unset |
/// | `AWS_ENDPOINT_URL_S3` (else `AWS_ENDPOINT_URL`, else `AWS_ENDPOINT`) | a custom endpoint, e.g. `http://127.0.0.1:9000` |
/// | `AWS_ALLOW_HTTP=true` | allow plain HTTP; implied by an `http://` endpoint |
///
/// Without static credentials, the client falls back to the other sources the AWS SDKs use
/// (web identity tokens on EKS, the container credentials of ECS and AWS Batch, instance
/// metadata).
#[derive(Clone)]
pub struct S3Config {
    /// A custom endpoint (path-style requests are used with it).
    pub endpoint: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// The access key id (not a secret on its own).
    pub access_key_id: Option<String>,
    /// The secret access key.
    pub secret_access_key: Option<Secret>,
    /// A session token.
    pub session_token: Option<Secret>,
    /// Whether plain HTTP is allowed.
    pub allow_http: bool,
    /// Retries of a failed request (connection errors, 5xx), after the first attempt.
    pub max_retries: usize,
    /// The bound on establishing a connection.
    pub connect_timeout: Duration,
    /// Whether the client also reads the other `AWS_*` credential sources from the environment.
    pub(crate) env_credential_sources: bool,
}

impl S3Config {
    /// A configuration with nothing set: region `us-east-1`, HTTPS only, 3 retries.
    pub fn new() -> S3Config {
        S3Config {
            endpoint: None,
            region: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            allow_http: false,
            max_retries: 3,
            connect_timeout: Duration::from_secs(5),
            env_credential_sources: false,
        }
    }

    /// The configuration the environment describes (see the table above).
    pub fn from_env() -> S3Config {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let endpoint = var("AWS_ENDPOINT_URL_S3")
            .or_else(|| var("AWS_ENDPOINT_URL"))
            .or_else(|| var("AWS_ENDPOINT"));
        let allow_http = var("AWS_ALLOW_HTTP").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        S3Config {
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            access_key_id: var("AWS_ACCESS_KEY_ID"),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY").map(Secret),
            session_token: var("AWS_SESSION_TOKEN").map(Secret),
            env_credential_sources: true,
            ..S3Config::new()
        }
        .endpoint_opt(endpoint, allow_http)
    }

    /// Sets a custom endpoint; an `http://` endpoint also allows plain HTTP.
    #[must_use]
    pub fn with_endpoint(self, endpoint: impl Into<String>) -> S3Config {
        let allow_http = self.allow_http;
        self.endpoint_opt(Some(endpoint.into()), allow_http)
    }

    /// Sets static credentials.
    #[must_use]
    pub fn with_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret: Secret,
    ) -> S3Config {
        self.access_key_id = Some(access_key_id.into());
        self.secret_access_key = Some(secret);
        self
    }

    /// Sets the region.
    #[must_use]
    pub fn with_region(mut self, region: impl Into<String>) -> S3Config {
        self.region = Some(region.into());
        self
    }

    /// Sets the number of retries of a failed request.
    #[must_use]
    pub fn with_max_retries(mut self, max_retries: usize) -> S3Config {
        self.max_retries = max_retries;
        self
    }

    fn endpoint_opt(mut self, endpoint: Option<String>, allow_http: bool) -> S3Config {
        self.allow_http = allow_http
            || endpoint
                .as_deref()
                .is_some_and(|e| e.to_ascii_lowercase().starts_with("http://"));
        self.endpoint = endpoint;
        self
    }

    /// The endpoint requests go to, for messages.
    pub(crate) fn endpoint_for(&self, bucket: &str) -> String {
        match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => format!(
                "https://s3.{}.amazonaws.com/{bucket}",
                self.region.as_deref().unwrap_or("us-east-1")
            ),
        }
    }

    /// Every secret value that must not appear in what this crate prints.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = [&self.secret_access_key, &self.session_token]
            .into_iter()
            .flatten()
            .map(|s| s.0.clone())
            .collect();
        if self.env_credential_sources {
            for name in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
                if let Ok(value) = std::env::var(name) {
                    secrets.push(value);
                }
            }
        }
        secrets.retain(|s| !s.is_empty());
        secrets
    }
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config::new()
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("allow_http", &self.allow_http)
            .field("max_retries", &self.max_retries)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Replaces every secret in `text` by `[redacted]`.
pub(crate) fn scrub(text: String, secrets: &[String]) -> String {
    secrets.iter().fold(text, |text, secret| {
        text.replace(secret.as_str(), "[redacted]")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let config = S3Config::new()
            .with_credentials("AKIDEXAMPLE", Secret::new("wJalrXUtnFEMI/K7MDENG"))
            .with_endpoint("http://127.0.0.1:9");
        let text = format!("{config:?}");
        assert!(!text.contains("wJalrXUtnFEMI"), "{text}");
        assert!(text.contains("AKIDEXAMPLE"), "{text}");
        assert!(config.allow_http, "an http:// endpoint allows http");
    }

    #[test]
    fn scrub_removes_every_occurrence() {
        let secrets = vec!["s3cr3t".to_owned(), "t0ken".to_owned()];
        assert_eq!(
            scrub("a s3cr3t b t0ken c s3cr3t".into(), &secrets),
            "a [redacted] b [redacted] c [redacted]"
        );
    }
}
