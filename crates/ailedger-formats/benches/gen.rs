// Shared by the benchmark and the gen_bom example: a synthetic CycloneDX 1.6 BOM of
// `n` npm components (purl, SHA-512 hash, licence) and about 3n dependency edges, valid
// against the CycloneDX 1.6 schema.

/// Builds the BOM text.
pub fn ailedger_formats_bench_bom(n: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(n * 420);
    s.push_str(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,"#);
    s.push_str(r#""metadata":{"timestamp":"2026-11-24T00:00:00Z","component":{"type":"application","name":"bench-app","version":"1.0.0","bom-ref":"app"}},"components":["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"type":"library","bom-ref":"c{i}","name":"pkg-{i}","version":"1.{}.{}","purl":"pkg:npm/%40bench/pkg-{i}@1.{}.{}","hashes":[{{"alg":"SHA-512","content":"{:0128x}"}}],"licenses":[{{"license":{{"id":"MIT"}}}}],"description":"synthetic component number {i}"}}"#,
            i % 17,
            i % 31,
            i % 17,
            i % 31,
            i
        );
    }
    s.push_str(r#"],"dependencies":[{"ref":"app","dependsOn":["c0"]}"#);
    for i in 0..n {
        // Three pseudo-random targets, without repeats or self-references (the schema
        // wants `dependsOn` items unique).
        let mut targets: Vec<usize> = Vec::with_capacity(3);
        for t in [(i + 1) % n, (i * 7 + 3) % n, (i * 13 + 5) % n] {
            if t != i && !targets.contains(&t) {
                targets.push(t);
            }
        }
        let list: Vec<String> = targets.iter().map(|t| format!("\"c{t}\"")).collect();
        let _ = write!(s, r#",{{"ref":"c{i}","dependsOn":[{}]}}"#, list.join(","));
    }
    s.push_str("]}");
    s
}
