//! The client subcommands: registration, edges, deployments and queries. Each is an
//! `Args` struct with a `run`; all talk to the server through [`Client`](crate::client::Client).

use std::path::{Path, PathBuf};

use ailedger_core::{ArtifactKind, EdgeKind, Ref, manifest::Manifest};
use ailedger_server::{
    ArtifactInput, ArtifactView, DeployRequest, EdgeInput, EntriesView, LinkRequest,
    RegisterRequest, ResolveView, TraversalView, WriteResponse, paths,
};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::{Ctx, Format, client::UserError, hashing, output};

/// Register artifacts: hash models and datasets, record packages and anything else.
#[derive(Debug, Subcommand)]
pub enum Register {
    /// Register a model file or directory: every file is hashed (SHA-256, in parallel) and the
    /// model's identity is the digest of its manifest, so the same bytes are one artifact.
    ///
    /// Example: ailedger register model ./checkpoints/llama-ft --name llama-ft --version 3 --source https://huggingface.co/org/llama-ft
    Model(HashedArgs),
    /// Register a dataset: a directory or file (hashed like a model) or a remote URI.
    ///
    /// Example: ailedger register dataset ./data/support-tickets --name support-tickets --version 2026-10
    /// Example: ailedger register dataset --uri s3://corpora/wiki-2026 --name wiki --version 2026-06
    Dataset(DatasetArgs),
    /// Register a package by purl, with digests of its distribution files.
    ///
    /// Example: ailedger register package pkg:pypi/torch@2.4.1 --sha256 <64 hex>
    Package(PackageArgs),
    /// Register any other artifact (builder, source, mcp-server …) by name or ref.
    ///
    /// Example: ailedger register artifact builder --name github-actions --version ubuntu-24.04
    Artifact(OtherArgs),
}

#[derive(Debug, Args)]
pub struct HashedArgs {
    /// The file or directory to hash.
    pub path: PathBuf,
    /// A name to find it by (`model:<name>@<version>` then resolves to it).
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub version: Option<String>,
    /// Where it came from (a URL).
    #[arg(long)]
    pub source: Option<String>,
}

#[derive(Debug, Args)]
pub struct DatasetArgs {
    /// The file or directory to hash (or give --uri).
    #[arg(required_unless_present = "uri", conflicts_with = "uri")]
    pub path: Option<PathBuf>,
    /// A remote dataset, recorded by name and version without hashing.
    #[arg(long)]
    pub uri: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub version: Option<String>,
    #[arg(long)]
    pub source: Option<String>,
}

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The package's purl, e.g. pkg:pypi/torch@2.4.1 or pkg:npm/%40scope/name@1.0.0.
    pub purl: String,
    /// SHA-256 of a distribution file (wheel, sdist, tarball); repeatable.
    #[arg(long = "sha256", value_name = "HEX")]
    pub sha256: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OtherArgs {
    /// The artifact kind.
    pub kind: String,
    #[arg(long, required_unless_present = "ref_")]
    pub name: Option<String>,
    #[arg(long)]
    pub version: Option<String>,
    /// Its identity, when it has a digest or purl.
    #[arg(long = "ref", id = "ref_")]
    pub ref_: Option<String>,
    /// An attribute, `key=value`; repeatable.
    #[arg(long = "attr", value_name = "KEY=VALUE")]
    pub attrs: Vec<String>,
}

fn hashed_request(
    kind: ArtifactKind,
    root: &Path,
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
) -> anyhow::Result<RegisterRequest> {
    let manifest: Manifest = hashing::manifest_of(root)?;
    let id = manifest.digest().to_string();
    let mut attrs = Map::new();
    attrs.insert("files".into(), json!(manifest.files().len()));
    attrs.insert("size".into(), json!(manifest.total_size()));
    attrs.insert("manifest".into(), serde_json::to_value(manifest.files())?);
    if let Some(s) = source {
        attrs.insert("source".into(), json!(s));
    }
    // A model directory's config.json names its architectures (for the policy gate).
    if kind == ArtifactKind::Model && root.is_dir() {
        let config = root.join("config.json");
        if let Ok(meta) = std::fs::metadata(&config)
            && meta.is_file()
            && meta.len() <= ailedger_inspect::model_config::MAX_CONFIG as u64
        {
            let bytes = std::fs::read(&config)
                .map_err(|e| UserError(format!("{}: {e}", config.display())))?;
            let archs = ailedger_inspect::model_config::architectures(&bytes);
            if !archs.is_empty() {
                attrs.insert("architectures".into(), json!(archs));
            }
        }
    }
    // The same inspection `ailedger inspect` runs; its findings become facts on the artifact.
    let findings = crate::inspect::findings_for_registration(root)?;
    if !findings.is_empty() {
        attrs.insert("findings".into(), serde_json::to_value(&findings)?);
    }
    let name = name.or_else(|| root.file_name().and_then(|n| n.to_str()).map(str::to_owned));
    let mut artifacts = vec![ArtifactInput {
        kind: kind.to_string(),
        ref_: Some(id.clone()),
        name,
        version,
        aliases: vec![],
        attrs,
    }];
    let mut edges = Vec::new();
    for f in manifest.files() {
        let file_ref = f.sha256.to_string();
        if file_ref == id {
            continue;
        }
        artifacts.push(ArtifactInput {
            kind: "file".into(),
            ref_: Some(file_ref.clone()),
            name: None,
            version: None,
            aliases: vec![],
            attrs: Map::from_iter([("size".to_string(), json!(f.size))]),
        });
        edges.push(EdgeInput {
            from: id.clone(),
            edge: "contains".into(),
            to: file_ref,
            paths: vec![f.path.clone()],
        });
    }
    Ok(RegisterRequest { artifacts, edges })
}

/// Builds the registration request for a model directory or file.
pub fn model_request(
    path: &Path,
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
) -> anyhow::Result<RegisterRequest> {
    hashed_request(ArtifactKind::Model, path, name, version, source)
}

/// Builds the registration request for a dataset directory or file.
pub fn dataset_request(
    path: &Path,
    name: Option<String>,
    version: Option<String>,
    source: Option<String>,
) -> anyhow::Result<RegisterRequest> {
    hashed_request(ArtifactKind::Dataset, path, name, version, source)
}

fn check_ref(input: &str) -> anyhow::Result<Ref> {
    input
        .parse::<Ref>()
        .map_err(|e| UserError(e.to_string()).into())
}

fn attrs_from(pairs: &[String]) -> anyhow::Result<Map<String, Value>> {
    pairs
        .iter()
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| UserError(format!("--attr {p:?}: expected KEY=VALUE")))?;
            Ok((k.to_owned(), Value::String(v.to_owned())))
        })
        .collect()
}

impl Register {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let req = match self {
            Register::Model(a) => model_request(&a.path, a.name, a.version, a.source)?,
            Register::Dataset(a) => match (a.path, a.uri) {
                (Some(p), _) => dataset_request(&p, a.name, a.version, a.source)?,
                (None, Some(uri)) => {
                    let name = a.name.unwrap_or_else(|| {
                        uri.trim_end_matches('/')
                            .rsplit('/')
                            .next()
                            .unwrap_or(&uri)
                            .to_owned()
                    });
                    let mut attrs = Map::from_iter([("uri".to_string(), json!(uri))]);
                    if let Some(s) = a.source {
                        attrs.insert("source".into(), json!(s));
                    }
                    RegisterRequest {
                        artifacts: vec![ArtifactInput {
                            kind: "dataset".into(),
                            ref_: None,
                            name: Some(name),
                            version: a.version,
                            aliases: vec![],
                            attrs,
                        }],
                        edges: vec![],
                    }
                }
                (None, None) => return Err(UserError("give a dataset path or --uri".into()).into()),
            },
            Register::Package(a) => {
                let purl = check_ref(&a.purl)?;
                if !matches!(purl, Ref::Purl(_)) {
                    return Err(UserError(format!(
                        "{:?} is not a purl (pkg:<type>/<name>@<version>)",
                        a.purl
                    ))
                    .into());
                }
                let mut aliases = Vec::new();
                for h in &a.sha256 {
                    let d = ailedger_core::Sha256Digest::from_hex(h)
                        .map_err(|e| UserError(format!("--sha256: {e}")))?;
                    aliases.push(d.to_string());
                }
                let attrs = if aliases.is_empty() {
                    Map::new()
                } else {
                    Map::from_iter([("sha256".to_string(), json!(aliases))])
                };
                RegisterRequest {
                    artifacts: vec![ArtifactInput {
                        kind: "package".into(),
                        ref_: Some(purl.to_string()),
                        name: None,
                        version: None,
                        aliases,
                        attrs,
                    }],
                    edges: vec![],
                }
            }
            Register::Artifact(a) => {
                let kind: ArtifactKind = a
                    .kind
                    .parse()
                    .map_err(|e: ailedger_core::Error| UserError(e.to_string()))?;
                if let Some(r) = &a.ref_ {
                    check_ref(r)?;
                }
                RegisterRequest {
                    artifacts: vec![ArtifactInput {
                        kind: kind.to_string(),
                        ref_: a.ref_,
                        name: a.name,
                        version: a.version,
                        aliases: vec![],
                        attrs: attrs_from(&a.attrs)?,
                    }],
                    edges: vec![],
                }
            }
        };
        let resp: WriteResponse = ctx.client.post(paths::ARTIFACTS, &req).await?;
        output::written(ctx.format, &resp)
    }
}

/// An edge by refs, for `link` and `unlink`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The consumer (any ref).
    pub from: String,
    /// The edge type.
    pub edge: String,
    /// What it consumes (any ref).
    pub to: String,
}

impl LinkArgs {
    pub async fn run(self, ctx: &Ctx, path: &str) -> anyhow::Result<()> {
        check_ref(&self.from)?;
        self.edge
            .parse::<EdgeKind>()
            .map_err(|e| UserError(e.to_string()))?;
        check_ref(&self.to)?;
        let req = LinkRequest {
            edges: vec![EdgeInput {
                from: self.from,
                edge: self.edge,
                to: self.to,
                paths: vec![],
            }],
        };
        let resp: WriteResponse = ctx.client.post(path, &req).await?;
        output::written(ctx.format, &resp)
    }
}

/// Set what a deployment consumes now; edges to anything it no longer lists end. The
/// owner and contact are kept across later deploys unless given again.
///
/// Example: ailedger deploy chatbot --env prod --owner ml-platform --contact ml-oncall@example.com --uses model:llama-ft@3 --uses pkg:pypi/vllm@0.6.3
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The deployment's name (its ref becomes deployment:<env>/<name>).
    pub name: String,
    /// The environment, e.g. prod or staging.
    #[arg(long)]
    pub env: String,
    /// Refs of what it uses; repeatable. Give none to record that it uses nothing.
    #[arg(long = "uses", value_name = "REF")]
    pub uses: Vec<String>,
    /// Who answers for it (a team). Kept across later deploys unless given again.
    #[arg(long)]
    pub owner: Option<String>,
    /// How to reach the owner: an https:// or mailto: URL, or an e-mail address. Kept
    /// across later deploys unless given again.
    #[arg(long, value_name = "URL|EMAIL")]
    pub contact: Option<String>,
    /// Deploy the last known-good configuration instead of --uses: the most recent one
    /// it ran before its exposure to anything a live incident or the blocklist covers,
    /// of which nothing is covered now (the rollback target an incident report names).
    #[arg(long, conflicts_with = "uses")]
    pub rollback_to_known_good: bool,
}

impl DeployArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        for u in &self.uses {
            check_ref(u)?;
        }
        let req = DeployRequest {
            name: self.name,
            env: self.env,
            uses: self.uses,
            owner: self.owner,
            contact: self.contact,
            attrs: Map::new(),
            rollback_to_known_good: self.rollback_to_known_good,
        };
        let resp: WriteResponse = ctx.client.post(paths::DEPLOYMENTS, &req).await?;
        output::written(ctx.format, &resp)
    }
}

/// The artifact and moment of an `impact` or `deps` query.
#[derive(Debug, Args)]
pub struct TraversalArgs {
    /// Any ref: sha256:<hex>, a purl, or <kind>:<name>[@<version>].
    #[arg(value_name = "REF")]
    pub ref_: String,
    /// Answer from history: the ledger as it was at this RFC 3339 time.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Show at most this many artifacts, nearest first (the answer says how many more
    /// there are). Fetched in pages of up to 1000.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "all")]
    pub limit: u64,
    /// Show every artifact, however many (fetched page by page).
    #[arg(long)]
    pub all: bool,
    /// Go no further than this many edges from the artifact.
    #[arg(long, value_name = "EDGES")]
    pub depth: Option<u32>,
    /// Continue an earlier answer from its `next` cursor (JSON output), with the same
    /// REF, --as-of and --depth.
    #[arg(long)]
    pub cursor: Option<String>,
}

/// Hits per request when the CLI pages through a traversal.
const TRAVERSAL_PAGE: u64 = 1000;

impl TraversalArgs {
    pub async fn run(self, ctx: &Ctx, path: &str) -> anyhow::Result<()> {
        check_ref(&self.ref_)?;
        if let Some(t) = &self.as_of {
            ailedger_core::entry::parse_time(t).map_err(|e| UserError(format!("--as-of: {e}")))?;
        }
        let want = if self.all { u64::MAX } else { self.limit };
        let depth = self.depth.map(|d| d.to_string());
        let mut cursor = self.cursor.clone();
        let mut whole: Option<TraversalView> = None;
        loop {
            let got = whole.as_ref().map_or(0, |w| w.hits.len() as u64);
            let page = (want - got).min(TRAVERSAL_PAGE).to_string();
            let mut q = vec![("ref", self.ref_.as_str()), ("limit", page.as_str())];
            if let Some(t) = &self.as_of {
                q.push(("as_of", t));
            }
            if let Some(d) = &depth {
                q.push(("depth", d));
            }
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let v: TraversalView = ctx.client.get(path, &q).await?;
            cursor = v.next.clone();
            let whole = match &mut whole {
                None => whole.insert(v),
                Some(w) => {
                    output::append_page(w, v);
                    w
                }
            };
            if cursor.is_none() || whole.hits.len() as u64 >= want {
                break;
            }
        }
        let v = whole.ok_or_else(|| anyhow::anyhow!("no answer"))?;
        output::traversal(ctx.format, &v)
    }
}

/// One ref, for `show` and `resolve`.
#[derive(Debug, Args)]
pub struct RefArgs {
    /// Any ref: sha256:<hex>, a purl, or <kind>:<name>[@<version>].
    #[arg(value_name = "REF")]
    pub ref_: String,
}

impl RefArgs {
    pub async fn show(self, ctx: &Ctx) -> anyhow::Result<()> {
        check_ref(&self.ref_)?;
        let v: ArtifactView = ctx
            .client
            .get(paths::ARTIFACTS, &[("ref", &self.ref_)])
            .await?;
        output::artifact(ctx.format, &v)
    }

    pub async fn resolve(self, ctx: &Ctx) -> anyhow::Result<()> {
        check_ref(&self.ref_)?;
        let v: ResolveView = ctx
            .client
            .get(paths::RESOLVE, &[("ref", &self.ref_)])
            .await?;
        match ctx.format {
            Format::Json => output::json(&v),
            Format::Table | Format::Sarif | Format::Xml => {
                println!("{}", v.id);
                Ok(())
            }
        }
    }
}

/// List ledger entries in seq order.
///
/// Example: ailedger entries --after 100 --limit 20
#[derive(Debug, Args)]
pub struct EntriesArgs {
    /// Entries after this seq.
    #[arg(long, default_value_t = 0)]
    pub after: u64,
    /// At most this many (up to 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

impl EntriesArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let after = self.after.to_string();
        let limit = self.limit.to_string();
        let v: EntriesView = ctx
            .client
            .get(paths::ENTRIES, &[("after", &after), ("limit", &limit)])
            .await?;
        if ctx.format == Format::Json {
            return output::json(&v);
        }
        println!("ledger head: {}", v.head);
        for e in &v.entries {
            println!(
                "{:>8}  {}  {:<9} {:<24} {}",
                e.seq,
                e.time,
                e.kind,
                e.actor,
                &e.leaf_hash[..16]
            );
        }
        Ok(())
    }
}

/// Compute, offline, the identity `register model`/`register dataset` would record: every
/// file's SHA-256 and the digest of the manifest. Needs no server.
///
/// The manifest is one `<sha256 hex>  <relative path>` line per file, sorted by path.
///
/// Example: ailedger manifest ./checkpoints/llama-ft
#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// The file or directory.
    pub path: PathBuf,
}

impl ManifestArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let m = hashing::manifest_of(&self.path)?;
        match ctx.format {
            Format::Json => output::json(
                &json!({"digest": m.digest().to_string(), "files": m.files(), "size": m.total_size()}),
            ),
            Format::Table | Format::Sarif | Format::Xml => {
                print!("{}", m.text());
                println!("manifest {}", m.digest());
                Ok(())
            }
        }
    }
}
