//! Upstream kubectl (1.33 and 1.27, as shipped on the machine image) against our apiserver
//! and a real etcd: the everyday work a user does, checked by what kubectl prints.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use e2e::TestCluster;

const MANIFEST: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app: demo}
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
      - name: sidecar
        image: busybox:1.36
---
apiVersion: v1
kind: Pod
metadata:
  name: p1
spec:
  containers:
  - name: c
    image: busybox:1.36
";

struct Kubectl<'a> {
    bin: std::path::PathBuf,
    kubeconfig: &'a Path,
}

impl Kubectl<'_> {
    fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(&self.bin)
            .args(args)
            .env("KUBECONFIG", self.kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl starts");
        let mut input = child.stdin.take().expect("stdin piped");
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("stdin written");
        }
        drop(input);
        child.wait_with_output().expect("kubectl finishes")
    }

    /// Runs and requires success, returning stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs and requires failure, returning stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "kubectl {args:?} should fail");
        String::from_utf8(out.stderr).expect("utf-8 output")
    }
}

async fn everyday_work(minor: u32) {
    let bin = e2e::upstream_kubectl(minor)
        .unwrap_or_else(|| panic!("upstream kubectl 1.{minor} is not installed next to `kubectl`"));
    let c = TestCluster::start().await.unwrap();
    let k = Kubectl {
        bin,
        kubeconfig: &c.kubeconfig,
    };
    let manifest = c.dir.path().join("app.yaml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let manifest = manifest.to_str().unwrap();

    // Create a multi-document manifest, with kubectl's default validation on.
    let out = k.ok(&["create", "-f", manifest]);
    for line in [
        "configmap/settings created",
        "deployment.apps/web created",
        "pod/p1 created",
    ] {
        assert!(out.contains(line), "{out}");
    }
    let err = k.fails(&["create", "-f", manifest]);
    assert!(err.contains("Error from server (AlreadyExists)"), "{err}");
    assert!(
        err.contains("configmaps \"settings\" already exists"),
        "{err}"
    );

    // Tables with upstream's columns.
    let out = k.ok(&["get", "configmaps"]);
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "DATA", "AGE"], "{out}");
    assert!(out.contains("settings"), "{out}");
    let out = k.ok(&["get", "deploy"]);
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        "{out}"
    );
    assert!(out.lines().nth(1).unwrap().starts_with("web"), "{out}");
    let out = k.ok(&["get", "pods", "-o", "wide"]);
    assert!(
        out.lines().next().unwrap().contains("NOMINATED NODE"),
        "{out}"
    );
    assert!(out.contains("Pending"), "{out}");
    let out = k.ok(&["get", "ns"]);
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(out.contains(ns), "{out}");
    }

    // Machine-readable output.
    let yaml = k.ok(&["get", "deploy", "web", "-o", "yaml"]);
    let v: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(v["spec"]["replicas"], 2);
    assert_eq!(v["metadata"]["generation"], 1);
    assert!(v["metadata"]["uid"].is_string());
    let json = k.ok(&["get", "cm", "settings", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["data"]["color"], "blue");
    assert_eq!(
        k.ok(&["get", "cm", "settings", "-o", "jsonpath={.data.color}"]),
        "blue"
    );
    assert_eq!(k.ok(&["get", "pods", "-o", "name"]).trim(), "pod/p1");

    // Labels and selectors.
    assert!(k
        .ok(&["label", "pod", "p1", "tier=fe"])
        .contains("pod/p1 labeled"));
    assert_eq!(
        k.ok(&["get", "pods", "-l", "tier=fe", "-o", "name"]).trim(),
        "pod/p1"
    );
    assert_eq!(
        k.ok(&["get", "pods", "-l", "tier!=fe", "-o", "name"])
            .trim(),
        ""
    );

    // Patches of all three types change exactly what was asked.
    k.ok(&[
        "patch",
        "cm",
        "settings",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"color":"red"}}"#,
    ]);
    k.ok(&[
        "patch",
        "cm",
        "settings",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/data/size","value":"L"}]"#,
    ]);
    assert_eq!(
        k.ok(&[
            "get",
            "cm",
            "settings",
            "-o",
            "jsonpath={.data.color}/{.data.size}"
        ]),
        "red/L"
    );
    k.ok(&[
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}"#,
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "deploy", "web", "-o", "json"])).unwrap();
    let containers = v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(
        containers.len(),
        2,
        "strategic merge keeps the sidecar: {containers:?}"
    );
    assert_eq!(containers[0]["image"], "nginx:1.26");
    assert_eq!(containers[0]["ports"][0]["containerPort"], 80);
    assert_eq!(v["metadata"]["generation"], 2);

    // A stale update is refused with upstream's Conflict message.
    let stale = k.ok(&["get", "cm", "settings", "-o", "json"]);
    k.ok(&["label", "cm", "settings", "bump=1"]);
    let out = k.run_stdin(&["replace", "-f", "-"], Some(&stale));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("Error from server (Conflict)"), "{err}");
    assert!(err.contains("the object has been modified"), "{err}");

    // `get -w` sees a change made while it watches.
    let watch = std::process::Command::new(&k.bin)
        .args([
            "get",
            "cm",
            "settings",
            "-w",
            "-o",
            "jsonpath={.metadata.labels.stage}{\"\\n\"}",
            "--request-timeout=8s",
        ])
        .env("KUBECONFIG", k.kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    k.ok(&["label", "cm", "settings", "stage=two"]);
    let out = tokio::task::spawn_blocking(move || watch.wait_with_output().unwrap())
        .await
        .unwrap();
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(seen.lines().any(|l| l == "two"), "watch output: {seen:?}");

    // Delete, and errors read as upstream's.
    let out = k.ok(&["delete", "-f", manifest, "--wait=false"]);
    assert!(out.contains("configmap \"settings\" deleted"), "{out}");
    let err = k.fails(&["get", "cm", "settings"]);
    assert!(
        err.contains("Error from server (NotFound): configmaps \"settings\" not found"),
        "{err}"
    );
    let err = k.fails(&["get", "nosuchthings"]);
    assert!(
        err.contains("the server doesn't have a resource type \"nosuchthings\""),
        "{err}"
    );
    c.stop().await;
}

/// The apply family and the other issue-3 flows: client-side apply and re-apply changing one
/// field, server-side apply and a conflict between two managers, scale, dry-run, describe,
/// api-resources, and delete with each propagation policy.
async fn apply_and_friends(minor: u32) {
    let bin = e2e::upstream_kubectl(minor)
        .unwrap_or_else(|| panic!("upstream kubectl 1.{minor} is not installed next to `kubectl`"));
    let c = TestCluster::start().await.unwrap();
    let k = Kubectl {
        bin,
        kubeconfig: &c.kubeconfig,
    };
    let dir = c.dir.path();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let v1 = write("app.yaml", MANIFEST);
    let out = k.ok(&["apply", "-f", &v1]);
    assert!(out.contains("deployment.apps/web created"), "{out}");
    // Re-apply with one field changed: only that field changes.
    let before: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "deploy", "web", "-o", "json"])).unwrap();
    let v2 = write("app2.yaml", &MANIFEST.replace("replicas: 2", "replicas: 4"));
    let out = k.ok(&["apply", "-f", &v2]);
    assert!(out.contains("deployment.apps/web configured"), "{out}");
    assert!(out.contains("configmap/settings unchanged"), "{out}");
    let after: serde_json::Value =
        serde_json::from_str(&k.ok(&["get", "deploy", "web", "-o", "json"])).unwrap();
    assert_eq!(after["spec"]["replicas"], 4);
    assert_eq!(after["spec"]["template"], before["spec"]["template"]);
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);

    // Server-side apply, then a second manager conflicts on a field the first owns.
    let ssa = write(
        "ssa.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owned}\ndata: {color: blue}\n",
    );
    assert!(k
        .ok(&["apply", "--server-side", "-f", &ssa])
        .contains("serverside-applied"));
    let other = write(
        "other.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owned}\ndata: {color: red}\n",
    );
    let err = k.fails(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        &other,
    ]);
    assert!(err.contains("Apply failed with 1 conflict"), "{err}");
    assert!(err.contains(".data.color"), "{err}");
    k.ok(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        &other,
    ]);
    assert_eq!(
        k.ok(&["get", "cm", "owned", "-o", "jsonpath={.data.color}"]),
        "red"
    );

    // Scale through the scale subresource.
    assert!(k
        .ok(&["scale", "deploy", "web", "--replicas=3"])
        .contains("scaled"));
    assert_eq!(
        k.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "3"
    );

    // Server-side dry run stores nothing.
    let dry = write(
        "dry.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\n",
    );
    let out = k.ok(&["create", "-f", &dry, "--dry-run=server", "-o", "name"]);
    assert_eq!(out.trim(), "configmap/dry");
    assert!(k.fails(&["get", "cm", "dry"]).contains("NotFound"));

    // Unknown fields are refused as upstream words it; explain reads the served schemas.
    let bad = write(
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ncolour: red\n",
    );
    let err = k.fails(&["create", "-f", &bad]);
    assert!(
        err.contains("strict decoding error: unknown field \"colour\""),
        "{err}"
    );
    let out = k.ok(&["explain", "pod.spec.containers"]);
    assert!(
        out.contains("FIELD: containers <[]Container>")
            || out.contains("FIELD:    containers <[]Container>"),
        "{out}"
    );
    assert!(out.contains("image"), "{out}");

    // describe and api-resources.
    let out = k.ok(&["describe", "deploy", "web"]);
    assert!(
        out.contains("Replicas:") && out.contains("nginx:1.25"),
        "{out}"
    );
    let out = k.ok(&["api-resources"]);
    let deploy = out
        .lines()
        .find(|l| l.starts_with("deployments "))
        .expect("deployments listed");
    assert!(
        deploy.contains("deploy") && deploy.contains("apps/v1") && deploy.contains("Deployment"),
        "{deploy}"
    );

    // Delete with each propagation policy: background removes it; orphan and foreground leave
    // it marked with upstream's finalizer for the garbage collector.
    for (name, cascade, finalizer) in [
        ("a", "background", ""),
        ("b", "orphan", "orphan"),
        ("c", "foreground", "foregroundDeletion"),
    ] {
        let f = write(
            &format!("{name}.yaml"),
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"),
        );
        k.ok(&["create", "-f", &f]);
        k.ok(&[
            "delete",
            "cm",
            name,
            &format!("--cascade={cascade}"),
            "--wait=false",
        ]);
        if finalizer.is_empty() {
            assert!(k.fails(&["get", "cm", name]).contains("NotFound"));
        } else {
            let fins = k.ok(&["get", "cm", name, "-o", "jsonpath={.metadata.finalizers}"]);
            assert!(fins.contains(finalizer), "{cascade}: {fins}");
        }
    }
    c.stop().await;
}

#[tokio::test]
async fn kubectl_1_33_apply_and_friends() {
    apply_and_friends(33).await;
}

#[tokio::test]
async fn kubectl_1_27_apply_and_friends() {
    apply_and_friends(27).await;
}

#[tokio::test]
async fn kubectl_1_33_everyday_work() {
    everyday_work(33).await;
}

#[tokio::test]
async fn kubectl_1_27_everyday_work() {
    everyday_work(27).await;
}

/// kubectl's `create` generators, `run` and `expose` build typed objects and send them as
/// protobuf (`application/vnd.kubernetes.protobuf`); what is stored must be what was asked.
async fn generators(minor: u32) {
    let bin = e2e::upstream_kubectl(minor)
        .unwrap_or_else(|| panic!("upstream kubectl 1.{minor} is not installed next to `kubectl`"));
    let c = TestCluster::start().await.unwrap();
    let k = Kubectl {
        bin,
        kubeconfig: &c.kubeconfig,
    };
    assert_eq!(
        k.ok(&["create", "namespace", "gen"]),
        "namespace/gen created\n"
    );
    let n = ["-n", "gen"];
    let created = |args: &[&str], want: &str| {
        let out = k.ok(&[&n[..], args].concat());
        assert_eq!(out, format!("{want} created\n"), "{args:?}");
    };
    created(
        &[
            "create",
            "configmap",
            "cfg",
            "--from-literal=a=b",
            "--from-literal=empty=",
        ],
        "configmap/cfg",
    );
    created(
        &[
            "create",
            "secret",
            "generic",
            "sec",
            "--from-literal=p=hunter2",
        ],
        "secret/sec",
    );
    created(
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--replicas=0",
            "--port=80",
            "--",
            "sh",
            "-c",
            "echo hi",
        ],
        "deployment.apps/web",
    );
    created(
        &["create", "serviceaccount", "robot"],
        "serviceaccount/robot",
    );
    created(
        &["create", "service", "clusterip", "api", "--tcp=80:8080"],
        "service/api",
    );
    created(
        &[
            "create",
            "quota",
            "q",
            "--hard=cpu=1500m,memory=1Gi,pods=10",
        ],
        "resourcequota/q",
    );
    created(
        &[
            "create",
            "pdb",
            "pdb",
            "--selector=app=web",
            "--min-available=50%",
        ],
        "poddisruptionbudget.policy/pdb",
    );
    created(
        &[
            "create",
            "cronjob",
            "tick",
            "--image=busybox:1.36",
            "--schedule=*/5 * * * *",
        ],
        "cronjob.batch/tick",
    );
    created(
        &[
            "create",
            "role",
            "reader",
            "--verb=get,list",
            "--resource=pods",
        ],
        "role.rbac.authorization.k8s.io/reader",
    );
    created(
        &[
            "create",
            "rolebinding",
            "rb",
            "--role=reader",
            "--serviceaccount=gen:robot",
        ],
        "rolebinding.rbac.authorization.k8s.io/rb",
    );
    let get = |what: &str, path: &str| {
        k.ok(&["get", what, "-n", "gen", "-o", &format!("jsonpath={path}")])
    };
    assert_eq!(get("ns/gen", "{.status.phase}"), "Active");
    assert_eq!(get("cm/cfg", "{.data}"), r#"{"a":"b","empty":""}"#);
    assert_eq!(get("secret/sec", "{.data.p}"), "aHVudGVyMg==");
    assert_eq!(get("secret/sec", "{.type}"), "Opaque");
    assert_eq!(get("deploy/web", "{.spec.replicas}"), "0");
    assert_eq!(
        get("deploy/web", "{.spec.template.spec.containers[0].command}"),
        r#"["sh","-c","echo hi"]"#
    );
    assert_eq!(
        get("deploy/web", "{.spec.template.spec.containers[0].ports}"),
        r#"[{"containerPort":80,"protocol":"TCP"}]"#
    );
    assert_eq!(get("deploy/web", "{.spec.selector.matchLabels.app}"), "web");
    // Go's zero time and zero non-pointer fields are not stored as values.
    assert_eq!(
        get("deploy/web", "{.spec.template.metadata}"),
        r#"{"labels":{"app":"web"}}"#
    );
    assert_eq!(get("sa/robot", "{.metadata.name}"), "robot");
    assert_eq!(get("svc/api", "{.spec.ports[0].targetPort}"), "8080");
    assert_eq!(get("svc/api", "{.spec.ports[0].port}"), "80");
    assert_eq!(get("quota/q", "{.spec.hard.cpu}"), "1500m");
    assert_eq!(get("quota/q", "{.spec.hard.memory}"), "1Gi");
    assert_eq!(get("pdb/pdb", "{.spec.minAvailable}"), "50%");
    assert_eq!(get("cronjob/tick", "{.spec.schedule}"), "*/5 * * * *");
    assert_eq!(get("role/reader", "{.rules[0].verbs}"), r#"["get","list"]"#);
    assert_eq!(get("rolebinding/rb", "{.subjects[0].name}"), "robot");
    // `run` and `expose` too.
    k.ok(&[
        "run",
        "one",
        "--image=busybox:1.36",
        "--restart=Never",
        "-n",
        "gen",
        "--",
        "sleep",
        "1",
    ]);
    assert_eq!(
        get("pod/one", "{.spec.containers[0].args}"),
        r#"["sleep","1"]"#
    );
    k.ok(&[
        "expose",
        "deployment",
        "web",
        "--port=8080",
        "--target-port=80",
        "-n",
        "gen",
    ]);
    assert_eq!(get("svc/web", "{.spec.ports[0].targetPort}"), "80");
    // set image and edit change exactly what was asked.
    k.ok(&[
        "set",
        "image",
        "deploy/web",
        "nginx=nginx:1.28",
        "-n",
        "gen",
    ]);
    assert_eq!(
        get(
            "deploy/web",
            "{.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].command}"
        ),
        r#"nginx:1.28 ["sh","-c","echo hi"]"#
    );
    let editor = c.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/^  a: b$/  a: edited/' \"$1\"\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&editor).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&editor, perms).unwrap();
    let edited = Command::new(&k.bin)
        .args(["edit", "cm", "cfg", "-n", "gen"])
        .env("KUBECONFIG", k.kubeconfig)
        .env("EDITOR", &editor)
        .output()
        .expect("kubectl edit runs");
    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&edited.stdout),
        "configmap/cfg edited\n"
    );
    assert_eq!(get("cm/cfg", "{.data}"), r#"{"a":"edited","empty":""}"#);
    // Typed deletes send DeleteOptions bodies.
    k.ok(&["delete", "cm", "cfg", "-n", "gen"]);
    assert!(k
        .fails(&["get", "cm", "cfg", "-n", "gen"])
        .contains("NotFound"));
    c.stop().await;
}

#[tokio::test]
async fn kubectl_1_33_generators() {
    generators(33).await;
}

#[tokio::test]
async fn kubectl_1_27_generators() {
    generators(27).await;
}
