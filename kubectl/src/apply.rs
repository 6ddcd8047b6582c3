//! `kubectl apply`: client-side (the last-applied-configuration annotation and a three-way
//! patch from last-applied → manifest against the live object, strategic for built-in kinds,
//! JSON merge for others) and `--server-side` (an apply patch with `fieldManager=kubectl`).

use http::Method;
use serde_json::{Map, Value};

use crate::cmd::{self, create, Ctx};
use crate::manifest;
use crate::output::Format;

/// What upstream prints after a server-side apply conflict.
const SSA_CONFLICT_HELP: &str =
    "Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts";

/// The annotation client-side apply keeps the applied manifest in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    /// Files or directories to apply ('-' for stdin).
    #[arg(short = 'f', long = "filename", required = true)]
    pub filenames: Vec<String>,
    /// Process the directory used in -f recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Apply on the server (an apply patch) instead of computing a patch here.
    #[arg(long)]
    pub server_side: bool,
    /// With --server-side, take ownership of fields other managers own.
    #[arg(long)]
    pub force_conflicts: bool,
    /// The field manager's name.
    #[arg(long, default_value = "kubectl")]
    pub field_manager: String,
    /// Output format: name, yaml, json.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// none, server or client.
    #[arg(long, default_value = "none", num_args = 0..=1, default_missing_value = "client")]
    pub dry_run: String,
    /// Schema validation (accepted for compatibility; the server validates).
    #[arg(long, default_value = "strict", num_args = 0..=1, default_missing_value = "strict")]
    pub validate: String,
}

/// Records `obj` (without the annotation itself) in its last-applied annotation.
pub fn set_last_applied(obj: &mut Value) -> anyhow::Result<()> {
    let mut copy = obj.clone();
    if let Some(a) = copy
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(LAST_APPLIED);
        if a.is_empty() {
            copy["metadata"]
                .as_object_mut()
                .map(|m| m.remove("annotations"));
        }
    }
    let text = serde_json::to_string(&crate::printers::sorted(&copy))? + "\n";
    let meta = obj
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("object expected"))?
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    let ann = meta
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("metadata must be an object"))?
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    ann.as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("annotations must be an object"))?
        .insert(LAST_APPLIED.to_string(), Value::String(text));
    Ok(())
}

/// How lists are patched: by the strategic table of a built-in kind, or replaced whole
/// (JSON merge patch).
#[derive(Clone, Copy)]
pub struct Kind<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub strategic: bool,
}

/// The three-way patch turning `live` into `modified`, deleting what `original` (the last
/// applied manifest) had and `modified` no longer has. `None` when nothing changes.
pub fn three_way(
    original: &Value,
    modified: &Value,
    live: &Value,
    kind: Kind<'_>,
) -> Option<Value> {
    let empty = Map::new();
    let patch = diff_maps(
        original.as_object().unwrap_or(&empty),
        modified.as_object()?,
        live.as_object().unwrap_or(&empty),
        kind,
        &mut Vec::new(),
    );
    (!patch.is_empty()).then_some(Value::Object(patch))
}

fn diff_maps(
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    live: &Map<String, Value>,
    kind: Kind<'_>,
    path: &mut Vec<String>,
) -> Map<String, Value> {
    let empty = Map::new();
    let mut patch = Map::new();
    for (k, mv) in modified {
        let lv = live.get(k);
        let ov = original.get(k);
        path.push(k.clone());
        match (mv, lv) {
            (Value::Object(m), Some(Value::Object(l))) => {
                let o = ov.and_then(Value::as_object).unwrap_or(&empty);
                let sub = diff_maps(o, m, l, kind, path);
                if !sub.is_empty() {
                    patch.insert(k.clone(), Value::Object(sub));
                }
            }
            (Value::Array(m), Some(Value::Array(l))) if kind.strategic => {
                let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                let strategy = api_types::strategic::field_strategy(kind.group, kind.kind, &refs);
                let o: &[Value] = ov.and_then(Value::as_array).map_or(&[], |v| v.as_slice());
                match strategy {
                    api_types::strategic::Strategy::Merge(Some(key)) => {
                        if let Some(list) = diff_keyed_list(o, m, l, key, kind, path) {
                            patch.insert(k.clone(), Value::Array(list));
                        }
                    }
                    api_types::strategic::Strategy::Merge(None) => {
                        let added: Vec<Value> =
                            m.iter().filter(|x| !l.contains(x)).cloned().collect();
                        let removed: Vec<Value> = o
                            .iter()
                            .filter(|x| !m.contains(x) && l.contains(x))
                            .cloned()
                            .collect();
                        if !added.is_empty() {
                            patch.insert(k.clone(), Value::Array(added));
                        }
                        if !removed.is_empty() {
                            patch.insert(
                                format!("$deleteFromPrimitiveList/{k}"),
                                Value::Array(removed),
                            );
                        }
                    }
                    _ => {
                        if m != l {
                            patch.insert(k.clone(), mv.clone());
                        }
                    }
                }
            }
            _ => {
                if lv != Some(mv) {
                    patch.insert(k.clone(), mv.clone());
                }
            }
        }
        path.pop();
    }
    for k in original.keys() {
        if !modified.contains_key(k) && live.contains_key(k) {
            patch.insert(k.clone(), Value::Null);
        }
    }
    patch
}

fn diff_keyed_list(
    original: &[Value],
    modified: &[Value],
    live: &[Value],
    key: &str,
    kind: Kind<'_>,
    path: &mut Vec<String>,
) -> Option<Vec<Value>> {
    let key_of = |v: &Value| v.get(key).cloned();
    let find = |list: &[Value], k: &Value| -> Option<Value> {
        list.iter().find(|x| x.get(key) == Some(k)).cloned()
    };
    let empty = Map::new();
    let mut out = Vec::new();
    for m in modified {
        let Some(k) = key_of(m) else {
            out.push(m.clone());
            continue;
        };
        match find(live, &k) {
            None => out.push(m.clone()),
            Some(l) => {
                let o = find(original, &k);
                let sub = diff_maps(
                    o.as_ref().and_then(Value::as_object).unwrap_or(&empty),
                    m.as_object().unwrap_or(&empty),
                    l.as_object().unwrap_or(&empty),
                    kind,
                    path,
                );
                if !sub.is_empty() {
                    let mut entry = sub;
                    entry.insert(key.to_string(), k.clone());
                    out.push(Value::Object(entry));
                }
            }
        }
    }
    for o in original {
        if let Some(k) = key_of(o) {
            if find(modified, &k).is_none() && find(live, &k).is_some() {
                let mut entry = Map::new();
                entry.insert(key.to_string(), k);
                entry.insert("$patch".into(), Value::String("delete".into()));
                out.push(Value::Object(entry));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

pub async fn run(ctx: &mut Ctx, a: ApplyArgs) -> anyhow::Result<()> {
    let format = match &a.output {
        Some(o) => Some(Format::parse(Some(o))?),
        None => None,
    };
    let (dry, dry_q) = create::dry_run_query(&a.dry_run)?;
    let client_dry = dry && dry_q.is_empty();
    let suffix = match a.dry_run.as_str() {
        "server" => " (server dry run)",
        "client" | "true" => " (dry run)",
        _ => "",
    };
    let mut errors: Vec<anyhow::Error> = Vec::new();
    let objects = manifest::read_all(&a.filenames, a.recursive)?;
    if objects.is_empty() {
        anyhow::bail!("no objects passed to apply");
    }
    for m in objects {
        let mut m = match m {
            Ok(m) => m,
            Err(e) => {
                errors.push(e.into());
                continue;
            }
        };
        let r = match ctx.disco.for_kind(m.api_version(), m.kind()).await {
            Ok(r) => r,
            Err(e) => {
                errors.push(create::mapping_error(&m, e));
                continue;
            }
        };
        let ns = match create::target_namespace(ctx, &r, &m) {
            Ok(ns) => ns,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if m.name().is_empty() {
            errors.push(anyhow::anyhow!(
                "error when retrieving current configuration of:\nResource: \"{}\", GroupVersionKind: \"{}, Kind={}\"\nName: \"\", Namespace: \"{}\"\nfrom server for: \"{}\": resource name may not be empty",
                r.qualified_plural(),
                m.api_version(),
                m.kind(),
                ns.as_deref().unwrap_or(""),
                m.source
            ));
            continue;
        }
        let path = r.object_path(ns.as_deref(), m.name());
        let mut q: Vec<String> = Vec::new();
        if !dry_q.is_empty() {
            q.push(dry_q.to_string());
        }
        if a.server_side {
            q.push(format!(
                "fieldManager={}",
                crate::rest::encode(&a.field_manager)
            ));
            if a.force_conflicts {
                q.push("force=true".into());
            }
            let url = format!("{path}?{}", q.join("&"));
            let body = serde_json::to_vec(&m.object)?;
            if client_dry {
                create::print_result(&format, &r, &m.object, "serverside-applied", suffix)?;
                continue;
            }
            match ctx
                .rest
                .send(
                    Method::PATCH,
                    &url,
                    None,
                    Some("application/apply-patch+yaml"),
                    body,
                )
                .await
            {
                Ok(bytes) => {
                    let obj: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    create::print_result(&format, &r, &obj, "serverside-applied", suffix)?;
                }
                Err(crate::rest::RestError::Status { code: 409, status }) => {
                    let message = status["message"].as_str().unwrap_or("conflict");
                    errors.push(anyhow::anyhow!("{message}\n{SSA_CONFLICT_HELP}"));
                }
                Err(e) => errors.push(create::when("patching", &m.source, e)),
            }
            continue;
        }
        set_last_applied(&mut m.object)?;
        let live = match ctx.rest.get_json(&path).await {
            Ok(l) => Some(l),
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                errors.push(e.into());
                continue;
            }
        };
        let query = if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        };
        let Some(live) = live else {
            if client_dry {
                create::print_result(&format, &r, &m.object, "created", suffix)?;
                continue;
            }
            let url = format!("{}{query}", r.collection_path(ns.as_deref()));
            match ctx
                .rest
                .send_json(Method::POST, &url, "application/json", &m.object)
                .await
            {
                Ok(obj) => create::print_result(&format, &r, &obj, "created", suffix)?,
                Err(e) => errors.push(create::when("creating", &m.source, e)),
            }
            continue;
        };
        let original: Value = match live
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(LAST_APPLIED))
            .and_then(Value::as_str)
        {
            Some(text) => serde_json::from_str(text).unwrap_or(Value::Null),
            None => {
                eprintln!("Warning: resource {}/{} is missing the {LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.", r.qualified_plural(), m.name());
                Value::Null
            }
        };
        let builtin = api_types::resources::find_by_kind(&r.group, &r.version, &r.kind).is_some();
        let kind = Kind {
            group: &r.group,
            kind: &r.kind,
            strategic: builtin,
        };
        let Some(patch) = three_way(&original, &m.object, &live, kind) else {
            create::print_result(&format, &r, &live, "unchanged", suffix)?;
            continue;
        };
        if client_dry {
            create::print_result(&format, &r, &live, "configured", suffix)?;
            continue;
        }
        let ct = if builtin {
            "application/strategic-merge-patch+json"
        } else {
            "application/merge-patch+json"
        };
        match ctx
            .rest
            .send_json(Method::PATCH, &format!("{path}{query}"), ct, &patch)
            .await
        {
            Ok(obj) => create::print_result(&format, &r, &obj, "configured", suffix)?,
            Err(e) => errors.push(create::when("patching", &m.source, e)),
        }
    }
    cmd::get::finish(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEPLOY: Kind<'static> = Kind {
        group: "apps",
        kind: "Deployment",
        strategic: true,
    };

    #[test]
    fn three_way_patches_merge_lists_by_key_and_delete_what_was_dropped() {
        let original = json!({"metadata": {"labels": {"a": "1", "gone": "x"}}, "spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "v1"}, {"name": "side", "image": "s"}]}}}});
        let modified = json!({"metadata": {"labels": {"a": "2"}}, "spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "v2"}]}}}});
        let live = json!({"metadata": {"labels": {"a": "1", "gone": "x", "server": "y"}}, "spec": {"replicas": 3, "template": {"spec": {"containers": [
            {"name": "web", "image": "v1", "imagePullPolicy": "Always"}, {"name": "side", "image": "s"}]}}}});
        let patch = three_way(&original, &modified, &live, DEPLOY).unwrap();
        assert_eq!(
            patch,
            json!({"metadata": {"labels": {"a": "2", "gone": null}}, "spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "v2"}, {"name": "side", "$patch": "delete"}]}}}})
        );
        // Applying it on the server's rules gives what the user asked for, keeping the
        // fields the server owns.
        let mut live_typed = live.clone();
        live_typed["apiVersion"] = json!("apps/v1");
        live_typed["kind"] = json!("Deployment");
        let merged = api_types::strategic::apply(&live_typed, &patch).unwrap();
        assert_eq!(merged["spec"]["replicas"], json!(3));
        assert_eq!(
            merged["spec"]["template"]["spec"]["containers"],
            json!([{"name": "web", "image": "v2", "imagePullPolicy": "Always"}])
        );
        assert_eq!(
            merged["metadata"]["labels"],
            json!({"a": "2", "server": "y"})
        );
        assert_eq!(three_way(&modified, &modified, &merged, DEPLOY), None);
    }

    #[test]
    fn merge_patches_replace_lists_and_primitive_sets_use_directives() {
        let crd = Kind {
            group: "example.com",
            kind: "Widget",
            strategic: false,
        };
        let p = three_way(
            &json!({}),
            &json!({"spec": {"xs": [1]}}),
            &json!({"spec": {"xs": [1, 2]}}),
            crd,
        );
        assert_eq!(p, Some(json!({"spec": {"xs": [1]}})));
        let pod = Kind {
            group: "",
            kind: "Pod",
            strategic: true,
        };
        let p = three_way(
            &json!({"metadata": {"finalizers": ["a", "b"]}}),
            &json!({"metadata": {"finalizers": ["a", "c"]}}),
            &json!({"metadata": {"finalizers": ["a", "b"]}}),
            pod,
        );
        assert_eq!(
            p,
            Some(
                json!({"metadata": {"finalizers": ["c"], "$deleteFromPrimitiveList/finalizers": ["b"]}})
            )
        );
    }

    #[test]
    fn last_applied_excludes_itself() {
        let mut o = json!({"kind": "ConfigMap", "metadata": {"name": "x"}});
        set_last_applied(&mut o).unwrap();
        set_last_applied(&mut o).unwrap();
        assert_eq!(
            o["metadata"]["annotations"][LAST_APPLIED],
            json!("{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}\n")
        );
    }
}
