//! `ailedger verify model`: checks an OpenSSF model signature (PyPI `model-signing`)
//! against a model directory, fully offline: who signed (a public key, a certificate
//! chaining to given CAs, or a Sigstore identity), then every signed file re-hashed with
//! the parallel hashing of `register model` and compared.
//!
//! Exit codes: 0 verified, 2 bad input (an unreadable or malformed signature, key or
//! directory), 4 verification failed (the signature or a file does not match).

use std::path::{Path, PathBuf};

use ailedger_attest::model_signing::{
    self, ModelSigError, ModelSignature, ModelSigner, ModelVerifier, Serialization,
};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::{Format, client::UserError, hashing, log::VerifyFailed};

/// Verify signatures offline (no server needed).
#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    Model(VerifyModelArgs),
}

impl VerifyCommand {
    pub fn run(self, format: Format) -> anyhow::Result<()> {
        match self {
            VerifyCommand::Model(a) => a.run(format),
        }
    }
}

/// Verify an OpenSSF model signature (PyPI `model-signing`, key, certificate or Sigstore
/// mode) against a model directory or file: the signer, then every file's digest.
///
/// The model is re-hashed in parallel as `register model` hashes it, by files or by
/// shards as the signature says. Paths the signature lists as ignored, git metadata
/// and the signature file itself (when inside the model) are left out, like
/// `model_signing verify` does.
///
/// Exit codes: 0 verified, 2 bad input, 4 verification failed (one line naming the file or
/// the signature check at fault).
///
/// Example: ailedger verify model ./llama-ft --signature model.sig --public-key key.pub
/// Example: ailedger verify model ./llama-ft --signature model.sig --certificate-chain ca.pem --certificate-chain int-ca.pem
/// Example: ailedger verify model ./llama-ft --signature model.sig --identity user@example.com --identity-provider https://accounts.google.com --trusted-root trusted_root.json
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["public_key", "certificate_chain", "identity"])))]
pub struct VerifyModelArgs {
    /// The model directory (or single file) that was signed.
    pub path: PathBuf,
    /// The signature file (a Sigstore bundle, as `model_signing sign` writes it).
    #[arg(long, value_name = "FILE")]
    pub signature: PathBuf,
    /// Key mode: the signer's public key (PEM or DER SubjectPublicKeyInfo).
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// Certificate mode: CA certificates (PEM) the signing certificate must chain to;
    /// repeatable, a file may hold several.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub certificate_chain: Vec<PathBuf>,
    /// Sigstore mode: the signer's identity (certificate SAN: an email or URI).
    #[arg(long, value_name = "SAN", requires = "identity_provider")]
    pub identity: Option<String>,
    /// Sigstore mode: the OIDC issuer that vouched for the identity.
    #[arg(long, value_name = "ISSUER", requires = "identity")]
    pub identity_provider: Option<String>,
    /// Sigstore mode: the trusted root (trusted_root.json) to verify against; by default
    /// the Sigstore public-good root built into ailedger.
    #[arg(long, value_name = "FILE", requires = "identity")]
    pub trusted_root: Option<PathBuf>,
    /// A path (relative to the model, or a path inside it) to leave out besides those the
    /// signature lists; repeatable.
    #[arg(long, value_name = "PATH")]
    pub ignore_path: Vec<PathBuf>,
}

/// Git metadata model_signing leaves out by default.
const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

fn read(what: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| UserError(format!("{what} {}: {e}", path.display())).into())
}

/// Sorts a library error: a refused signature or file is a verification failure (exit 4),
/// an unreadable one bad input (exit 2).
fn judged(sig_path: &Path, e: ModelSigError) -> anyhow::Error {
    match e {
        ModelSigError::Malformed { .. }
        | ModelSigError::TooLarge(_)
        | ModelSigError::Unsupported { .. }
        | ModelSigError::Key(_) => UserError(format!("{}: {e}", sig_path.display())).into(),
        _ => VerifyFailed(e.to_string()).into(),
    }
}

impl VerifyModelArgs {
    pub fn run(self, format: Format) -> anyhow::Result<()> {
        let sig_bytes = read("--signature", &self.signature)?;
        // Parsing first: a malformed signature is bad input whatever the mode.
        model_signing::parse(&sig_bytes).map_err(|e| judged(&self.signature, e))?;
        let verified = self.verify_signer(&sig_bytes)?;
        let sig = &verified.sig;
        let files = self.list(sig)?;
        let shard = match sig.method {
            Serialization::Files => None,
            Serialization::Shards { shard_size } => Some(shard_size),
        };
        let actual: Vec<(String, Vec<u8>)> = hashing::hash_resources(&files, shard)?
            .into_iter()
            .map(|(n, d)| (n, d.0.to_vec()))
            .collect();
        model_signing::check_resources(sig, &actual).map_err(|e| judged(&self.signature, e))?;
        let method = match sig.method {
            Serialization::Files => "files".to_owned(),
            Serialization::Shards { shard_size } => format!("shards of {shard_size} bytes"),
        };
        if format == Format::Json {
            let v = json!({
                "verified": true,
                "model": self.path.display().to_string(),
                "signer": signer_json(&verified.signer),
                "predicate_type": sig.predicate_type,
                "method": method,
                "hash_type": sig.hash_type,
                "resources": sig.resources.len(),
                "files": files.len(),
                "root_digest": sig.root_digest.as_ref().map(|(a, d)| format!("{a}:{}", hex::encode(d))),
                "manifest_digest": model_signing::manifest_digest(sig).map(|d| format!("sha256:{}", d.hex())),
                "compat_pae": verified.compat_pae,
            });
            return crate::output::json(&v);
        }
        println!("Verified model {}", self.path.display());
        println!("  signer     {}", signer_text(&verified.signer));
        println!("  predicate  {}", sig.predicate_type);
        println!(
            "  resources  {} ({method}, {}) over {} files, all match",
            sig.resources.len(),
            sig.hash_type,
            files.len()
        );
        if let Some((alg, d)) = &sig.root_digest {
            println!("  root       {alg}:{}", hex::encode(d));
        }
        if verified.compat_pae {
            println!(
                "  note       signed with model-signing's pre-1.0 PAE (accepted for compatibility)"
            );
        }
        Ok(())
    }

    fn verify_signer(
        &self,
        sig_bytes: &[u8],
    ) -> anyhow::Result<model_signing::VerifiedModelSignature> {
        let sig = &self.signature;
        if let Some(p) = &self.public_key {
            let key = ailedger_attest::keys::PublicKey::parse(&read("--public-key", p)?)
                .map_err(|e| UserError(format!("--public-key {}: {e}", p.display())))?;
            return model_signing::verify_signature(sig_bytes, &ModelVerifier::Key(&key))
                .map_err(|e| judged(sig, e));
        }
        if !self.certificate_chain.is_empty() {
            let mut anchors = Vec::new();
            for p in &self.certificate_chain {
                let found =
                    ailedger_attest::keys::pem_certificates(&read("--certificate-chain", p)?);
                if found.is_empty() {
                    return Err(UserError(format!(
                        "--certificate-chain {}: no PEM certificate (BEGIN CERTIFICATE) in it",
                        p.display()
                    ))
                    .into());
                }
                anchors.extend(found);
            }
            return model_signing::verify_signature(
                sig_bytes,
                &ModelVerifier::Certificate { anchors: &anchors },
            )
            .map_err(|e| judged(sig, e));
        }
        self.verify_sigstore(sig_bytes)
    }

    /// The files of the model as model_signing lists them, minus what is ignored.
    fn list(&self, sig: &ModelSignature) -> anyhow::Result<Vec<(String, PathBuf)>> {
        let root = &self.path;
        let meta = std::fs::symlink_metadata(root)
            .map_err(|e| UserError(format!("{}: {e}", root.display())))?;
        if meta.is_file() {
            return Ok(vec![(".".to_owned(), root.clone())]);
        }
        if !meta.is_dir() {
            return Err(UserError(format!("{}: not a file or directory", root.display())).into());
        }
        let mut ignore: Vec<String> = sig.ignore_paths.clone();
        ignore.extend(GIT_PATHS.iter().map(|s| s.to_string()));
        let canon_root = root.canonicalize().ok();
        let relative = |p: &Path| -> Option<String> {
            let canon = p.canonicalize().ok()?;
            let rel = canon.strip_prefix(canon_root.as_ref()?).ok()?;
            rel.to_str().map(str::to_owned)
        };
        if let Some(rel) = relative(&self.signature) {
            ignore.push(rel);
        }
        for p in &self.ignore_path {
            match relative(p) {
                Some(rel) => ignore.push(rel),
                None => ignore.push(p.to_string_lossy().trim_start_matches("./").to_owned()),
            }
        }
        ignore.retain(|i| !i.is_empty() && i != ".");
        let ignored = |rel: &str| {
            ignore.iter().any(|i| {
                let i = i.trim_end_matches('/');
                rel == i || (rel.starts_with(i) && rel.as_bytes().get(i.len()) == Some(&b'/'))
            })
        };
        let mut out = Vec::new();
        let mut stack = vec![(String::new(), root.clone())];
        while let Some((rel, dir)) = stack.pop() {
            let rd = std::fs::read_dir(&dir)
                .map_err(|e| UserError(format!("{}: {e}", dir.display())))?;
            for item in rd {
                let item = item.map_err(|e| UserError(format!("{}: {e}", dir.display())))?;
                let path = item.path();
                let name = item.file_name().into_string().map_err(|_| {
                    UserError(format!("{}: the file name is not UTF-8", path.display()))
                })?;
                let child = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                if ignored(&child) {
                    continue;
                }
                let ft = item
                    .file_type()
                    .map_err(|e| UserError(format!("{}: {e}", path.display())))?;
                if ft.is_symlink() {
                    if !sig.allow_symlinks {
                        return Err(VerifyFailed(format!(
                            "model file `{child}` is a symbolic link and the signature does not allow them"
                        ))
                        .into());
                    }
                    match std::fs::metadata(&path) {
                        Ok(m) if m.is_file() => out.push((child, path)),
                        Ok(m) if m.is_dir() => stack.push((child, path)),
                        Ok(_) => {}
                        Err(e) => {
                            return Err(UserError(format!("{}: {e}", path.display())).into());
                        }
                    }
                } else if ft.is_dir() {
                    stack.push((child, path));
                } else if ft.is_file() {
                    out.push((child, path));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

fn signer_text(s: &ModelSigner) -> String {
    signer_json(s)
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}={s}"),
                    v => format!("{k}={v}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn signer_json(s: &ModelSigner) -> serde_json::Value {
    match s {
        ModelSigner::Key {
            key_hint,
            keyid,
            algorithm,
        } => json!({"mode": "key", "key_hint": key_hint, "keyid": keyid, "algorithm": algorithm}),
        ModelSigner::Certificate {
            subject,
            sans,
            fingerprint_sha256,
            chain,
            ..
        } => json!({
            "mode": "certificate",
            "subject": subject,
            "sans": sans.join(","),
            "chain": chain.join(" <- "),
            "fingerprint_sha256": fingerprint_sha256,
        }),
        ModelSigner::Sigstore {
            san,
            issuer,
            signed_at,
            log_indexes,
            ..
        } => json!({
            "mode": "sigstore",
            "identity": san,
            "issuer": issuer,
            "signed_at": signed_at,
            "log_indexes": log_indexes,
        }),
    }
}

impl VerifyModelArgs {
    fn verify_sigstore(
        &self,
        sig_bytes: &[u8],
    ) -> anyhow::Result<model_signing::VerifiedModelSignature> {
        use ailedger_attest::sigstore::{IdentityPolicy, Matcher, TrustedRoot};
        let (Some(san), Some(issuer)) = (&self.identity, &self.identity_provider) else {
            return Err(UserError(
                "give --public-key, --certificate-chain, or --identity with --identity-provider"
                    .into(),
            )
            .into());
        };
        let root = match &self.trusted_root {
            Some(p) => TrustedRoot::from_json(&read("--trusted-root", p)?)
                .map_err(|e| UserError(format!("--trusted-root {}: {e}", p.display())))?,
            None => TrustedRoot::production()
                .map_err(|e| UserError(format!("the built-in Sigstore trusted root: {e}")))?,
        };
        let identity = IdentityPolicy {
            san: Matcher::Exact(san.clone()),
            issuer: Matcher::Exact(issuer.clone()),
        };
        model_signing::verify_signature(
            sig_bytes,
            &ModelVerifier::Sigstore {
                root: &root,
                identity: &identity,
            },
        )
        .map_err(|e| judged(&self.signature, e))
    }
}
