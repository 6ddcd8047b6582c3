//! Conversion between versions that share storage: core/v1 and events.k8s.io/v1 Events,
//! autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers.
//! STUB: to be replaced by the full implementation.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot convert {kind} from {from} to {to}")]
pub struct ConvertError {
    pub kind: String,
    pub from: String,
    pub to: String,
}

/// Converts `obj` (whose `apiVersion` is `from`) to apiVersion `to`. Same version: unchanged.
pub fn convert(obj: Value, from: &str, to: &str) -> Result<Value, ConvertError> {
    if from == to {
        return Ok(obj);
    }
    Err(ConvertError {
        kind: obj.get("kind").and_then(Value::as_str).unwrap_or("").to_string(),
        from: from.to_string(),
        to: to.to_string(),
    })
}
