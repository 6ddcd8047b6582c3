use serde_json::json;

use super::*;

/// A protobuf writer for the tests: fields appended in the order given.
#[derive(Default, Clone)]
struct W(Vec<u8>);

impl W {
    fn varint(mut self, mut v: u64) -> Self {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(b);
                return self;
            }
            self.0.push(b | 0x80);
        }
    }
    fn key(self, tag: u32, wire: u8) -> Self {
        self.varint(u64::from(tag) << 3 | u64::from(wire))
    }
    fn int(self, tag: u32, v: i64) -> Self {
        self.key(tag, 0).varint(v as u64)
    }
    fn bytes(self, tag: u32, b: &[u8]) -> Self {
        let mut w = self.key(tag, 2).varint(b.len() as u64);
        w.0.extend_from_slice(b);
        w
    }
    fn str(self, tag: u32, s: &str) -> Self {
        self.bytes(tag, s.as_bytes())
    }
    fn msg(self, tag: u32, m: W) -> Self {
        self.bytes(tag, &m.0)
    }
    fn entry(self, tag: u32, k: &str, v: &str) -> Self {
        self.msg(tag, W::default().str(1, k).str(2, v))
    }
}

fn envelope(api_version: &str, kind: &str, raw: W) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend(
        W::default()
            .msg(1, W::default().str(1, api_version).str(2, kind))
            .msg(2, raw)
            .str(3, "")
            .str(4, "")
            .0,
    );
    out
}

/// ObjectMeta as Go writes a new object's: every string field, empty or not, and the zero
/// creation time.
fn meta(name: &str, namespace: &str) -> W {
    W::default()
        .str(1, name)
        .str(2, "")
        .str(3, namespace)
        .str(4, "")
        .str(5, "")
        .str(6, "")
        .int(7, 0)
        .msg(8, W::default().int(1, GO_ZERO_TIME).int(2, 0))
}

#[test]
fn a_namespace_as_kubectl_create_sends_it() {
    let raw = W::default()
        .msg(1, meta("foo", "").entry(11, "team", "a"))
        .msg(2, W::default())
        .msg(3, W::default().str(1, ""));
    let v = decode(&envelope("v1", "Namespace", raw)).unwrap();
    assert_eq!(
        v,
        json!({"kind": "Namespace", "apiVersion": "v1",
               "metadata": {"name": "foo", "labels": {"team": "a"}},
               "spec": {}, "status": {}})
    );
}

#[test]
fn a_deployment_keeps_pointer_zeros_and_maps_special_types() {
    let container = W::default()
        .str(1, "nginx")
        .str(2, "nginx:1.27")
        .str(3, "sh")
        .str(3, "-c")
        .msg(
            6,
            W::default()
                .str(1, "http")
                .int(2, 0)
                .int(3, 80)
                .str(4, "TCP"),
        )
        .int(16, 0)
        .msg(
            8,
            W::default().msg(
                2,
                W::default()
                    .str(1, "cpu")
                    .msg(2, W::default().str(1, "100m")),
            ),
        )
        .msg(
            19,
            W::default().msg(2, W::default().msg(1, W::default().str(1, "settings"))),
        );
    let spec = W::default()
        .int(1, 0)
        .msg(2, W::default().entry(1, "app", "web"))
        .msg(
            3,
            W::default()
                .msg(1, meta("", "").msg(8, W::default()).entry(11, "app", "web"))
                .msg(2, W::default().msg(2, container).int(4, 30)),
        )
        .msg(
            4,
            W::default().str(1, "RollingUpdate").msg(
                2,
                W::default()
                    .msg(1, W::default().int(1, 0).int(2, 1))
                    .msg(2, W::default().int(1, 1).str(3, "25%")),
            ),
        );
    let created = W::default().int(1, 1_700_000_000).int(2, 5);
    let raw = W::default()
        .msg(1, meta("web", "default").msg(8, created))
        .msg(2, spec)
        .msg(3, W::default());
    let v = decode(&envelope("apps/v1", "Deployment", raw)).unwrap();
    assert_eq!(
        v,
        json!({
            "kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": "web", "namespace": "default",
                         "creationTimestamp": "2023-11-14T22:13:20Z"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [{
                            "name": "nginx", "image": "nginx:1.27", "command": ["sh", "-c"],
                            "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                            "resources": {"requests": {"cpu": "100m"}},
                            "envFrom": [{"configMapRef": {"name": "settings"}}]
                        }],
                        "terminationGracePeriodSeconds": 30
                    }
                },
                "strategy": {"type": "RollingUpdate",
                             "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}}
            },
            "status": {}
        })
    );
}

#[test]
fn secret_bytes_become_base64_and_empty_map_values_stay() {
    let raw = W::default()
        .msg(1, meta("s", "default"))
        .msg(2, W::default().str(1, "password").str(2, "hunter2"))
        .msg(2, W::default().str(1, "empty"))
        .str(3, "Opaque");
    let v = decode(&envelope("v1", "Secret", raw)).unwrap();
    assert_eq!(v["data"], json!({"password": "aHVudGVyMg==", "empty": ""}));
    assert_eq!(v["type"], "Opaque");
}

#[test]
fn kinds_outside_the_resource_table_are_found_by_name() {
    // DeleteOptions: gracePeriodSeconds = 1, propagationPolicy = 4.
    let opts = W::default().int(1, 0).str(4, "Foreground");
    let v = decode(&envelope("meta.k8s.io/v1", "DeleteOptions", opts)).unwrap();
    assert_eq!(v["gracePeriodSeconds"], 0);
    assert_eq!(v["propagationPolicy"], "Foreground");
    let v = decode(&envelope("v1", "DeleteOptions", W::default().str(5, "All"))).unwrap();
    assert_eq!(v["dryRun"], json!(["All"]));
    let scale = W::default()
        .msg(1, meta("web", "default"))
        .msg(2, W::default().int(1, 3));
    let v = decode(&envelope("autoscaling/v1", "Scale", scale)).unwrap();
    assert_eq!(v["spec"], json!({"replicas": 3}));
}

#[test]
fn unknown_fields_are_skipped_like_go_does() {
    let raw = W::default()
        .msg(1, meta("c", "default"))
        .int(99, 7)
        .entry(2, "k", "v");
    let v = decode(&envelope("v1", "ConfigMap", raw)).unwrap();
    assert_eq!(v["data"], json!({"k": "v"}));
}

#[test]
fn bad_bodies_are_errors_not_panics() {
    assert_eq!(decode(b"{\"kind\":\"Pod\"}"), Err(Error::NoPrefix));
    let good = envelope("v1", "ConfigMap", W::default().msg(1, meta("c", "default")));
    for cut in 4..good.len() {
        // Any truncation fails cleanly (or, at a field boundary, decodes what is there).
        let _ = decode(&good[..cut]);
    }
    // Corrupted bytes anywhere: an error or a value, never a panic.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let mut b = good.clone();
        let i = 4 + (seed >> 33) as usize % (b.len() - 4);
        b[i] = (seed >> 17) as u8;
        let _ = decode(&b);
    }
    assert!(matches!(
        decode(&envelope("v1", "NoSuchKind", W::default())),
        Err(Error::UnknownKind { .. })
    ));
    let mut gzip = MAGIC.to_vec();
    gzip.extend(W::default().str(3, "gzip").0);
    assert_eq!(decode(&gzip), Err(Error::ContentEncoding("gzip".into())));
    // A string field sent as a number.
    let wrong = W::default().msg(1, W::default().int(1, 5));
    assert!(matches!(
        decode(&envelope("v1", "ConfigMap", wrong)),
        Err(Error::Malformed { .. })
    ));
    let mut long = MAGIC.to_vec();
    long.extend([
        0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    assert!(matches!(decode(&long), Err(Error::Malformed { .. })));
}

#[test]
fn embedded_objects_are_decoded_but_not_without_end() {
    // A ControllerRevision whose data is a protobuf-encoded object.
    let inner = envelope("v1", "ConfigMap", W::default().msg(1, meta("c", "")));
    let outer = W::default()
        .msg(1, meta("rev", "default"))
        .msg(2, W::default().bytes(1, &inner))
        .int(3, 2);
    let v = decode(&envelope("apps/v1", "ControllerRevision", outer)).unwrap();
    assert_eq!(v["data"]["kind"], "ConfigMap");
    assert_eq!(v["data"]["metadata"]["name"], "c");
    assert_eq!(v["revision"], 2);
    // Nested a thousand deep: refused, not a stack overflow.
    let mut body = envelope("v1", "ConfigMap", W::default());
    for _ in 0..1000 {
        let rev = W::default().msg(2, W::default().bytes(1, &body));
        body = envelope("apps/v1", "ControllerRevision", rev);
    }
    assert!(matches!(decode(&body), Err(Error::Malformed { .. })));
}

#[test]
fn durations_print_like_go() {
    assert_eq!(go_duration(0), "0s");
    assert_eq!(go_duration(1_500_000), "1.5ms");
    assert_eq!(go_duration(60_000_000_000), "1m0s");
    assert_eq!(go_duration(3_723_500_000_000), "1h2m3.5s");
    assert_eq!(go_duration(-2_000_000_000), "-2s");
    assert_eq!(go_duration(999), "999ns");
}

#[test]
fn the_schema_is_sorted_and_references_resolve() {
    for w in schema::MESSAGES.windows(2) {
        assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
    }
    for w in schema::KINDS.windows(2) {
        assert!((w[0].0, w[0].1) < (w[1].0, w[1].1));
    }
    for m in schema::MESSAGES {
        for w in m.fields.windows(2) {
            assert!(w[0].tag < w[1].tag, "{}", m.name);
        }
        for f in m.fields {
            let name = match &f.ty {
                Ty::Msg(n) => Some(*n),
                Ty::Map(Ty::Msg(n)) => Some(*n),
                _ => None,
            };
            if let Some(n) = name {
                assert!(message(n).is_some(), "{}.{} -> {n}", m.name, f.json);
            }
        }
    }
    for (msg, field) in NON_POINTER_SCALARS {
        let m = message(msg).unwrap_or_else(|| panic!("{msg}"));
        assert!(m.fields.iter().any(|f| f.json == *field), "{msg}.{field}");
    }
    for kind in [
        "Pod",
        "Service",
        "ConfigMap",
        "Secret",
        "Namespace",
        "ServiceAccount",
    ] {
        assert!(message_for("v1", kind).is_some(), "{kind}");
    }
    for (av, kind) in [
        ("apps/v1", "Deployment"),
        ("batch/v1", "CronJob"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("networking.k8s.io/v1", "Ingress"),
        ("policy/v1", "Eviction"),
        ("storage.k8s.io/v1", "CSIDriver"),
        ("coordination.k8s.io/v1", "Lease"),
    ] {
        assert!(message_for(av, kind).is_some(), "{av} {kind}");
    }
}
