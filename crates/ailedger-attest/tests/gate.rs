//! The policy gate, data-driven: every knob failing and passing, with the failure's
//! code, artifact and recommendation checked; the SARIF form against the SARIF 2.1.0
//! schema; attestation facts read from a recorded judgement.
#![allow(clippy::unwrap_used)]

use ailedger_attest::{
    gate::{
        AttestationFacts, Code, Component, Containment, DescribingDocument, GateInput, PolicyUsed,
        Report, check,
    },
    judge::Outcome,
    policy::{PolicyFile, PolicyFormat},
};
use ailedger_core::ArtifactKind;
use serde_json::{Value, json};

const DAY_US: i64 = 86_400 * 1_000_000;
const NOW: i64 = 1_800_000_000 * 1_000_000;
const TEST_RESULT: &str = "https://in-toto.io/attestation/test-result/v0.1";
const PROVENANCE: &str = "https://slsa.dev/provenance/v1";

fn comp(id: &str, kind: ArtifactKind) -> Component {
    let mut c = Component::new(id, kind);
    c.name = Some(id.rsplit([':', '/']).next().unwrap_or(id).to_owned());
    c.version = Some("1".into());
    c.first_registered_us = Some(NOW - DAY_US);
    c
}

fn model(id: &str) -> Component {
    comp(id, ArtifactKind::Model)
}

fn with(mut c: Component, attrs: Value) -> Component {
    for (k, v) in attrs.as_object().unwrap() {
        c.attrs.insert(k.clone(), v.clone());
    }
    c
}

fn attested(mut c: Component, outcome: Outcome, predicate: &str, slsa: Option<u8>) -> Component {
    c.attestations.push(AttestationFacts {
        id: format!("sha256:{:064x}", c.attestations.len()),
        predicate_type: Some(predicate.into()),
        outcome,
        slsa_level: slsa,
    });
    c
}

fn contained(mut c: Component, k: Containment) -> Component {
    c.containment = k;
    c
}

fn deployment() -> Component {
    comp("deployment:prod/bot", ArtifactKind::Deployment)
}

fn run(gate: &str, components: &[Component]) -> Report {
    let text = format!("version = 1\n[gate]\n{gate}\n");
    let (file, _) = PolicyFile::parse(&text, Some(PolicyFormat::Toml)).unwrap();
    check(&GateInput {
        subject: &components[0].id,
        components,
        rules: file.gate.as_ref(),
        policy: PolicyUsed {
            source: "request".into(),
            digest: None,
            seq: None,
        },
        at_seq: 42,
        now_us: NOW,
    })
}

/// `(gate section, components (subject first), expected failures: (code, artifact id,
/// text the recommendation contains))`.
type Case = (
    &'static str,
    &'static str,
    Vec<Component>,
    Vec<(Code, &'static str, &'static str)>,
);

fn cases() -> Vec<Case> {
    let m = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let d = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    let dep = || deployment();
    vec![
        (
            "blocklisted always fails",
            "",
            vec![
                dep(),
                contained(
                    comp("pkg:pypi/evil@1.0", ArtifactKind::Package),
                    Containment {
                        blocked: vec![9],
                        ..Containment::default()
                    },
                ),
            ],
            vec![(
                Code::Blocklisted,
                "pkg:pypi/evil@1.0",
                "replace it with a version no blocklist entry matches",
            )],
        ),
        (
            "not blocklisted passes",
            "",
            vec![dep(), comp("pkg:pypi/ok@1.0", ArtifactKind::Package)],
            vec![],
        ),
        (
            "quarantined always fails",
            "",
            vec![
                dep(),
                contained(
                    model(m),
                    Containment {
                        quarantined: true,
                        ..Containment::default()
                    },
                ),
            ],
            vec![(Code::Quarantined, m, "release it from quarantine")],
        ),
        (
            "open incident fails with deny_open_incidents",
            "deny_open_incidents = true",
            vec![
                dep(),
                contained(
                    model(m),
                    Containment {
                        incidents: vec![7],
                        ..Containment::default()
                    },
                ),
            ],
            vec![(Code::OpenIncident, m, "close incident #7")],
        ),
        (
            "open incident passes without the knob",
            "deny_open_incidents = false",
            vec![
                dep(),
                contained(
                    model(m),
                    Containment {
                        incidents: vec![7],
                        ..Containment::default()
                    },
                ),
            ],
            vec![],
        ),
        (
            "require_verified: unverified model fails, unlisted package passes",
            "require_verified = [\"model\"]",
            vec![
                dep(),
                attested(model(m), Outcome::Unverified, PROVENANCE, Some(1)),
                comp("pkg:pypi/torch@2.4.1", ArtifactKind::Package),
            ],
            vec![(
                Code::Unverified,
                m,
                "trust policy trusts for model artifacts",
            )],
        ),
        (
            "require_verified: verified model passes",
            "require_verified = [\"model\"]",
            vec![
                dep(),
                attested(model(m), Outcome::Verified, PROVENANCE, Some(2)),
            ],
            vec![],
        ),
        (
            "min_slsa_level: level 1, and a failed level 3, are below 2",
            "min_slsa_level = { model = 2 }",
            vec![
                dep(),
                attested(
                    attested(model(m), Outcome::Unverified, PROVENANCE, Some(1)),
                    Outcome::Failed,
                    PROVENANCE,
                    Some(3),
                ),
            ],
            vec![(Code::SlsaLevel, m, "on a builder the trust policy lists")],
        ),
        (
            "min_slsa_level: level 3 asks for a hardened builder",
            "min_slsa_level = { package = 3 }",
            vec![dep(), comp("pkg:pypi/a@1", ArtifactKind::Package)],
            vec![(Code::SlsaLevel, "pkg:pypi/a@1", "as hardened")],
        ),
        (
            "min_slsa_level: level 2 passes",
            "min_slsa_level = { model = 2 }",
            vec![
                dep(),
                attested(model(m), Outcome::Verified, PROVENANCE, Some(2)),
            ],
            vec![],
        ),
        (
            "allowed_sources: npm and an unlisted model source fail; files are not sourced",
            "allowed_sources = [\"pkg:pypi/*\", \"https://huggingface.co/acme/*\"]",
            vec![
                dep(),
                comp("pkg:npm/left-pad@1.3.0", ArtifactKind::Package),
                comp("pkg:pypi/torch@2.4.1", ArtifactKind::Package),
                with(
                    model(m),
                    json!({"source": "https://huggingface.co/mallory/llama"}),
                ),
                with(
                    model(d),
                    json!({"source": "https://huggingface.co/acme/llama"}),
                ),
                comp(
                    "sha256:3333333333333333333333333333333333333333333333333333333333333333",
                    ArtifactKind::File,
                ),
            ],
            vec![
                (
                    Code::SourceNotAllowed,
                    "pkg:npm/left-pad@1.3.0",
                    "add its registry to gate.allowed_sources",
                ),
                (Code::SourceNotAllowed, m, "take model:"),
            ],
        ),
        (
            "allowed_sources: an alias matches",
            "allowed_sources = [\"pkg:huggingface/acme/*\"]",
            vec![dep(), {
                let mut c = model(m);
                c.aliases = vec!["pkg:huggingface/acme/llama@abc".into()];
                c
            }],
            vec![],
        ),
        (
            "max_model_age_days: 40 days is too old, 10 is not",
            "max_model_age_days = 30",
            vec![
                dep(),
                {
                    let mut c = model(m);
                    c.first_registered_us = Some(NOW - 40 * DAY_US);
                    c
                },
                {
                    let mut c = model(d);
                    c.first_registered_us = Some(NOW - 10 * DAY_US);
                    c
                },
            ],
            vec![(Code::ModelTooOld, m, "raise gate.max_model_age_days")],
        ),
        (
            "deny_formats: pickle by extension and by finding; safetensors passes",
            "deny_formats = [\"pickle\"]",
            vec![
                dep(),
                with(
                    model(m),
                    json!({"manifest": [
                    {"path": "pytorch_model.bin", "sha256": "sha256:00", "size": 1},
                    {"path": "config.json", "sha256": "sha256:01", "size": 1}]}),
                ),
                with(
                    model(d),
                    json!({"manifest": [
                    {"path": "model.safetensors", "sha256": "sha256:02", "size": 1}]}),
                ),
                with(
                    comp(
                        "sha256:4444444444444444444444444444444444444444444444444444444444444444",
                        ArtifactKind::Dataset,
                    ),
                    json!({"findings": [{"code": "AIL-PKL-003", "severity": "medium", "message": "x"}]}),
                ),
            ],
            vec![
                (Code::DeniedFormat, m, "convert model:"),
                (
                    Code::DeniedFormat,
                    "sha256:4444444444444444444444444444444444444444444444444444444444444444",
                    "to safetensors",
                ),
            ],
        ),
        (
            "deny_findings_at: high fails, medium passes",
            "deny_findings_at = \"high\"",
            vec![
                dep(),
                with(
                    model(m),
                    json!({"findings": [{"code": "AIL-PKL-001", "severity": "critical", "message": "x"}]}),
                ),
                with(
                    model(d),
                    json!({"findings": [{"code": "AIL-PKL-003", "severity": "medium", "message": "x"}]}),
                ),
            ],
            vec![(Code::Finding, m, "fix or remove what the findings point at")],
        ),
        (
            "require_sbom: a deployment without one fails",
            "require_sbom = true",
            vec![dep(), model(m)],
            vec![(
                Code::NoSbom,
                "deployment:prod/bot",
                "ailedger ingest sbom.json",
            )],
        ),
        (
            "require_sbom: an SBOM describing a component passes",
            "require_sbom = true",
            vec![dep(), {
                let mut c = model(m);
                c.described_by = vec![DescribingDocument {
                    id: "sha256:55".into(),
                    kind: ArtifactKind::Sbom,
                }];
                c
            }],
            vec![],
        ),
        (
            "require_sbom: an SBOM among the components passes",
            "require_sbom = true",
            vec![dep(), comp("sbom:bot@1", ArtifactKind::Sbom)],
            vec![],
        ),
        (
            "require_sbom: only deployments need one",
            "require_sbom = true",
            vec![model(m)],
            vec![],
        ),
        (
            "deny_architectures: Llama* fails, Bert passes",
            "deny_architectures = [\"Llama*\"]",
            vec![
                dep(),
                with(model(m), json!({"architectures": ["LlamaForCausalLM"]})),
                with(model(d), json!({"architectures": ["BertModel"]})),
            ],
            vec![(
                Code::DeniedArchitecture,
                m,
                "architecture the policy allows",
            )],
        ),
        (
            "require_evaluation: provenance and an unverified test result are not enough",
            "require_evaluation = [\"https://in-toto.io/attestation/test-result/v0.1\"]",
            vec![
                dep(),
                attested(
                    attested(model(m), Outcome::Verified, PROVENANCE, Some(2)),
                    Outcome::Unverified,
                    TEST_RESULT,
                    None,
                ),
                attested(model(d), Outcome::Verified, TEST_RESULT, None),
            ],
            vec![(Code::NoEvaluation, m, "run the evaluation, sign its")],
        ),
        (
            "deny_insecure_data_sources: http fails, unverified fails, verified https passes",
            "deny_insecure_data_sources = true",
            vec![
                dep(),
                attested(
                    with(
                        comp("dataset:plain@1", ArtifactKind::Dataset),
                        json!({"source": "http://data.example/x"}),
                    ),
                    Outcome::Verified,
                    PROVENANCE,
                    None,
                ),
                with(
                    comp("dataset:anon@1", ArtifactKind::Dataset),
                    json!({"uri": "https://data.example/y"}),
                ),
                attested(
                    with(
                        comp("dataset:good@1", ArtifactKind::Dataset),
                        json!({"source": "https://data.example/z"}),
                    ),
                    Outcome::Verified,
                    PROVENANCE,
                    None,
                ),
            ],
            vec![
                (
                    Code::InsecureDataSource,
                    "dataset:plain@1",
                    "fetch dataset:plain@1 over https",
                ),
                (
                    Code::UnverifiedDataOrigin,
                    "dataset:anon@1",
                    "have the dataset's producer sign",
                ),
            ],
        ),
    ]
}

#[test]
fn every_knob_fails_and_passes() {
    for (name, gate, components, want) in cases() {
        let report = run(gate, &components);
        let got: Vec<(Code, &str)> = report
            .failures
            .iter()
            .map(|f| (f.code, f.artifact.id.as_str()))
            .collect();
        let expected: Vec<(Code, &str)> = want.iter().map(|(c, id, _)| (*c, *id)).collect();
        assert_eq!(got, expected, "{name}: {:#?}", report.failures);
        assert_eq!(report.passed, want.is_empty(), "{name}");
        assert_eq!(report.components, components.len(), "{name}");
        assert_eq!(report.at_seq, 42);
        for (f, (code, _, rec)) in report.failures.iter().zip(&want) {
            assert_eq!(f.code.as_str(), code.as_str());
            assert_eq!(f.knob, code.knob(), "{name}");
            assert!(
                f.recommendation.contains(rec),
                "{name}: recommendation {:?} lacks {rec:?}",
                f.recommendation
            );
            assert!(!f.message.is_empty());
            assert!(!f.artifact.label.is_empty());
        }
    }
    // Every code is exercised by some failing case.
    let seen: std::collections::HashSet<Code> = cases()
        .into_iter()
        .flat_map(|(_, _, _, w)| w.into_iter().map(|(c, _, _)| c))
        .collect();
    for c in Code::ALL {
        assert!(seen.contains(&c), "{} has no failing case", c.as_str());
    }
}

#[test]
fn labels_are_readable_and_no_policy_passes_with_a_note() {
    let m = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let components = vec![deployment(), model(m)];
    let report = check(&GateInput {
        subject: "deployment:prod/bot",
        components: &components,
        rules: None,
        policy: PolicyUsed {
            source: "none".into(),
            digest: None,
            seq: None,
        },
        at_seq: 3,
        now_us: NOW,
    });
    assert!(report.passed);
    assert!(report.notes[0].contains("no gate policy"));
    assert_eq!(report.subject.kind, ArtifactKind::Deployment);
    // Blocked even with no policy; the label reads as a named ref.
    let blocked = vec![
        deployment(),
        contained(
            model(m),
            Containment {
                blocked: vec![4, 5],
                ..Containment::default()
            },
        ),
    ];
    let report = check(&GateInput {
        subject: "deployment:prod/bot",
        components: &blocked,
        rules: None,
        policy: PolicyUsed::default(),
        at_seq: 3,
        now_us: NOW,
    });
    assert!(!report.passed);
    assert_eq!(
        report.failures[0].artifact.label,
        "model:1111111111111111111111111111111111111111111111111111111111111111@1"
    );
    assert!(report.failures[0].message.contains("#4, #5"));
    // The JSON form reads back.
    let text = serde_json::to_string(&report).unwrap();
    assert!(text.contains("\"code\":\"AIL-GATE-001\""));
    let back: Report = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}

#[test]
fn gate_faults_name_the_field() {
    for (gate, want) in [
        (
            "min_slsa_level = { model = 4 }",
            "gate.min_slsa_level.model: 4",
        ),
        (
            "deny_formats = [\"zip\"]",
            "gate.deny_formats[0]: unknown format \"zip\"",
        ),
        ("allowed_sources = [\"pkg:*/x\"]", "gate.allowed_sources[0]"),
        ("allowed_sources = [\"*\"]", "gate.allowed_sources[0]"),
        ("max_model_age_days = 0", "gate.max_model_age_days"),
        (
            "deny_architectures = [\"\"]",
            "gate.deny_architectures[0]: empty",
        ),
        ("deny_findings_at = \"severe\"", "severe"),
        ("require_verified = [\"robot\"]", "robot"),
        ("no_such_knob = true", "unknown field `no_such_knob`"),
    ] {
        let text = format!("version = 1\n[gate]\n{gate}\n");
        let e = PolicyFile::parse(&text, Some(PolicyFormat::Toml))
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{gate}: {e}");
    }
    // YAML reads the same section.
    let (a, _) = PolicyFile::parse(
        "version = 1\n[gate]\nrequire_verified = [\"model\"]\nmin_slsa_level = { model = 2 }\n",
        None,
    )
    .unwrap();
    let (b, f) = PolicyFile::parse(
        "version: 1\ngate:\n  require_verified: [model]\n  min_slsa_level: {model: 2}\n",
        None,
    )
    .unwrap();
    assert_eq!(f, PolicyFormat::Yaml);
    assert_eq!(a, b);
}

#[test]
fn sarif_validates_against_the_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../../../schemas/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut all = 0;
    for (name, gate, components, want) in cases() {
        let report = run(gate, &components);
        let log = report.to_sarif();
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), want.len(), "{name}");
        for (r, (code, id, _)) in results.iter().zip(&want) {
            assert_eq!(r["ruleId"], code.as_str());
            assert_eq!(r["level"], "error");
            assert_eq!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                *id
            );
            let rule = &log["runs"][0]["tool"]["driver"]["rules"]
                [r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], code.as_str());
        }
        all += results.len();
    }
    assert!(all >= 14);
    // The validator can fail.
    let report = run("require_sbom = true", &[deployment()]);
    let mut bad = report.to_sarif();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn attestation_facts_come_from_the_recorded_judgement() {
    let attrs = json!({
        "verification": "verified",
        "attestation": {
            "format": "dsse",
            "outcome": "verified",
            "reason": "",
            "policy": null,
            "items": [
                {"predicate_type": PROVENANCE, "subjects": ["sha256:aa"], "signers": [],
                 "outcome": "verified", "reason": "", "slsa": {"level": 3, "version": "1", "builder": "b", "build_type": "t", "reason": ""}},
                {"predicate_type": TEST_RESULT, "subjects": ["sha256:bb"], "signers": [],
                 "outcome": "unverified", "reason": ""}
            ]
        }
    });
    let attrs = attrs.as_object().unwrap();
    let a = AttestationFacts::from_attrs("sha256:at", attrs, "sha256:aa");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].outcome, Outcome::Verified);
    assert_eq!(a[0].slsa_level, Some(3));
    assert_eq!(a[0].predicate_type.as_deref(), Some(PROVENANCE));
    let b = AttestationFacts::from_attrs("sha256:at", attrs, "sha256:bb");
    assert_eq!(b[0].outcome, Outcome::Unverified);
    assert_eq!(b[0].slsa_level, None);
    assert!(AttestationFacts::from_attrs("x", &serde_json::Map::new(), "y").is_empty());
}
