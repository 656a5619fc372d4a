//! The policy gate through the API (`POST /v1/check`) over real registrations and
//! signed attestations on a SQLite file: no policy passes with a note; a request's
//! policy fails the release with codes and recommendations; the policy in force,
//! once the model's provenance and evaluation are verified and an SBOM describes a
//! component, passes it; bad refs and bad policies are problems naming the fault.

use ailedger_core::token::Scope;
use ailedger_server::{auth::create_token, paths};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{App, app, call_as};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/attest");
const PROVENANCE: &str = "python-in-toto/slsa-provenance-v1.ed25519.dsse.json";
const TEST_RESULT: &str = "python-in-toto/test-result-v0.1.ecdsa-p256.dsse.json";
/// The model both attestations are about.
const MODEL: &str = "sha256:a1f259d4365ed4320c377ce26f5c8c56dcdc9a89e7b641bfd8eabfbbeac86654";
const TRAINER: &str = "https://example.com/builders/ml-trainer@v1";

fn text(rel: &str) -> String {
    std::fs::read_to_string(format!("{FIX}/{rel}")).unwrap()
}

fn key_toml(name: &str, pem_path: &str) -> String {
    format!(
        "[[keys]]\nname = \"{name}\"\npublic_key = '''\n{}'''\n",
        text(pem_path)
    )
}

impl App {
    async fn check(&self, body: Value) -> (StatusCode, String, Value) {
        self.call("POST", paths::CHECK, Some(&body.to_string()))
            .await
    }

    async fn checked(&self, body: Value) -> Value {
        let (s, _, v) = self.check(body).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
}

fn codes(report: &Value) -> Vec<(String, String)> {
    report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["artifact"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn registered() -> App {
    let app = app().await;
    app.ok(
        "POST",
        paths::ARTIFACTS,
        json!({"artifacts": [
            {"kind": "model", "ref": MODEL, "name": "tiny", "version": "1", "attrs": {
                "source": "https://huggingface.co/acme/tiny",
                "architectures": ["LlamaForCausalLM"],
                "findings": [{"code": "AIL-PKL-015", "severity": "medium",
                    "message": "Model directory mixes safetensors with pickle weights"}]}},
            {"kind": "package", "ref": "pkg:pypi/torch@2.4.1"},
            {"kind": "package", "ref": "pkg:npm/left-pad@1.3.0"}
        ], "edges": [
            {"from": MODEL, "edge": "depends-on", "to": "pkg:pypi/torch@2.4.1"},
            {"from": "pkg:pypi/torch@2.4.1", "edge": "depends-on", "to": "pkg:npm/left-pad@1.3.0"}
        ]}),
    )
    .await;
    app.ok(
        "POST",
        paths::DEPLOYMENTS,
        json!({"name": "bot", "env": "prod", "uses": ["model:tiny@1"]}),
    )
    .await;
    app
}

#[tokio::test]
async fn check_passes_and_fails_over_real_registrations() {
    let app = registered().await;

    // No policy anywhere: every knob off, a pass with a note.
    let v = app.checked(json!({"ref": "deployment:prod/bot"})).await;
    assert_eq!(v["passed"], true, "{v}");
    assert_eq!(v["policy"]["source"], "none", "{v}");
    assert_eq!(v["components"], 4, "{v}");
    assert_eq!(v["at_seq"], app.head().await, "{v}");
    assert_eq!(v["subject"]["kind"], "deployment");
    assert!(v["notes"][0].as_str().unwrap().contains("no gate policy"));

    // A policy with the request: unverified, pickle (.bin), npm not allowed, no SBOM.
    let gate = "version = 1\n[gate]\nrequire_verified = [\"model\"]\ndeny_formats = [\"pickle\"]\n\
                allowed_sources = [\"pkg:pypi/*\", \"https://huggingface.co/acme/*\"]\n\
                require_sbom = true\ndeny_architectures = [\"Llama*\"]\n";
    let v = app
        .checked(json!({"ref": "deployment:prod/bot", "policy": {"format": "toml", "text": gate}}))
        .await;
    assert_eq!(v["passed"], false, "{v}");
    assert_eq!(v["policy"]["source"], "request");
    assert!(
        v["policy"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    let want = [
        ("AIL-GATE-010", "deployment:prod/bot"),
        ("AIL-GATE-004", MODEL),
        ("AIL-GATE-008", MODEL),
        ("AIL-GATE-011", MODEL),
        ("AIL-GATE-006", "pkg:npm/left-pad@1.3.0"),
    ];
    let mut got = codes(&v);
    got.sort();
    let mut want: Vec<(String, String)> = want
        .iter()
        .map(|(c, id)| (c.to_string(), id.to_string()))
        .collect();
    want.sort();
    assert_eq!(got, want, "{v}");
    for f in v["failures"].as_array().unwrap() {
        assert!(!f["recommendation"].as_str().unwrap().is_empty(), "{f}");
        assert!(!f["knob"].as_str().unwrap().is_empty(), "{f}");
    }
    let pickle = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "AIL-GATE-008")
        .unwrap();
    assert_eq!(pickle["artifact"]["label"], "model:tiny@1");
    assert!(
        pickle["message"]
            .as_str()
            .unwrap()
            .contains("inspection findings")
    );
    assert!(
        pickle["recommendation"]
            .as_str()
            .unwrap()
            .contains("safetensors")
    );
    // The model alone: no SBOM failure (not a deployment), the rest as before.
    let v = app
        .checked(json!({"ref": "model:tiny@1", "policy": {"text": gate}}))
        .await;
    assert_eq!(v["subject"]["id"], MODEL);
    assert_eq!(v["components"], 3);
    assert!(!codes(&v).iter().any(|(c, _)| c == "AIL-GATE-010"), "{v}");

    // The policy in force trusts the trainer (hardened builder) and the evaluator, and
    // gates on verification, SLSA 3, an evaluation, and an SBOM.
    let policy = format!(
        "version = 1\n{}{}[[builders]]\nid = \"{TRAINER}\"\nhardened = true\nsigners = [\"trainer\"]\n\
         [gate]\nrequire_verified = [\"model\"]\nmin_slsa_level = {{ model = 3 }}\n\
         require_evaluation = [\"https://in-toto.io/attestation/test-result/*\"]\n\
         require_sbom = true\ndeny_open_incidents = true\n",
        key_toml(
            "trainer",
            "python-in-toto/slsa-provenance-v1.ed25519.pub.pem"
        ),
        key_toml(
            "evaluator",
            "python-in-toto/test-result-v0.1.ecdsa-p256.pub.pem"
        ),
    );
    let put = app
        .ok("PUT", paths::POLICY, json!({ "text": policy }))
        .await;
    let policy_seq = put["entries"][0]["seq"].as_u64().unwrap();
    let v = app.checked(json!({"ref": "deployment:prod/bot"})).await;
    assert_eq!(v["policy"]["source"], "ledger", "{v}");
    assert_eq!(v["policy"]["seq"], policy_seq, "{v}");
    let mut got = codes(&v);
    got.sort();
    assert_eq!(
        got,
        [
            ("AIL-GATE-004".to_owned(), MODEL.to_owned()),
            ("AIL-GATE-005".to_owned(), MODEL.to_owned()),
            ("AIL-GATE-010".to_owned(), "deployment:prod/bot".to_owned()),
            ("AIL-GATE-012".to_owned(), MODEL.to_owned()),
        ],
        "{v}"
    );

    // Verified provenance (L3) and a verified test result; an SBOM describing torch.
    for rel in [PROVENANCE, TEST_RESULT] {
        let (s, _, w) = call_as(
            &app.router,
            &app.token,
            "POST",
            paths::DOCUMENTS,
            Some(std::fs::read(format!("{FIX}/{rel}")).unwrap()),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{w}");
        assert_eq!(w["attestation"]["outcome"], "verified", "{w}");
    }
    app.ok(
        "POST",
        paths::ARTIFACTS,
        json!({"artifacts": [
            {"kind": "sbom", "name": "bot", "version": "1"}
        ], "edges": [
            {"from": "sbom:bot@1", "edge": "describes", "to": "pkg:pypi/torch@2.4.1"}
        ]}),
    )
    .await;
    let v = app.checked(json!({"ref": "deployment:prod/bot"})).await;
    assert_eq!(v["passed"], true, "{v}");
    assert!(v["failures"].as_array().unwrap().is_empty(), "{v}");
    // The provenance's materials and builder are components now.
    assert!(v["components"].as_u64().unwrap() > 4, "{v}");

    // A read token may check.
    let reader = create_token(
        app.state.store.as_ref(),
        "setup",
        "ci-read",
        Scope::Read,
        None,
    )
    .await
    .unwrap()
    .secret;
    let body = json!({"ref": "deployment:prod/bot"})
        .to_string()
        .into_bytes();
    let (s, _, v) = call_as(&app.router, &reader, "POST", paths::CHECK, Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["passed"], true);
}

#[tokio::test]
async fn bad_refs_and_policies_are_problems() {
    let app = registered().await;
    let head = app.head().await;
    let (s, ctype, v) = app.check(json!({"ref": "model:nope@1"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(ctype, "application/problem+json");
    assert!(
        v["detail"].as_str().unwrap().contains("model:nope@1"),
        "{v}"
    );
    let (s, _, v) = app.check(json!({"ref": "not a ref"})).await;
    assert!(s.is_client_error(), "{v}");
    for (policy, field) in [
        (
            json!({"text": "version = 1\n[gate]\ndeny_formats = [\"zip\"]\n"}),
            "policy.text: policy: gate.deny_formats[0]",
        ),
        (
            json!({"text": "version = 1\n[gate]\nmin_slsa_level = { model = 9 }\n"}),
            "gate.min_slsa_level.model",
        ),
        (
            json!({"text": "version = 1\n[gate]\nno_such_knob = 1\n"}),
            "no_such_knob",
        ),
        (
            json!({"text": "version = 1", "format": "ini"}),
            "policy.format",
        ),
    ] {
        let (s, ctype, v) = app
            .check(json!({"ref": "deployment:prod/bot", "policy": policy}))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{policy}: {v}");
        assert_eq!(ctype, "application/problem+json");
        assert!(
            v["detail"].as_str().unwrap().contains(field),
            "{policy}: {v} lacks {field}"
        );
    }
    let (s, _, v) = app
        .check(json!({"ref": "deployment:prod/bot", "polcy": {}}))
        .await;
    // An unknown request field is refused like every other body that does not read.
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("polcy"), "{v}");
    assert_eq!(app.head().await, head, "a check wrote to the ledger");
}
