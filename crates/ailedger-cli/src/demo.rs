//! `ailedger demo`: a server on a fresh database filled with a realistic AI supply
//! chain through the public API (models hashed from files on disk, real PyPI package
//! names and versions, MCP configs and their servers, deployments in two
//! environments with earlier configurations), then an incident for a compromised
//! package with its blast-radius report, and a later consumer flagged as it is written.

use std::{net::SocketAddr, path::Path};

use ailedger_server::{
    ArtifactInput, ArtifactView, BatchItem, BatchRequest, CompromiseRequest, DeployRequest,
    EdgeInput, IncidentView, IngestView, LinkRequest, PolicyRequest, RegisterRequest,
    WriteResponse, paths,
};
use clap::Args;
use serde_json::{Map, json};

use crate::{Format, client::Client, cmd, output, serve};

/// Start a server on a fresh database holding a realistic AI supply chain, open an
/// incident for a compromised package and print its blast-radius report (owners, paths,
/// exposure windows, last known-good), and keep serving for exploring.
///
/// Example: ailedger demo            (then, in another shell: ailedger incident list)
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on (loopback only: the demo serves plain HTTP).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Stop after printing instead of serving on (for scripts).
    #[arg(long)]
    pub exit: bool,
}

/// Real PyPI packages and versions (late 2024), with the dependencies among them.
const PACKAGES: &[(&str, &str, &[&str])] = &[
    (
        "torch",
        "2.4.1",
        &["sympy", "networkx", "jinja2", "filelock", "fsspec"],
    ),
    ("numpy", "1.26.4", &[]),
    (
        "transformers",
        "4.44.2",
        &[
            "tokenizers",
            "safetensors",
            "huggingface-hub",
            "numpy",
            "regex",
            "requests",
            "pyyaml",
            "tqdm",
            "packaging",
            "filelock",
        ],
    ),
    ("tokenizers", "0.19.1", &["huggingface-hub"]),
    ("safetensors", "0.4.5", &[]),
    (
        "huggingface-hub",
        "0.24.6",
        &[
            "requests",
            "fsspec",
            "tqdm",
            "pyyaml",
            "filelock",
            "packaging",
        ],
    ),
    (
        "accelerate",
        "0.34.2",
        &[
            "torch",
            "numpy",
            "psutil",
            "pyyaml",
            "safetensors",
            "huggingface-hub",
        ],
    ),
    (
        "peft",
        "0.12.0",
        &["torch", "transformers", "accelerate", "safetensors"],
    ),
    (
        "datasets",
        "2.21.0",
        &[
            "pyarrow",
            "pandas",
            "numpy",
            "requests",
            "tqdm",
            "fsspec",
            "huggingface-hub",
        ],
    ),
    ("pyarrow", "17.0.0", &["numpy"]),
    ("pandas", "2.2.2", &["numpy"]),
    (
        "requests",
        "2.32.3",
        &["urllib3", "certifi", "idna", "charset-normalizer"],
    ),
    ("urllib3", "2.2.2", &[]),
    ("certifi", "2024.8.30", &[]),
    ("idna", "3.8", &[]),
    ("charset-normalizer", "3.3.2", &[]),
    ("tqdm", "4.66.5", &[]),
    ("pyyaml", "6.0.2", &[]),
    ("regex", "2024.7.24", &[]),
    ("filelock", "3.15.4", &[]),
    ("fsspec", "2024.6.1", &[]),
    ("jinja2", "3.1.4", &["markupsafe"]),
    ("markupsafe", "2.1.5", &[]),
    ("sympy", "1.13.2", &[]),
    ("networkx", "3.3", &[]),
    ("packaging", "24.1", &[]),
    ("psutil", "6.0.0", &[]),
    (
        "vllm",
        "0.6.1",
        &[
            "torch",
            "transformers",
            "fastapi",
            "uvicorn",
            "pydantic",
            "tokenizers",
        ],
    ),
    ("fastapi", "0.114.0", &["starlette", "pydantic"]),
    ("starlette", "0.38.5", &["anyio"]),
    ("pydantic", "2.9.1", &["pydantic-core"]),
    ("pydantic-core", "2.23.3", &[]),
    ("uvicorn", "0.30.6", &[]),
    ("anyio", "4.4.0", &["idna"]),
    (
        "sentence-transformers",
        "3.0.1",
        &[
            "transformers",
            "torch",
            "scikit-learn",
            "scipy",
            "huggingface-hub",
            "pillow",
        ],
    ),
    (
        "scikit-learn",
        "1.5.1",
        &["numpy", "scipy", "joblib", "threadpoolctl"],
    ),
    ("scipy", "1.14.1", &["numpy"]),
    ("joblib", "1.4.2", &[]),
    ("threadpoolctl", "3.5.0", &[]),
    (
        "ultralytics",
        "8.3.41",
        &[
            "torch",
            "numpy",
            "opencv-python",
            "pillow",
            "matplotlib",
            "pyyaml",
            "requests",
            "psutil",
            "pandas",
        ],
    ),
    ("opencv-python", "4.10.0.84", &["numpy"]),
    ("pillow", "10.4.0", &[]),
    ("matplotlib", "3.9.2", &["numpy", "pillow", "packaging"]),
    (
        "langchain",
        "0.2.16",
        &["langchain-core", "requests", "pydantic", "pyyaml"],
    ),
    (
        "langchain-core",
        "0.2.38",
        &["pydantic", "pyyaml", "packaging"],
    ),
    ("openai", "1.44.0", &["httpx", "pydantic", "anyio"]),
    ("httpx", "0.27.2", &["anyio", "certifi", "idna"]),
    ("mcp", "1.1.0", &["httpx", "pydantic", "anyio", "starlette"]),
    ("mcp-server-fetch", "2025.4.7", &["mcp", "httpx"]),
];

/// The package whose compromise the demo investigates: ultralytics 8.3.41 was a real
/// malicious release on PyPI (December 2024) that shipped a cryptominer.
pub const COMPROMISED: &str = "pkg:pypi/ultralytics@8.3.41";

/// The release before it, which the demo's earlier configurations ran.
const ULTRALYTICS_GOOD: &str = "pkg:pypi/ultralytics@8.3.40";

/// The incident the demo opens: both malicious releases, as a range.
pub const INCIDENT_TARGET: &str = "pkg:pypi/ultralytics@vers:pypi/>=8.3.41|<=8.3.42";

fn purl(name: &str) -> String {
    let version = PACKAGES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, v, _)| *v)
        .unwrap_or("0");
    format!("pkg:pypi/{name}@{version}")
}

fn edge(from: &str, edge: &str, to: &str) -> EdgeInput {
    EdgeInput {
        from: from.into(),
        edge: edge.into(),
        to: to.into(),
        paths: vec![],
    }
}

fn named(kind: &str, name: &str, version: &str, attrs: serde_json::Value) -> ArtifactInput {
    ArtifactInput {
        kind: kind.into(),
        ref_: None,
        name: Some(name.into()),
        version: Some(version.into()),
        aliases: vec![],
        attrs: attrs.as_object().cloned().unwrap_or_default(),
    }
}

/// Writes a small model directory: a config and a (tiny, well-formed) safetensors file.
fn write_model(dir: &Path, name: &str, arch: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("config.json"),
        format!("{{\"architectures\":[\"{arch}\"],\"_name_or_path\":\"{name}\"}}\n"),
    )?;
    let header = format!(
        "{{\"__metadata__\":{{\"format\":\"pt\",\"name\":\"{name}\"}},\"w\":{{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}}}"
    );
    let mut st = (header.len() as u64).to_le_bytes().to_vec();
    st.extend_from_slice(header.as_bytes());
    st.extend_from_slice(&[0, 0, 128, 63, 0, 0, 0, 64]);
    std::fs::write(dir.join("model.safetensors"), st)?;
    Ok(())
}

async fn post(
    client: &Client,
    path: &str,
    body: &impl serde::Serialize,
) -> anyhow::Result<WriteResponse> {
    client.post(path, body).await
}

/// Fills an empty ledger with the demo supply chain through the API.
pub async fn populate(client: &Client, scratch: &Path) -> anyhow::Result<()> {
    // Packages and their dependencies, as one batch (one entry per package).
    let entries = PACKAGES
        .iter()
        .map(|(name, version, _)| {
            BatchItem::Register(RegisterRequest {
                artifacts: vec![ArtifactInput {
                    kind: "package".into(),
                    ref_: Some(format!("pkg:pypi/{name}@{version}")),
                    name: None,
                    version: None,
                    aliases: vec![],
                    attrs: Map::from_iter([("ecosystem".to_string(), json!("pypi"))]),
                }],
                edges: vec![],
            })
        })
        .chain(std::iter::once(BatchItem::Link(LinkRequest {
            edges: PACKAGES
                .iter()
                .flat_map(|(name, _, deps)| {
                    deps.iter()
                        .map(move |d| edge(&purl(name), "depends-on", &purl(d)))
                })
                .collect(),
        })))
        .collect();
    post(client, paths::BATCH, &BatchRequest { entries }).await?;

    // Datasets: one hashed from files, one remote.
    let tickets = scratch.join("support-tickets");
    std::fs::create_dir_all(&tickets)?;
    std::fs::write(
        tickets.join("train.jsonl"),
        "{\"q\":\"reset password\",\"a\":\"Use the account page.\"}\n",
    )?;
    std::fs::write(
        tickets.join("eval.jsonl"),
        "{\"q\":\"refund\",\"a\":\"Within 30 days.\"}\n",
    )?;
    post(
        client,
        paths::ARTIFACTS,
        &cmd::dataset_request(
            &tickets,
            Some("support-tickets".into()),
            Some("2026-10".into()),
            None,
        )?,
    )
    .await?;
    post(
        client,
        paths::ARTIFACTS,
        &RegisterRequest {
            artifacts: vec![named(
                "dataset",
                "factory-defects",
                "v7",
                json!({"uri": "s3://vision-data/factory-defects/v7"}),
            )],
            edges: vec![],
        },
    )
    .await?;

    // The release before the compromised one, and the training environments: the
    // first resolved ultralytics 8.3.40, the second 8.3.41.
    post(
        client,
        paths::ARTIFACTS,
        &RegisterRequest {
            artifacts: vec![
                ArtifactInput {
                    kind: "package".into(),
                    ref_: Some(ULTRALYTICS_GOOD.into()),
                    name: None,
                    version: None,
                    aliases: vec![],
                    attrs: Map::from_iter([("ecosystem".to_string(), json!("pypi"))]),
                },
                named(
                    "environment",
                    "vision-train",
                    "1",
                    json!({"lockfile": "uv.lock"}),
                ),
                named(
                    "environment",
                    "vision-train",
                    "2",
                    json!({"lockfile": "uv.lock"}),
                ),
            ],
            edges: ["torch", "numpy", "opencv-python", "pillow"]
                .iter()
                .map(|d| edge(ULTRALYTICS_GOOD, "depends-on", &purl(d)))
                .chain([
                    edge("environment:vision-train@1", "depends-on", ULTRALYTICS_GOOD),
                    edge("environment:vision-train@2", "depends-on", COMPROMISED),
                    edge("environment:vision-train@2", "depends-on", &purl("torch")),
                    edge("environment:vision-train@1", "depends-on", &purl("torch")),
                ])
                .collect(),
        },
    )
    .await?;

    // Models, hashed from their files like `ailedger register model` does.
    let models = [
        (
            "llama-3.1-8b-instruct",
            "3.1",
            "LlamaForCausalLM",
            "https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct",
        ),
        (
            "support-bot",
            "3",
            "LlamaForCausalLM",
            "s3://models/support-bot/3",
        ),
        (
            "all-minilm-l6-v2",
            "1",
            "BertModel",
            "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
        ),
        (
            "yolov8n",
            "8.0",
            "DetectionModel",
            "https://github.com/ultralytics/assets/releases/download/v8.2.0/yolov8n.pt",
        ),
        (
            "defect-detector",
            "11",
            "DetectionModel",
            "s3://models/defect-detector/11",
        ),
        (
            "defect-detector",
            "12",
            "DetectionModel",
            "s3://models/defect-detector/12",
        ),
    ];
    for (name, version, arch, source) in models {
        let dir = scratch.join("models").join(format!("{name}-{version}"));
        write_model(&dir, &format!("{name}-{version}"), arch)?;
        post(
            client,
            paths::ARTIFACTS,
            &cmd::model_request(
                &dir,
                Some(name.into()),
                Some(version.into()),
                Some(source.into()),
            )?,
        )
        .await?;
    }
    let links = vec![
        edge(
            "model:llama-3.1-8b-instruct@3.1",
            "depends-on",
            &purl("transformers"),
        ),
        edge(
            "model:llama-3.1-8b-instruct@3.1",
            "depends-on",
            &purl("safetensors"),
        ),
        edge(
            "model:support-bot@3",
            "derived-from",
            "model:llama-3.1-8b-instruct@3.1",
        ),
        edge(
            "model:support-bot@3",
            "trained-on",
            "dataset:support-tickets@2026-10",
        ),
        edge("model:support-bot@3", "built-from", &purl("peft")),
        edge("model:support-bot@3", "built-from", &purl("datasets")),
        edge(
            "model:all-minilm-l6-v2@1",
            "depends-on",
            &purl("sentence-transformers"),
        ),
        edge("model:yolov8n@8.0", "depends-on", ULTRALYTICS_GOOD),
        edge(
            "model:defect-detector@11",
            "derived-from",
            "model:yolov8n@8.0",
        ),
        edge(
            "model:defect-detector@11",
            "built-from",
            "environment:vision-train@1",
        ),
        edge(
            "model:defect-detector@12",
            "derived-from",
            "model:yolov8n@8.0",
        ),
        // Fine-tuned in the training environment that had picked up the bad release.
        edge(
            "model:defect-detector@12",
            "built-from",
            "environment:vision-train@2",
        ),
        edge(
            "model:defect-detector@12",
            "trained-on",
            "dataset:factory-defects@v7",
        ),
    ];
    post(client, paths::LINKS, &LinkRequest { edges: links }).await?;

    // MCP configs and the servers they launch.
    post(client, paths::ARTIFACTS, &RegisterRequest {
        artifacts: vec![
            ArtifactInput { kind: "package".into(), ref_: Some("pkg:npm/%40modelcontextprotocol/server-filesystem@2025.8.21".into()), name: None, version: None, aliases: vec![], attrs: Map::new() },
            ArtifactInput { kind: "package".into(), ref_: Some("pkg:docker/github/github-mcp-server@v0.13.0?repository_url=ghcr.io".into()), name: None, version: None, aliases: vec![], attrs: Map::new() },
            named("mcp-server", "filesystem", "2025.8.21", json!({"transport": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem@2025.8.21", "/srv/docs"]})),
            named("mcp-server", "github", "v0.13.0", json!({"transport": "stdio", "command": "docker", "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server:v0.13.0"]})),
            named("mcp-server", "fetch", "2025.4.7", json!({"transport": "stdio", "command": "uvx", "args": ["mcp-server-fetch==2025.4.7"]})),
            named("mcp-config", "ide-assistant", "1", json!({"client": "claude-desktop"})),
            named("mcp-config", "support-agent-tools", "1", json!({"client": "vscode"})),
        ],
        edges: vec![
            edge("mcp-server:filesystem@2025.8.21", "runs", "pkg:npm/%40modelcontextprotocol/server-filesystem@2025.8.21"),
            edge("mcp-server:github@v0.13.0", "runs", "pkg:docker/github/github-mcp-server@v0.13.0?repository_url=ghcr.io"),
            edge("mcp-server:fetch@2025.4.7", "runs", &purl("mcp-server-fetch")),
            edge("mcp-config:ide-assistant@1", "uses-tool", "mcp-server:filesystem@2025.8.21"),
            edge("mcp-config:ide-assistant@1", "uses-tool", "mcp-server:github@v0.13.0"),
            edge("mcp-config:support-agent-tools@1", "uses-tool", "mcp-server:fetch@2025.4.7"),
        ],
    })
    .await?;

    // Earlier configurations: the defect inspector ran model 11 (trained before the bad
    // release) until model 12 shipped; a batch job ran the bad release itself for a
    // while, then pinned the older one.
    let earlier: [(&str, &str, Vec<String>); 3] = [
        (
            "defect-inspector",
            "prod",
            vec!["model:defect-detector@11".into(), purl("fastapi")],
        ),
        (
            "defect-inspector",
            "staging",
            vec!["model:defect-detector@11".into(), ULTRALYTICS_GOOD.into()],
        ),
        ("vision-batch", "staging", vec![COMPROMISED.into()]),
    ];
    let later: [(&str, &str, Vec<String>); 1] =
        [("vision-batch", "staging", vec![ULTRALYTICS_GOOD.into()])];
    // Deployments in two environments.
    let deployments: [(&str, &str, Vec<String>); 6] = [
        (
            "support-bot",
            "prod",
            vec![
                "model:support-bot@3".into(),
                purl("vllm"),
                "mcp-config:support-agent-tools@1".into(),
            ],
        ),
        (
            "support-bot",
            "staging",
            vec![
                "model:support-bot@3".into(),
                purl("vllm"),
                purl("langchain"),
            ],
        ),
        (
            "semantic-search",
            "prod",
            vec![
                "model:all-minilm-l6-v2@1".into(),
                purl("fastapi"),
                purl("uvicorn"),
            ],
        ),
        (
            "defect-inspector",
            "prod",
            vec!["model:defect-detector@12".into(), purl("fastapi")],
        ),
        (
            "defect-inspector",
            "staging",
            vec!["model:defect-detector@12".into(), purl("ultralytics")],
        ),
        (
            "dev-assistant",
            "staging",
            vec!["mcp-config:ide-assistant@1".into(), purl("openai")],
        ),
    ];
    for (name, env, uses) in earlier.into_iter().chain(deployments).chain(later) {
        // Each team owns its service in every environment.
        let owner = match name {
            "support-bot" => "customer-ai",
            "semantic-search" => "search",
            "defect-inspector" | "vision-batch" => "factory-vision",
            _ => "developer-tools",
        };
        post(
            client,
            paths::DEPLOYMENTS,
            &DeployRequest {
                name: name.into(),
                env: env.into(),
                uses,
                owner: Some(owner.into()),
                contact: Some(format!("{owner}-oncall@example.com")),
                attrs: Map::new(),
                rollback_to_known_good: false,
            },
        )
        .await?;
    }
    Ok(())
}

/// The model whose provenance the demo signs.
const SIGNED_MODEL: &str = "model:support-bot@3";

/// A trust policy trusting a fresh key for models, and the demo's training builder as
/// a hosted one (SLSA Build L2); then SLSA provenance for the fine-tuned model, signed
/// with that key and ingested: the ledger verifies it on the way in.
async fn sign_provenance(client: &Client) -> anyhow::Result<IngestView> {
    use ailedger_attest::{judge::IN_TOTO_PAYLOAD, sign, statement};
    let (key, _) = sign::SigningKey::generate_ed25519()?;
    let policy = format!(
        r#"version = 1

[[keys]]
name = "ml-training-ci"
public_key = """
{}"""
scope = {{ kinds = ["model"] }}

[[builders]]
id_regex = 'https://ci\.example\.com/ml-trainer@.*'
signers = ["ml-training-ci"]
"#,
        key.public_key().to_pem()
    );
    let _: WriteResponse = client
        .put(
            paths::POLICY,
            &PolicyRequest {
                format: Some("toml".into()),
                text: policy,
                files: Default::default(),
            },
        )
        .await?;
    let mut digests = Vec::new();
    for r in [
        SIGNED_MODEL,
        "model:llama-3.1-8b-instruct@3.1",
        "dataset:support-tickets@2026-10",
    ] {
        let view: ArtifactView = client.get(paths::ARTIFACTS, &[("ref", r)]).await?;
        digests.push(view.id.trim_start_matches("sha256:").to_owned());
    }
    let [model, base, tickets] = [&digests[0], &digests[1], &digests[2]];
    let statement = json!({
        "_type": statement::STATEMENT_V1,
        "subject": [{"name": SIGNED_MODEL, "digest": {"sha256": model}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://ci.example.com/ml-trainer/finetune/v1",
                "externalParameters": {"repository": "https://git.example.com/ml/support-bot", "ref": "refs/tags/v3"},
                "resolvedDependencies": [
                    {"uri": "git+https://git.example.com/ml/support-bot@refs/tags/v3", "digest": {"gitCommit": "3f2a9c4e1b7d8f60a5e2c9b4d1f0e7a6c3b2a190"}},
                    {"name": "llama-3.1-8b-instruct", "digest": {"sha256": base}},
                    {"name": "support-tickets", "digest": {"sha256": tickets}}
                ]
            },
            "runDetails": {
                "builder": {"id": "https://ci.example.com/ml-trainer@v2"},
                "metadata": {"invocationId": "https://ci.example.com/runs/4711"}
            }
        }
    });
    let envelope = sign::sign_envelope(IN_TOTO_PAYLOAD, &serde_json::to_vec(&statement)?, &key)?;
    client
        .post_bytes(
            paths::DOCUMENTS,
            &[("name", "support-bot-3.provenance.intoto.json")],
            envelope.to_json(),
        )
        .await
}

impl DemoArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        if !self.listen.ip().is_loopback() {
            return Err(crate::client::UserError(format!(
                "the demo serves plain HTTP on loopback only, not on {}: use a 127.0.0.1 or [::1] \
                 address (`ailedger serve` serves HTTPS elsewhere)",
                self.listen
            ))
            .into());
        }
        let scratch = tempfile::tempdir()?;
        let db = scratch.path().join("demo.db");
        let (store, backend) = serve::open_store(&db.to_string_lossy()).await?;
        let listener = serve::bind(self.listen).await?;
        let addr = listener.local_addr()?;
        let state = ailedger_server::AppState::new(store, backend)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .with_auth(ailedger_server::auth::AuthConfig::new(
                false,
                Some(ailedger_server::auth::loopback_hosts(&addr)),
            ));
        // The demo's own admin token, for itself and for whoever explores it.
        let token = ailedger_server::auth::create_token(
            state.store.as_ref(),
            "ailedger-demo",
            "demo",
            ailedger_core::token::Scope::Admin,
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("granting the demo token: {e}"))?
        .secret;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve::serve_on(listener, state, async move {
            let _ = stop_rx.await;
        }));
        let url = format!("http://{addr}");
        let client = Client::new(&url, Some(&token), &[])?;
        populate(&client, scratch.path()).await?;
        let signed = sign_provenance(&client).await?;
        println!(
            "ailedger demo: a fresh ledger at {} served on {url}\n",
            db.display()
        );
        println!(
            "Incident: ultralytics 8.3.41 and 8.3.42 on PyPI were malicious releases (a cryptominer).\n\
             $ ailedger compromise '{INCIDENT_TARGET}' --severity critical --reason ...\n"
        );
        let incident: IncidentView = client
            .post(
                paths::INCIDENTS,
                &CompromiseRequest {
                    target: Some(INCIDENT_TARGET.into()),
                    osv: None,
                    reason:
                        "malicious releases on PyPI: the 8.3.41 and 8.3.42 wheels ran a cryptominer"
                            .into(),
                    severity: Some("critical".into()),
                    evidence: vec![],
                    advisory: None,
                    block: true,
                },
            )
            .await?;
        let report: ailedger_core::blast::Report = client
            .get(
                &paths::fill(paths::INCIDENT_REPORT, &incident.id.to_string()),
                &[],
            )
            .await?;
        print!("{}", report.table());
        println!(
            "\nA new consumer is flagged as it is written:\n$ ailedger deploy notebook --env dev --uses {COMPROMISED}"
        );
        let flagged = post(
            &client,
            paths::DEPLOYMENTS,
            &DeployRequest {
                name: "notebook".into(),
                env: "dev".into(),
                uses: vec![COMPROMISED.into()],
                owner: Some("research".into()),
                contact: None,
                attrs: Map::new(),
                rollback_to_known_good: false,
            },
        )
        .await?;
        output::written(Format::Table, &flagged)?;
        println!(
            "\nSigned provenance: {SIGNED_MODEL} was built by a trusted CI from its base model, dataset and source (entry {}):",
            signed.seq
        );
        if let Some(a) = &signed.attestation {
            output::attestation_lines(a, "  ");
        }
        if self.exit {
            let _ = stop_tx.send(());
            server.await??;
            return Ok(());
        }
        println!("\nExplore (in another shell; the client talks to {url}):");
        println!("  export AILEDGER_URL={url}");
        println!("  export AILEDGER_TOKEN={token}   # the demo's admin token");
        println!("  ailedger incident show {}", incident.id);
        println!("  ailedger incident report {} --markdown", incident.id);
        println!("  ailedger deploy defect-inspector --env prod --rollback-to-known-good");
        println!("  ailedger deps deployment:prod/support-bot");
        println!("  ailedger impact pkg:pypi/requests@2.32.3");
        println!("  ailedger show model:support-bot@3     # its signed provenance, verified");
        println!("  ailedger impact dataset:support-tickets@2026-10");
        println!("  ailedger entries");
        println!("  curl {url}/openapi.json");
        println!("\nPress Ctrl-C to stop; the demo database is deleted on exit.");
        serve::ctrl_c().await;
        let _ = stop_tx.send(());
        server.await??;
        Ok(())
    }
}
