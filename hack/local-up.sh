#!/usr/bin/env bash
# Brings up a local control plane on loopback: a real etcd and our kube-apiserver, writes a
# kubeconfig, waits until the apiserver is ready, creates the example workload with kubectl,
# then waits at a terminal (Ctrl-C stops both); in CI or a script it stops them and exits 0.
# Installs what it needs from Debian's packages when missing (etcd, and protoc, OpenSSL
# headers and pkg-config to build); needs kubectl on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v etcd >/dev/null || need+=(etcd-server)
command -v protoc >/dev/null || need+=(protobuf-compiler)
command -v pkg-config >/dev/null || need+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v kubectl >/dev/null || { echo "local-up: kubectl is not on PATH" >&2; exit 1; }
cargo build --release -p apiserver --bin kube-apiserver

out="$PWD/_output/local"
rm -rf "$out" && mkdir -p "$out"
# The apiserver waits for etcd by itself (as static pods start in any order), so the two
# start side by side; readiness below tells when both are up.
target/release/kube-apiserver --etcd-servers=http://127.0.0.1:2379 --bind-address=127.0.0.1 \
  --secure-port=6443 --cert-dir="$out/certs" >"$out/apiserver.log" 2>&1 &
api_pid=$!
etcd --data-dir "$out/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster default=http://127.0.0.1:2380 --log-level error >"$out/etcd.log" 2>&1 &
etcd_pid=$!
trap 'kill $api_pid $etcd_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

cat >"$out/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: "$out/certs/apiserver.crt"}
users:
- name: admin
  user: {token: local-admin}
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
KC
export KUBECONFIG="$out/kubeconfig"

# Ready means etcd connected, the watch cache loaded and every post-start hook run (the
# default namespaces and the kubernetes Service exist): /readyz answers 200 only then.
ready=""
for _ in $(seq 1 600); do
  if kubectl get --raw /readyz >/dev/null 2>&1; then ready=1; break; fi
  for p in "$api_pid:apiserver" "$etcd_pid:etcd"; do
    if ! kill -0 "${p%%:*}" 2>/dev/null; then
      echo "local-up: ${p#*:} exited; its log ($out/${p#*:}.log):" >&2
      cat "$out/${p#*:}.log" >&2
      exit 1
    fi
  done
  sleep 0.2
done
if [ -z "$ready" ]; then
  echo "local-up: the apiserver was not ready within 2 minutes:" >&2
  kubectl get --raw '/readyz?verbose' >&2 || true
  tail -n 20 "$out/apiserver.log" "$out/etcd.log" >&2
  exit 1
fi
kubectl apply -f manifests/examples/hello.yaml
kubectl get all,configmaps -n hello
kubectl get service kubernetes -n default
echo
if [ -n "${CI:-}" ] || [ ! -t 0 ]; then
  # Not at a terminal (CI, a script): the cluster came up and ran the workload; stop it.
  echo "local-up: not interactive, stopping etcd and the apiserver"
  exit 0
fi
echo "Cluster is up. In another shell: export KUBECONFIG=$out/kubeconfig; kubectl get ns"
echo "Logs: $out/apiserver.log, $out/etcd.log. Ctrl-C stops etcd and the apiserver."
wait $api_pid
