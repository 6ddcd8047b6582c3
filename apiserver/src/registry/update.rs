//! Updates through the store's one read-modify-write path: replace, patch (JSON, merge,
//! strategic), `scale` and `pods/binding`.

use api_types::resources::find;
use api_types::validation::{ErrorKind, FieldError};
use serde_json::{json, Value};

use super::input::{apply_patch, check_identity, precondition, typed_object, FieldValidation};
use super::kinds::strategy_of;
use super::store::{from_storage, to_storage, Decision, Store, WriteOptions, Written};
use super::subresource::{self, scale_view};
use crate::admission::{self, Attributes, Operation};
use crate::error::{ApiError, ApiResult, StatusDetails};
use crate::object::{meta_str, metadata_mut, now_rfc3339};

/// What a write to `scale` sends: a whole Scale, or a patch of the current one.
pub enum ScaleInput<'a> {
    Replace(Value),
    Patch {
        content_type: &'a str,
        body: &'a [u8],
    },
}

impl Store<'_> {
    /// Replaces `name` with `obj` (storage version, name and namespace checked). Kinds that
    /// allow it are created when missing, unless the caller named a resourceVersion.
    pub async fn update(
        &self,
        name: &str,
        obj: Value,
        wanted_rv: Option<i64>,
        opts: &WriteOptions<'_>,
    ) -> ApiResult<Written> {
        let sub = subresource::of(self.info, opts.subresource)?;
        let create_on_update = self.strategy.allow_create_on_update
            && opts.subresource.is_none()
            && wanted_rv.is_none();
        self.guaranteed_update(name, wanted_rv, opts, |current| match current {
            Some(old) => self.update_decision(sub, old, obj.clone(), opts),
            None if create_on_update => {
                Ok(Decision::Create(self.prepare_create(obj.clone(), opts)?))
            }
            None => Err(ApiError::not_found(self.info, name)),
        })
        .await
    }

    /// Patches `name`: the patch is applied to the current object in the requested version,
    /// the result decoded as the kind's type, and written as an update. Returns the warnings
    /// of `fieldValidation` too.
    pub async fn patch(
        &self,
        name: &str,
        content_type: &str,
        body: &[u8],
        validation: FieldValidation,
        duplicates: &[String],
        opts: &WriteOptions<'_>,
    ) -> ApiResult<(Written, Vec<String>)> {
        let sub = subresource::of(self.info, opts.subresource)?;
        let mut warnings = Vec::new();
        let written = self
            .guaranteed_update(name, None, opts, |current| {
                let Some(old) = current else {
                    return Err(ApiError::not_found(self.info, name));
                };
                let patched = if self.info.is_storage_version() {
                    apply_patch(content_type, old, body)?
                } else {
                    apply_patch(content_type, &from_storage(self.info, old.clone())?, body)?
                };
                let decoded = typed_object(self.info, patched)?;
                warnings = validation.enforce(self.info, &decoded, duplicates.to_vec())?;
                let mut patched = decoded.value;
                check_identity(self.info, &mut patched, name, self.namespace)?;
                if precondition(&patched)?.is_some_and(|rv| Some(rv) != resource_version(old)) {
                    return Err(ApiError::modified(self.info, name));
                }
                let patched = to_storage(self.info, patched)?;
                self.update_decision(sub, old, patched, opts)
            })
            .await?;
        Ok((written, warnings))
    }

    /// Writes a workload's `spec.replicas` through its `scale` subresource; returns the new
    /// Scale.
    pub async fn scale(
        &self,
        name: &str,
        input: ScaleInput<'_>,
        opts: &WriteOptions<'_>,
    ) -> ApiResult<Value> {
        let sub = subresource::of(self.info, Some("scale"))?;
        let (_, obj) = self
            .guaranteed_update(name, None, opts, |current| {
                let Some(old) = current else {
                    return Err(ApiError::not_found(self.info, name));
                };
                let wanted = match &input {
                    ScaleInput::Replace(v) => v.clone(),
                    ScaleInput::Patch { content_type, body } => {
                        apply_patch(content_type, &scale_view(old)?, body)?
                    }
                };
                let scale: k8s_openapi::api::autoscaling::v1::Scale =
                    serde_path_to_error::deserialize(&wanted).map_err(|e| {
                        ApiError::bad_request(format!(
                            "Scale in version \"v1\" cannot be handled as a Scale: {}: {}",
                            e.path(),
                            e.inner()
                        ))
                    })?;
                if precondition(&wanted)?.is_some_and(|rv| Some(rv) != resource_version(old)) {
                    return Err(ApiError::modified(self.info, name));
                }
                let replicas = scale.spec.and_then(|s| s.replicas).unwrap_or(0);
                if replicas < 0 {
                    let errs = [FieldError {
                        kind: ErrorKind::Invalid,
                        field: "spec.replicas".into(),
                        value: Some(replicas.to_string()),
                        detail: format!(
                            "Invalid value: {replicas}: must be greater than or equal to 0"
                        ),
                    }];
                    return Err(ApiError::invalid(self.info, name, &errs));
                }
                let mut new = old.clone();
                new["spec"]["replicas"] = json!(replicas);
                self.update_decision(sub, old, new, opts)
            })
            .await?;
        scale_view(&obj)
    }

    /// Binds pod `name` to the node a Binding names (`pods/<name>/binding`, or a `bindings`
    /// create): the Binding is validated and admitted as a create of `pods/binding`, then the
    /// pod gets `spec.nodeName` and the `PodScheduled` condition, once.
    pub async fn bind(
        &self,
        name: &str,
        mut binding: Value,
        opts: &WriteOptions<'_>,
    ) -> ApiResult<Written> {
        let binding_info = find("", "v1", "bindings").expect("bindings are in the table");
        check_identity(binding_info, &mut binding, name, self.namespace)?;
        let errs = (strategy_of(binding_info).validate)(binding_info, &binding);
        if !errs.is_empty() {
            return Err(ApiError::invalid(binding_info, name, &errs));
        }
        let ctx = admission::Context {
            cache: &self.st.cache,
            services: &self.st.service_allocator,
        };
        let attrs = Attributes {
            operation: Operation::Create,
            resource: self.info,
            subresource: Some("binding"),
            namespace: self.namespace,
            name,
            old: None,
            dry_run: opts.dry_run,
            user: opts.user,
        };
        admission::mutate(&ctx, &attrs, Some(&mut binding))?;
        admission::validate(&ctx, &attrs, Some(&binding))?;
        let sub = subresource::of(self.info, Some("binding"))?;
        let target = binding
            .pointer("/target/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        self.guaranteed_update(name, None, opts, |current| {
            let Some(old) = current else {
                return Err(ApiError::not_found(self.info, name));
            };
            if meta_str(old, "deletionTimestamp").is_some() {
                return Err(binding_conflict(
                    name,
                    format!("pod {name} is being deleted, cannot be assigned to a host"),
                ));
            }
            if let Some(node) = old
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                return Err(binding_conflict(
                    name,
                    format!("pod {name} is already assigned to node \"{node}\""),
                ));
            }
            let mut pod = old.clone();
            pod["spec"]["nodeName"] = json!(target);
            if let Some(ann) = binding
                .pointer("/metadata/annotations")
                .and_then(Value::as_object)
            {
                let meta = metadata_mut(&mut pod).expect("pods have metadata");
                let anns = meta.entry("annotations").or_insert_with(|| json!({}));
                for (k, v) in ann {
                    anns[k] = v.clone();
                }
            }
            let cond = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now_rfc3339()});
            let conds = pod["status"]
                .as_object_mut()
                .map(|s| s.entry("conditions").or_insert_with(|| json!([])));
            if let Some(Value::Array(list)) = conds {
                list.retain(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"));
                list.push(cond);
            }
            self.update_decision(sub, old, pod, opts)
        })
        .await
    }
}

/// The stored object's resourceVersion.
fn resource_version(obj: &Value) -> Option<i64> {
    meta_str(obj, "resourceVersion").and_then(|r| r.parse().ok())
}

/// Upstream's 409 for a binding that cannot be made, on the resource `pods/binding`.
fn binding_conflict(name: &str, why: String) -> ApiError {
    ApiError::new(
        409,
        "Conflict",
        format!("Operation cannot be fulfilled on pods/binding \"{name}\": {why}"),
    )
    .with_details(StatusDetails {
        name: name.into(),
        kind: "pods/binding".into(),
        ..Default::default()
    })
}
