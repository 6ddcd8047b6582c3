//! Server-side apply through the store: the applied configuration is merged into the live
//! object with field ownership (`api_types::managed`), then written as an update, or as a
//! create when the object is missing, through the one read-modify-write path.

use api_types::managed;
use serde_json::Value;

use super::input::{check_identity, precondition, typed_object, FieldValidation};
use super::store::{from_storage, to_storage, Decision, Store, WriteOptions, Written};
use super::subresource;
use crate::error::{ApiError, ApiResult};
use crate::object::{meta_str, now_rfc3339};

/// What an apply request carries besides the write options.
pub struct ApplyRequest<'a> {
    pub applied: &'a Value,
    pub manager: &'a str,
    pub force: bool,
    pub validation: FieldValidation,
    pub duplicates: &'a [String],
}

impl Store<'_> {
    /// Applies `req.applied` to `name`; returns the written object and the warnings of
    /// `fieldValidation`.
    pub async fn apply(
        &self,
        name: &str,
        req: &ApplyRequest<'_>,
        opts: &WriteOptions<'_>,
    ) -> ApiResult<(Written, Vec<String>)> {
        let sub_name = opts.subresource;
        let sub = subresource::of(self.info, sub_name)?;
        // Apply records its own ownership; the store adds no Update entry on top.
        let opts = WriteOptions {
            manager: None,
            ..*opts
        };
        let mut warnings = Vec::new();
        let written = self
            .guaranteed_update(name, None, &opts, |current| {
                if current.is_none() && sub_name.is_some() {
                    return Err(ApiError::not_found(self.info, name));
                }
                let live = current
                    .map(|o| from_storage(self.info, o.clone()))
                    .transpose()?;
                let result = managed::apply_subresource(
                    self.info.group,
                    self.info.kind,
                    &self.info.api_version(),
                    live.as_ref(),
                    req.applied,
                    req.manager,
                    sub_name,
                    req.force,
                    &now_rfc3339(),
                )?;
                let decoded = typed_object(self.info, result)?;
                warnings = req
                    .validation
                    .enforce(self.info, &decoded, req.duplicates.to_vec())?;
                let mut obj = to_storage(self.info, decoded.value)?;
                let Some(old) = current else {
                    // Apply to a missing object creates it.
                    check_identity(self.info, &mut obj, name, self.namespace)?;
                    return Ok(Decision::Create(self.prepare_create(obj, &opts)?));
                };
                let live_rv = meta_str(old, "resourceVersion").and_then(|r| r.parse().ok());
                if precondition(&obj)?.is_some_and(|rv| Some(rv) != live_rv) {
                    return Err(ApiError::modified(self.info, name));
                }
                self.update_decision(sub, old, obj, &opts)
            })
            .await?;
        Ok((written, warnings))
    }
}
