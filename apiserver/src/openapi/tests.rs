//! Tests of the OpenAPI documents against what upstream clients read.

use super::*;

fn v2_value() -> Value {
    serde_json::from_slice(&v2_json().body).unwrap()
}

fn v3(path: &str) -> Value {
    serde_json::from_slice(&v3_group_version(path).expect("served").body).unwrap()
}

fn gvk_of(op: &Value) -> Option<(String, String, String)> {
    let g = op.get("x-kubernetes-group-version-kind")?;
    Some((
        g["group"].as_str()?.to_string(),
        g["version"].as_str()?.to_string(),
        g["kind"].as_str()?.to_string(),
    ))
}

/// What kubectl's query-parameter verifier (v3) does: the PATCH operations of the kind
/// and whether they take `param` in the query.
fn v3_patch_params(doc: &Value, group: &str, version: &str, kind: &str) -> Vec<Vec<String>> {
    let want = Some((group.to_string(), version.to_string(), kind.to_string()));
    let mut out = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        let Some(op) = item.get("patch") else {
            continue;
        };
        if gvk_of(op) != want {
            continue;
        }
        out.push(
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect(),
        );
    }
    out
}

#[test]
fn configmap_patch_takes_field_validation_in_v3() {
    let doc = v3("api/v1");
    let patches = v3_patch_params(&doc, "", "v1", "ConfigMap");
    assert_eq!(patches.len(), 1);
    for p in ["fieldValidation", "dryRun", "fieldManager", "force"] {
        assert!(
            patches[0].iter().any(|n| n == p),
            "{p} missing: {patches:?}"
        );
    }
    let op = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
    assert_eq!(op["operationId"], "patchCoreV1NamespacedConfigMap");
    assert_eq!(op["x-kubernetes-action"], "patch");
    let content = op["requestBody"]["content"].as_object().unwrap();
    for t in PATCH_TYPES {
        assert_eq!(
            content[*t]["schema"]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
        );
    }
    let cm = &doc["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"];
    assert_eq!(
        cm["x-kubernetes-group-version-kind"],
        json!([{"group": "", "kind": "ConfigMap", "version": "v1"}])
    );
    assert_eq!(cm["properties"]["data"]["type"], "object");
    // Every PATCH of every kind takes it (kubectl stops at the first one it finds).
    for gv in all_group_versions() {
        let doc = v3(&gv_path(gv.group, gv.version));
        for item in doc["paths"].as_object().unwrap().values() {
            if let Some(op) = item.get("patch") {
                assert!(
                    op["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p["name"] == "fieldValidation"),
                    "{}",
                    op["operationId"]
                );
            }
        }
    }
}

#[test]
fn v3_root_lists_every_group_version_with_its_hash() {
    let root: Value = serde_json::from_slice(&v3_root().body).unwrap();
    let paths = root["paths"].as_object().unwrap();
    assert_eq!(paths.len(), group_versions().len());
    for (path, entry) in paths {
        let d = v3_group_version(path).unwrap();
        let url = entry["serverRelativeURL"].as_str().unwrap();
        let hash = d.etag.trim_matches('"');
        assert_eq!(hash.len(), 128);
        assert_eq!(url, format!("/openapi/v3/{path}?hash={hash}"));
        assert_eq!(d.content_type, "application/json");
    }
    assert!(paths.contains_key("api/v1"));
    assert!(paths.contains_key("apis/apps/v1"));
    assert!(paths.contains_key("apis/autoscaling/v2"));
    assert!(v3_group_version("/apis/apps/v1").is_some());
    assert!(v3_group_version("apis/apps/v9").is_none());
    assert!(v3_group_version("api").is_none());
}

#[test]
fn v3_documents_resolve_every_ref() {
    for gv in all_group_versions() {
        let doc = v3(&gv_path(gv.group, gv.version));
        assert_eq!(doc["openapi"], "3.0.0");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut refs = Vec::new();
        collect_all_refs(&doc, &mut refs);
        for r in refs {
            let name = r
                .strip_prefix(V3_REF_PREFIX)
                .unwrap_or_else(|| panic!("bad ref {r}"));
            assert!(
                schemas.contains_key(name),
                "{name} missing in {}",
                gv_path(gv.group, gv.version)
            );
        }
        // A ref with a description is wrapped in allOf, as upstream has it.
        if gv.group == "apps" {
            let meta = &schemas["io.k8s.api.apps.v1.Deployment"]["properties"]["metadata"];
            assert_eq!(
                meta["allOf"][0]["$ref"],
                "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
            );
        }
    }
}

fn collect_all_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                if k == "$ref" {
                    out.push(c.as_str().unwrap().to_string());
                } else {
                    collect_all_refs(c, out);
                }
            }
        }
        Value::Array(l) => l.iter().for_each(|c| collect_all_refs(c, out)),
        _ => {}
    }
}

#[test]
fn every_resource_has_its_paths() {
    let v2 = v2_value();
    for r in RESOURCES {
        let doc = v3(&gv_path(r.group, r.version));
        let want = Some((
            r.group.to_string(),
            r.version.to_string(),
            r.kind.to_string(),
        ));
        let prefix = api_prefix(r.group, r.version);
        let scope = if r.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let collection = format!("{prefix}{scope}/{}", r.plural);
        let mut found = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if method != "parameters"
                    && gvk_of(op) == want
                    && path.contains(&format!("/{}", r.plural))
                {
                    found += 1;
                    assert!(
                        v2["paths"][path][method].is_object(),
                        "{path} {method} not in v2"
                    );
                }
            }
        }
        assert!(found > 0, "{} has no operations", r.qualified_plural());
        let item = &doc["paths"][&collection];
        if r.supports_verb("create") {
            assert_eq!(item["post"]["x-kubernetes-action"], "post", "{collection}");
        }
        if r.supports_verb("list") {
            assert_eq!(item["get"]["x-kubernetes-action"], "list", "{collection}");
            let list = &doc["paths"][&collection]["get"]["responses"]["200"]["content"]
                ["application/json"]["schema"]["$ref"];
            assert!(
                list.as_str()
                    .unwrap()
                    .ends_with(&format!(".{}List", r.kind)),
                "{list}"
            );
        }
        if r.supports_verb("get") {
            let one = &doc["paths"][format!("{collection}/{{name}}")];
            assert_eq!(one["get"]["x-kubernetes-action"], "get");
            assert_eq!(one["patch"]["x-kubernetes-action"], "patch");
            assert_eq!(one["put"]["x-kubernetes-action"], "put");
            assert_eq!(one["delete"]["x-kubernetes-action"], "delete");
        }
        for s in r.subresources.iter().filter(|s| !s.is_proxied()) {
            let path = format!("{collection}/{{name}}/{}", s.name);
            assert!(doc["paths"][&path].is_object(), "{path}");
        }
        if r.namespaced && r.supports_verb("list") {
            let all = &doc["paths"][format!("{prefix}/{}", r.plural)]["get"];
            assert_eq!(
                all["operationId"],
                format!(
                    "list{}{}{}ForAllNamespaces",
                    group_ident(r.group),
                    capitalize(r.version),
                    r.kind
                )
            );
        }
        // Every kind has a typed schema.
        assert!(
            register_kind(&mut SchemaGenerator::default(), r.group, r.version, r.kind).is_some(),
            "{} has no typed schema",
            r.kind
        );
    }
}

#[test]
fn operation_ids_and_tags_match_upstream_spelling() {
    let doc = v3("apis/apps/v1");
    let p = &doc["paths"];
    assert_eq!(
        p["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]["operationId"],
        "patchAppsV1NamespacedDeployment"
    );
    assert_eq!(
        p["/apis/apps/v1/namespaces/{namespace}/deployments"]["delete"]["operationId"],
        "deleteAppsV1CollectionNamespacedDeployment"
    );
    assert_eq!(
        p["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["get"]["operationId"],
        "readAppsV1NamespacedDeploymentScale"
    );
    assert_eq!(
        p["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
            ["x-kubernetes-group-version-kind"],
        json!({"group": "autoscaling", "kind": "Scale", "version": "v1"})
    );
    assert_eq!(
        p["/apis/apps/v1/watch/namespaces/{namespace}/deployments"]["get"]["x-kubernetes-action"],
        "watchlist"
    );
    assert_eq!(
        p["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["get"]["tags"],
        json!(["apps_v1"])
    );
    let core = v3("api/v1");
    let p = &core["paths"];
    assert_eq!(
        p["/api/v1/namespaces/{namespace}/pods/{name}"]["get"]["operationId"],
        "readCoreV1NamespacedPod"
    );
    assert_eq!(
        p["/api/v1/namespaces/{namespace}/pods/{name}/status"]["put"]["operationId"],
        "replaceCoreV1NamespacedPodStatus"
    );
    assert_eq!(
        p["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"]["operationId"],
        "createCoreV1NamespacedPodBinding"
    );
    assert_eq!(
        p["/api/v1/namespaces/{name}/finalize"]["put"]["operationId"],
        "replaceCoreV1NamespaceFinalize"
    );
    assert_eq!(
        p["/api/v1/nodes/{name}"]["get"]["operationId"],
        "readCoreV1Node"
    );
    assert_eq!(
        p["/api/v1/watch/pods"]["get"]["operationId"],
        "watchCoreV1PodListForAllNamespaces"
    );
    let list = &p["/api/v1/namespaces/{namespace}/pods"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for want in [
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "resourceVersionMatch",
        "watch",
        "allowWatchBookmarks",
        "sendInitialEvents",
        "timeoutSeconds",
    ] {
        assert!(names.contains(&want), "{want}");
    }
    let rbac = v3("apis/rbac.authorization.k8s.io/v1");
    assert_eq!(
        rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["patch"]
            ["operationId"],
        "patchRbacAuthorizationV1ClusterRole"
    );
    assert_eq!(
        rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["patch"]["tags"],
        json!(["rbacAuthorization_v1"])
    );
}

#[test]
fn v2_protobuf_decodes_back_and_answers_kubectl() {
    let d = v2_protobuf();
    assert_eq!(d.content_type, V2_PROTOBUF_CONTENT_TYPE);
    let decoded = pb::Document::decode(d.body.clone()).unwrap();
    assert_eq!(decoded.swagger, "2.0");
    let json = v2_value();
    assert_eq!(decoded, pb::document(&json));
    let defs = decoded.definitions.as_ref().unwrap();
    assert_eq!(
        defs.additional_properties.len(),
        json["definitions"].as_object().unwrap().len()
    );
    assert_eq!(
        decoded.paths.as_ref().unwrap().path.len(),
        json["paths"].as_object().unwrap().len()
    );

    // What kubectl 1.27's verifier does: the PATCH with the kind's extension, and a
    // query parameter named fieldValidation among its parameters.
    let gvk_yaml = |exts: &[pb::NamedAny]| -> Option<Value> {
        let e = exts
            .iter()
            .find(|e| e.name == "x-kubernetes-group-version-kind")?;
        serde_yaml::from_str(&e.value.as_ref()?.yaml).ok()
    };
    let want = json!({"group": "", "kind": "ConfigMap", "version": "v1"});
    let mut found = 0;
    for named in &decoded.paths.as_ref().unwrap().path {
        let Some(patch) = named.value.as_ref().and_then(|p| p.patch.as_ref()) else {
            continue;
        };
        if gvk_yaml(&patch.vendor_extension) != Some(want.clone()) {
            continue;
        }
        found += 1;
        let has = patch.parameters.iter().any(|p| {
            matches!(&p.oneof, Some(pb::parameters_item::Oneof::Parameter(pb::Parameter {
                oneof: Some(pb::parameter::Oneof::NonBodyParameter(pb::NonBodyParameter {
                    oneof: Some(pb::non_body_parameter::Oneof::QueryParameterSubSchema(q)),
                })),
            })) if q.name == "fieldValidation")
        });
        assert!(has, "{}", named.name);
    }
    assert_eq!(found, 1);

    // Definitions: the kind, its GVK list, and refs that all resolve.
    let names: BTreeSet<&str> = defs
        .additional_properties
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    let pod = defs
        .additional_properties
        .iter()
        .find(|n| n.name == "io.k8s.api.core.v1.Pod")
        .unwrap();
    let pod = pod.value.as_ref().unwrap();
    assert_eq!(
        gvk_yaml(&pod.vendor_extension),
        Some(json!([{"group": "", "kind": "Pod", "version": "v1"}]))
    );
    assert_eq!(
        pod.r#type.as_ref().unwrap().value,
        vec!["object".to_string()]
    );
    fn refs(s: &pb::Schema, out: &mut Vec<String>) {
        if !s.r#ref.is_empty() {
            out.push(s.r#ref.clone());
        }
        if let Some(p) = &s.properties {
            p.additional_properties
                .iter()
                .filter_map(|n| n.value.as_ref())
                .for_each(|c| refs(c, out));
        }
        if let Some(i) = &s.items {
            i.schema.iter().for_each(|c| refs(c, out));
        }
        if let Some(a) = &s.additional_properties {
            if let Some(pb::additional_properties_item::Oneof::Schema(c)) = &a.oneof {
                refs(c, out);
            }
        }
        s.all_of.iter().for_each(|c| refs(c, out));
    }
    let mut all = Vec::new();
    for n in &defs.additional_properties {
        let sch = n.value.as_ref().unwrap();
        refs(sch, &mut all);
        assert!(
            sch.r#type.as_ref().is_none_or(|t| t.value.len() == 1),
            "{}",
            n.name
        );
    }
    for r in all {
        let name = r.strip_prefix(REF_PREFIX).unwrap();
        assert!(names.contains(name), "dangling {r}");
    }
}

#[test]
fn v2_json_has_the_patch_parameters_and_gvks() {
    let d = v2_json();
    assert_eq!(d.content_type, "application/json");
    let v: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(v["swagger"], "2.0");
    let op = &v["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(op["operationId"], "patchAppsV1NamespacedDeployment");
    assert_eq!(op["consumes"], json!(PATCH_TYPES));
    let names: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["body", "dryRun", "fieldManager", "fieldValidation", "force"]
    );
    assert_eq!(
        op["parameters"][0]["schema"]["$ref"],
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
    );
    let defs = &v["definitions"];
    assert_eq!(
        defs["io.k8s.api.apps.v1.DeploymentList"]["x-kubernetes-group-version-kind"],
        json!([{"group": "apps", "kind": "DeploymentList", "version": "v1"}])
    );
    assert_eq!(
        defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
            ["x-kubernetes-patch-merge-key"],
        "name"
    );
    assert_eq!(
        defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
            ["x-kubernetes-patch-strategy"],
        "merge"
    );
    assert_eq!(
        defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"],
        "int-or-string"
    );
    assert!(defs["io.k8s.api.core.v1.Pod"].get("required").is_none());
    let delete_options = defs["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
        ["x-kubernetes-group-version-kind"]
        .as_array()
        .unwrap();
    assert_eq!(delete_options.len(), group_versions().len());
    // The table of patch strategies names real fields.
    for (name, field, _, _) in patch_strategies() {
        assert!(
            defs[name]["properties"][field].is_object(),
            "{name}.{field}"
        );
    }
    assert_eq!(v2_json().etag, d.etag);
    assert!(d.etag.starts_with('"') && d.etag.ends_with('"'));
}

#[test]
fn accept_negotiation() {
    assert!(wants_v2_protobuf(V2_PROTOBUF_ACCEPT));
    assert!(wants_v2_protobuf(
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    ));
    assert!(wants_v2_protobuf(
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    ));
    assert!(wants_v2_protobuf(
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json"
    ));
    assert!(wants_v2_protobuf(
        "application/json;q=0.5, application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    ));
    assert!(!wants_v2_protobuf("application/json"));
    assert!(!wants_v2_protobuf("*/*"));
    assert!(!wants_v2_protobuf(""));
    assert!(!wants_v2_protobuf(
        "application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    ));
    assert!(!wants_v2_protobuf(
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0"
    ));
    assert!(!wants_v2_protobuf(
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0.4, */*;q=0.5"
    ));
}

#[test]
fn names() {
    assert_eq!(group_ident(""), "Core");
    assert_eq!(
        group_ident("rbac.authorization.k8s.io"),
        "RbacAuthorization"
    );
    assert_eq!(group_ident("certificates.k8s.io"), "Certificates");
    assert_eq!(tag("", "v1"), "core_v1");
    assert_eq!(tag("storage.k8s.io", "v1"), "storage_v1");
    assert_eq!(
        fallback_definition_name("networking.k8s.io", "v1", "Foo"),
        "io.k8s.api.networking.v1.Foo"
    );
    assert_eq!(
        content_hash(b""),
        "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E"
    );
}
