#!/usr/bin/env bash
# A cluster of several nodes on this machine, built from this checkout.
#
#   hack/local-up-cluster.sh up [--workers N] [--proxy-mode iptables|nftables]
#   hack/local-up-cluster.sh down
#   hack/local-up-cluster.sh exec NODE CMD...
#
# `up` builds the binaries with cargo, then starts etcd on loopback and the apiserver on the
# host address of a private test network: a bridge in the root network namespace joined by a
# veth pair to one network namespace per node (control-plane, worker, worker2, ...). Each node
# has its own containerd (own root, state and socket, under _output/local-up/NODE) and our
# kubelet, started inside its namespace; the nodes route each other's pod CIDRs and nothing
# has a route out of the machine (no default route, no masquerading). Images come from a local
# registry fed by hack/images/build.sh: nothing is downloaded. It deploys a demo (a Deployment
# of busybox httpd and a Service), waits (bounded) until its pods answer from inside a node,
# prints how to use the cluster and returns.
# `down` removes exactly what `up` recorded in _output/local-up/state: processes (by PID),
# mounts, namespaces, links, routes, cgroups and files. `exec` runs a command inside a node's
# network namespace (pod IPs are reachable only from there).
# The scheduler and the controller-manager run on the host side; kube-proxy (iptables) in
# each node's namespace.
#
# Needs root. Installs missing Debian packages with apt-get. PROFILE=debug builds without
# --release (faster to build, slower to run).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
out="$repo/_output/local-up"
state="$out/state"
reservations=/run/kubernetes-rs/nets
# In CI (`CI` set) the debug build the tests already made is reused rather than a second,
# release, build of the whole workspace.
if [ -n "${CI:-}" ]; then profile="${PROFILE:-debug}"; else profile="${PROFILE:-release}"; fi
up_ok=""

log() { echo "local-up: $*"; }
die() {
  echo "local-up: $*" >&2
  exit 1
}

# --- state: one record per line, appended as each thing is made -------------------------
record() { echo "$*" >>"$state"; }
state_get() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$state" 2>/dev/null; }

# --- packages ------------------------------------------------------------------------------
install_packages() {
  local need=()
  command -v etcd >/dev/null || need+=(etcd-server)
  command -v containerd >/dev/null || need+=(containerd)
  command -v runc >/dev/null || need+=(runc)
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || need+=(containernetworking-plugins)
  command -v docker-registry >/dev/null || need+=(docker-registry)
  command -v skopeo >/dev/null || need+=(skopeo)
  /bin/busybox --list-full >/dev/null 2>&1 || need+=(busybox-static)
  command -v gcc >/dev/null || need+=(gcc)
  dpkg -s libc6-dev >/dev/null 2>&1 || need+=(libc6-dev)
  command -v ip >/dev/null || need+=(iproute2)
  command -v nsenter >/dev/null || need+=(util-linux)
  command -v curl >/dev/null || need+=(curl)
  command -v protoc >/dev/null || need+=(protobuf-compiler)
  command -v pkg-config >/dev/null || need+=(pkg-config)
  dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# A TCP port nothing listens on at $1.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    if [ -z "$(ss -Hltn "sport = :$p")" ]; then
      echo "$p"
      return
    fi
  done
  die "no free TCP port found"
}

# Picks 10.X.0.0/16 (X in 100..199) unused by the root namespace and not reserved by another
# test network (the Rust harness uses the same reservations), and reserves it.
reserve_range() {
  mkdir -p "$reservations"
  local used start x f owner
  used="$(ip -4 route show table all; ip -4 addr)"
  start=$((RANDOM % 100))
  for k in $(seq 0 99); do
    x=$((100 + (start + k) % 100))
    grep -qF "10.$x." <<<"$used" && continue
    f="$reservations/10.$x"
    if (set -o noclobber; echo "$bridge" >"$f") 2>/dev/null; then
      echo "$x"
      return
    fi
    owner="$(cat "$f" 2>/dev/null || true)"
    if [ -n "$owner" ] && [ ! -e "/sys/class/net/$owner" ]; then
      echo "$bridge" >"$f"
      echo "$x"
      return
    fi
  done
  die "no free 10.X.0.0/16 range (X in 100..199) for the test network"
}

# Starts "$@" detached from this shell (it outlives `up`), logging to $1's file; prints its PID.
spawn() {
  local logfile="$1"
  shift
  setsid "$@" </dev/null >>"$logfile" 2>&1 &
  echo $!
}

wait_for() { # SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s
  local secs="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

containerd_config() { # NODE_DIR SOCKET CNI_DIR CERTS_DIR
  cat <<EOF
version = 2
root = "$1/containerd/root"
state = "$1/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$2"

[plugins."io.containerd.internal.v1.opt"]
  path = "$1/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$1/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$3"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$4"
EOF
}

cni_config() { # NETWORK_NAME POD_CIDR IPAM_DIR
  cat <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$1",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$2" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$3"
      }
    }
  ]
}
EOF
}

# --- up ------------------------------------------------------------------------------------
up() {
  local workers=2 proxy_mode=iptables
  while [ $# -gt 0 ]; do
    case "$1" in
      --workers) workers="${2:?--workers needs a number}"; shift 2 ;;
      --workers=*) workers="${1#*=}"; shift ;;
      --proxy-mode) proxy_mode="${2:?--proxy-mode needs iptables or nftables}"; shift 2 ;;
      --proxy-mode=*) proxy_mode="${1#*=}"; shift ;;
      *) die "up: unknown argument $1 (usage: up [--workers N] [--proxy-mode iptables|nftables])" ;;
    esac
  done
  [[ "$workers" =~ ^[0-9]+$ ]] && [ "$workers" -le 50 ] || die "--workers: a number from 0 to 50, not $workers"
  case "$proxy_mode" in iptables | nftables) ;; *) die "--proxy-mode: iptables or nftables, not $proxy_mode" ;; esac
  [ "$proxy_mode" = iptables ] || die "--proxy-mode=$proxy_mode: kube-proxy has only its iptables mode so far"
  [ "$(id -u)" = 0 ] || die "up needs root (network namespaces, mounts, cgroups)"
  [ ! -s "$state" ] || die "a cluster is already up (state in $state): run '$0 down' first"

  local t0=$SECONDS
  install_packages
  log "building ($profile)"
  local flags=()
  [ "$profile" = release ] && flags+=(--release)
  cargo build "${flags[@]}" -p apiserver -p kubelet -p kubectl -p scheduler -p controller-manager -p kube-proxy
  local bin="${CARGO_TARGET_DIR:-$repo/target}/$profile"
  local images
  images="$("$repo/hack/images/build.sh" "$repo/_output/images")"
  local t_built=$SECONDS

  rm -rf "$out"
  mkdir -p "$out"
  : >"$state"
  # From here on a failure (an error or a `die`) removes what was made.
  trap 'if [ -z "$up_ok" ]; then echo "local-up: up failed; removing what it made" >&2; down_quiet; fi' EXIT

  local id bridge x host
  id="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  bridge="kbr-$id"
  record id "$id"
  record proxy-mode "$proxy_mode"
  x="$(reserve_range)"
  record reservation "$reservations/10.$x"
  host="10.$x.255.1"
  record host "$host"

  log "network 10.$x.0.0/16: bridge $bridge at $host"
  ip route add unreachable "10.$x.0.0/16"
  record route "unreachable 10.$x.0.0/16"
  ip link add "$bridge" type bridge
  record link "$bridge"
  ip addr add "$host/24" dev "$bridge"
  ip link set "$bridge" up

  local names=(control-plane) i
  for i in $(seq 1 "$workers"); do
    if [ "$i" = 1 ]; then names+=(worker); else names+=("worker$i"); fi
  done
  for i in "${!names[@]}"; do
    local n="${names[$i]}" ns="k8s-$id-${names[$i]}" veth="kv$id$i" peer="kn$id$i"
    ip netns add "$ns"
    record netns "$ns"
    record node "$n $ns 10.$x.255.$((10 + i)) 10.$x.$i.0/24"
    ip link add "$veth" type veth peer name "$peer"
    record link "$veth"
    ip link set "$veth" master "$bridge" up
    ip link set "$peer" netns "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$peer" name eth0
    ip -n "$ns" addr add "10.$x.255.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
  done
  for i in "${!names[@]}"; do
    for j in "${!names[@]}"; do
      [ "$i" = "$j" ] || ip -n "k8s-$id-${names[$i]}" route add "10.$x.$j.0/24" via "10.$x.255.$((10 + j))"
    done
  done

  # The image registry on the host address, standing in for registry.k8s.io and docker.io.
  local regport registry
  regport="$(free_port)"
  registry="$host:$regport"
  mkdir -p "$out/registry"
  cat >"$out/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $out/registry/data
http:
  addr: $registry
  secret: $id
EOF
  record pid registry "$(spawn "$out/registry/registry.log" docker-registry serve "$out/registry/config.yml")"
  wait_for 20 registry bash -c "exec 3<>/dev/tcp/$host/$regport" || die "the registry did not start: $(tail -5 "$out/registry/registry.log")"
  skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci-archive:$images/pause.tar" "docker://$registry/pause:3.9"
  skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci-archive:$images/busybox.tar" "docker://$registry/library/busybox:1.35"

  # etcd on loopback, the apiserver on the host address (kubelets in the nodes reach it there).
  local etcd_port peer_port
  etcd_port="$(free_port)"
  peer_port="$(free_port)"
  record pid etcd "$(spawn "$out/etcd.log" etcd --name=local-up --data-dir="$out/etcd" \
    --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-cluster="local-up=http://127.0.0.1:$peer_port" --log-level=error)"
  record pid kube-apiserver "$(spawn "$out/kube-apiserver.log" "$bin/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address="$host" --secure-port=6443 \
    --cert-dir="$out/certs" --service-cluster-ip-range="10.$x.128.0/20" \
    --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname)"
  cat >"$out/admin.conf" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local-up
  cluster:
    server: https://$host:6443
    certificate-authority: $out/certs/apiserver.crt
users:
- name: admin
  user:
    token: local-up-admin
contexts:
- name: local-up
  context:
    cluster: local-up
    user: admin
    namespace: default
current-context: local-up
EOF
  local kubectl=("$bin/kubectl" --kubeconfig="$out/admin.conf")
  wait_for 120 apiserver "${kubectl[@]}" get --raw /readyz ||
    die "the apiserver was not ready within 2 minutes: $(tail -20 "$out/kube-apiserver.log" "$out/etcd.log")"

  # The scheduler and the controller-manager on the host side, serving /healthz on loopback.
  record pid kube-scheduler "$(spawn "$out/kube-scheduler.log" "$bin/kube-scheduler" \
    --kubeconfig="$out/admin.conf" --bind-address=127.0.0.1 --secure-port="$(free_port)")"
  record pid kube-controller-manager "$(spawn "$out/kube-controller-manager.log" "$bin/kube-controller-manager" \
    --kubeconfig="$out/admin.conf" --bind-address=127.0.0.1 --secure-port="$(free_port)" \
    --root-ca-file="$out/certs/apiserver.crt")"

  # Each node: containerd and the kubelet in its network namespace (root mount namespace,
  # so the kubelet's volume mounts are visible to containerd).
  for i in "${!names[@]}"; do
    local n="${names[$i]}" ns="k8s-$id-${names[$i]}" d="$out/${names[$i]}"
    mkdir -p "$d/manifests" "$d/cni" "$d/containerd/certs.d" "$d/pod-logs"
    for h in registry.k8s.io docker.io "$registry"; do
      mkdir -p "$d/containerd/certs.d/$h"
      printf 'server = "http://%s"\n\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' \
        "$registry" "$registry" >"$d/containerd/certs.d/$h/hosts.toml"
    done
    cni_config "$ns" "10.$x.$i.0/24" "$d/cni-ipam" >"$d/cni/10-bridge.conflist"
    containerd_config "$d" "$d/containerd/containerd.sock" "$d/cni" "$d/containerd/certs.d" >"$d/containerd/config.toml"
    record containerd "$n $d"
    record pid "containerd-$n" "$(spawn "$d/containerd.log" nsenter --net="/run/netns/$ns" -- containerd --config "$d/containerd/config.toml")"
    record cgroup "/k8s-$id-$n"
  done
  for i in "${!names[@]}"; do
    local d="$out/${names[$i]}"
    wait_for 30 containerd test -S "$d/containerd/containerd.sock" ||
      die "containerd of ${names[$i]} did not start: $(tail -5 "$d/containerd.log")"
  done
  for i in "${!names[@]}"; do
    local n="${names[$i]}" ns="k8s-$id-${names[$i]}" d="$out/${names[$i]}" labels=()
    [ "$n" = control-plane ] && labels=(--node-labels=node-role.kubernetes.io/control-plane=)
    cat >"$d/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: /k8s-$id-$n
staticPodPath: $d/manifests
podLogsDir: $d/pod-logs
clusterDomain: cluster.local
# The apiserver presents no client certificate to kubelets yet (that comes with bootstrap).
authentication:
  anonymous:
    enabled: true
EOF
    record pid "kubelet-$n" "$(spawn "$d/kubelet.log" nsenter --net="/run/netns/$ns" -- "$bin/kubelet" \
      --kubeconfig="$out/admin.conf" --config="$d/kubelet-config.yaml" \
      --container-runtime-endpoint="unix://$d/containerd/containerd.sock" --root-dir="$d/kubelet" \
      --hostname-override="$n" --node-ip="10.$x.255.$((10 + i))" --pod-cidr="10.$x.$i.0/24" \
      --cgroup-driver=cgroupfs "${labels[@]}" --v=2)"
    # Service IPs leave towards the bridge, as a node's default route would carry them;
    # kube-proxy's rules rewrite them first, and the root namespace drops what is left.
    ip -n "$ns" route add "10.$x.128.0/20" dev eth0
    record pid "kube-proxy-$n" "$(spawn "$d/kube-proxy.log" nsenter --net="/run/netns/$ns" -- "$bin/kube-proxy" \
      --kubeconfig="$out/admin.conf" --hostname-override="$n" --proxy-mode="$proxy_mode" \
      --cluster-cidr="10.$x.0.0/17" --healthz-bind-address=127.0.0.1:10256 \
      --metrics-bind-address=127.0.0.1:10249)"
  done
  up_ok=1
  log "control plane and ${#names[@]} nodes up in $((SECONDS - t_built))s (build $((t_built - t0))s)"

  # The demo: a Deployment of busybox httpd and its Service; every replica must answer from
  # inside a node's namespace, and the Service's ClusterIP from every node (kube-proxy).
  local demo_from="${names[0]}"
  local demo_ok=""
  if demo "$demo_from"; then demo_ok=1; fi
  echo
  echo "The cluster is up ($((SECONDS - t0))s). Use it with:"
  echo "  export KUBECONFIG=$out/admin.conf"
  echo "  $bin/kubectl get nodes"
  echo "  $0 exec $demo_from curl -s http://POD_IP:8080/   # pod IPs answer only inside the nodes"
  echo "  $0 exec $demo_from curl -s http://CLUSTER_IP/      # Services too, through kube-proxy"
  echo "  static pods: put manifests in $out/NODE/manifests"
  echo "  $0 down"
  [ -n "$demo_ok" ] || die "the demo failed (see above); the cluster stays up for inspection: '$0 down' removes it"
}

# Deploys the demo (a Deployment of busybox httpd, 2 replicas, and a Service) and waits,
# bounded, until every replica answers from node FROM.
demo() {
  local from="$1" kubectl ips=() ip
  kubectl=("$bin/kubectl" --kubeconfig="$out/admin.conf")
  cat <<EOF | "${kubectl[@]}" apply -f - || return 1
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
    spec:
      containers:
      - name: httpd
        image: docker.io/library/busybox:1.35
        command: ["sh", "-c", "mkdir -p /www && echo hello from \$(hostname) > /www/index.html && exec httpd -f -v -p 8080 -h /www"]
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: hello
  namespace: default
spec:
  selector: {app: hello}
  ports: [{port: 80, targetPort: 8080}]
EOF
  log "demo: waiting up to 120s for the 2 pods of Deployment hello to get IPs"
  local deadline=$((SECONDS + 120)) alive name pid
  while [ $SECONDS -lt $deadline ]; do
    read -r -a ips <<<"$("${kubectl[@]}" get pods -l app=hello -o 'jsonpath={.items[*].status.podIP}' 2>/dev/null || true)"
    [ ${#ips[@]} -ge 2 ] && break
    # Kubelets that all exited will not run them: say so now rather than at the deadline.
    alive=""
    while read -r name pid; do
      if [[ "$name" == kubelet-* ]] && [ -d "/proc/$pid" ]; then alive=1; fi
    done < <(state_get pid)
    [ -n "$alive" ] || break
    sleep 1
  done
  if [ ${#ips[@]} -lt 2 ]; then
    echo "local-up: demo: the pods of Deployment hello did not all get an IP within 120s:" >&2
    "${kubectl[@]}" get deployments,replicasets,pods -o wide >&2 || true
    local n
    for n in $(state_get node | awk '{ print $1 }'); do
      echo "local-up: the kubelet log of $n ($out/$n/kubelet.log) ends with:" >&2
      tail -n 5 "$out/$n/kubelet.log" >&2 || true
    done
    return 1
  fi
  for ip in "${ips[@]}"; do
    log "demo: pod IP $ip; asking it from node $from"
    local answer=""
    deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
      # curl, not busybox wget: Debian's static busybox wget crashes (static glibc resolver).
      answer="$(node_exec "$from" curl -sS -m 3 "http://$ip:8080/" 2>/dev/null || true)"
      [ -n "$answer" ] && break
      sleep 1
    done
    if [ -z "$answer" ]; then
      echo "local-up: demo: http://$ip:8080/ did not answer from $from within 30s" >&2
      return 1
    fi
    log "demo: http://$ip:8080/ answered: $answer"
  done
  # The Service's ClusterIP, through kube-proxy's rules, from every node.
  local cip n
  cip="$("${kubectl[@]}" get service hello -o 'jsonpath={.spec.clusterIP}')"
  for n in $(state_get node | awk '{ print $1 }'); do
    local answer=""
    deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
      answer="$(node_exec "$n" curl -sS -m 3 "http://$cip/" 2>/dev/null || true)"
      [ -n "$answer" ] && break
      sleep 1
    done
    if [ -z "$answer" ]; then
      echo "local-up: demo: Service hello (http://$cip/) did not answer from node $n within 30s" >&2
      tail -n 5 "$out/$n/kube-proxy.log" >&2 || true
      return 1
    fi
    log "demo: Service hello (http://$cip/) answered from node $n: $answer"
  done
  "${kubectl[@]}" get deployments,pods,services -o wide || true
}

# --- exec ----------------------------------------------------------------------------------
node_exec() {
  local node="$1" ns
  shift
  ns="$(state_get node | awk -v n="$node" '$1 == n { print $2 }')"
  [ -n "$ns" ] || die "no node $node (nodes: $(state_get node | awk '{ print $1 }' | tr '\n' ' '))"
  nsenter --net="/run/netns/$ns" -- "$@"
}

# --- down ----------------------------------------------------------------------------------
stop_pid() { # NAME PID: SIGTERM, SIGKILL after 10 s; only if it still is the process we started
  local name="$1" pid="$2" program
  [ -d "/proc/$pid" ] || return 0
  case "$name" in
    kubelet-*) program=kubelet ;;
    kube-proxy-*) program=kube-proxy ;;
    kube-*) program="$name" ;;
    containerd-*) program=containerd ;;
    registry) program=docker-registry ;;
    *) program="$name" ;;
  esac
  # A PID reused by another program since `up` is not ours.
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q -- "$program" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    [ -d "/proc/$pid" ] || return 0
    # A zombie of ours counts as gone.
    [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
    sleep 0.1
  done
  echo "local-up: $name ($pid) ignored SIGTERM; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# What a node's containerd started (shims and containers, named in its state folder), killed;
# the sandbox namespaces it mounted under /run/netns (found by the pause processes' netns)
# and its mounts under the node's folder, unmounted.
cleanup_containerd() { # NODE DIR
  local node="$1" d="$2" tasks="$2/containerd/state/io.containerd.runtime.v2.task" inodes=() pids=()
  local sock="$2/containerd/containerd.sock" p b init parent a
  # Its shims: a containerd-shim* command with `-address <this node's socket>` (unique to it).
  for p in /proc/[0-9]*; do
    case "$(tr '\0' '\n' 2>/dev/null <"$p/cmdline" | head -1)" in
      *containerd-shim*)
        if tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -qxF -- "$sock"; then pids+=("${p#/proc/}"); fi
        ;;
    esac
  done
  # Their containers: each task's first process (init.pid), a child of one of those shims.
  for b in "$tasks"/*/*/; do
    [ -d "$b" ] || continue
    init="$(cat "$b/init.pid" 2>/dev/null || true)"
    if [ -n "$init" ] && [ ${#pids[@]} -gt 0 ]; then
      parent="$(awk '{ print $4 }' "/proc/$init/stat" 2>/dev/null || true)"
      if printf '%s\n' "${pids[@]}" | grep -qxF -- "$parent"; then
        pids+=("$init")
        inodes+=("$(stat -L -c %i "/proc/$init/ns/net" 2>/dev/null || true)")
      fi
    fi
    a="$(sed 's|^unix://||' "$b/address" 2>/dev/null || true)"
    if [[ "$a" == /run/containerd/s/* ]]; then rm -f "$a"; fi
  done
  [ ${#pids[@]} -eq 0 ] || kill -KILL "${pids[@]}" 2>/dev/null || true
  local f ino
  for f in /run/netns/cni-*; do
    [ -e "$f" ] || continue
    ino="$(stat -c %i "$f" 2>/dev/null || true)"
    for i in "${inodes[@]}"; do
      if [ -n "$i" ] && [ "$i" = "$ino" ]; then
        umount -l "$f" && rm -f "$f"
        break
      fi
    done
  done
  local net
  net="$(state_get node | awk -v n="$node" '$1 == n { print $2 }')"
  [ -z "$net" ] || rm -f /var/lib/cni/results/"$net"-*
}

unmount_under() { # DIR: every mount point below DIR, deepest first
  awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | awk '{ print length, $0 }' |
    sort -rn | cut -d' ' -f2- | while read -r m; do umount -l "$m" || true; done
}

remove_cgroup() { # ROOT: the cgroup and its children in every hierarchy, deepest first
  # Killed processes leave their cgroups a moment later: 5 s of patience in all, not per cgroup.
  local h c patience=50
  while read -r h; do
    [ -d "$h$1" ] || continue
    while read -r c; do
      until rmdir "$c" 2>/dev/null || [ ! -d "$c" ]; do
        if [ "$patience" -le 0 ]; then
          echo "local-up: cannot remove cgroup $c (processes left in it?)" >&2
          break
        fi
        patience=$((patience - 1))
        sleep 0.1
      done
    done < <(find "$h$1" -depth -type d)
  done < <(awk '$0 ~ / - cgroup2? / { print $5 }' /proc/self/mountinfo)
}

down_quiet() {
  [ -f "$state" ] || return 0
  local line name pid
  # Kubelets first (they would restart pods), then each node's containers and containerd,
  # then the control plane and the registry.
  while read -r name pid; do
    [[ "$name" == kubelet-* ]] && stop_pid "$name" "$pid"
  done < <(state_get pid)
  while read -r name d; do
    cleanup_containerd "$name" "$d"
  done < <(state_get containerd)
  while read -r name pid; do
    [[ "$name" == kubelet-* ]] || stop_pid "$name" "$pid"
  done < <(state_get pid | tac)
  unmount_under "$out"
  while read -r line; do remove_cgroup "$line"; done < <(state_get cgroup)
  while read -r line; do ip netns del "$line" 2>/dev/null || true; done < <(state_get netns)
  while read -r line; do [ ! -e "/sys/class/net/$line" ] || ip link del "$line"; done < <(state_get link | tac)
  while read -r line; do ip route del $line 2>/dev/null || true; done < <(state_get route)
  while read -r line; do rm -f "$line"; done < <(state_get reservation)
  rm -rf "$out"
}

down() {
  [ "$(id -u)" = 0 ] || die "down needs root"
  if [ ! -f "$state" ]; then
    log "nothing to remove ($state does not exist)"
    return 0
  fi
  local t0=$SECONDS
  # What must be gone afterwards, read before the state file goes with the rest.
  local pids netns links cgroups left=()
  pids="$(state_get pid | awk '{ print $2 }')"
  netns="$(state_get netns)"
  links="$(state_get link)"
  cgroups="$(state_get cgroup)"
  down_quiet
  local x h
  for x in $pids; do
    if [ -d "/proc/$x" ] && [ "$(awk '{ print $3 }' "/proc/$x/stat" 2>/dev/null)" != Z ]; then left+=("process $x"); fi
  done
  for x in $netns; do [ ! -e "/run/netns/$x" ] || left+=("namespace $x"); done
  for x in $links; do [ ! -e "/sys/class/net/$x" ] || left+=("link $x"); done
  for x in $cgroups; do
    while read -r h; do [ ! -d "$h$x" ] || left+=("cgroup $h$x"); done < <(awk '$0 ~ / - cgroup2? / { print $5 }' /proc/self/mountinfo)
  done
  if awk -v d="$out/" 'index($5, d) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then left+=("mounts under $out"); fi
  [ ! -e "$out" ] || left+=("$out")
  [ ${#left[@]} -eq 0 ] || die "down left: ${left[*]}"
  log "removed everything up made ($((SECONDS - t0))s)"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  exec)
    shift
    [ $# -ge 2 ] || die "usage: $0 exec NODE CMD..."
    [ -f "$state" ] || die "no cluster is up"
    node_exec "$@"
    ;;
  *) die "usage: $0 up [--workers N] [--proxy-mode iptables|nftables] | down | exec NODE CMD..." ;;
esac
