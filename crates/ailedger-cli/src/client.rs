//! The HTTP client the subcommands share: JSON in and out, the bearer token, and
//! problem+json answers turned into one-line errors with the right exit code.

use serde::{Serialize, de::DeserializeOwned};

/// An error the user can fix: bad input, unknown ref (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

/// The server could not be reached or failed (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// The server reports a stored row it cannot decode (a corrupt-ledger problem naming
/// the entry's seq). Exit code 3 like any server failure; `log verify` reports it as
/// its finding.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CorruptLedger {
    pub seq: u64,
    /// The problem's detail.
    pub detail: String,
    message: String,
}

/// A text answer.
struct TextBody(String);

#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of the server at `base`, sending `token` (if any) with every request.
    /// `https://` servers are checked against the platform's root store plus
    /// `ca_certs`, the CAs given with --ca-cert.
    pub fn new(
        base: &str,
        token: Option<&str>,
        ca_certs: &[reqwest::Certificate],
    ) -> Result<Self, UserError> {
        let base = base.trim_end_matches('/').to_owned();
        // A proxy configured for the outside world must not capture loopback traffic.
        let host = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"))
            .unwrap_or("");
        let loopback = ["127.", "localhost", "[::1]"]
            .iter()
            .any(|p| host.starts_with(p));
        let builder = reqwest::Client::builder();
        let builder = if loopback {
            builder.no_proxy()
        } else {
            builder
        };
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(t) = token
            && let Ok(mut v) = reqwest::header::HeaderValue::from_str(&format!("Bearer {t}"))
        {
            v.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, v);
        }
        let builder = ca_certs
            .iter()
            .fold(builder, |b, ca| b.add_root_certificate(ca.clone()));
        let http = builder
            .default_headers(headers)
            .build()
            .map_err(|e| UserError(format!("setting up the HTTP client: {}", root_cause(&e))))?;
        Ok(Self { base, http })
    }

    /// The error for a request that got no answer: a certificate the client does not
    /// trust says so and names the fix; anything else is the server being unreachable.
    fn unreachable(&self, e: &reqwest::Error, hint: &str) -> Unavailable {
        if let Some(why) = tls_failure(e) {
            return Unavailable(format!(
                "TLS with {} failed: {why}; pass --ca-cert FILE (or AILEDGER_CA_CERT) with the \
                 PEM certificate of the CA that signed the server's certificate",
                self.base
            ));
        }
        Unavailable(format!(
            "cannot reach the ailedger server at {} ({}){hint}",
            self.base,
            root_cause(e)
        ))
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> anyhow::Result<T> {
        let req = self.http.get(format!("{}{path}", self.base)).query(query);
        self.send(req).await
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A `text/plain` answer (log keys and checkpoints), as a string.
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let req = self.http.get(format!("{}{path}", self.base));
        let bytes: TextBody = self.send_raw(req).await?;
        Ok(bytes.0)
    }

    /// A document answer (an export), as bytes.
    pub async fn get_bytes(&self, path: &str, query: &[(&str, &str)]) -> anyhow::Result<Vec<u8>> {
        let req = self.http.get(format!("{}{path}", self.base)).query(query);
        self.answer(req).await
    }

    async fn send_raw(&self, req: reqwest::RequestBuilder) -> anyhow::Result<TextBody> {
        let resp = req.send().await.map_err(|e| self.unreachable(&e, ""))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| Unavailable(format!("reading the answer: {e}")))?;
        if status.is_success() {
            return Ok(TextBody(text));
        }
        Err(problem_error(status, text.as_bytes()))
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let req = self.http.post(format!("{}{path}", self.base)).json(body);
        self.send(req).await
    }

    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let req = self.http.put(format!("{}{path}", self.base)).json(body);
        self.send(req).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let req = self.http.delete(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// Posts raw bytes (a document) with query parameters.
    pub async fn post_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: Vec<u8>,
    ) -> anyhow::Result<T> {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .query(query)
            .header("content-type", "application/octet-stream")
            .body(body);
        self.send(req).await
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> anyhow::Result<T> {
        let bytes = self.answer(req).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Unavailable(format!("unexpected answer from {}: {e}", self.base)).into())
    }

    /// Sends a request: the answer's bytes when it succeeded, else its problem as the
    /// error (a user error for a 4xx, unavailable otherwise).
    /// A document answer (an export), written to `out` as it arrives: a large export is
    /// never held whole. An answer that breaks off is an error (the server ends a
    /// failed stream that way), so what `out` got is then not a whole document.
    pub async fn get_to(
        &self,
        path: &str,
        query: &[(&str, &str)],
        out: &mut (dyn std::io::Write + Send),
    ) -> anyhow::Result<()> {
        let req = self.http.get(format!("{}{path}", self.base)).query(query);
        let mut resp = req.send().await.map_err(|e| {
            self.unreachable(
                &e,
                "; start one with `ailedger serve` or point --server/AILEDGER_URL at one",
            )
        })?;
        let status = resp.status();
        if !status.is_success() {
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| Unavailable(format!("reading the answer: {e}")))?;
            return Err(problem_error(status, &bytes));
        }
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| Unavailable(format!("the answer broke off: {}", root_cause(&e))))?
        {
            out.write_all(&chunk)?;
        }
        out.flush()?;
        Ok(())
    }

    async fn answer(&self, req: reqwest::RequestBuilder) -> anyhow::Result<Vec<u8>> {
        let resp = req.send().await.map_err(|e| {
            self.unreachable(
                &e,
                "; start one with `ailedger serve` or point --server/AILEDGER_URL at one",
            )
        })?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Unavailable(format!("reading the answer: {e}")))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        Err(problem_error(status, &bytes))
    }
}

/// The error for a failed answer: a client error is the user's (exit 2), a server error
/// makes the server unavailable (exit 3), except that a corrupt-ledger problem is
/// reported as [`CorruptLedger`] (exit 3 too, but an audit makes it its finding).
fn problem_error(status: reqwest::StatusCode, body: &[u8]) -> anyhow::Error {
    let problem = serde_json::from_slice::<serde_json::Value>(body).ok();
    let detail = problem
        .as_ref()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    if status.is_client_error() {
        return UserError(detail).into();
    }
    let corrupt_seq = problem
        .as_ref()
        .filter(|v| {
            v.get("type").and_then(|t| t.as_str()) == Some(ailedger_server::CORRUPT_PROBLEM)
        })
        .and_then(|v| v.get("seq").and_then(serde_json::Value::as_u64));
    match corrupt_seq {
        Some(seq) => CorruptLedger {
            seq,
            message: format!("server error {status}: {detail}"),
            detail,
        }
        .into(),
        None => Unavailable(format!("server error {status}: {detail}")).into(),
    }
}

/// What went wrong in the TLS handshake, if that is why a request failed: the
/// certificate was not trusted (or not for this host), or the handshake itself failed.
fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let tls = find_rustls_error(e)?;
    Some(match tls {
        rustls::Error::InvalidCertificate(why) => format!("certificate not trusted ({why:?})"),
        other => other.to_string(),
    })
}

/// The rustls error in `e`'s chain. rustls errors reach us inside an `io::Error`
/// (possibly nested), whose `source()` skips the error it wraps, so those are opened.
fn find_rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        let inner: &(dyn std::error::Error + 'static) = inner;
        if let Some(tls) = find_rustls_error(inner) {
            return Some(tls);
        }
    }
    find_rustls_error(e.source()?)
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
