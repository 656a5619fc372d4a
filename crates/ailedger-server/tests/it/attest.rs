//! Signed provenance through the API, on a real SQLite file and (with
//! `AILEDGER_TEST_POSTGRES_URL`) on PostgreSQL: the trust policy is set by an admin
//! only and checked with the field at fault named; documents are judged under the
//! policy in force and name its seq; refused documents record nothing; attestations
//! are listed on their subject with signer, policy and SLSA level; impact from a
//! material or the builder reaches the subject, marked with its verification.

use std::sync::Arc;

use ailedger_core::token::Scope;
use ailedger_server::{AppState, auth::create_token, paths, router};
use ailedger_store::Store;
use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{Value, json};

use super::{App, call_as, pg_store};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/attest");
const ED_ENV: &str = "python-in-toto/slsa-provenance-v1.ed25519.dsse.json";
const EC_ENV: &str = "python-in-toto/test-result-v0.1.ecdsa-p256.dsse.json";
const SUBJECT: &str = "sha256:a1f259d4365ed4320c377ce26f5c8c56dcdc9a89e7b641bfd8eabfbbeac86654";
const SOURCE: &str =
    "source:https://example.com/org/tiny-model@7fd1a60b01f91b314f59955a4e4d4e80d8edf11d";
const DATASET: &str = "sha256:ce873577c03991c8faaae22e109dd52816739e0a5b8410d17520f8d7f585fd6d";
const TRAINER: &str = "https://example.com/builders/ml-trainer@v1";

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{FIX}/{rel}")).unwrap()
}

fn text(rel: &str) -> String {
    String::from_utf8(read(rel)).unwrap()
}

fn envelope(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).unwrap()
}

/// The app on any store, with an admin token.
async fn app_on(store: Arc<dyn Store>, backend: &str) -> App {
    let state = AppState::new(store, backend).await.unwrap();
    let token = create_token(
        state.store.as_ref(),
        "setup",
        "admin@ci",
        Scope::Admin,
        None,
    )
    .await
    .unwrap()
    .secret;
    App {
        _dir: tempfile::tempdir().unwrap(),
        router: router(state.clone()),
        state,
        token,
    }
}

impl App {
    async fn post_document(&self, query: &str, body: Vec<u8>) -> (StatusCode, String, Value) {
        call_as(
            &self.router,
            &self.token,
            "POST",
            &format!("{}{query}", paths::DOCUMENTS),
            Some(body),
        )
        .await
    }

    async fn put_policy(&self, text: &str) -> u64 {
        let v = self.ok("PUT", paths::POLICY, json!({ "text": text })).await;
        assert_eq!(v["entries"][0]["kind"], "policy", "{v}");
        v["entries"][0]["seq"].as_u64().unwrap()
    }
}

fn key_toml(name: &str, pem_path: &str) -> String {
    format!(
        "[[keys]]\nname = \"{name}\"\npublic_key = '''\n{}'''\n",
        text(pem_path)
    )
}

/// The whole story on one store.
async fn policy_and_ingest(app: &App) {
    let ed_key = key_toml(
        "trainer",
        "python-in-toto/slsa-provenance-v1.ed25519.pub.pem",
    );
    let ec_key = key_toml(
        "evaluator",
        "python-in-toto/test-result-v0.1.ecdsa-p256.pub.pem",
    );

    // No policy yet: the built-in empty one.
    let (s, _, v) = app.call("GET", paths::POLICY, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["seq"], Value::Null, "{v}");
    assert_eq!(v["policy"]["on"]["failed"], "refuse", "{v}");

    // A write token may not set the policy: 403 problem+json, nothing recorded.
    let writer = create_token(app.state.store.as_ref(), "setup", "ci", Scope::Write, None)
        .await
        .unwrap()
        .secret;
    let head = app.head().await;
    let body = json!({ "text": format!("version = 1\n{ed_key}") }).to_string();
    let (s, ctype, v) = call_as(
        &app.router,
        &writer,
        "PUT",
        paths::POLICY,
        Some(body.into_bytes()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(ctype, "application/problem+json");
    assert_eq!(app.head().await, head);
    // The writer may read it.
    let (s, _, _) = call_as(&app.router, &writer, "GET", paths::POLICY, None).await;
    assert_eq!(s, StatusCode::OK);

    // Bad policies: 422 naming the field, nothing recorded.
    for (text, field) in [
        (
            "version = 1\n[[identities]]\nname = \"x\"\nsan = \"a\"\n".to_owned(),
            "identities[0].issuer",
        ),
        ("version = 2\n".to_owned(), "version: 2 is not supported"),
        (
            "version = 1\n[[keys]]\nname = \"k\"\npublic_key = \"nope\"\n".to_owned(),
            "keys[0].public_key",
        ),
        (
            format!("version = 1\n{ed_key}[[builders]]\nid = \"b\"\nsigners = [\"nobody\"]\n"),
            "builders[0].signers[0]",
        ),
        (
            "version = 1\n[sigstore]\ntrusted_root = \"mine.json\"\n".to_owned(),
            "sigstore.trusted_root",
        ),
    ] {
        let (s, ctype, v) = app
            .call(
                "PUT",
                paths::POLICY,
                Some(&json!({ "text": text }).to_string()),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{text}: {v}");
        assert_eq!(ctype, "application/problem+json");
        assert!(
            v["detail"].as_str().unwrap().contains(field),
            "{text}: {v} lacks {field}"
        );
    }
    let (s, _, v) = app
        .call(
            "PUT",
            paths::POLICY,
            Some(r#"{"text": "version = 1", "format": "ini"}"#),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(app.head().await, head, "a refused policy was recorded");

    // Policy 1 trusts only the evaluator: the provenance is unverified under it.
    let p1 = app.put_policy(&format!("version = 1\n{ec_key}")).await;
    let (s, _, v) = app.post_document("?name=prov.json", read(ED_ENV)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let first_doc = v["digest"].as_str().unwrap().to_owned();
    assert_eq!(v["attestation"]["outcome"], "unverified", "{v}");
    assert_eq!(v["attestation"]["policy"]["seq"], p1, "{v}");
    assert!(v["format"].as_str().unwrap().contains("SLSA provenance v1"));

    // Policy 2 trusts the trainer, and marks its builder hardened (YAML this time).
    let p2_text = format!(
        "version: 1\nkeys:\n  - name: trainer\n    public_key: |\n{}builders:\n  - id: \"{TRAINER}\"\n    hardened: true\n    signers: [trainer]\non:\n  unsigned: refuse\n",
        text("python-in-toto/slsa-provenance-v1.ed25519.pub.pem")
            .lines()
            .map(|l| format!("      {l}\n"))
            .collect::<String>()
    );
    let p2 = app.put_policy(&p2_text).await;
    assert!(p2 > p1);
    // The same envelope, other bytes (compact JSON): verified, L3, naming policy 2.
    let (s, _, v) = app
        .post_document("", serde_json::to_vec(&envelope(ED_ENV)).unwrap())
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let j = &v["attestation"];
    assert_eq!(j["outcome"], "verified", "{v}");
    assert_eq!(j["policy"]["seq"], p2, "{v}");
    assert_eq!(j["items"][0]["slsa"]["level"], 3, "{v}");
    assert_eq!(j["items"][0]["signers"][0]["trusted_as"], "trainer", "{v}");
    let second_doc = v["digest"].as_str().unwrap().to_owned();
    assert_ne!(first_doc, second_doc);

    // The policy now and at an earlier seq.
    let v = app.call("GET", paths::POLICY, None).await.2;
    assert_eq!(v["seq"], p2, "{v}");
    assert_eq!(v["format"], "yaml", "{v}");
    assert_eq!(v["text"], p2_text);
    assert_eq!(v["policy"]["on"]["unsigned"], "refuse", "{v}");
    assert_eq!(v["policy"]["builders"][0]["hardened"], true, "{v}");
    let v = app
        .call("GET", &format!("{}?at={}", paths::POLICY, p2 - 1), None)
        .await
        .2;
    assert_eq!(v["seq"], p1, "{v}");
    assert_eq!(v["format"], "toml", "{v}");
    assert_eq!(v["policy"]["keys"][0]["name"], "evaluator", "{v}");
    let v = app
        .call("GET", &format!("{}?at={}", paths::POLICY, p1 - 1), None)
        .await
        .2;
    assert_eq!(v["seq"], Value::Null, "{v}");

    // Refused documents record nothing.
    let head = app.head().await;
    let bare = base64::engine::general_purpose::STANDARD
        .decode(envelope(ED_ENV)["payload"].as_str().unwrap())
        .unwrap();
    let (s, ctype, v) = app.post_document("?name=bare.json", bare).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(ctype, "application/problem+json");
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("bare.json: refused") && detail.contains("refuses unsigned documents"),
        "{v}"
    );
    assert!(detail.contains(&format!("of entry {p2}")), "{v}");
    let mut tampered = envelope(ED_ENV);
    let payload = String::from_utf8(bare_payload()).unwrap().replacen(
        "configs/tiny.yaml",
        "configs/evil.yaml",
        1,
    );
    tampered["payload"] = Value::from(base64::engine::general_purpose::STANDARD.encode(payload));
    let (s, _, v) = app
        .post_document("", serde_json::to_vec(&tampered).unwrap())
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("signature does not verify with key f5b4ef8b"),
        "{v}"
    );
    // require_verified: the evaluator's statement is untrusted now.
    let (s, _, v) = app
        .post_document("?require_verified=true", read(EC_ENV))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("verification was required"),
        "{v}"
    );
    assert_eq!(app.head().await, head, "a refused document was recorded");
    // Without it, the same statement is recorded as unverified.
    let (s, _, v) = app.post_document("", read(EC_ENV)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["attestation"]["outcome"], "unverified");
    // And a verified document passes require_verified.
    let (s, _, v) = app
        .post_document(
            "?require_verified=true",
            serde_json::to_vec_pretty(&envelope(ED_ENV)).unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["attestation"]["outcome"], "verified");

    // The subject lists its attestations, newest first, with signer, policy, level.
    let a = app
        .call("GET", &format!("{}?ref={SUBJECT}", paths::ARTIFACTS), None)
        .await
        .2;
    let list = a["attestations"].as_array().unwrap();
    assert_eq!(list.len(), 4, "{a}");
    let seqs: Vec<u64> = list.iter().map(|x| x["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    let by_id = |id: &str| {
        list.iter()
            .find(|x| x["id"] == id)
            .unwrap_or_else(|| panic!("{id} not listed: {a}"))
    };
    let old = by_id(&first_doc);
    assert_eq!(old["outcome"], "unverified", "{old}");
    assert_eq!(old["policy_seq"], p1, "{old}");
    assert_eq!(old["slsa_level"], 1, "{old}");
    assert_eq!(old["builder"], TRAINER, "{old}");
    let new = by_id(&second_doc);
    assert_eq!(new["outcome"], "verified", "{new}");
    assert_eq!(new["policy_seq"], p2, "{new}");
    assert_eq!(new["slsa_level"], 3, "{new}");
    assert_eq!(new["signers"][0]["trusted_as"], "trainer", "{new}");
    assert_eq!(
        new["signers"][0]["key_id"],
        "f5b4ef8be18a9779203e41a61d2ee3f34380da5fa21760eee7e270de995679e4"
    );
    assert!(
        list.iter().any(|x| x["predicate_type"]
            == "https://in-toto.io/attestation/test-result/v0.1"
            && x["outcome"] == "unverified"),
        "{a}"
    );

    // Impact of a material, the source and the builder reaches the subject, verified.
    for (from, edge) in [
        (SOURCE.to_owned(), "built-from"),
        (DATASET.to_owned(), "built-from"),
        (format!("builder:{TRAINER}"), "built-by"),
    ] {
        let (s, _, v) = app
            .call(
                "GET",
                &format!("{}?ref={}", paths::IMPACT, from.replace('@', "%40")),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{from}: {v}");
        let hit = v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == SUBJECT)
            .unwrap_or_else(|| panic!("{from}: the subject is not hit: {v}"));
        assert_eq!(hit["verification"], "verified", "{from}: {hit}");
        assert_eq!(hit["edge"], edge, "{from}: {hit}");
        // Reached straight from the queried artifact.
        assert!(hit.get("parent").is_none(), "{from}: {hit}");
        assert_eq!(hit["depth"], 1, "{from}: {hit}");
    }
    // One source artifact for the commit (the git+ material and the provenance
    // source name the same repository).
    let (s, _, v) = app
        .call(
            "GET",
            &format!(
                "{}?ref={}",
                paths::RESOLVE,
                "source:git+https://example.com/org/tiny-model%407fd1a60b01f91b314f59955a4e4d4e80d8edf11d"
            ),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    // Deps of the subject: what it was built from and by.
    let v = app
        .call("GET", &format!("{}?ref={SUBJECT}", paths::DEPS), None)
        .await
        .2;
    let ids: Vec<&str> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    for want in [SOURCE, DATASET, &format!("builder:{TRAINER}")] {
        assert!(ids.contains(&want), "deps lack {want}: {ids:?}");
    }
}

fn bare_payload() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(envelope(ED_ENV)["payload"].as_str().unwrap())
        .unwrap()
}

#[tokio::test]
async fn policy_and_attestations_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        ailedger_store_sqlite::SqliteStore::open(&dir.path().join("l.db"))
            .await
            .unwrap(),
    );
    let app = app_on(store, "sqlite").await;
    policy_and_ingest(&app).await;
}

#[tokio::test]
async fn policy_and_attestations_on_postgres() {
    let Some((store, _, _)) = pg_store("attest", "policy_and_attestations_on_postgres").await
    else {
        return;
    };
    let app = app_on(store, "postgres").await;
    policy_and_ingest(&app).await;
}

/// Model signatures through the API: a model registered from its files is the subject
/// of its signature (by ailedger's manifest digest), verified once the key is trusted.
#[tokio::test]
async fn a_model_signature_attests_the_registered_model() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        ailedger_store_sqlite::SqliteStore::open(&dir.path().join("l.db"))
            .await
            .unwrap(),
    );
    let app = app_on(store, "sqlite").await;
    let pem = text("model_signing/ec_p256_public.pem");
    app.put_policy(&format!(
        "version = 1\n[[keys]]\nname = \"release\"\npublic_key = '''\n{pem}'''\nscope = {{ kinds = [\"model\"], model_sources = [\"hf://acme/*\"] }}\n"
    ))
    .await;
    // The model as the CLI registers it: its manifest, its source.
    let root = std::path::Path::new(FIX).join("model_signing/tiny-model");
    let mut manifest = Vec::new();
    for rel in [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer/tokenizer.json",
    ] {
        let bytes = std::fs::read(root.join(rel)).unwrap();
        manifest.push(json!({
            "path": rel,
            "sha256": ailedger_core::Sha256Digest::of(&bytes).to_string(),
            "size": bytes.len(),
        }));
    }
    let text_of: String = manifest
        .iter()
        .map(|f| {
            format!(
                "{}  {}\n",
                f["sha256"].as_str().unwrap().trim_start_matches("sha256:"),
                f["path"].as_str().unwrap()
            )
        })
        .collect();
    let id = ailedger_core::Sha256Digest::of(text_of.as_bytes()).to_string();
    app.ok(
        "POST",
        paths::ARTIFACTS,
        json!({"artifacts": [{"kind": "model", "ref": id, "name": "tiny", "version": "1",
               "attrs": {"manifest": manifest, "source": "hf://acme/tiny"}}]}),
    )
    .await;
    let (s, _, v) = app
        .post_document("?name=tiny-model.sig", read("model_signing/tiny-model.sig"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["attestation"]["outcome"], "verified", "{v}");
    assert_eq!(v["attestation"]["items"][0]["subjects"], json!([id]), "{v}");
    let a = app
        .call(
            "GET",
            &format!("{}?ref=model:tiny%401", paths::ARTIFACTS),
            None,
        )
        .await
        .2;
    assert_eq!(a["id"], id, "{a}");
    assert_eq!(a["attestations"][0]["outcome"], "verified", "{a}");
    assert_eq!(
        a["attestations"][0]["signers"][0]["trusted_as"], "release",
        "{a}"
    );
}
