//! Server-side table printing: the columns `kubectl get` shows for each resource and the
//! cells of one object's row. STUB: to be replaced by the full implementation.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: &'static str,
    /// `name` for the name column, otherwise empty.
    pub format: &'static str,
    pub description: &'static str,
    /// 0 for default columns, 1 for `-o wide` only.
    pub priority: i32,
}

impl Column {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// The columns for `group`/`plural`.
pub fn columns(_group: &str, _plural: &str) -> Vec<Column> {
    vec![
        Column { name: "Name", type_: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
        Column { name: "Created At", type_: "date", format: "", description: "CreationTimestamp is a timestamp representing the server time when this object was created.", priority: 0 },
    ]
}

/// The cells of `obj`'s row, one per column, computed at `now`.
pub fn row(_group: &str, _plural: &str, obj: &Value, _now: jiff::Timestamp) -> Vec<Value> {
    vec![
        obj.pointer("/metadata/name").cloned().unwrap_or(Value::Null),
        obj.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null),
    ]
}
