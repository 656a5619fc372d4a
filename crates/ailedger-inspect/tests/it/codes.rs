//! Snapshot of the finding codes: codes are never renumbered, removed or re-severitied
//! silently. Adding a code means appending a line here too.

use ailedger_inspect::codes::ALL;

const SNAPSHOT: &str = "\
AIL-PKL-001 critical
AIL-PKL-002 high
AIL-PKL-003 medium
AIL-PKL-004 high
AIL-PKL-005 medium
AIL-PKL-006 high
AIL-PKL-007 high
AIL-PKL-008 high
AIL-PKL-009 medium
AIL-PKL-010 low
AIL-PKL-011 high
AIL-PKL-012 medium
AIL-PKL-013 high
AIL-PKL-014 medium
AIL-PKL-015 medium
AIL-PKL-016 medium
AIL-ST-001 high
AIL-ST-002 medium
AIL-ST-003 medium
AIL-ST-004 high
AIL-ST-005 medium
AIL-ST-006 high
AIL-ST-007 high
AIL-ST-008 medium
AIL-ST-009 high
AIL-ST-010 medium
AIL-ST-011 medium
AIL-ST-012 medium
AIL-GGUF-001 medium
AIL-GGUF-002 medium
AIL-GGUF-003 high
AIL-GGUF-004 high
AIL-GGUF-005 medium
AIL-GGUF-006 high
AIL-GGUF-007 high
AIL-GGUF-008 medium
AIL-GGUF-009 medium
AIL-ONNX-001 high
AIL-ONNX-002 high
AIL-ONNX-003 high
AIL-ONNX-004 medium
AIL-ONNX-005 medium
AIL-KERAS-001 high
AIL-KERAS-002 medium
AIL-KERAS-003 critical
AIL-KERAS-004 medium
AIL-PKG-001 high
AIL-PKG-002 medium
AIL-PKG-003 low
AIL-PKG-004 medium
AIL-PKG-005 high
AIL-PKG-006 medium
AIL-PKG-007 low
AIL-MCP-001 medium
AIL-MCP-002 medium
AIL-MCP-003 high
AIL-MCP-004 critical
AIL-MCP-005 high
AIL-MCP-006 medium
AIL-MCP-007 high
AIL-MCP-008 critical
AIL-MCP-009 high
AIL-MCP-010 high
AIL-MCP-011 high
AIL-MCP-012 high
AIL-MCP-013 info
";

#[test]
fn codes_snapshot() {
    let got: Vec<String> = ALL.iter().map(|(c, s, _)| format!("{c} {s}")).collect();
    let want: Vec<&str> = SNAPSHOT.lines().collect();
    assert_eq!(got, want);
}

#[test]
fn codes_are_unique_and_well_formed() {
    let mut seen = std::collections::HashSet::new();
    for (c, _, title) in ALL {
        assert!(seen.insert(*c), "duplicate {c}");
        assert!(c.starts_with("AIL-") && !title.is_empty());
        let prefix = c.rsplit_once('-').unwrap().0;
        assert!(
            [
                "AIL-PKL",
                "AIL-ST",
                "AIL-GGUF",
                "AIL-ONNX",
                "AIL-KERAS",
                "AIL-PKG",
                "AIL-MCP"
            ]
            .contains(&prefix),
            "{c}"
        );
    }
}

#[test]
fn every_emitted_code_is_registered() {
    let src = [
        include_str!("../../src/pickle.rs"),
        include_str!("../../src/lib.rs"),
        include_str!("../../src/safetensors.rs"),
        include_str!("../../src/gguf.rs"),
        include_str!("../../src/onnx.rs"),
        include_str!("../../src/keras.rs"),
        include_str!("../../src/mcp.rs"),
        include_str!("../../src/packages.rs"),
    ]
    .concat();
    for (i, _) in src.match_indices("\"AIL-") {
        let code: String = src[i + 1..].chars().take_while(|c| *c != '"').collect();
        assert!(
            ALL.iter().any(|(c, _, _)| *c == code),
            "{code} emitted but not in codes::ALL"
        );
    }
}
