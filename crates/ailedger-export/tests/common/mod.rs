//! Shared by the export tests: the rich subgraph (every artifact kind and edge the
//! export maps), its builders, and records read in batches as the server reads them.

#![allow(clippy::unwrap_used, dead_code)]

use ailedger_core::{ArtifactKind, EdgeKind, Severity};
use ailedger_export::{Artifact, Attestation, Edge, IncidentVex, LedgerState, Subgraph};
use serde_json::{Value, json};

pub fn art(
    id: &str,
    kind: ArtifactKind,
    name: &str,
    version: Option<&str>,
    attrs: Value,
) -> Artifact {
    let Value::Object(attrs) = attrs else {
        panic!("attrs must be an object")
    };
    Artifact {
        id: id.into(),
        kind,
        name: Some(name.into()),
        version: version.map(Into::into),
        aliases: Vec::new(),
        attrs,
        first_seq: 3,
    }
}

pub fn edge(from: &str, kind: EdgeKind, to: &str) -> Edge {
    Edge {
        from: from.into(),
        kind,
        to: to.into(),
        paths: Vec::new(),
    }
}

pub const ATT: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const TORCH: &str = "pkg:pypi/torch@2.4.0";
pub const FILE: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// A deployment running a fine-tuned model (trained on a dataset, derived from a base
/// model, depending on a package with licences/supplier/hashes/findings), an MCP config
/// using an MCP server that runs a package, a model file, an attestation of the model and
/// an open incident on the package.
pub fn subgraph() -> Subgraph {
    let mut base = art(
        "model:llama@3.1",
        ArtifactKind::Model,
        "llama",
        Some("3.1"),
        json!({"license": "llama3.1", "supplier": "Organization: Meta"}),
    );
    base.aliases = vec!["pkg:huggingface/meta/llama@3.1".into()];
    let mut torch = art(
        TORCH,
        ArtifactKind::Package,
        "torch",
        Some("2.4.0"),
        json!({
            "type": "library",
            "hashes": {"SHA-256": "cc".repeat(32), "SHA-512": "dd".repeat(64)},
            "licenses": [{"license": {"id": "BSD-3-Clause"}}],
            "supplier": {"name": "PyTorch Foundation"},
            "description": "tensors",
            "findings": [{"code": "AIL-PKG-001", "severity": "low", "message": "old"}],
            "manifest": {"x": 1},
        }),
    );
    torch.aliases = vec!["package:torch@2.4.0".into()];
    let artifacts = vec![
        art(
            "deployment:prod/bot",
            ArtifactKind::Deployment,
            "prod/bot",
            None,
            json!({"env": "prod", "owner": "team-ai"}),
        ),
        art(
            "model:bot@3",
            ArtifactKind::Model,
            "bot",
            Some("3"),
            json!({
                "task": "text-generation",
                "modelCard": {"considerations": {"useCases": ["support"]}},
                "verification": "verified",
            }),
        ),
        base,
        art(
            "dataset:tickets@1",
            ArtifactKind::Dataset,
            "tickets",
            Some("1"),
            json!({"license": "proprietary"}),
        ),
        torch,
        art(
            FILE,
            ArtifactKind::File,
            "model.safetensors",
            None,
            json!({}),
        ),
        art(
            "mcp-config:tools@1",
            ArtifactKind::McpConfig,
            "tools",
            Some("1"),
            json!({"client": "vscode"}),
        ),
        art(
            "mcp-server:fetch@1",
            ArtifactKind::McpServer,
            "fetch",
            Some("1"),
            json!({"transport": "stdio", "command": "uvx", "args": ["mcp-server-fetch==1"]}),
        ),
        art(
            "mcp-server:remote@2",
            ArtifactKind::McpServer,
            "remote",
            Some("2"),
            json!({"transport": "http", "url": "https://mcp.example.com/mcp"}),
        ),
        art(
            "pkg:pypi/mcp-server-fetch@1",
            ArtifactKind::Package,
            "mcp-server-fetch",
            Some("1"),
            json!({}),
        ),
        art(
            ATT,
            ArtifactKind::Attestation,
            "attestation",
            None,
            json!({"verification": "verified"}),
        ),
    ];
    // One file's bytes at two places in the model.
    let mut contains = edge("model:bot@3", EdgeKind::Contains, FILE);
    contains.paths = vec![
        "model.safetensors".into(),
        "shards/copy of model.safetensors".into(),
    ];
    let mut edges = vec![
        contains,
        edge("deployment:prod/bot", EdgeKind::Deploys, "model:bot@3"),
        edge("deployment:prod/bot", EdgeKind::DependsOn, TORCH),
        edge(
            "deployment:prod/bot",
            EdgeKind::Deploys,
            "mcp-config:tools@1",
        ),
        edge("model:bot@3", EdgeKind::DerivedFrom, "model:llama@3.1"),
        edge("model:bot@3", EdgeKind::TrainedOn, "dataset:tickets@1"),
        edge("model:llama@3.1", EdgeKind::DependsOn, TORCH),
        edge(
            "mcp-config:tools@1",
            EdgeKind::UsesTool,
            "mcp-server:fetch@1",
        ),
        edge(
            "mcp-config:tools@1",
            EdgeKind::UsesTool,
            "mcp-server:remote@2",
        ),
        edge(
            "mcp-server:fetch@1",
            EdgeKind::Runs,
            "pkg:pypi/mcp-server-fetch@1",
        ),
        edge(ATT, EdgeKind::Attests, "model:bot@3"),
    ];
    edges.sort();
    Subgraph {
        root: "deployment:prod/bot".into(),
        artifacts,
        edges,
        attestations: vec![Attestation {
            id: ATT.into(),
            subjects: vec!["model:bot@3".into()],
            verification: Some("verified".into()),
            predicate_type: Some("https://slsa.dev/provenance/v1".into()),
        }],
        incidents: vec![IncidentVex {
            id: 40,
            state: "open".into(),
            severity: Severity::High,
            reason: "malicious release".into(),
            advisory: Some("GHSA-xxxx-yyyy-zzzz".into()),
            opened: "2026-12-01T10:00:00Z".into(),
            affects: vec![TORCH.into()],
        }],
        ledger: LedgerState {
            seq: 42,
            time: "2026-12-02T10:00:00Z".into(),
            root_hash: Some("ee".repeat(32)),
        },
    }
}

/// Records that the writer reads a batch at a time, as the server's store does: what it
/// asked for is remembered, and it fails when told to.
pub struct Batches<'a> {
    pub held: ailedger_export::Held<'a>,
    pub asked: Vec<usize>,
    pub fail_after: Option<usize>,
}

impl ailedger_export::Records for Batches<'_> {
    fn fetch(&mut self, ids: &[&str]) -> std::io::Result<Vec<Artifact>> {
        if self.fail_after.is_some_and(|n| self.asked.len() >= n) {
            return Err(std::io::Error::other("the store went away"));
        }
        self.asked.push(ids.len());
        self.held.fetch(ids)
    }
}

pub fn skeleton(sub: &Subgraph) -> Subgraph {
    let mut s = sub.clone();
    for a in &mut s.artifacts {
        *a = Artifact {
            id: a.id.clone(),
            kind: a.kind,
            name: None,
            version: None,
            aliases: Vec::new(),
            attrs: serde_json::Map::new(),
            first_seq: 0,
        };
    }
    s
}
