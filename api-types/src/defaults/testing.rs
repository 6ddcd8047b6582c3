//! Helpers the defaulting tests share.

use serde_json::Value;

use super::*;

pub(super) fn defaulted(group: &str, plural: &str, mut obj: Value) -> Value {
    apply(group, plural, &mut obj);
    let mut again = obj.clone();
    apply(group, plural, &mut again);
    assert_eq!(obj, again, "defaulting {group}/{plural} is not idempotent");
    obj
}
