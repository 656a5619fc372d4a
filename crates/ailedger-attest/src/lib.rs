//! Signed provenance: DSSE envelopes ([`dsse`]) carrying in-toto statements
//! ([`statement`], SLSA provenance in [`slsa`]), Sigstore bundles ([`sigstore`]) and
//! OpenSSF model signatures ([`model_signing`]), verified offline against a trust
//! policy ([`policy`]). Signing ([`sign`]) produces DSSE envelopes and SLSA
//! verification summaries. [`gate`] is the CI/CD policy gate over a release's
//! components (`ailedger check`).
//!
//! The crate is pure: every function takes bytes (documents, keys, trusted roots) and
//! returns values. Input is untrusted: nothing here panics on any input.

pub mod dsse;
pub mod gate;
pub mod judge;
pub mod keys;
pub mod model_signing;
pub mod policy;
pub mod sign;
pub mod sigstore;
pub mod slsa;
pub mod statement;
