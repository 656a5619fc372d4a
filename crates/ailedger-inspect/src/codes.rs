//! The stable finding codes. Codes are never renumbered or reused: a test snapshots
//! this list, so adding a code means appending, and retiring one means keeping its row.

use ailedger_core::Severity;
use ailedger_core::Severity::{Critical, High, Info, Low, Medium};

/// Every code with its default severity and a one-line title.
pub const ALL: &[(&str, Severity, &str)] = &[
    // Pickle and pickle containers.
    (
        "AIL-PKL-001",
        Critical,
        "Call of a code-execution gadget (os.system, eval, subprocess, …)",
    ),
    ("AIL-PKL-002", High, "Import of a code-execution gadget"),
    (
        "AIL-PKL-003",
        Medium,
        "Global outside the allow-list profiles",
    ),
    (
        "AIL-PKL-004",
        High,
        "Global whose module or name cannot be resolved statically",
    ),
    (
        "AIL-PKL-005",
        Medium,
        "Malformed pickle stream (findings before the error are kept)",
    ),
    (
        "AIL-PKL-006",
        High,
        "Scan limit exceeded; the rest of the content was not scanned",
    ),
    (
        "AIL-PKL-007",
        High,
        "Extension-registry opcode (EXT1/EXT2/EXT4) names an unknown global",
    ),
    (
        "AIL-PKL-008",
        High,
        "Attribute walk through a dunder name in a global (e.g. __builtins__)",
    ),
    ("AIL-PKL-009", Medium, "Memo key read before it was written"),
    ("AIL-PKL-010", Low, "Trailing bytes after the last pickle"),
    (
        "AIL-PKL-011",
        High,
        "Archive member CRC-32 mismatch (loaders that skip CRC still load it)",
    ),
    (
        "AIL-PKL-012",
        Medium,
        "7z-compressed model archive (an evasion technique; loaders do not read it)",
    ),
    (
        "AIL-PKL-013",
        High,
        "Archive member could not be read or decompressed; not scanned",
    ),
    (
        "AIL-PKL-014",
        Medium,
        "numpy .npy with object dtype: the body is a pickle",
    ),
    (
        "AIL-PKL-015",
        Medium,
        "Model directory mixes safetensors with pickle weights",
    ),
    (
        "AIL-PKL-016",
        Medium,
        "Persistent ID outside a PyTorch archive",
    ),
    // safetensors.
    ("AIL-ST-001", High, "Header length exceeds the 100 MB limit"),
    (
        "AIL-ST-002",
        Medium,
        "Header extends past the end of the file",
    ),
    ("AIL-ST-003", Medium, "Header is not a JSON object"),
    (
        "AIL-ST-004",
        High,
        "Duplicate keys in the header (readers disagree on which wins)",
    ),
    ("AIL-ST-005", Medium, "Unknown dtype"),
    (
        "AIL-ST-006",
        High,
        "Tensor offsets overlap, leave holes or are out of order",
    ),
    (
        "AIL-ST-007",
        High,
        "Data buffer not covered exactly (trailing bytes: polyglot risk)",
    ),
    (
        "AIL-ST-008",
        Medium,
        "Tensor byte size does not match shape × dtype",
    ),
    ("AIL-ST-009", High, "Shape × dtype size overflows"),
    (
        "AIL-ST-010",
        Medium,
        "__metadata__ is not a string-to-string map",
    ),
    (
        "AIL-ST-011",
        Medium,
        "Header does not start with '{' (reference reader accepts: parser differential)",
    ),
    ("AIL-ST-012", Medium, "Malformed tensor entry"),
    // GGUF.
    ("AIL-GGUF-001", Medium, "Not a GGUF file (bad magic)"),
    ("AIL-GGUF-002", Medium, "Unsupported GGUF version"),
    (
        "AIL-GGUF-003",
        High,
        "Count or length exceeds the file size or a limit",
    ),
    ("AIL-GGUF-004", High, "Array nesting too deep"),
    ("AIL-GGUF-005", Medium, "Invalid metadata value type"),
    (
        "AIL-GGUF-006",
        High,
        "Invalid tensor info (dimensions, type, offset past the file or misaligned)",
    ),
    (
        "AIL-GGUF-007",
        High,
        "Chat template reaches beyond plain templating (template injection)",
    ),
    ("AIL-GGUF-008", Medium, "Invalid general.alignment"),
    ("AIL-GGUF-009", Medium, "File truncated"),
    // ONNX.
    (
        "AIL-ONNX-001",
        High,
        "External data location is an absolute path",
    ),
    ("AIL-ONNX-002", High, "External data location contains '..'"),
    (
        "AIL-ONNX-003",
        High,
        "External data location resolves (through a symlink) outside the model directory",
    ),
    (
        "AIL-ONNX-004",
        Medium,
        "External data offset or length past the end of its file",
    ),
    ("AIL-ONNX-005", Medium, "Malformed protobuf"),
    // Keras.
    (
        "AIL-KERAS-001",
        High,
        "Lambda layer (arbitrary Python code)",
    ),
    (
        "AIL-KERAS-002",
        Medium,
        "Layer module or registered name outside keras/tensorflow",
    ),
    (
        "AIL-KERAS-003",
        Critical,
        "Layer module names a code-execution module",
    ),
    (
        "AIL-KERAS-004",
        Medium,
        "Keras config missing or unparsable",
    ),
    // Packages and requirements.
    (
        "AIL-PKG-001",
        High,
        "Package name looks like a typosquat of a popular package",
    ),
    (
        "AIL-PKG-002",
        Medium,
        "Requirement is not pinned to an exact version",
    ),
    ("AIL-PKG-003", Low, "Requirement has no --hash"),
    ("AIL-PKG-004", Medium, "Direct URL or VCS dependency"),
    (
        "AIL-PKG-005",
        High,
        "Extra index URL (dependency confusion)",
    ),
    (
        "AIL-PKG-006",
        Medium,
        "Alternative index URL or trusted host",
    ),
    ("AIL-PKG-007", Low, "Unparsable requirement line"),
    // MCP configs.
    (
        "AIL-MCP-001",
        Medium,
        "Server launched from an unpinned package",
    ),
    (
        "AIL-MCP-002",
        Medium,
        "Container image untagged or tagged latest",
    ),
    (
        "AIL-MCP-003",
        High,
        "Server launched through a shell wrapper",
    ),
    ("AIL-MCP-004", Critical, "Download piped into a shell"),
    ("AIL-MCP-005", High, "Literal secret in the config"),
    (
        "AIL-MCP-006",
        Medium,
        "Plain http:// to a non-loopback host",
    ),
    (
        "AIL-MCP-007",
        High,
        "Broad filesystem root exposed to the server",
    ),
    (
        "AIL-MCP-008",
        Critical,
        "Privileged container or Docker socket mounted",
    ),
    (
        "AIL-MCP-009",
        High,
        "Container shares the host network or mounts the host root",
    ),
    (
        "AIL-MCP-010",
        High,
        "Typosquatted package name in the launch command",
    ),
    (
        "AIL-MCP-011",
        High,
        "Hidden Unicode (zero-width, bidi or tag characters)",
    ),
    (
        "AIL-MCP-012",
        High,
        "Instruction-like text in a tool or server description",
    ),
    (
        "AIL-MCP-013",
        Info,
        "No MCP servers recognised in the config",
    ),
];

/// Default severity and title of a code; `None` for an unknown code.
pub fn lookup(code: &str) -> Option<(Severity, &'static str)> {
    ALL.iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, s, t)| (*s, *t))
}
