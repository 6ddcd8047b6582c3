//! End-to-end tests of our kubectl against the real apiserver (and etcd), comparing its
//! output with upstream kubectl 1.33's on the same cluster where upstream is installed.

mod common;

use common::*;
use e2e::TestCluster;
use std::process::{Command, Stdio};

/// Ages depend on the second a command runs; replace them so outputs compare.
fn mask_ages(s: &str) -> String {
    s.lines()
        .map(|l| {
            l.split(' ')
                .map(|tok| {
                    let is_age = !tok.is_empty()
                        && tok.chars().next().is_some_and(|c| c.is_ascii_digit())
                        && tok.ends_with(['s', 'm', 'h', 'd'])
                        && tok
                            .chars()
                            .all(|c| c.is_ascii_digit() || "smhd".contains(c));
                    if is_age {
                        "<age>".to_string() + &" ".repeat(tok.len().saturating_sub(5))
                    } else {
                        tok.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the same command with ours and upstream 1.33 and requires the same output and exit
/// code. Without upstream installed, only checks that ours runs.
fn same_as_upstream(c: &TestCluster, args: &[&str]) -> Out {
    compare(c, args, false)
}

/// Like [`same_as_upstream`], but only the last line of stderr must match: upstream's
/// client-go logs watch warnings around timeouts.
fn same_as_upstream_but_logs(c: &TestCluster, args: &[&str]) -> Out {
    compare(c, args, true)
}

fn compare(c: &TestCluster, args: &[&str], last_error_line: bool) -> Out {
    let mine = kubectl(c, args);
    if let Some(up) = e2e::upstream_kubectl(33) {
        let theirs = run_bin(&up, &c.kubeconfig, args, None);
        assert_eq!(
            mask_ages(&mine.stdout),
            mask_ages(&theirs.stdout),
            "stdout of {args:?}"
        );
        if last_error_line {
            assert_eq!(
                mine.stderr.lines().last(),
                theirs.stderr.lines().last(),
                "stderr of {args:?}"
            );
        } else {
            assert_eq!(mine.stderr, theirs.stderr, "stderr of {args:?}");
        }
        assert_eq!(mine.code, theirs.code, "exit code of {args:?}");
    }
    mine
}

const FIXTURES: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: hello
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: hello
  labels: {app: hello, tier: web}
  annotations: {note: 'x: y', port: \"8080\"}
# One key only: upstream's describe prints data in Go map order, which is random.
data:
  multi: |
    line one
    line two
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: hello
  labels: {app: hello}
spec:
  replicas: 2
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      containers:
      - name: web
        image: busybox:1.36
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: hello
spec:
  selector: {app: hello}
  ports: [{port: 80, targetPort: 8080}]
";

#[tokio::test]
async fn get_prints_like_upstream() {
    let c = TestCluster::start().await.expect("cluster");
    let o = kubectl_in(&c, &["create", "-f", "-"], FIXTURES);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.stdout,
        "namespace/hello created\nconfigmap/settings created\ndeployment.apps/web created\nservice/web created\n"
    );
    for args in [
        &["get", "ns"][..],
        &["get", "namespaces", "hello", "default"],
        &["get", "po"],
        &["get", "pods", "-A"],
        &["get", "nodes"],
        &["get", "cm", "-n", "hello"],
        &["get", "cm", "-n", "hello", "--no-headers"],
        &["get", "configmaps", "-A", "--show-labels"],
        &["get", "cm", "-A", "-L", "app,tier"],
        &["get", "deploy,cm", "-n", "hello", "-o", "wide"],
        &["get", "deployments.apps", "-n", "hello"],
        &["get", "deployments.v1.apps", "-n", "hello", "-o", "name"],
        &["get", "all", "-n", "hello"],
        &["get", "po,svc", "-n", "hello"],
        &["get", "svc/web", "cm/settings", "-n", "hello"],
        &["get", "cm", "-A", "-l", "app=hello"],
        &["get", "cm", "-A", "-l", "app!=hello", "-o", "name"],
        &["get", "ns", "--field-selector", "metadata.name=hello"],
        &["get", "cm", "settings", "-n", "hello", "-o", "yaml"],
        &["get", "cm", "-n", "hello", "-o", "json"],
        &["get", "deploy", "web", "-n", "hello", "-o", "json"],
        &["get", "deploy", "web", "-n", "hello", "-o", "yaml"],
        &[
            "get",
            "cm",
            "-A",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ],
        &[
            "get",
            "cm",
            "-A",
            "-o",
            "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{\"\\n\"}{end}",
        ],
        &[
            "get",
            "cm",
            "-A",
            "-o",
            "custom-columns=NAME:.metadata.name,NS:metadata.namespace,L:.metadata.labels,X:.nope",
        ],
        &["get", "pods", "nope"],
        &["get", "cm", "settings", "nope", "-n", "hello"],
        &["get", "foo"],
        &["get", "deploy", "-n", "empty-ns"],
        &["api-resources"],
        &["api-resources", "--namespaced=false", "-o", "wide"],
        &["api-resources", "--api-group=apps", "-o", "name"],
        &["api-versions"],
        &["cluster-info"],
        &["config", "view"],
        &["config", "view", "--minify", "-o", "json"],
        &["config", "get-contexts"],
        &["config", "current-context"],
    ] {
        same_as_upstream(&c, args);
    }
    // Our own checks, for when upstream is not installed.
    let o = kubectl(&c, &["get", "pods", "nope"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Error from server (NotFound): pods \"nope\" not found\n"
    );
    let o = kubectl(&c, &["get", "foo"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "error: the server doesn't have a resource type \"foo\"\n"
    );
    let o = kubectl(&c, &["get", "po"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, ""));
    assert_eq!(o.stderr, "No resources found in default namespace.\n");
    let wide = ok(&c, &["get", "deploy,cm", "-n", "hello"]);
    let mut blocks = wide.split("\n\n");
    assert!(blocks.next().unwrap().contains("deployment.apps/web"));
    assert!(blocks.next().unwrap().starts_with("NAME "));
    assert_eq!(
        ok(&c, &["get", "cm", "-n", "hello", "settings", "-o", "name"]),
        "configmap/settings\n"
    );
    c.stop().await;
}

#[tokio::test]
async fn config_namespace_and_context_flags() {
    let c = TestCluster::start().await.expect("cluster");
    let _ = kubectl_in(&c, &["create", "-f", "-"], FIXTURES);
    // A second context whose namespace is `hello`.
    let base = std::fs::read_to_string(&c.kubeconfig).unwrap();
    let two = base.replace(
        "current-context: test\n",
        "- name: other\n  context:\n    cluster: test\n    user: test\n    namespace: hello\ncurrent-context: test\n",
    );
    let path = c.dir.path().join("two-contexts");
    std::fs::write(&path, two).unwrap();
    let p = path.to_str().unwrap();
    let bogus = c.dir.path().join("missing-kubeconfig");
    let run = |args: &[&str]| run_bin(&ours(), &bogus, args, None);
    // --kubeconfig wins over $KUBECONFIG (which names a missing file here).
    let o = run(&["--kubeconfig", p, "get", "cm", "-o", "name"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (0, "", ""));
    let o = run(&[
        "--kubeconfig",
        p,
        "--context",
        "other",
        "get",
        "cm",
        "-o",
        "name",
    ]);
    assert!(
        o.stdout.contains("configmap/settings"),
        "{}{}",
        o.stdout,
        o.stderr
    );
    let o = run(&[
        "--kubeconfig",
        p,
        "--context",
        "other",
        "-n",
        "default",
        "get",
        "cm",
        "settings",
    ]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "Error from server (NotFound): configmaps \"settings\" not found\n"
    );
    let o = run(&["--kubeconfig", p, "--context", "nope", "get", "cm"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .starts_with("error: context was not found for specified context: nope"),
        "{}",
        o.stderr
    );
    // --server and --token override the kubeconfig.
    let o = run(&[
        "--kubeconfig",
        p,
        "--server",
        "https://127.0.0.1:1",
        "get",
        "ns",
    ]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stderr,
        "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n"
    );
    let o = run(&[
        "--kubeconfig",
        p,
        "--token",
        "another",
        "get",
        "ns",
        "default",
        "-o",
        "name",
    ]);
    assert_eq!(o.stdout, "namespace/default\n");
    // config use-context rewrites the file; current-context reads it back.
    let o = run(&["--kubeconfig", p, "config", "use-context", "other"]);
    assert_eq!(o.stdout, "Switched to context \"other\".\n");
    let o = run(&["--kubeconfig", p, "config", "current-context"]);
    assert_eq!(o.stdout, "other\n");
    let o = run(&["--kubeconfig", p, "get", "deploy", "-o", "name"]);
    assert_eq!(o.stdout, "deployment.apps/web\n");
    let o = run(&["--kubeconfig", p, "config", "get-contexts"]);
    assert_eq!(
        o.stdout,
        "CURRENT   NAME    CLUSTER   AUTHINFO   NAMESPACE\n*         other   test      test       hello\n          test    test      test       default\n"
    );
    let o = run(&["--kubeconfig", p, "config", "use-context", "nope"]);
    assert_eq!(
        o.stderr,
        "error: no context exists with the name: \"nope\"\n"
    );
    // Usage errors exit 1.
    let o = run(&["get", "--no-such-flag"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("--no-such-flag"), "{}", o.stderr);
    // version and raw requests.
    let o = run(&["--kubeconfig", p, "version", "--client"]);
    assert_eq!(o.stdout, "Client Version: v1.33.0\n");
    let o = run(&["--kubeconfig", p, "version"]);
    assert!(
        o.stdout
            .starts_with("Client Version: v1.33.0\nServer Version: v1."),
        "{}",
        o.stdout
    );
    let o = run(&["--kubeconfig", p, "version", "-o", "json"]);
    assert!(o.stdout.contains("\"serverVersion\": {"), "{}", o.stdout);
    let o = run(&["--kubeconfig", p, "get", "--raw", "/version"]);
    assert!(o.stdout.contains("\"gitVersion\""), "{}", o.stdout);
    // -A lists every namespace with a NAMESPACE column.
    let o = run(&["--kubeconfig", p, "get", "deploy", "-A"]);
    assert!(
        o.stdout.starts_with("NAMESPACE   NAME   READY"),
        "{}",
        o.stdout
    );
    c.stop().await;
}

#[tokio::test]
async fn create_label_patch_scale_delete() {
    let c = TestCluster::start().await.expect("cluster");
    let dir = c.dir.path().join("manifests");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.yaml"), FIXTURES).unwrap();
    std::fs::write(
        dir.join("b.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: second, namespace: hello}\n---\napiVersion: v1\nkind: Foo\nmetadata: {name: f}\n---\nmetadata: {name: nokind}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: third, namespace: hello}\n",
    )
    .unwrap();
    std::fs::write(dir.join("ignored.txt"), "not a manifest").unwrap();
    let d = dir.to_str().unwrap();
    // A folder: every manifest, past the failures, saying which succeeded.
    let o = kubectl(&c, &["create", "-f", d]);
    assert_eq!(o.code, 1);
    assert_eq!(
        o.stdout,
        "namespace/hello created\nconfigmap/settings created\ndeployment.apps/web created\nservice/web created\nconfigmap/second created\nconfigmap/third created\n"
    );
    let b = dir.join("b.yaml");
    let b = b.display();
    assert_eq!(
        o.stderr,
        format!("error: resource mapping not found for name: \"f\" namespace: \"\" from \"{b}\": no matches for kind \"Foo\" in version \"v1\"\nensure CRDs are installed first\nerror: error validating \"{b}\" (document 3): error validating data: [apiVersion not set, kind not set]\n")
    );
    // Creating again: AlreadyExists, naming the file.
    let o = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: second, namespace: hello}\n",
    );
    assert_eq!(o.code, 1);
    assert_eq!(o.stderr, "Error from server (AlreadyExists): error when creating \"STDIN\": configmaps \"second\" already exists\n");
    // Malformed YAML names the file and the document.
    let o = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\na: [b\n",
    );
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "configmap/x created\n");
    assert!(
        o.stderr
            .starts_with("error: error parsing STDIN (document 2): "),
        "{}",
        o.stderr
    );
    // The namespace in a manifest must agree with -n.
    let o = kubectl_in(
        &c,
        &["create", "-n", "default", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y, namespace: hello}\n",
    );
    assert_eq!(o.stderr, "error: the namespace from the provided object \"hello\" does not match the namespace \"default\". You must pass '--namespace=hello' to perform this operation.\n");
    // Invalid objects list their causes.
    let o = kubectl_in(
        &c,
        &["create", "-f", "-", "-o", "name"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n",
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .starts_with("Error from server (Invalid): error when creating \"STDIN\": "),
        "{}",
        o.stderr
    );

    // label: add, refuse to overwrite, overwrite, remove.
    let n = &["-n", "hello"];
    let with_ns = |args: &[&'static str]| -> Vec<&'static str> { [args, n].concat() };
    assert_eq!(
        ok(&c, &with_ns(&["label", "cm", "second", "color=red"])),
        "configmap/second labeled\n"
    );
    let o = kubectl(&c, &with_ns(&["label", "cm", "second", "color=blue"]));
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            1,
            "error: 'color' already has a value (red), and --overwrite is false\n"
        )
    );
    assert_eq!(
        ok(
            &c,
            &with_ns(&["label", "cm/second", "color=blue", "--overwrite"])
        ),
        "configmap/second labeled\n"
    );
    assert_eq!(
        ok(&c, &with_ns(&["label", "cm", "second", "color=blue"])),
        "configmap/second not labeled\n"
    );
    assert_eq!(
        ok(
            &c,
            &with_ns(&[
                "get",
                "cm",
                "second",
                "-o",
                "jsonpath={.metadata.labels.color}"
            ])
        ),
        "blue"
    );
    assert_eq!(
        ok(&c, &with_ns(&["label", "cm", "second", "color-"])),
        "configmap/second unlabeled\n"
    );
    assert_eq!(
        ok(&c, &with_ns(&["label", "cm", "-l", "app=hello", "team=a"])),
        "configmap/settings labeled\n"
    );
    // annotate
    assert_eq!(
        ok(
            &c,
            &with_ns(&["annotate", "deploy", "web", "note=hello world"])
        ),
        "deployment.apps/web annotated\n"
    );
    let o = kubectl(&c, &with_ns(&["annotate", "deploy", "web", "note=other"]));
    assert_eq!(
        o.stderr,
        "error: 'note' already has a value (hello world), and --overwrite is false\n"
    );
    assert_eq!(
        ok(&c, &with_ns(&["annotate", "deploy", "web", "note-"])),
        "deployment.apps/web annotated\n"
    );
    // patch: strategic (merging containers by name), merge, json; no-op patches say so.
    assert_eq!(
        ok(
            &c,
            &with_ns(&[
                "patch",
                "deploy",
                "web",
                "-p",
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"busybox:1.37"}]}}}}"#
            ])
        ),
        "deployment.apps/web patched\n"
    );
    assert_eq!(
        ok(&c, &with_ns(&["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}"])),
        "busybox:1.37 8080"
    );
    assert_eq!(
        ok(
            &c,
            &with_ns(&["patch", "deploy", "web", "-p", r#"{"spec":{"replicas":2}}"#])
        ),
        "deployment.apps/web patched (no change)\n"
    );
    assert_eq!(
        ok(
            &c,
            &with_ns(&[
                "patch",
                "deploy/web",
                "--type",
                "merge",
                "-p",
                "spec: {replicas: 4}"
            ])
        ),
        "deployment.apps/web patched\n"
    );
    assert_eq!(
        ok(
            &c,
            &with_ns(&[
                "patch",
                "deploy",
                "web",
                "--type",
                "json",
                "-p",
                r#"[{"op":"replace","path":"/spec/replicas","value":5}]"#
            ])
        ),
        "deployment.apps/web patched\n"
    );
    let o = kubectl(
        &c,
        &with_ns(&[
            "patch",
            "deploy",
            "web",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/spec/nope/x","value":5}]"#,
        ]),
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with("The request is invalid: "),
        "{}",
        o.stderr
    );
    // scale
    assert_eq!(
        ok(&c, &with_ns(&["scale", "deploy", "web", "--replicas=3"])),
        "deployment.apps/web scaled\n"
    );
    assert_eq!(
        ok(
            &c,
            &with_ns(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
        ),
        "3"
    );
    let o = kubectl(
        &c,
        &with_ns(&[
            "scale",
            "deploy",
            "web",
            "--replicas=1",
            "--current-replicas=2",
        ]),
    );
    assert_eq!(o.stderr, "error: Expected replicas to be 2, was 3\n");
    let o = kubectl(&c, &with_ns(&["scale", "deploy/nope", "--replicas=1"]));
    assert_eq!(
        o.stderr,
        "Error from server (NotFound): deployments.apps \"nope\" not found\n"
    );
    // delete: by name, by label, --all, -f; missing objects.
    let _ = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: Secret\nmetadata: {name: fg}\n",
    );
    assert_eq!(
        ok(
            &c,
            &[
                "delete",
                "secret",
                "fg",
                "--cascade=foreground",
                "--wait=false"
            ]
        ),
        "secret \"fg\" deleted\n"
    );
    assert_eq!(
        ok(&c, &with_ns(&["delete", "cm", "second"])),
        "configmap \"second\" deleted\n"
    );
    let o = kubectl(&c, &with_ns(&["delete", "cm", "second"]));
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            1,
            "Error from server (NotFound): configmaps \"second\" not found\n"
        )
    );
    assert_eq!(
        ok(
            &c,
            &with_ns(&["delete", "cm", "second", "--ignore-not-found"])
        ),
        ""
    );
    assert_eq!(
        ok(
            &c,
            &with_ns(&["delete", "cm", "-l", "team=a", "--grace-period=0"])
        ),
        "configmap \"settings\" deleted\n"
    );
    let o = kubectl(&c, &with_ns(&["delete", "cm"]));
    assert_eq!(
        o.stderr,
        "error: resource(s) were provided, but no name was specified\n"
    );
    assert_eq!(
        ok(&c, &with_ns(&["delete", "cm", "--all"])),
        "configmap \"third\" deleted\n"
    );
    assert_eq!(ok(&c, &["delete", "cm", "x"]), "configmap \"x\" deleted\n");
    let o = kubectl(&c, &["delete", "-f", d, "--cascade=orphan", "--wait=false"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stdout
            .contains("deployment.apps \"web\" deleted\nservice \"web\" deleted\n"),
        "{}",
        o.stdout
    );
    assert!(
        o.stderr
            .contains("Error from server (NotFound): error when deleting"),
        "{}",
        o.stderr
    );
    c.stop().await;
}

#[tokio::test]
async fn describe_matches_upstream() {
    let c = TestCluster::start().await.expect("cluster");
    let o = kubectl_in(&c, &["create", "-f", "-"], FIXTURES);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p1, labels: {app: x}}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    command: [sh, -c, sleep 1]\n    ports: [{containerPort: 80}]\n    env: [{name: A, value: b}]\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: {kubernetes.io/hostname: n1}}\n---\napiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: l1}\nspec: {holderIdentity: me}\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    // An event about the pod shows in its Events section.
    let uid = ok(&c, &["get", "pod", "p1", "-o", "jsonpath={.metadata.uid}"]);
    let now = ok(
        &c,
        &[
            "get",
            "pod",
            "p1",
            "-o",
            "jsonpath={.metadata.creationTimestamp}",
        ],
    );
    let event = format!("apiVersion: v1\nkind: Event\nmetadata: {{name: p1.1}}\ninvolvedObject: {{kind: Pod, name: p1, namespace: default, uid: \"{uid}\", apiVersion: v1}}\nreason: Scheduled\nmessage: Successfully assigned default/p1 to n1\ntype: Normal\nsource: {{component: default-scheduler}}\nfirstTimestamp: \"{now}\"\nlastTimestamp: \"{now}\"\ncount: 1\n");
    let o = kubectl_in(&c, &["create", "-f", "-"], &event);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = ok(&c, &["describe", "pod", "p1"]);
    assert!(o.contains("Events:\n  Type    Reason     Age"), "{o}");
    assert!(
        o.contains("default-scheduler  Successfully assigned default/p1 to n1\n"),
        "{o}"
    );
    for args in [
        &["describe", "cm", "settings", "-n", "hello"][..],
        &["describe", "configmaps", "-n", "hello"],
        &["describe", "ns", "hello"],
        &["describe", "ns", "kube"],
        &["describe", "deploy", "web", "-n", "hello"],
        &["describe", "svc", "web", "-n", "hello"],
        &["describe", "pod", "p1"],
        &["describe", "node", "n1"],
        &["describe", "lease", "l1"],
        &["describe", "pod", "nope"],
    ] {
        same_as_upstream(&c, args);
    }
    let o = ok(&c, &["describe", "cm", "settings", "-n", "hello"]);
    assert!(o.starts_with("Name:         settings\nNamespace:    hello\nLabels:       app=hello\n              tier=web\n"), "{o}");
    assert!(o.ends_with("Events:  <none>\n"), "{o}");
    c.stop().await;
}

#[tokio::test]
async fn watch_prints_rows_as_they_change() {
    let c = TestCluster::start().await.expect("cluster");
    let _ = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\ndata: {a: b}\n",
    );
    let mut child = Command::new(ours())
        .args(["get", "cm", "-w", "--output-watch-events"])
        .env("KUBECONFIG", &c.kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("a watch line")
    };
    assert!(next().starts_with("EVENT      NAME    DATA   AGE"));
    assert!(next().starts_with("ADDED      first   1      "));
    let _ = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a-much-longer-name}\n",
    );
    assert!(next().starts_with("ADDED      a-much-longer-name   0     "));
    ok(&c, &["label", "cm", "first", "x=y"]);
    assert!(next().starts_with("MODIFIED   first   1     "));
    ok(&c, &["delete", "cm", "first"]);
    assert!(next().starts_with("DELETED    first   1     "));
    child.kill().unwrap();
    child.wait().unwrap();
    c.stop().await;
}

#[tokio::test]
async fn apply_creates_configures_and_prunes_fields() {
    let c = TestCluster::start().await.expect("cluster");
    let v1 = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ap, labels: {a: \"1\", gone: x}}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: ap}}\n  template:\n    metadata: {labels: {app: ap}}\n    spec:\n      containers:\n      - {name: web, image: \"nginx:1\"}\n      - {name: side, image: busybox}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {k: v}\n";
    let v2 = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ap, labels: {a: \"2\"}}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: ap}}\n  template:\n    metadata: {labels: {app: ap}}\n    spec:\n      containers:\n      - {name: web, image: \"nginx:2\"}\n";
    let o = kubectl_in(&c, &["apply", "-f", "-"], v1);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "deployment.apps/ap created\nconfigmap/cfg created\n"),
        "{}",
        o.stderr
    );
    let o = kubectl_in(&c, &["apply", "-f", "-"], v1);
    assert_eq!(
        o.stdout,
        "deployment.apps/ap unchanged\nconfigmap/cfg unchanged\n"
    );
    // A label the server side added survives; the dropped label and container go.
    ok(&c, &["label", "deploy", "ap", "server=y"]);
    let o = kubectl_in(&c, &["apply", "-f", "-"], v2);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "deployment.apps/ap configured\n"),
        "{}",
        o.stderr
    );
    assert_eq!(
        ok(
            &c,
            &[
                "get",
                "deploy",
                "ap",
                "-o",
                "jsonpath={.metadata.labels} {.spec.template.spec.containers[*].image}"
            ]
        ),
        "{\"a\":\"2\",\"server\":\"y\"} nginx:2"
    );
    let ann = ok(
        &c,
        &[
            "get",
            "deploy",
            "ap",
            "-o",
            "jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}",
        ],
    );
    assert!(
        ann.contains("\"nginx:2\"") && !ann.contains("busybox"),
        "{ann}"
    );
    // An object made without apply gets the annotation, with a warning.
    let _ = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
    );
    let o = kubectl_in(
        &c,
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {x: y}\n",
    );
    assert_eq!(o.stdout, "configmap/plain configured\n");
    assert!(o.stderr.starts_with("Warning: resource configmaps/plain is missing the kubectl.kubernetes.io/last-applied-configuration annotation"), "{}", o.stderr);
    // Server-side apply: whatever the server answers, said plainly.
    let o = kubectl_in(
        &c,
        &["apply", "--server-side", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\n",
    );
    if o.code == 0 {
        assert_eq!(o.stdout, "configmap/ssa serverside-applied\n");
    } else {
        assert!(o.stderr.starts_with("Error from server ("), "{}", o.stderr);
    }
    c.stop().await;
}

#[tokio::test]
async fn logs_auth_wait_and_rollout() {
    let c = TestCluster::start().await.expect("cluster");
    let o = kubectl_in(&c, &["create", "-f", "-"], FIXTURES);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let _ = kubectl_in(&c, &["create", "-f", "-"], "apiVersion: v1\nkind: Pod\nmetadata: {name: p1}\nspec:\n  containers: [{name: c, image: nginx}]\n");
    // Verbs the server may not serve yet report its answer, as upstream does.
    for args in [
        &["logs", "p1"][..],
        &["auth", "can-i", "get", "pods"],
        &["auth", "whoami"],
        &["wait", "--for=condition=Ready", "pod/p1", "--timeout=1s"],
        &[
            "wait",
            "--for=delete",
            "cm/settings",
            "-n",
            "hello",
            "--timeout=1s",
        ],
        &[
            "wait",
            "--for=jsonpath={.spec.replicas}=2",
            "deploy/web",
            "-n",
            "hello",
        ],
        &[
            "wait",
            "--for=condition=Available",
            "deploy/web",
            "-n",
            "hello",
            "--timeout=1s",
        ],
        &[
            "rollout",
            "status",
            "deploy/web",
            "-n",
            "hello",
            "--timeout=1s",
        ],
    ] {
        let o = same_as_upstream_but_logs(&c, args);
        assert!(o.code == 0 || !o.stderr.is_empty(), "{args:?}");
    }
    assert_eq!(
        ok(
            &c,
            &[
                "wait",
                "--for=jsonpath={.spec.replicas}=2",
                "deploy/web",
                "-n",
                "hello"
            ]
        ),
        "deployment.apps/web condition met\n"
    );
    let o = kubectl(
        &c,
        &["wait", "--for=condition=Ready", "pod/p1", "--timeout=1s"],
    );
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (1, "error: timed out waiting for the condition on pods/p1\n")
    );
    // wait --for=delete returns once the object is gone.
    let waiter = Command::new(ours())
        .args([
            "wait",
            "--for=delete",
            "cm/settings",
            "-n",
            "hello",
            "--timeout=20s",
        ])
        .env("KUBECONFIG", &c.kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    ok(&c, &["delete", "cm", "settings", "-n", "hello"]);
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "configmap/settings condition met\n"
    );
    // rollout restart stamps the pod template.
    assert_eq!(
        ok(&c, &["rollout", "restart", "deploy/web", "-n", "hello"]),
        "deployment.apps/web restarted\n"
    );
    let stamp = ok(
        &c,
        &[
            "get",
            "deploy",
            "web",
            "-n",
            "hello",
            "-o",
            "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
        ],
    );
    assert!(stamp.ends_with('Z') && stamp.len() == 20, "{stamp}");
    c.stop().await;
}

#[tokio::test]
async fn edit_patches_what_the_editor_changed() {
    let c = TestCluster::start().await.expect("cluster");
    let o = kubectl_in(&c, &["create", "-f", "-"], FIXTURES);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let edit = |editor: &str| {
        let out = Command::new(ours())
            .args(["edit", "deploy", "web", "-n", "hello"])
            .env("KUBECONFIG", &c.kubeconfig)
            .env("KUBE_EDITOR", editor)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = edit("sed -i s/busybox:1.36/busybox:1.37/");
    assert_eq!(
        (code, out.as_str()),
        (0, "deployment.apps/web edited\n"),
        "{err}"
    );
    assert_eq!(
        ok(
            &c,
            &[
                "get",
                "deploy",
                "web",
                "-n",
                "hello",
                "-o",
                "jsonpath={.spec.template.spec.containers[0].image}"
            ]
        ),
        "busybox:1.37"
    );
    let (code, out, _) = edit("true");
    assert_eq!(
        (code, out.as_str()),
        (0, "Edit cancelled, no changes made.\n")
    );
    let (code, _, err) = edit("sed -i s/replicas:.*/replicas:\\ -5/");
    assert_eq!(code, 1);
    assert!(
        err.contains("could not be patched")
            && err.contains("A copy of your changes has been stored to"),
        "{err}"
    );
    c.stop().await;
}

/// A self-signed client certificate and its key, PEM.
#[tokio::test]
async fn client_certificates_and_tokens_from_kubeconfig() {
    let c = TestCluster::start().await.expect("cluster");
    let (cert, key) = self_signed("kubectl-test");
    let dir = c.dir.path();
    std::fs::write(dir.join("client.crt"), &cert).unwrap();
    std::fs::write(dir.join("client.key"), &key).unwrap();
    let ca = std::fs::read(&c.ca_file).unwrap();
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    // Certificate files, and the same as inline data with an inline CA.
    let files = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{}\", certificate-authority: \"{}\"}}\nusers:\n- name: u\n  user: {{client-certificate: \"{}\", client-key: \"{}\"}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n",
        c.url,
        c.ca_file.display(),
        dir.join("client.crt").display(),
        dir.join("client.key").display()
    );
    let inline = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{}\", certificate-authority-data: \"{}\"}}\nusers:\n- name: u\n  user: {{client-certificate-data: \"{}\", client-key-data: \"{}\"}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u, namespace: kube-system}}\ncurrent-context: x\n",
        c.url,
        b64(&ca),
        b64(&cert),
        b64(&key)
    );
    for (name, text) in [("files", files), ("inline", inline)] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let o = run_bin(
            &ours(),
            &path,
            &["get", "ns", "default", "-o", "name"],
            None,
        );
        assert_eq!(
            (o.code, o.stdout.as_str()),
            (0, "namespace/default\n"),
            "{name}: {}",
            o.stderr
        );
        let o = run_bin(&ours(), &path, &["config", "view", "--minify"], None);
        if name == "inline" {
            assert!(
                o.stdout.contains("client-key-data: DATA+OMITTED"),
                "{}",
                o.stdout
            );
            assert!(
                o.stdout
                    .contains("certificate-authority-data: DATA+OMITTED"),
                "{}",
                o.stdout
            );
            // The context's namespace is the default for namespaced requests.
            let o = run_bin(&ours(), &path, &["get", "cm"], None);
            assert_eq!(o.stderr, "No resources found in kube-system namespace.\n");
        }
    }
    // An untrusted server certificate is refused unless told to skip verification.
    let untrusted = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{}\"}}\nusers:\n- name: u\n  user: {{token: abc}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n",
        c.url
    );
    let path = dir.join("untrusted");
    std::fs::write(&path, untrusted).unwrap();
    let o = run_bin(
        &ours(),
        &path,
        &["get", "ns", "default", "-o", "name"],
        None,
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.starts_with("Unable to connect to the server: "),
        "{}",
        o.stderr
    );
    let o = run_bin(
        &ours(),
        &path,
        &[
            "--insecure-skip-tls-verify",
            "get",
            "ns",
            "default",
            "-o",
            "name",
        ],
        None,
    );
    assert_eq!(o.stdout, "namespace/default\n", "{}", o.stderr);
    c.stop().await;
}

/// The issue's scenario, run once with our kubectl and once with upstream 1.33, each in a
/// namespace of its own on the same cluster: every step must print the same (with the
/// namespace name masked) and exit the same way.
#[tokio::test]
async fn the_everyday_scenario_side_by_side() {
    let c = TestCluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let app = |value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels: {{app: demo}}\n\
             data:\n  color: {value}\n  size: large\n---\napiVersion: apps/v1\nkind: Deployment\n\
             metadata:\n  name: web\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  \
             template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n      \
             - name: nginx\n        image: nginx:1.27\n        ports: [{{containerPort: 80}}]\n"
        )
    };
    let v1 = write("app-v1.yaml", &app("blue"));
    let v2 = write("app-v2.yaml", &app("green"));
    let ssa = |v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ssa}}\ndata: {{a: \"{v}\"}}\n")
    };
    let ssa1 = write("ssa1.yaml", &ssa("1"));
    let ssa2 = write("ssa2.yaml", &ssa("2"));
    let extra = write(
        "extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {k: v}\n",
    );
    let steps: Vec<Vec<&str>> = vec![
        vec!["apply", "-f", &v1],
        vec!["apply", "-f", &v2],
        vec!["get", "cm", "settings", "-o", "jsonpath={.data}"],
        vec![
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.generation}",
        ],
        vec!["apply", "--server-side", "-f", &ssa1],
        vec![
            "apply",
            "--server-side",
            "--field-manager=other",
            "-f",
            &ssa2,
        ],
        vec![
            "apply",
            "--server-side",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            &ssa2,
        ],
        vec!["get", "cm", "ssa", "-o", "jsonpath={.data.a}"],
        vec!["scale", "deploy", "web", "--replicas=3"],
        vec!["patch", "deploy", "web", "-p", r#"{"spec":{"replicas":4}}"#],
        vec![
            "patch",
            "deploy",
            "web",
            "--type=merge",
            "-p",
            r#"{"metadata":{"labels":{"m":"1"}}}"#,
        ],
        vec![
            "patch",
            "deploy",
            "web",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/spec/replicas","value":5}]"#,
        ],
        vec![
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.labels}",
        ],
        vec!["describe", "cm", "settings"],
        vec!["create", "-f", &extra, "--dry-run=server"],
        vec!["get", "cm", "extra"],
        vec!["api-resources", "--api-group=apps"],
        vec!["delete", "cm", "settings", "--cascade=background"],
        vec![
            "delete",
            "cm",
            "ssa",
            "--cascade=foreground",
            "--wait=false",
        ],
        vec![
            "delete",
            "deploy",
            "web",
            "--cascade=orphan",
            "--wait=false",
        ],
        vec![
            "get",
            "cm,deploy",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name}:{.metadata.finalizers} {end}",
        ],
    ];
    let upstream = e2e::upstream_kubectl(33);
    let mut tools = vec![("ours", ours())];
    tools.extend(upstream.map(|u| ("upstream", u)));
    let mut results: Vec<Vec<(String, String, i32)>> = Vec::new();
    for (ns, bin) in &tools {
        let nsfile = write(
            &format!("{ns}.yaml"),
            &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"),
        );
        ok(&c, &["create", "-f", &nsfile]);
        let mut outs = Vec::new();
        for step in &steps {
            let mut args = step.clone();
            args.extend(["-n", ns]);
            let o = run_bin(bin, &c.kubeconfig, &args, None);
            let mask = |s: &str| mask_ages(&s.replace(ns, "NS"));
            outs.push((mask(&o.stdout), mask(&o.stderr), o.code));
        }
        results.push(outs);
    }
    let mine = &results[0];
    // What ours must do whether or not upstream is here to compare with.
    assert_eq!(
        mine[1].0,
        "configmap/settings configured\ndeployment.apps/web unchanged"
    );
    assert_eq!(mine[2].0, r#"{"color":"green","size":"large"}"#);
    assert_eq!(mine[3].0, "2 1");
    assert_eq!(mine[5].2, 1, "a conflict between managers: {:?}", mine[5]);
    assert!(mine[5].1.contains("conflict"), "{:?}", mine[5]);
    assert_eq!(mine[7].0, "2");
    assert_eq!(mine[12].0, r#"5 {"m":"1"}"#);
    assert_eq!(mine[14].0, "configmap/extra created (server dry run)");
    assert!(mine[15].1.contains("NotFound"), "{:?}", mine[15]);
    if let Some(theirs) = results.get(1) {
        for (i, step) in steps.iter().enumerate() {
            let (m, t) = if step.first() == Some(&"describe") {
                let n = |r: &(String, String, i32)| (sorted_describe_data(&r.0), r.1.clone(), r.2);
                (n(&mine[i]), n(&theirs[i]))
            } else {
                (mine[i].clone(), theirs[i].clone())
            };
            assert_eq!(m, t, "step {i}: {step:?}");
        }
    }
    c.stop().await;
}

/// Upstream's `describe configmap` prints `Data` in Go's map order, which is random from
/// run to run: compare its entries sorted.
fn sorted_describe_data(out: &str) -> String {
    let Some((head, rest)) = out.split_once("Data\n====\n") else {
        return out.to_string();
    };
    let (data, tail) = rest.split_once("\n\nBinaryData").unwrap_or((rest, ""));
    let mut entries: Vec<&str> = data.trim_end_matches('\n').split("\n\n").collect();
    entries.sort();
    format!(
        "{head}Data\n====\n{}\n\nBinaryData{tail}",
        entries.join("\n\n")
    )
}

/// Inputs without objects: the same messages and exit codes as upstream.
#[tokio::test]
async fn empty_inputs_read_like_upstream() {
    let c = TestCluster::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "# nothing here\n---\n").unwrap();
    let empty_dir = dir.path().join("nothing");
    std::fs::create_dir(&empty_dir).unwrap();
    let (e, d) = (empty.display().to_string(), empty_dir.display().to_string());
    for args in [
        &["create", "-f", "/dev/null"][..],
        &["apply", "-f", &e],
        &["create", "-f", &e],
        &["delete", "-f", &e],
        &["apply", "-f", &d],
        &["create", "-f", "/no/such/file.yaml"],
    ] {
        let o = same_as_upstream(&c, args);
        assert!(!(o.stdout.is_empty() && o.stderr.is_empty()), "{args:?}");
    }
    c.stop().await;
}

/// Without any kubeconfig: client-side dry runs work and server calls fail as upstream's do.
#[test]
fn without_a_kubeconfig_as_upstream() {
    let home = tempfile::tempdir().unwrap();
    let port = e2e::free_port().unwrap();
    let server = format!("http://127.0.0.1:{port}");
    let run = |bin: &std::path::Path, args: &[&str]| {
        let o = Command::new(bin)
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .to_string(),
            o.status.code(),
        )
    };
    let dry = ["create", "ns", "x", "--dry-run=client", "-o", "yaml"];
    let get = ["get", "pods", "-s", &server];
    let mine = (run(&ours(), &dry), run(&ours(), &get));
    assert!(mine.0 .0.contains("name: x"), "{mine:?}");
    assert_eq!(
        mine.1 .1,
        format!("The connection to the server 127.0.0.1:{port} was refused - did you specify the right host or port?")
    );
    if let Some(up) = e2e::upstream_kubectl(33) {
        assert_eq!(mine, (run(&up, &dry), run(&up, &get)));
    }
}
