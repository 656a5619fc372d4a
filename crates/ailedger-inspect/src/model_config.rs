//! What a model directory's `config.json` (the Hugging Face transformers config) says
//! about the model: its architectures, recorded at registration for the policy gate's
//! `deny_architectures`.

use serde_json::Value;

/// Largest config read; real ones are a few kilobytes.
pub const MAX_CONFIG: usize = 1024 * 1024;

/// The `architectures` a config names (`["LlamaForCausalLM"]`), plus its `model_type`
/// when it has no `architectures`; empty when the bytes are not such a config.
pub fn architectures(config_json: &[u8]) -> Vec<String> {
    if config_json.len() > MAX_CONFIG {
        return vec![];
    }
    let Ok(Value::Object(v)) = serde_json::from_slice::<Value>(config_json) else {
        return vec![];
    };
    let mut out: Vec<String> = v
        .get("architectures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .map(str::to_owned)
        .collect();
    if out.is_empty()
        && let Some(t) = v.get("model_type").and_then(Value::as_str)
        && !t.is_empty()
        && t.len() <= 200
    {
        out.push(t.to_owned());
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures_from_configs() {
        assert_eq!(
            architectures(br#"{"architectures":["LlamaForCausalLM"],"model_type":"llama"}"#),
            ["LlamaForCausalLM"]
        );
        assert_eq!(architectures(br#"{"model_type":"bert"}"#), ["bert"]);
        assert!(architectures(b"[1,2]").is_empty());
        assert!(architectures(b"not json").is_empty());
        assert!(architectures(br#"{"architectures":[1,""]}"#).is_empty());
    }
}
