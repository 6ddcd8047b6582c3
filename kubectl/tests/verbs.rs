//! End-to-end tests of the `create` generators, `explain`, `rollout history|undo` and
//! `get --sort-by` against the real apiserver (and etcd), comparing our output with upstream
//! kubectl 1.33's on the same cluster where upstream is installed.

mod common;

use common::*;
use e2e::TestCluster;

/// Runs the same command with ours and upstream 1.33 and requires the same stdout, stderr
/// and exit code. Without upstream installed, only runs ours.
fn same_as_upstream(c: &TestCluster, args: &[&str]) -> Out {
    let mine = kubectl(c, args);
    if let Some(up) = e2e::upstream_kubectl(33) {
        let theirs = run_bin(&up, &c.kubeconfig, args, None);
        assert_eq!(mine.stdout, theirs.stdout, "stdout of {args:?}");
        assert_eq!(mine.stderr, theirs.stderr, "stderr of {args:?}");
        assert_eq!(mine.code, theirs.code, "exit code of {args:?}");
    }
    mine
}

#[tokio::test]
async fn create_generators_match_upstream() {
    let c = TestCluster::start().await.expect("cluster");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("d");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("one.txt"), "a\nb\n").unwrap();
    std::fs::write(d.join("two"), "xx").unwrap();
    std::fs::write(d.join("bin.dat"), b"bin\x00\xff").unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    let env = dir.path().join("app.env");
    std::fs::write(&env, "\u{feff}# comment\nFOO=bar\n\n  Q= spaced \nE=\n").unwrap();
    let bad_env = dir.path().join("bad.env");
    std::fs::write(&bad_env, "export X=1\n").unwrap();
    let d = d.to_str().unwrap();
    let one = format!("{d}/one.txt");
    let two = format!("k2={d}/two");
    let env = env.to_str().unwrap();
    let bad_env = bad_env.to_str().unwrap();
    for args in [
        &["create", "deployment", "x", "--image=nginx", "-o", "yaml"][..],
        &[
            "create",
            "deploy",
            "x",
            "--image=nginx",
            "--image=busybox:1.36",
            "--replicas=3",
            "--port=80",
            "-o",
            "json",
        ],
        &[
            "create",
            "deployment",
            "x",
            "--image=busybox:1.36",
            "-r",
            "2",
            "--port=0",
            "-o",
            "json",
            "--",
            "sleep",
            "10",
        ],
        &[
            "create",
            "deployment",
            "x",
            "--image=docker.io/foo/bar@sha256:abc",
            "-n",
            "other",
            "-o",
            "yaml",
        ],
        &["create", "deployment", "x", "--image=nginx"],
        &["create", "deployment", "x", "--image=nginx", "-o", "name"],
        &[
            "create",
            "deployment",
            "x",
            "--image=nginx",
            "-o",
            "json",
            "--save-config",
        ],
        &["create", "deployment", "x"],
        &["create", "deployment", "--image=nginx"],
        &["create", "deployment", "a", "b", "--image=nginx"],
        &[
            "create",
            "deployment",
            "x",
            "--image=a",
            "--image=b",
            "--",
            "sleep",
            "1",
        ],
        &["create", "deployment", "x", "--image=a", "-o", "wide"],
        &["create", "namespace", "foo", "-o", "yaml"],
        &["create", "ns", "foo", "-o", "json"],
        &["create", "ns", "foo"],
        &["create", "ns"],
        &["create", "ns", "a", "b"],
        &["create", "serviceaccount", "bot", "-o", "yaml"],
        &["create", "sa", "bot", "-n", "other", "-o", "json"],
        &[
            "create",
            "configmap",
            "c",
            "--from-literal=a=1",
            "--from-literal=b=x=y",
            "--from-file",
            &one,
            "--from-file",
            &two,
            "-o",
            "yaml",
        ],
        &["create", "cm", "c", "--from-file", d, "-o", "json"],
        &["create", "cm", "c", "--from-env-file", env, "-o", "json"],
        &[
            "create",
            "cm",
            "c",
            "--from-file",
            d,
            "--append-hash",
            "-o",
            "name",
        ],
        &[
            "create",
            "cm",
            "c",
            "--from-literal=a=1",
            "--from-literal=a=2",
        ],
        &["create", "cm", "c", "--from-literal=b@d=1"],
        &["create", "cm", "c", "--from-literal=a"],
        &["create", "cm", "c", "--from-env-file", bad_env],
        &[
            "create",
            "cm",
            "c",
            "--from-env-file",
            env,
            "--from-literal=a=b",
        ],
        &["create", "cm", "c", "--from-file", &format!("k={d}")],
        &[
            "create",
            "secret",
            "generic",
            "s",
            "--from-literal=a=1",
            "--from-file",
            d,
            "-o",
            "yaml",
        ],
        &[
            "create",
            "secret",
            "generic",
            "s",
            "--from-literal=a=1",
            "--type=kubernetes.io/basic-auth",
            "-o",
            "json",
        ],
        &[
            "create",
            "secret",
            "generic",
            "s",
            "--from-literal=a=1",
            "--append-hash",
            "-o",
            "name",
        ],
        &[
            "create",
            "secret",
            "generic",
            "s",
            "--from-literal=a=1",
            "--from-literal=a=2",
        ],
        &["create", "ns", "x", "-o", "jsonpath={.metadata.name}"],
        &["create"],
    ] {
        // Client dry runs only: upstream's generators send protobuf, which our apiserver
        // does not read yet. The flag goes before any `--`.
        let mut full: Vec<&str> = args.to_vec();
        if args.len() > 1 {
            full.insert(args.len().min(3), "--dry-run=client");
        }
        same_as_upstream(&c, &full);
    }

    // Our own checks, with or without upstream.
    let o = ok(
        &c,
        &[
            "create",
            "deployment",
            "x",
            "--image=nginx",
            "--dry-run=client",
            "-o",
            "yaml",
        ],
    );
    assert_eq!(
        o,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  creationTimestamp: null\n  labels:\n    app: x\n  name: x\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: x\n  strategy: {}\n  template:\n    metadata:\n      creationTimestamp: null\n      labels:\n        app: x\n    spec:\n      containers:\n      - image: nginx\n        name: nginx\n        resources: {}\nstatus: {}\n"
    );
    assert_eq!(
        fails(&c, &["create", "ns"]),
        "error: exactly one NAME is required, got 0\nSee 'kubectl create namespace -h' for help and examples\n"
    );

    // A bare `--dry-run` means client and takes no value from the next argument.
    assert_eq!(
        ok(&c, &["create", "ns", "--dry-run", "later"]),
        "namespace/later created (dry run)\n"
    );

    // Real creates, with JSON bodies, and their messages.
    assert_eq!(ok(&c, &["create", "ns", "gen"]), "namespace/gen created\n");
    assert_eq!(
        fails(&c, &["create", "namespace", "gen"]),
        "Error from server (AlreadyExists): namespaces \"gen\" already exists\n"
    );
    assert_eq!(
        ok(
            &c,
            &[
                "create",
                "deploy",
                "web",
                "--image=nginx",
                "--port=80",
                "-n",
                "gen"
            ]
        ),
        "deployment.apps/web created\n"
    );
    assert_eq!(
        fails(
            &c,
            &["create", "deploy", "web", "--image=nginx", "-n", "gen"]
        ),
        "error: failed to create deployment: deployments.apps \"web\" already exists\n"
    );
    assert_eq!(
        ok(
            &c,
            &[
                "create",
                "deploy",
                "web2",
                "--image=nginx",
                "-n",
                "gen",
                "--dry-run=server"
            ]
        ),
        "deployment.apps/web2 created (server dry run)\n"
    );
    assert_eq!(
        ok(&c, &["create", "cm", "c", "--from-file", d, "-n", "gen"]),
        "configmap/c created\n"
    );
    assert_eq!(
        fails(
            &c,
            &["create", "cm", "c", "--from-literal=a=b", "-n", "gen"]
        ),
        "error: failed to create configmap: configmaps \"c\" already exists\n"
    );
    assert_eq!(
        ok(
            &c,
            &[
                "create",
                "secret",
                "generic",
                "s",
                "--from-literal=a=b",
                "-n",
                "gen",
                "-o",
                "name"
            ]
        ),
        "secret/s\n"
    );
    assert_eq!(
        fails(
            &c,
            &[
                "create",
                "secret",
                "generic",
                "s",
                "--from-literal=a=b",
                "-n",
                "gen"
            ]
        ),
        "error: failed to create secret secrets \"s\" already exists\n"
    );
    assert_eq!(
        ok(&c, &["create", "sa", "bot", "-n", "gen"]),
        "serviceaccount/bot created\n"
    );
    // What the server stored is what the generators built (read back by either kubectl).
    let got = ok(
        &c,
        &[
            "get", "deploy,cm,secret,sa", "-n", "gen", "-o",
            "jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.labels} {.spec.template.spec.containers[0].ports} {.data} {.binaryData} {.type}{\"\\n\"}{end}",
        ],
    );
    assert_eq!(
        got,
        "Deployment/web {\"app\":\"web\"} [{\"containerPort\":80,\"protocol\":\"TCP\"}]   \nConfigMap/c   {\"one.txt\":\"a\\nb\\n\",\"two\":\"xx\"} {\"bin.dat\":\"YmluAP8=\"} \nSecret/s   {\"a\":\"Yg==\"}  Opaque\nServiceAccount/bot     \n"
    );
    let o = ok(&c, &["get", "ns", "gen", "-o", "name"]);
    assert_eq!(o, "namespace/gen\n");
    // `create -f` still works beside the generators.
    let o = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fromfile, namespace: gen}\n",
    );
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "configmap/fromfile created\n")
    );
    c.stop().await;
}

#[tokio::test]
async fn explain_matches_upstream() {
    let c = TestCluster::start().await.expect("cluster");
    for args in [
        &["explain", "pods"][..],
        &["explain", "pod.spec.containers"],
        &["explain", "deploy.spec.replicas"],
        &["explain", "deployments.apps.spec"],
        &["explain", "pod.metadata.creationTimestamp"],
        &["explain", "pod.spec.containers.resources.limits"],
        &["explain", "pod.spec.securityContext"],
        &["explain", "svc.spec.ports.targetPort"],
        &["explain", "pods", "--recursive"],
        &["explain", "pod.spec.containers.ports", "--recursive"],
        &["explain", "deploy", "--api-version=apps/v1"],
        &["explain", "hpa", "--api-version=autoscaling/v1"],
        &["explain", "pods", "--api-version=apps/v1"],
        &["explain", "pods.nope"],
        &["explain", "pod.spec.containers.nope"],
        &["explain", "nope"],
        &["explain"],
        &["explain", "svc", "--output=yaml"],
    ] {
        same_as_upstream(&c, args);
    }

    // Our own checks, with or without upstream.
    let o = ok(&c, &["explain", "deploy.spec.replicas"]);
    assert_eq!(
        o,
        "GROUP:      apps
KIND:       Deployment
VERSION:    v1

FIELD: replicas <integer>


DESCRIPTION:
    Number of desired pods. This is a pointer to distinguish between explicit
    zero and not specified. Defaults to 1.
    

"
    );
    let o = ok(&c, &["explain", "pods", "--recursive"]);
    let head: Vec<&str> = o.lines().take(14).collect();
    assert_eq!(
        head,
        [
            "KIND:       Pod",
            "VERSION:    v1",
            "",
            "DESCRIPTION:",
            "    Pod is a collection of containers that can run on a host. This resource is",
            "    created by clients and scheduled onto hosts.",
            "    ",
            "FIELDS:",
            "  apiVersion\t<string>",
            "  kind\t<string>",
            "  metadata\t<ObjectMeta>",
            "    annotations\t<map[string]string>",
            "    creationTimestamp\t<string>",
            "    deletionGracePeriodSeconds\t<integer>",
        ]
    );
    assert!(o.contains("\n        containerPort\t<integer> -required-\n"));
    let o = kubectl(&c, &["explain", "pods.nope"]);
    assert_eq!(
        (o.code, o.stdout.as_str(), o.stderr.as_str()),
        (
            1,
            "KIND:       Pod\nVERSION:    v1\n\n",
            "error: field \"nope\" does not exist\n"
        )
    );
    assert_eq!(
        fails(&c, &["explain", "nope"]),
        "the server doesn't have a resource type \"nope\"\n"
    );
    c.stop().await;
}

/// A deployment `name` at revision 3 and the three ReplicaSets a deployment controller would
/// have left behind (there is no controller in these tests).
fn deployment_with_history(c: &TestCluster, ns: &str, name: &str) {
    let deployment = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: {name}}}
  annotations: {{deployment.kubernetes.io/revision: \"3\", kubernetes.io/change-cause: set image v3}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}, annotations: {{team: blue}}}}
    spec:
      containers:
      - {{name: web, image: \"nginx:1.27\", ports: [{{containerPort: 80}}], env: [{{name: A, value: b}}]}}
"
    );
    let o = kubectl_in(c, &["create", "-f", "-"], &deployment);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let uid = ok(
        c,
        &[
            "get",
            "deploy",
            name,
            "-n",
            ns,
            "-o",
            "jsonpath={.metadata.uid}",
        ],
    );
    for (rev, image, hash, cause) in [
        (1, "nginx:1.25", "aaa1", ""),
        (
            2,
            "nginx:1.26",
            "bbb2",
            ", kubernetes.io/change-cause: set image v2",
        ),
        (
            3,
            "nginx:1.27",
            "ccc3",
            ", kubernetes.io/change-cause: set image v3",
        ),
    ] {
        let rs = format!(
            "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}-{hash}
  namespace: {ns}
  labels: {{app: {name}, pod-template-hash: {hash}}}
  annotations: {{deployment.kubernetes.io/revision: \"{rev}\", deployment.kubernetes.io/max-replicas: \"3\"{cause}}}
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: {name}, uid: {uid}, controller: true, blockOwnerDeletion: true}}]
spec:
  replicas: 0
  selector: {{matchLabels: {{app: {name}, pod-template-hash: {hash}}}}}
  template:
    metadata: {{labels: {{app: {name}, pod-template-hash: {hash}}}, annotations: {{team: blue}}}}
    spec:
      containers:
      - {{name: web, image: \"{image}\", ports: [{{containerPort: 80}}], env: [{{name: A, value: b}}]}}
"
        );
        let o = kubectl_in(c, &["create", "-f", "-"], &rs);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
}

/// A daemon set or stateful set at revision 2 and two ControllerRevisions whose data puts
/// back images `nginx:1` and `nginx:2`.
fn workload_with_revisions(c: &TestCluster, ns: &str, kind: &str, name: &str) {
    let service = if kind == "StatefulSet" {
        "serviceName: x\n  "
    } else {
        ""
    };
    let workload = format!(
        "apiVersion: apps/v1
kind: {kind}
metadata: {{name: {name}, namespace: {ns}, annotations: {{kubernetes.io/change-cause: v2}}}}
spec:
  {service}selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: \"nginx:2\", env: [{{name: A, value: b}}]}}]}}
"
    );
    let o = kubectl_in(c, &["create", "-f", "-"], &workload);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let uid = ok(
        c,
        &[
            "get",
            kind,
            name,
            "-n",
            ns,
            "-o",
            "jsonpath={.metadata.uid}",
        ],
    );
    for rev in [1, 2] {
        let cr = format!(
            "apiVersion: apps/v1
kind: ControllerRevision
metadata:
  name: {name}-h{rev}
  namespace: {ns}
  labels: {{app: {name}, controller-revision-hash: h{rev}}}
  annotations: {{kubernetes.io/change-cause: cause {rev}}}
  ownerReferences: [{{apiVersion: apps/v1, kind: {kind}, name: {name}, uid: {uid}, controller: true, blockOwnerDeletion: true}}]
revision: {rev}
data: {{\"spec\":{{\"template\":{{\"$patch\":\"replace\",\"metadata\":{{\"labels\":{{\"app\":\"{name}\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"nginx:{rev}\"}}]}}}}}}}}
"
        );
        let o = kubectl_in(c, &["create", "-f", "-"], &cr);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
}

/// The parts of a deployment a rollback changes, with its name masked.
fn rollback_state(c: &TestCluster, ns: &str, name: &str) -> String {
    ok(
        c,
        &[
            "get",
            "deploy",
            name,
            "-n",
            ns,
            "-o",
            "jsonpath={.metadata.annotations} {.spec.template} {.metadata.generation}",
        ],
    )
    .replace(name, "NAME")
}

#[tokio::test]
async fn rollout_history_and_undo_match_upstream() {
    let c = TestCluster::start().await.expect("cluster");
    let o = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: roll}\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    for name in ["main", "twin", "other"] {
        deployment_with_history(&c, "roll", name);
    }
    let o = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: lone, namespace: roll}\nspec:\n  selector: {matchLabels: {app: lone}}\n  template:\n    metadata: {labels: {app: lone}}\n    spec: {containers: [{name: c, image: nginx}]}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: roll}\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    for args in [
        &["rollout", "history", "deploy/main"][..],
        &["rollout", "history", "deployment", "main", "other"],
        &["rollout", "history", "deploy"],
        &["rollout", "history", "deploy/main", "--revision=2"],
        &["rollout", "history", "deploy/main", "--revision=1"],
        &["rollout", "history", "deploy/main", "--revision=7"],
        &["rollout", "history", "deploy/main", "--revision=-1"],
        &["rollout", "history", "deploy/main", "-o", "name"],
        &["rollout", "history", "deploy/lone"],
        &["rollout", "history", "deploy/lone", "--revision=1"],
        &["rollout", "history", "deploy/nope"],
        &["rollout", "history", "cm/cm"],
        &["rollout", "history", "ds"],
        &["rollout", "history"],
        &["rollout", "undo", "deploy/main", "--dry-run=client"],
        &[
            "rollout",
            "undo",
            "deploy/main",
            "--to-revision=1",
            "--dry-run=client",
        ],
        &["rollout", "undo", "deploy/main", "--to-revision=3"],
        &["rollout", "undo", "deploy/main", "--to-revision=7"],
        &["rollout", "undo", "deploy/lone"],
        &["rollout", "undo", "cm/cm"],
        &["rollout", "undo"],
    ] {
        let mut full = args.to_vec();
        full.extend(["-n", "roll"]);
        same_as_upstream(&c, &full);
    }

    // Our own checks, with or without upstream.
    assert_eq!(
        ok(&c, &["rollout", "history", "deploy/main", "-n", "roll"]),
        "deployment.apps/main \nREVISION  CHANGE-CAUSE\n1         <none>\n2         set image v2\n3         set image v3\n\n"
    );
    assert_eq!(
        ok(
            &c,
            &[
                "rollout",
                "history",
                "deploy/main",
                "-n",
                "roll",
                "--revision=2"
            ]
        ),
        "deployment.apps/main with revision #2
Pod Template:
  Labels:\tapp=main
\tpod-template-hash=bbb2
  Annotations:\tkubernetes.io/change-cause: set image v2
\tteam: blue
  Containers:
   web:
    Image:\tnginx:1.26
    Port:\t80/TCP
    Host Port:\t0/TCP
    Environment:
      A:\tb
    Mounts:\t<none>
  Volumes:\t<none>
  Node-Selectors:\t<none>
  Tolerations:\t<none>

"
    );
    assert_eq!(
        fails(
            &c,
            &[
                "rollout",
                "undo",
                "deploy/main",
                "-n",
                "roll",
                "--to-revision=7"
            ]
        ),
        "error: unable to find specified revision 7 in history\n"
    );

    // Undo to the previous revision (2), then to revision 1 which has no change cause: ours on
    // `web`, upstream's on its twin, and the deployments must end up the same.
    let upstream = e2e::upstream_kubectl(33);
    for to in [None, Some("--to-revision=1")] {
        let mut args = vec!["rollout", "undo", "deploy/main", "-n", "roll"];
        args.extend(to);
        assert_eq!(ok(&c, &args), "deployment.apps/main rolled back\n");
        if let Some(up) = &upstream {
            args[2] = "deploy/twin";
            let o = run_bin(up, &c.kubeconfig, &args, None);
            assert_eq!(
                o.stdout, "deployment.apps/twin rolled back\n",
                "{}",
                o.stderr
            );
            assert_eq!(
                rollback_state(&c, "roll", "main"),
                rollback_state(&c, "roll", "twin")
            );
        }
    }
    let state = rollback_state(&c, "roll", "main");
    assert!(state.contains("\"image\":\"nginx:1.25\""), "{state}");
    assert!(!state.contains("pod-template-hash"), "{state}");
    assert!(!state.contains("change-cause"), "{state}");
    assert!(
        state.contains("\"deployment.kubernetes.io/revision\":\"3\""),
        "{state}"
    );
    assert!(state.ends_with(" 3"), "{state}");
    assert_eq!(
        ok(
            &c,
            &[
                "rollout",
                "undo",
                "deploy/main",
                "-n",
                "roll",
                "--to-revision=1"
            ]
        ),
        "deployment.apps/main skipped rollback (current template already matches revision 1)\n"
    );
    c.stop().await;
}

#[tokio::test]
async fn rollout_history_and_undo_of_daemon_and_stateful_sets() {
    let c = TestCluster::start().await.expect("cluster");
    let o = kubectl_in(
        &c,
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: roll}\n",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    workload_with_revisions(&c, "roll", "DaemonSet", "agent");
    workload_with_revisions(&c, "roll", "DaemonSet", "twin");
    workload_with_revisions(&c, "roll", "StatefulSet", "sts");
    for args in [
        &["rollout", "history", "ds/agent"][..],
        &["rollout", "history", "ds/agent", "--revision=1"],
        &["rollout", "history", "ds/agent", "--revision=5"],
        &["rollout", "history", "ds/agent", "-o", "name"],
        &["rollout", "history", "sts/sts"],
        &["rollout", "history", "statefulset", "sts", "--revision=2"],
        &["rollout", "undo", "ds/agent", "--dry-run=client"],
        &[
            "rollout",
            "undo",
            "sts/sts",
            "--to-revision=1",
            "--dry-run=client",
        ],
        &["rollout", "undo", "ds/agent", "--to-revision=5"],
    ] {
        let mut full = args.to_vec();
        full.extend(["-n", "roll"]);
        same_as_upstream(&c, &full);
    }
    assert_eq!(
        ok(&c, &["rollout", "history", "ds/agent", "-n", "roll"]),
        "daemonset.apps/agent \nREVISION  CHANGE-CAUSE\n1         cause 1\n2         cause 2\n\n"
    );
    // Ours on `ds`, upstream's on its twin: the same daemon set afterwards.
    let state = |name: &str| {
        ok(
            &c,
            &[
                "get",
                "ds",
                name,
                "-n",
                "roll",
                "-o",
                "jsonpath={.spec.template} {.metadata.annotations} {.metadata.generation}",
            ],
        )
        .replace(name, "NAME")
    };
    assert_eq!(
        ok(&c, &["rollout", "undo", "ds/agent", "-n", "roll"]),
        "daemonset.apps/agent rolled back\n"
    );
    if let Some(up) = e2e::upstream_kubectl(33) {
        let o = run_bin(
            &up,
            &c.kubeconfig,
            &["rollout", "undo", "ds/twin", "-n", "roll"],
            None,
        );
        assert_eq!(
            o.stdout, "daemonset.apps/twin rolled back\n",
            "{}",
            o.stderr
        );
        assert_eq!(state("agent"), state("twin"));
    }
    let s = state("agent");
    assert!(s.contains("\"image\":\"nginx:1\""), "{s}");
    assert!(!s.contains("\"env\""), "{s}");
    assert_eq!(
        ok(
            &c,
            &[
                "rollout",
                "undo",
                "sts/sts",
                "-n",
                "roll",
                "--to-revision=1"
            ]
        ),
        "statefulset.apps/sts rolled back\n"
    );
    c.stop().await;
}

#[tokio::test]
async fn get_sort_by_matches_upstream() {
    let c = TestCluster::start().await.expect("cluster");
    let mut manifest = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: sorted}\n");
    for (name, rank, replicas) in [("b10", "10", 3), ("a2", "2", 1), ("c1", "1", 2)] {
        manifest.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: sorted, labels: {{rank: \"{rank}\"}}}}\ndata: {{k: {name}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d-{name}, namespace: sorted}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec: {{containers: [{{name: c, image: nginx}}]}}\n"
        ));
    }
    manifest.push_str(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain, namespace: sorted}\n",
    );
    let o = kubectl_in(&c, &["create", "-f", "-"], &manifest);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for args in [
        &[
            "get",
            "cm",
            "-n",
            "sorted",
            "--sort-by=.metadata.name",
            "-o",
            "name",
        ][..],
        &[
            "get",
            "cm",
            "-n",
            "sorted",
            "--sort-by={.metadata.labels.rank}",
            "-o",
            "name",
        ],
        &[
            "get",
            "cm",
            "-n",
            "sorted",
            "--sort-by=data.k",
            "-o",
            "custom-columns=N:.metadata.name,K:.data.k",
        ],
        &[
            "get",
            "cm",
            "-n",
            "sorted",
            "--sort-by=.metadata.labels.rank",
            "-o",
            "yaml",
        ],
        &[
            "get",
            "deploy",
            "-n",
            "sorted",
            "--sort-by=.spec.replicas",
            "-o",
            "custom-columns=N:.metadata.name,R:.spec.replicas",
        ],
        &[
            "get",
            "deploy",
            "-n",
            "sorted",
            "--sort-by=.spec.replicas",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ],
        &[
            "get",
            "cm",
            "-n",
            "sorted",
            "--sort-by=.metadata.nope",
            "-o",
            "name",
        ],
        &[
            "get",
            "cm",
            "-n",
            "sorted",
            "--sort-by={.metadata.name}{.metadata.uid}",
            "-o",
            "name",
        ],
        &[
            "get",
            "cm",
            "c1",
            "-n",
            "sorted",
            "--sort-by=.metadata.nope",
            "-o",
            "name",
        ],
        &["get", "cm", "-n", "empty", "--sort-by=.metadata.name"],
    ] {
        same_as_upstream(&c, args);
    }

    // Our own checks, with or without upstream; tables sort too.
    let o = ok(
        &c,
        &[
            "get",
            "deploy",
            "-n",
            "sorted",
            "--sort-by=.spec.replicas",
            "--no-headers",
        ],
    );
    let names: Vec<&str> = o
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["d-a2", "d-c1", "d-b10"]);
    assert_eq!(
        ok(
            &c,
            &[
                "get",
                "cm",
                "-n",
                "sorted",
                "--sort-by={.metadata.labels.rank}",
                "-o",
                "name"
            ]
        ),
        "configmap/plain\nconfigmap/c1\nconfigmap/a2\nconfigmap/b10\n"
    );
    assert_eq!(
        fails(
            &c,
            &["get", "cm", "-n", "sorted", "--sort-by=.metadata.nope"]
        ),
        "error: couldn't find any field with path \"{.metadata.nope}\" in the list of objects\n"
    );
    c.stop().await;
}

/// `create secret docker-registry` and `create secret tls`, as upstream builds and checks them.
#[tokio::test]
async fn docker_registry_and_tls_secrets_match_upstream() {
    let c = TestCluster::start().await.expect("cluster");
    let dir = c.dir.path();
    let write = |name: &str, body: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let (cert, key) = self_signed("a");
    let (other_cert, other_key) = self_signed("b");
    let (cert, key) = (write("a.crt", &cert), write("a.key", &key));
    let (other_cert, other_key) = (write("b.crt", &other_cert), write("b.key", &other_key));
    let ec_cert = dir.join("certs/apiserver.crt").display().to_string();
    let config = write("config.json", br#"{"auths":{}}"#);
    let not_pem = write("not.pem", b"hello");
    let cert_flag = |p: &str| format!("--cert={p}");
    let key_flag = |p: &str| format!("--key={p}");
    let cases: Vec<Vec<String>> = vec![
        vec![
            "docker-registry",
            "d1",
            "--docker-server=r.io",
            "--docker-username=u",
            "--docker-password=p=&<",
            "--docker-email=e@x",
            "-o",
            "json",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec![
            "docker-registry",
            "d2",
            "--docker-username=u",
            "--docker-password=p",
            "-o",
            "yaml",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec![
            "docker-registry",
            "d3",
            "--docker-username=u",
            "--docker-password=p",
            "--append-hash",
            "-o",
            "name",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        vec![
            "docker-registry".into(),
            "d4".into(),
            format!("--from-file=.dockerconfigjson={config}"),
            "-o".into(),
            "yaml".into(),
        ],
        vec!["docker-registry", "d5"]
            .into_iter()
            .map(String::from)
            .collect(),
        vec![
            "tls".into(),
            "t1".into(),
            cert_flag(&cert),
            key_flag(&key),
            "-o".into(),
            "yaml".into(),
        ],
        vec![
            "tls".into(),
            "t2".into(),
            cert_flag(&cert),
            key_flag(&key),
            "--append-hash".into(),
            "-o".into(),
            "name".into(),
        ],
        vec![
            "tls".into(),
            "t3".into(),
            cert_flag(&cert),
            key_flag(&other_key),
        ],
        vec![
            "tls".into(),
            "t4".into(),
            cert_flag(&ec_cert),
            key_flag(&key),
        ],
        vec![
            "tls".into(),
            "t5".into(),
            cert_flag(&not_pem),
            key_flag(&key),
        ],
        vec![
            "tls".into(),
            "t6".into(),
            cert_flag(&other_cert),
            key_flag(&not_pem),
        ],
        vec![
            "tls".into(),
            "t7".into(),
            cert_flag("/no/such.crt"),
            key_flag(&key),
        ],
        vec!["tls", "t8"].into_iter().map(String::from).collect(),
    ];
    for case in &cases {
        let mut args = vec!["create", "secret"];
        args.extend(case.iter().map(String::as_str));
        args.push("--dry-run=client");
        same_as_upstream(&c, &args);
    }
    // And for real: both work against our apiserver (upstream's as protobuf).
    let o = ok(
        &c,
        &[
            "create",
            "secret",
            "tls",
            "real",
            &cert_flag(&cert),
            &key_flag(&key),
        ],
    );
    assert_eq!(o, "secret/real created\n");
    assert_eq!(
        ok(&c, &["get", "secret", "real", "-o", "jsonpath={.type}"]),
        "kubernetes.io/tls"
    );
    c.stop().await;
}
